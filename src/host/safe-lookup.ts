import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { mountFor, type MountEntry } from '../parse/mountinfo.js';

/**
 * Filesystems in memory: a lookup there never waits on a disk, a server or a
 * FUSE daemon. Not proc: its magic links (/proc/<pid>/root, cwd, fd/N) do not
 * lead where their text says.
 */
const MEMORY_FS = new Set(['tmpfs', 'devtmpfs', 'ramfs']);
/** As the kernel's own limit (MAXSYMLINKS): past it the path is not followed here. */
const MAX_SYMLINKS = 40;

/** Pure: a lookup on this mount cannot hang: `/` itself (this process runs from it) or a filesystem in memory. */
export function lookupCannotHang(m: MountEntry | undefined): boolean {
  return m !== undefined && (m.mountpoint === '/' || MEMORY_FS.has(m.fstype));
}

/** Where a walk ended: on a mount that might hang, at a name that does not exist, or at the path with every symlink resolved. */
export type Walk = { kind: 'unsafe' } | { kind: 'missing'; reason: string } | { kind: 'resolved'; realpath: string };

/** What realpath(1) says for the errors a lookup that cannot hang may give. */
const MISSING: Record<string, string> = { ENOENT: 'No such file or directory', ENOTDIR: 'Not a directory' };

/**
 * Follow `p` one name at a time, looking at each name (lstat, readlink)
 * only once the mount it lies on is known to be `/` or in memory, so the
 * walk never blocks: `/var/run/docker.sock` → `/run` (tmpfs) resolves; a path
 * on, or a symlink into, an NFS or FUSE mount is unsafe, and is not entered.
 * Synchronous on purpose: those lookups take microseconds, and a walk that
 * queued for the libuv pool waited a second behind a storm of statfs
 * children on a busy host (1,000 --path on a separate disk).
 */
export function walkPath(p: string, table: readonly MountEntry[]): Walk {
  // A mount point that is not UTF-8 cannot be compared with a path here: the child decides.
  if (!path.isAbsolute(p) || table.some((m) => m.rawMountpoint !== undefined)) return { kind: 'unsafe' };
  let resolved = '/';
  let resolvedIsDir = true;
  // A trailing slash asks for a folder, as `.` does.
  let rest = [...p.split('/').filter(Boolean), ...(p.length > 1 && p.endsWith('/') ? ['.'] : [])];
  let links = 0;
  while (rest.length > 0) {
    const name = rest.shift()!;
    // Going on from a file fails at once, as the kernel's lookup does (realpath: "Not a directory").
    if (!resolvedIsDir) return { kind: 'missing', reason: MISSING.ENOTDIR! };
    if (name === '.') continue;
    if (name === '..') {
      resolved = path.dirname(resolved);
      continue;
    }
    const candidate = path.join(resolved, name);
    if (!lookupCannotHang(mountFor(table, candidate))) return { kind: 'unsafe' };
    let stats;
    try {
      stats = lstatSync(candidate);
    } catch (err) {
      const reason = MISSING[(err as NodeJS.ErrnoException).code ?? ''];
      // Another error (EACCES, ELOOP…): the child looks, and says it as coreutils does.
      return reason ? { kind: 'missing', reason } : { kind: 'unsafe' };
    }
    if (!stats.isSymbolicLink()) {
      resolved = candidate;
      resolvedIsDir = stats.isDirectory();
      continue;
    }
    if (++links > MAX_SYMLINKS) return { kind: 'unsafe' };
    const bytes = readlinkSync(candidate, { encoding: 'buffer' });
    const target = bytes.toString('utf8');
    // A target that is not UTF-8 would be followed here by other bytes than the kernel's.
    if (!Buffer.from(target).equals(bytes)) return { kind: 'unsafe' };
    rest = [...target.split('/').filter(Boolean), ...(target.length > 1 && target.endsWith('/') ? ['.'] : []), ...rest];
    if (path.isAbsolute(target)) resolved = '/';
  }
  return { kind: 'resolved', realpath: resolved };
}

/**
 * Whether connect(2) to `p` can only look names up where nothing can hang.
 * A missing name is safe: connect fails at once (another error sends the
 * path to the child, which fails as quickly). Callers that get false
 * look the path up in a child under a deadline instead (~20-40 ms of
 * spawning before /system/df can start).
 */
export function pathLookupCannotHang(p: string, table: readonly MountEntry[]): boolean {
  try {
    return walkPath(p, table).kind !== 'unsafe';
  } catch {
    return false;
  }
}
