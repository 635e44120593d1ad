import { TimeoutError, ToolMissingError, errorMessage, formatSeconds } from '../model/errors.js';
import { parseStatfsLine, type StatfsFigures } from '../parse/statfs.js';
import { statfsSync } from 'node:fs';
import { mountFor, type MountEntry } from '../parse/mountinfo.js';
import type { Runner } from '../host/exec.js';
import { walkPath } from '../host/safe-lookup.js';
import type { PathMeasurement } from '../model/filesystems.js';

/*
 * realpath and statfs run in a child, never in-process: a hung statfs (stale
 * NFS, a stopped FUSE daemon) cannot be cancelled and would pin a libuv
 * thread. The child is killed at the deadline and the mount reported stuck.
 * `stat -f` also gives f_frsize, the unit df multiplies by (Node's statfs
 * only exposes f_bsize).
 */

/**
 * The shell script text giving the real path of `p` (a quoted shell word),
 * ended by `end` (printf's NUL or newline escape): a directory's from the shell's own
 * `cd -P` (no exec: realpath is a process start, 5-20 ms on a busy host),
 * anything else (a file, a missing path, no search permission) from
 * realpath -e, with its message. For a directory both give the same
 * physical path. Sample: `/data` (a link to `/srv/data`) → `/srv/data`.
 * It changes the directory: run it in a subshell of its own, as a command
 * substitution is.
 */
export function realpathScript(p: string, end: '\\0' | '\\n'): string {
  const z = end === '\\0' ? 'z' : '';
  return `{ CDPATH= cd -P -- ${p} 2>/dev/null && printf '%s${end}' "$PWD" || realpath -e${z} -- ${p}; }`;
}
/*
 * A directory: its real path from the shell's own `cd -P`, then statfs of
 * `.` (no subshell: one fork less, 12 -> 9 ms of the child here); anything
 * else from realpath, as in realpathScript.
 */
const STATFS = 'exec stat -f -L -c "%S %b %f %a %c %d" --';
const SCRIPT = `if CDPATH= cd -P -- "$1" 2>/dev/null; then printf '%s\\0' "$PWD" && ${STATFS} .; exit; fi
realpath -ez -- "$1" && ${STATFS} "$1"`;
/*
 * A path that is not valid UTF-8 cannot cross spawn()'s arguments (they are
 * encoded as UTF-8): its bytes go as `\0ooo` escapes that printf %b turns
 * back into bytes (the `x` keeps a trailing newline from $(…)).
 */
const RAW_SCRIPT = `p=$(printf '%bx' "$1"); p=\${p%x}; ${SCRIPT.replaceAll('"$1"', '"$p"')}`;

/** Bytes as a latin1 string → printf %b escapes for the bytes that are not plain ASCII. */
export function printfEscape(bytes: string): string {
  return bytes.replace(/[^\x20-\x5b\x5d-\x7e]/g, (c) => `\\0${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** `path` is a string, or a latin1 byte string when `raw` (a mount point that is not UTF-8). */
export async function measurePath(run: Runner, path: string, timeoutMs: number, raw = false): Promise<PathMeasurement> {
  try {
    const res = raw
      ? await run('sh', ['-c', RAW_SCRIPT, 'preflight-statfs', printfEscape(path)], timeoutMs)
      : await run('sh', ['-c', SCRIPT, 'preflight-statfs', path], timeoutMs);
    if (res.exitCode !== 0) return { kind: 'missing', path, reason: lastReason(res.stderr) };
    const nul = res.stdout.lastIndexOf('\0');
    const statfs = nul >= 0 ? parseStatfsLine(res.stdout.slice(nul + 1)) : undefined;
    if (!statfs) return { kind: 'error', path, reason: 'stat -f printed nothing usable' };
    return { kind: 'ok', path, realpath: res.stdout.slice(0, nul), statfs };
  } catch (err) {
    if (err instanceof TimeoutError) {
      return { kind: 'stuck', path, reason: `statfs gave no answer in ${formatSeconds(err.afterMs)}` };
    }
    if (err instanceof ToolMissingError) return { kind: 'error', path, reason: err.message };
    return { kind: 'error', path, reason: errorMessage(err) };
  }
}

/**
 * Filesystems that leave f_frsize, the unit df multiplies by, at the
 * kernel's default of f_bsize, the only one Node's statfs gives (NFS, CIFS
 * and FUSE may not).
 */
const FRSIZE_IS_BSIZE = new Set(['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'tmpfs', 'ramfs', 'devtmpfs']);

/**
 * measurePath without a child, when that is safe and exact: every name on
 * the way lies on `/` or in memory (walkPath: nothing there can hang, so the
 * synchronous calls take microseconds) and the filesystem reports f_frsize
 * as f_bsize.
 * A path missing there is said at once, as the child would. Null otherwise,
 * or on any other error: the child then measures, and says why.
 * Saves guard ~30 ms of spawning on a hot path.
 */
export function measurePathInProcess(p: string, table: readonly MountEntry[]): PathMeasurement | null {
  try {
    const walk = walkPath(p, table);
    if (walk.kind === 'missing') return { kind: 'missing', path: p, reason: walk.reason };
    if (walk.kind !== 'resolved') return null;
    // The walk vouched for the mount; its type must also give df's unit.
    const fstype = mountFor(table, walk.realpath)?.fstype;
    if (!fstype || !FRSIZE_IS_BSIZE.has(fstype)) return null;
    const s = statfsSync(walk.realpath);
    return {
      kind: 'ok',
      path: p,
      realpath: walk.realpath,
      statfs: { frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree },
    };
  } catch {
    return null;
  }
}

/**
 * The reason from a coreutils error line, without the program and path:
 * `realpath: '/nope': No such file or directory` → `No such file or directory`.
 */
export function lastReason(stderr: string): string {
  const line = stderr.trim().split('\n').pop() ?? '';
  const idx = line.lastIndexOf(': ');
  return (idx >= 0 ? line.slice(idx + 2) : line) || 'unreadable';
}
