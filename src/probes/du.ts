import { TimeoutError, UnavailableError, formatSeconds } from '../model/errors.js';
import { parseDu, parseLargestFiles, type DuEntry, type FileEntry } from '../parse/du.js';
import type { Runner } from '../host/exec.js';
import { globLiteral } from '../text/escape.js';

/**
 * Where the bytes are on one filesystem, outside Docker's data root: a
 * bounded `du -x --max-depth=2` (it can walk for minutes on a big disk, so
 * it runs under the deadline). du exits 1 on unreadable directories and
 * still prints the rest: that output is used.
 */
export async function getBiggestDirs(
  run: Runner,
  mountpoint: string,
  exclude: string | null,
  timeoutMs: number,
): Promise<DuEntry[]> {
  const args = [
    '-x',
    '-0',
    '-B1',
    '--max-depth=2',
    ...(exclude ? [`--exclude=${globLiteral(exclude)}`] : []),
    '--',
    mountpoint,
  ];
  try {
    const res = await run('du', args, timeoutMs);
    const entries = parseDu(res.stdout);
    if (entries.length === 0)
      throw new UnavailableError(`du ${mountpoint}: ${res.stderr.trim().split('\n').pop() ?? 'no output'}`);
    return entries;
  } catch (err) {
    if (err instanceof TimeoutError)
      throw new UnavailableError(`du over ${mountpoint} did not finish in ${formatSeconds(err.afterMs)}`);
    throw err;
  }
}

/*
 * The largest regular files on one filesystem (-xdev: never across a
 * mount), outside the data root, by allocated bytes as du counts them.
 * find walks as long as du does: the same deadline. Arguments: the
 * mountpoint, the data root as a -path pattern ('' for none), how many.
 */
const LARGEST_SCRIPT = `if [ -n "$2" ]; then
  find "$1" -xdev -path "$2" -prune -o -type f -printf '%b %s %p\\0' 2>/dev/null
else
  find "$1" -xdev -type f -printf '%b %s %p\\0' 2>/dev/null
fi | sort -z -rn | head -z -n "$3"`;

export async function getLargestFiles(
  run: Runner,
  mountpoint: string,
  exclude: string | null,
  limit: number,
  timeoutMs: number,
): Promise<FileEntry[]> {
  try {
    const res = await run(
      'sh',
      ['-c', LARGEST_SCRIPT, 'preflight-largest', mountpoint, exclude ? globLiteral(exclude) : '', String(limit)],
      timeoutMs,
    );
    return parseLargestFiles(res.stdout).slice(0, limit);
  } catch (err) {
    if (err instanceof TimeoutError)
      throw new UnavailableError(`the largest files of ${mountpoint} were not found in ${formatSeconds(err.afterMs)}`);
    throw err;
  }
}
