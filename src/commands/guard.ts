import { EXIT, type Io } from './io.js';
import { UsageError } from '../model/errors.js';
import { mountFor } from '../parse/mountinfo.js';
import { usageFromStatfs } from '../parse/statfs.js';
import { execRunner } from '../host/exec.js';
import { getMountTable } from '../probes/mountinfo.js';
import { measurePath, measurePathInProcess } from '../probes/statfs.js';
import { formatBytes } from '../text/bytes.js';
import { inline } from '../text/escape.js';

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
export function assessGuard(
  usedBytes: number,
  availBytes: number,
  needBytes: number,
  maxPct: number,
  mountpoint: string,
) {
  const capacityBytes = usedBytes + availBytes;
  const projectedPct = capacityBytes > 0 ? ((usedBytes + needBytes) * 100) / capacityBytes : Infinity;
  const fits = needBytes <= availBytes && (usedBytes + needBytes) * 100 <= maxPct * capacityBytes;
  const error: DiskCapacityError = {
    error: 'DiskCapacity',
    mountpoint,
    usedBytes,
    capacityBytes,
    needBytes,
    projectedPct,
    maxPct,
  };
  return { fits, error };
}

/**
 * realpath and statfs in-process where nothing can hang (`/` or memory
 * filesystems, measurePathInProcess), else in a child under a deadline, as
 * for every path (an in-process call stuck on a hung mount would hold the
 * process at exit).
 */
export async function guard(path: string, needBytes: number, maxPct: number, io: Io): Promise<number> {
  // Bytes, not text: a mount point that is not UTF-8 must be seen as one (the in-process walk then leaves the path to the child).
  const table = await getMountTable().catch(() => []);
  const m = measurePathInProcess(path, table) ?? (await measurePath(execRunner, path, GUARD_STATFS_TIMEOUT_MS));
  if (m.kind === 'stuck') throw new UsageError(`${inline(path)}: ${m.reason} (stuck mount?)`);
  if (m.kind !== 'ok') throw new UsageError(`${inline(path)}: ${m.reason}`);
  const usage = usageFromStatfs(m.statfs);
  const mountpoint = mountFor(table, m.realpath)?.mountpoint ?? m.realpath;
  // proc, sysfs and the like report no blocks: there is nothing to fill, and no answer to give.
  if (usage.usedBytes + usage.availBytes <= 0)
    throw new UsageError(
      `${inline(path)}: ${inline(mountpoint)} reports no capacity (a pseudo filesystem?): nothing to guard`,
    );
  const { fits, error } = assessGuard(usage.usedBytes, usage.availBytes, needBytes, maxPct, mountpoint);
  if (fits) {
    io.stdout(
      `${JSON.stringify({ ok: true, mountpoint, usedBytes: usage.usedBytes, capacityBytes: error.capacityBytes, needBytes, projectedPct: error.projectedPct, maxPct })}\n`,
    );
    return EXIT.ok;
  }
  io.stdout(`${JSON.stringify(error)}\n`);
  io.stderr(
    `Can't write ${formatBytes(needBytes)} to ${inline(path)}: it would reach ${Math.ceil(error.projectedPct)}% (max ${maxPct}%). Prune first.\n`,
  );
  return EXIT.wouldNotFit;
}
