/**
 * Strings from the system (paths, names, labels, tool output) are hostile.
 * `inline` makes one safe to place anywhere on a markdown line or in a table
 * cell: it cannot end the line, start a `#` header, break a table, open a
 * code span, or carry control, format or invisible characters.
 */

const MAX_INLINE = 160;

/*
 * Control (Cc: C0, DEL, C1 such as ESC and CSI 0x9b), format (Cf: bidi
 * overrides and isolates, zero-width U+200B–U+200F, U+2060–U+2064, U+061C,
 * soft hyphen U+00AD, U+FEFF, U+FFF9–U+FFFB, tag characters U+E0000–U+E007F),
 * line/paragraph separators, private use and unassigned code points, spaces
 * other than U+0020 (NBSP looks like a space and is not one), and the
 * invisible fillers and variation selectors that are letters or marks.
 */
const UNSAFE_CHARS =
  /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\uffa0\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/gu;
// Markdown punctuation that can change structure mid-line.
const MARKDOWN_CHARS = /[\\`|*_[\]<>#]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const escapeUnsafe = (text: string) =>
  text.replace(UNSAFE_CHARS, (c) => NAMED[c] ?? `\\u{${c.codePointAt(0)!.toString(16)}}`);

/** At most `max` code points, an ellipsis marking the cut. */
export function clip(value: string, max: number): string {
  const chars = [...value];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : value;
}

/*
 * With no line break left in it, a system string can never start a line, so
 * never a `## ` header or a `field:` line for the host's evaluator; the one
 * pattern it could still complete mid-line, `Disk: 0`, `guardDiskFigure`
 * takes out of every rendered section.
 */
export function inline(value: string, max = MAX_INLINE): string {
  return escapeUnsafe(clip(value, max).replace(MARKDOWN_CHARS, (c) => `\\${c}`));
}

/** A hostile string shown as a path/name: escaped; empty shown as a dash. */
export function cell(value: string | undefined): string {
  return value === undefined || value === '' ? '—' : inline(value);
}

/**
 * A code span for text that may hold backticks (a command, a path): backslash
 * escapes are literal inside code spans, so instead of escaping, control
 * characters are shown as escapes and the fence is longer than any backtick
 * run inside. Pipes are still escaped: a table splits cells before it reads spans.
 */
export function code(value: string, max = MAX_INLINE): string {
  const text = escapeUnsafe(clip(value, max)).replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * One line of plain text for places that are not markdown (the recipe gate's
 * evidence, the shared journal's lines): no control, format or invisible
 * characters, no line breaks. Markdown punctuation stays.
 */
export function plain(value: string, max = 400): string {
  return escapeUnsafe(clip(value, max));
}

/** Text already made `plain()` placed in markdown: structure characters escaped, nothing else. */
export function markdownOfPlain(value: string): string {
  return value.replace(MARKDOWN_CHARS, (c) => `\\${c}`);
}

/*
 * The host's disk_pct_gt rule takes the first `Disk:\s+([0-9]+)` in a
 * section. Sample of ours: `Disk: 83% used (…)`. Only a line that starts
 * with it is ours; any other `Disk:` before whitespace (a name ending in
 * "disk" followed by our own colon) loses its colon.
 */
const FOREIGN_DISK = /(?<!^)(disk):(?=\s)/gimu;

/** Last pass over a rendered section: only our own `Disk:` lines can match the host's figure rule. */
export function guardDiskFigure(text: string): string {
  return text.replace(FOREIGN_DISK, '$1\\:');
}

/** POSIX shell single-quoting, for paths placed in suggested commands. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

// Lone surrogates are not characters: XML 1.0 forbids them, and plain() does not see them.
const SURROGATES = /\p{Cs}/gu;
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * A system string as XML text or an attribute value (the SVG chart):
 * plain() first, which shows control characters (most of them invalid in
 * XML 1.0) as escapes, then the five markup characters as entities.
 */
export function xml(value: string, max = MAX_INLINE): string {
  return plain(value, max)
    .replace(SURROGATES, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`)
    .replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
}

/** A name as a glob pattern (find's -path, du's --exclude) that matches only itself: `*`, `?`, `[` and `\\` escaped. */
export function globLiteral(name: string): string {
  return name.replace(/[*?[\\]/g, '\\$&');
}
