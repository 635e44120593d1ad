import { TimeoutError, UnavailableError, formatSeconds } from '../model/errors.js';
import { parseDu, type DuEntry } from '../parse/du.js';
import type { Runner } from '../host/exec.js';

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
  const args = ['-x', '-0', '-B1', '--max-depth=2', ...(exclude ? [`--exclude=${exclude}`] : []), '--', mountpoint];
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
