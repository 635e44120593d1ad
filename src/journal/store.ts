import { mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { TimeoutError, errorMessage } from '../errors.js';
import { withTimeout } from '../run/deadline.js';
import { formatEntry, parseJournal, type JournalEntry } from './entry.js';

/** One file per UTC day. */
export function dayFile(root: string, at: Date): string {
  return path.join(root, `${at.toISOString().slice(0, 10)}.md`);
}

const WRITE_TIMEOUT_MS = 3000;

export type AppendResult = { ok: true; file: string } | { ok: false; file: string; reason: string };

/**
 * Append one whole entry, or nothing. The entry goes out in one O_APPEND
 * write (the kernel serialises appends to one file, so concurrent runs do
 * not interleave); if the write fails or comes up short (ENOSPC), the file
 * is cut back to its size before, so no partial entry breaks later reads.
 */
export async function appendEntry(root: string, entry: JournalEntry, timeoutMs = WRITE_TIMEOUT_MS): Promise<AppendResult> {
  const file = dayFile(root, new Date(entry.at));
  const work = async (): Promise<AppendResult> => {
    await mkdir(root, { recursive: true });
    const handle = await open(file, 'a');
    let before = -1;
    let written = 0;
    try {
      before = (await handle.stat()).size;
      const data = Buffer.from(formatEntry(entry));
      written = (await handle.write(data, 0, data.length, null)).bytesWritten;
      if (written !== data.length) throw Object.assign(new Error(`short write (${written} of ${data.length} bytes)`), { code: 'ENOSPC' });
      return { ok: true, file };
    } catch (err) {
      // Cut our partial entry off, unless another run appended after it (its entry must stay;
      // our fragment then reads as one unreadable block).
      const size = await handle.stat().then((st) => st.size, () => -1);
      if (before >= 0 && size === before + written) await handle.truncate(before).catch(() => undefined);
      throw err;
    } finally {
      await handle.close().catch(() => undefined);
    }
  };
  try {
    return await withTimeout(work(), Math.max(1, Math.min(WRITE_TIMEOUT_MS, timeoutMs)), 'journal write');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = err instanceof TimeoutError ? err.message : code ? `${code}: ${errorMessage(err).replace(/^\w+: /, '')}` : errorMessage(err);
    return { ok: false, file, reason };
  }
}

export interface JournalWindow {
  entries: JournalEntry[];
  unreadable: number;
  files: number;
  /** Why the journal could not be read at all, if it could not. */
  problem: string | null;
}

/**
 * Entries of the last `days` days (today included), oldest first. Reads only
 * those days' files: the cost follows the window, not the history.
 */
export async function readWindow(root: string, days: number, now: Date): Promise<JournalWindow> {
  const names = new Set<string>();
  for (let d = 0; d <= days; d += 1) names.add(`${new Date(now.getTime() - d * 86_400_000).toISOString().slice(0, 10)}.md`);
  const since = now.getTime() - days * 86_400_000;
  const out: JournalWindow = { entries: [], unreadable: 0, files: 0, problem: null };
  for (const name of [...names].sort()) {
    let text: string;
    try {
      text = await readFile(path.join(root, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') out.problem = `${name}: ${errorMessage(err)}`;
      continue;
    }
    out.files += 1;
    const parsed = parseJournal(text);
    out.unreadable += parsed.unreadable;
    out.entries.push(...parsed.entries.filter((e) => Date.parse(e.at) >= since && Date.parse(e.at) <= now.getTime()));
  }
  out.entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return out;
}

/** --journal-keep-days: remove day files older than that. Only `YYYY-MM-DD.md` names are touched. */
export async function pruneJournal(root: string, keepDays: number, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - keepDays * 86_400_000).toISOString().slice(0, 10);
  let removed = 0;
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const m = /^(\d{4}-\d\d-\d\d)\.md$/.exec(name);
    if (m && m[1]! < cutoff) {
      await unlink(path.join(root, name)).catch(() => undefined);
      removed += 1;
    }
  }
  return removed;
}
