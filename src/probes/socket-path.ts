import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { MountEntry } from '../parse/mountinfo.js';

/** Filesystems in memory: a lookup there never waits on a disk, a server or a FUSE daemon. */
const MEMORY_FS = new Set(['tmpfs', 'devtmpfs', 'ramfs', 'proc', 'sysfs']);
/** As the kernel's own limit (MAXSYMLINKS): past it the path is not followed here. */
const MAX_SYMLINKS = 40;

/** Pure: the mount a path lies on (the last of those stacked on the longest matching mount point). */
export function mountOf(p: string, table: readonly MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of table) {
    const covers = m.mountpoint === '/' || p === m.mountpoint || p.startsWith(`${m.mountpoint}/`);
    if (covers && (!best || m.mountpoint.length >= best.mountpoint.length)) best = m;
  }
  return best;
}

/** Pure: a lookup on this mount cannot hang: `/` itself (this process runs from it) or a filesystem in memory. */
export function lookupCannotHang(m: MountEntry | undefined): boolean {
  return m !== undefined && (m.mountpoint === '/' || MEMORY_FS.has(m.fstype));
}

/**
 * Whether connect(2) to `socketPath` would only look names up where no
 * lookup can hang, followed one name at a time: each name is looked at
 * (lstat, readlink) only once the mount it lies on is known to be `/` or in
 * memory, so this never blocks either. `/var/run/docker.sock` → `/run` (tmpfs)
 * is safe; a socket on, or a symlink into, an NFS or FUSE mount is not, and
 * a missing name is safe (connect fails at once). Saves the child that
 * checks the path otherwise (~20 ms before /system/df can start, more on a
 * loaded host).
 */
export async function socketLookupCannotHang(socketPath: string, table: readonly MountEntry[]): Promise<boolean> {
  // A mount point that is not UTF-8 cannot be compared with a path here: the child decides.
  if (!path.isAbsolute(socketPath) || table.some((m) => m.rawMountpoint !== undefined)) return false;
  let resolved = '/';
  let rest = socketPath.split('/').filter(Boolean);
  let links = 0;
  while (rest.length > 0) {
    const name = rest.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      resolved = path.dirname(resolved);
      continue;
    }
    const candidate = path.join(resolved, name);
    if (!lookupCannotHang(mountOf(candidate, table))) return false;
    let stats;
    try {
      stats = await lstat(candidate);
    } catch {
      // Missing, or not a folder: connect fails at once, without waiting on anything.
      return true;
    }
    if (!stats.isSymbolicLink()) {
      resolved = candidate;
      continue;
    }
    if (++links > MAX_SYMLINKS) return false;
    const target = await readlink(candidate);
    rest = [...target.split('/').filter(Boolean), ...rest];
    if (path.isAbsolute(target)) resolved = '/';
  }
  return true;
}
