import { readFile, realpath, statfs } from 'node:fs/promises';
import { EXIT, type Io } from './io.js';
import { UsageError, TimeoutError, errorMessage } from './errors.js';
import { mountFor } from './model/filesystems.js';
import { parseMountinfo } from './parse/mountinfo.js';
import { formatBytes } from './render/bytes.js';
import { withTimeout } from './run/deadline.js';

/** A healthy statfs answers in microseconds; guard sits on hot paths and must not hang them. */
const GUARD_STATFS_TIMEOUT_MS = 2000;

export interface DiskCapacityError {
  error: 'DiskCapacity';
  mountpoint: string;
  usedBytes: number;
  capacityBytes: number;
  needBytes: number;
  projectedPct: number;
  maxPct: number;
}

/**
 * Would writing `need` more bytes under `path` push its filesystem past
 * `maxPct` used (df's used / (used + available))? Pure, so the threshold is
 * testable to the byte: it fits while (used + need) × 100 ≤ maxPct × capacity.
 */
export function assessGuard(usedBytes: number, availBytes: number, needBytes: number, maxPct: number, mountpoint: string) {
  const capacityBytes = usedBytes + availBytes;
  const projectedPct = capacityBytes > 0 ? ((usedBytes + needBytes) * 100) / capacityBytes : Infinity;
  const fits = needBytes <= availBytes && (usedBytes + needBytes) * 100 <= maxPct * capacityBytes;
  const error: DiskCapacityError = { error: 'DiskCapacity', mountpoint, usedBytes, capacityBytes, needBytes, projectedPct, maxPct };
  return { fits, error };
}

/**
 * In-process statfs (fast, no child): guard is for one known path on a hot
 * path. It is raced against a deadline so a hung mount cannot hang the caller.
 * Node exposes f_bsize; df uses f_frsize: equal on ext4, xfs and btrfs.
 */
export async function guard(path: string, needBytes: number, maxPct: number, io: Io): Promise<number> {
  let resolved: string;
  let s: Awaited<ReturnType<typeof statfs>>;
  try {
    resolved = await withTimeout(realpath(path), GUARD_STATFS_TIMEOUT_MS, `realpath ${path}`);
    s = await withTimeout(statfs(resolved), GUARD_STATFS_TIMEOUT_MS, `statfs ${path}`);
  } catch (err) {
    if (err instanceof TimeoutError) throw new UsageError(`${path}: ${err.message} (stuck mount?)`);
    throw new UsageError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : errorMessage(err)}`);
  }
  const table = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''));
  const mountpoint = mountFor(table, resolved)?.mountpoint ?? resolved;
  const usedBytes = (s.blocks - s.bfree) * s.bsize;
  const availBytes = s.bavail * s.bsize;
  const { fits, error } = assessGuard(usedBytes, availBytes, needBytes, maxPct, mountpoint);
  if (fits) {
    io.stdout(`${JSON.stringify({ ok: true, mountpoint, usedBytes, capacityBytes: error.capacityBytes, needBytes, projectedPct: error.projectedPct, maxPct })}\n`);
    return EXIT.ok;
  }
  io.stdout(`${JSON.stringify(error)}\n`);
  io.stderr(`Can't write ${formatBytes(needBytes)} to ${path}: it would reach ${Math.ceil(error.projectedPct)}% (max ${maxPct}%). Prune first.\n`);
  return EXIT.wouldNotFit;
}
