/*
 * A vault item is shared with people: they append notes to it while it is
 * pending. Our part is the `# title` line and the lines between two marks
 * (HTML comments: invisible when rendered, and not a `# ` line for the host's
 * listing); everything else in the file is theirs and is kept byte for byte.
 * Marks count only as whole lines. Our own text can never hold one (every
 * measured string is escaped, `<` included, and commands sit indented in
 * fences), so an extra or missing mark was put there by someone else: the
 * item is then left alone, never guessed at.
 */

export const ITEM_BEGIN = '<!-- storage-preflight:begin (rewritten every run; notes below the end mark are kept) -->';
export const ITEM_END = '<!-- storage-preflight:end -->';

/** Our part of a freshly rendered item: its first line and its marked lines. */
export function markedItem(title: string, body: readonly string[]): string {
  return [title, ITEM_BEGIN, ...body, ITEM_END, ''].join('\n');
}

interface Parts {
  title: string;
  /** Lines between the title and the begin mark (a person's), kept. */
  before: string[];
  ours: string[];
  /** The lines after the end mark (a person's), kept. */
  after: string[];
}

// An editor may have saved the file with CRLF line ends.
const isMark = (line: string, mark: string) => line === mark || line === `${mark}\r`;

function split(text: string): Parts | string {
  const lines = text.split('\n');
  if (!lines[0]?.startsWith('# ')) return 'its first line is not a "# " title';
  const begins = lines.flatMap((l, i) => (isMark(l, ITEM_BEGIN) ? [i] : []));
  const ends = lines.flatMap((l, i) => (isMark(l, ITEM_END) ? [i] : []));
  // An item filed before our part was marked: which lines are a person's cannot be told.
  if (begins.length === 0 && ends.length === 0)
    return 'it has no marks of ours (filed by an earlier version, or rewritten by hand): move it out of pending to have it filed afresh';
  if (begins.length !== 1 || ends.length !== 1) {
    return `it holds ${begins.length} begin and ${ends.length} end marks of ours, not one of each`;
  }
  const [b, e] = [begins[0]!, ends[0]!];
  if (b === 0 || e < b) return 'its marks are out of order';
  return { title: lines[0], before: lines.slice(1, b), ours: lines.slice(b + 1, e), after: lines.slice(e + 1) };
}

export type Merged = { ok: true; text: string } | { ok: false; problem: string };

/**
 * Pure: the item as it is now (null: none yet) and our fresh rendering → the
 * text to write: our title and marked part replaced, the rest kept. Marks
 * missing, doubled or out of order in `current`: a problem, nothing to write.
 */
export function mergeItem(current: string | null, fresh: string): Merged {
  const ours = split(fresh);
  // Our rendering always splits cleanly; anything else is a bug here, never written.
  if (typeof ours === 'string') throw new Error(`vault item rendering: ${ours}`);
  if (current === null) return { ok: true, text: fresh };
  const theirs = split(current);
  if (typeof theirs === 'string') return { ok: false, problem: theirs };
  return {
    ok: true,
    text: [ours.title, ...theirs.before, ITEM_BEGIN, ...ours.ours, ITEM_END, ...theirs.after].join('\n'),
  };
}
