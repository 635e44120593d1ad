import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { effectiveUid } from './folder-walk.js';

/*
 * Where the host-wide locks live: a folder only this user can write, so no
 * other user can plant, hold, jam or swap a lock (a symlink naming a live
 * pid, a FIFO that blocks the opener). `$TMPDIR` when it is such a folder
 * (a private temporary folder: tests, systemd's PrivateTmp); otherwise a
 * folder of our own, made 0700: `/run/storage-preflight` for root,
 * `$XDG_RUNTIME_DIR/storage-preflight` or `/tmp/storage-preflight-<uid>` for
 * others. A candidate another user made first (or a symlink) is passed over,
 * never used. Local folders only, so plain in-process calls.
 */

export const LOCK_FOLDER_NAME = 'storage-preflight';

/** Why `st` (lstat of a folder) may not hold our locks; null when it may. */
export function notPrivate(st: Stats, uid: number): string | null {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (!st.isDirectory()) return 'not a folder';
  if (st.uid !== uid) return `owned by uid ${st.uid}`;
  if ((st.mode & 0o022) !== 0) return `writable by others (mode ${(st.mode & 0o7777).toString(8)})`;
  return null;
}

/** Where a folder of our own may be made: none of its names replaceable by another user (root's or ours, or sticky). */
function parentSafe(dir: string, uid: number): string | null {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return 'missing';
  if (!st.isDirectory()) return st.isSymbolicLink() ? 'a symbolic link' : 'not a folder';
  if (st.uid !== 0 && st.uid !== uid) return `owned by uid ${st.uid}`;
  const sticky = (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !sticky)
    return `writable by others without the sticky bit (mode ${(st.mode & 0o7777).toString(8)})`;
  return null;
}

/** Make `dir` (0700) when missing, then check it is ours alone; the reason when it is not. */
function ownFolder(dir: string, uid: number): string | null {
  const parentProblem = parentSafe(path.dirname(dir), uid);
  if (parentProblem) return `${path.dirname(dir)}: ${parentProblem}`;
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return `${dir}: ${(err as Error).message}`;
  }
  const problem = notPrivate(lstatSync(dir), uid);
  return problem ? `${dir}: ${problem}` : null;
}

/** Thrown when no candidate folder is ours alone: the reasons, one per candidate. */
export class NoLockFolderError extends Error {
  override name = 'NoLockFolderError';
  constructor(readonly reasons: readonly string[]) {
    super(`no folder only this user can write for the locks (${reasons.join('; ')}): set TMPDIR to one`);
  }
}

/** The candidates, in order: `$TMPDIR` itself only when private (checked, never made). */
export function lockFolderCandidates(env: NodeJS.ProcessEnv, uid: number): string[] {
  const own: string[] = [];
  if (uid === 0) own.push(path.join('/run', LOCK_FOLDER_NAME));
  else if (env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR))
    own.push(path.join(env.XDG_RUNTIME_DIR, LOCK_FOLDER_NAME));
  own.push(path.join('/tmp', `${LOCK_FOLDER_NAME}-${uid}`));
  return own;
}

/** The folder this user's locks live in; NoLockFolderError when none is ours alone. */
export function lockFolder(env: NodeJS.ProcessEnv = process.env, uid = effectiveUid()): string {
  const reasons: string[] = [];
  // Without trailing slashes: lstat of `dir/` would follow a link.
  const tmp = env.TMPDIR && env.TMPDIR !== '/' ? env.TMPDIR.replace(/\/+$/, '') : env.TMPDIR;
  if (tmp && path.isAbsolute(tmp)) {
    const st = lstatSync(tmp, { throwIfNoEntry: false });
    const problem = st ? (notPrivate(st, uid) ?? parentSafe(path.dirname(path.resolve(tmp)), uid)) : 'missing';
    if (!problem) return path.resolve(tmp);
  }
  for (const dir of lockFolderCandidates(env, uid)) {
    const problem = ownFolder(dir, uid);
    if (!problem) return dir;
    reasons.push(problem);
  }
  throw new NoLockFolderError(reasons);
}
