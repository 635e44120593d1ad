import { TimeoutError, ToolMissingError, errorMessage, formatSeconds } from '../errors.js';
import { parseStatfsLine, type StatfsFigures } from '../parse/statfs.js';
import type { Runner } from './exec.js';

export type PathMeasurement =
  | { kind: 'ok'; path: string; realpath: string; statfs: StatfsFigures }
  | { kind: 'missing'; path: string; reason: string }
  | { kind: 'stuck'; path: string; reason: string }
  | { kind: 'error'; path: string; reason: string };

/*
 * realpath and statfs run in a child, never in-process: a hung statfs (stale
 * NFS, a stopped FUSE daemon) cannot be cancelled and would pin a libuv
 * thread. The child is killed at the deadline and the mount reported stuck.
 * `stat -f` also gives f_frsize, the unit df multiplies by (Node's statfs
 * only exposes f_bsize).
 */
const SCRIPT = 'realpath -ez -- "$1" && stat -f -L -c "%S %b %f %a %c %d" -- "$1"';

export async function measurePath(run: Runner, path: string, timeoutMs: number): Promise<PathMeasurement> {
  try {
    const res = await run('sh', ['-c', SCRIPT, 'preflight-statfs', path], timeoutMs);
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
 * The reason from a coreutils error line, without the program and path:
 * `realpath: '/nope': No such file or directory` → `No such file or directory`.
 */
export function lastReason(stderr: string): string {
  const line = stderr.trim().split('\n').pop() ?? '';
  const idx = line.lastIndexOf(': ');
  return (idx >= 0 ? line.slice(idx + 2) : line) || 'unreadable';
}
