/**
 * `du -x -0 -B1 --max-depth=2 DIR` output: NUL-terminated `SIZE\tPATH` records
 * (-0, so a path holding a newline stays one record). Sample record:
 * `1073745920\t/srv/models\0`
 */
import { byText } from '../text/order.js';

export interface DuEntry {
  bytes: number;
  path: string;
}

export function parseDu(text: string): DuEntry[] {
  const out: DuEntry[] = [];
  for (const record of text.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab <= 0) continue;
    const bytes = Number(record.slice(0, tab));
    if (Number.isFinite(bytes)) out.push({ bytes, path: record.slice(tab + 1) });
  }
  return out;
}

/**
 * The biggest directories below `root`: the largest first-level ones, each
 * with its largest child, so the reader sees both the area and the spot.
 */
export function biggestDirectories(
  entries: readonly DuEntry[],
  root: string,
  limit = 3,
): { path: string; bytes: number; largestChild: DuEntry | null }[] {
  const base = root.endsWith('/') ? root : `${root}/`;
  const depth = (p: string) => (p.startsWith(base) && p !== base ? p.slice(base.length).split('/').length : 0);
  const first = entries
    .filter((e) => depth(e.path) === 1)
    .sort((a, b) => b.bytes - a.bytes || byText(a.path, b.path))
    .slice(0, limit);
  return first.map((dir) => {
    const children = entries
      .filter((e) => depth(e.path) === 2 && e.path.startsWith(`${dir.path}/`))
      .sort((a, b) => b.bytes - a.bytes || byText(a.path, b.path));
    return { path: dir.path, bytes: dir.bytes, largestChild: children[0] ?? null };
  });
}

export interface FileEntry {
  /** Allocated bytes (st_blocks × 512). */
  bytes: number;
  /** Apparent size. */
  sizeBytes: number;
  path: string;
}

/**
 * `find … -printf '%b %s %p\0' | sort -z -rn | head -z` output: NUL-terminated
 * `BLOCKS SIZE PATH` records (512-byte blocks; -0 keeps a path holding a
 * newline one record). Sample record: `614400 314572800 /srv/models/w.bin\0`
 */
export function parseLargestFiles(text: string): FileEntry[] {
  const out: FileEntry[] = [];
  for (const record of text.split('\0')) {
    // Sample: `614400 314572800 /srv/models/w.bin`
    const m = /^(\d+) (\d+) (\/.*)$/s.exec(record);
    if (m) out.push({ bytes: Number(m[1]) * 512, sizeBytes: Number(m[2]), path: m[3]! });
  }
  return out.sort((a, b) => b.bytes - a.bytes || byText(a.path, b.path));
}
