import { constants, readFileSync } from 'node:fs';
import { lstat, open, readlink, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplyLockedError, RunLockedError, type LockRefusal } from '../model/errors.js';
import { effectiveUid } from './folder-walk.js';
import { lockFolder, NoLockFolderError } from './lock-dir.js';

/*
 * Host-wide locks: one measuring run at a time (the run lock: reports,
 * remediate, each run of a watch), and one `remediate --apply` at a time
 * (the apply lock, taken inside it). A lock is a symbolic link in a
 * folder only this user can write (lock-dir.ts: local, never a hung network
 * mount, so plain in-process calls) whose target is the holder's pid and start time:
 * symlink(2) creates it atomically (EEXIST when it exists), it is never
 * half-written, and its few bytes live in the inode, so it is created even
 * when the disk is full, which is when an apply runs. A lock whose holder
 * is gone (or whose pid now names another process) is stale and broken.
 */

export const APPLY_LOCK_WAIT_MS = 5000;
const POLL_MS = 100;
/** Breaking a stale lock takes microseconds: a guard older than this was left by a crash. */
const STALE_GUARD_MS = 10_000;

/** Throws NoLockFolderError when no folder is this user's alone. */
export function applyLockPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(lockFolder(env), 'storage-preflight-apply.lock');
}

export function runLockPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(lockFolder(env), 'storage-preflight-run.lock');
}

export interface HostLock {
  path: string;
  /** How long we waited for another holder. */
  waitedMs: number;
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot): tells a reused pid apart. */
  start: string | null;
}

/** Sample of /proc/<pid>/stat: `4242 (node) S 1 4242 … 0 20 0 1 0 98765 …`: start time is field 22. */
function startTimeOf(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: count fields after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function alive(h: Holder): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTimeOf(h.pid);
  return h.start === null || now === null || now === h.start;
}

/** Sample (the link's target): `4242 98765`. */
export function parseHolder(text: string): Holder | null {
  const m = /^(\d+)(?: (\d+))?\s*$/.exec(text);
  return m ? { pid: Number(m[1]), start: m[2] ?? null } : null;
}

/** Never blocks: not a FIFO's open, not a device's; the type is checked on the descriptor. */
const READ_NEVER_BLOCKS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A regular file's first bytes (a lock made by hand, or by an older tool); '' for anything else. */
async function smallRegularFile(file: string): Promise<string> {
  const fd = await open(file, READ_NEVER_BLOCKS).catch(() => null);
  if (!fd) return '';
  try {
    if (!(await fd.stat()).isFile()) return '';
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fd.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fd.close();
  }
}

/** What is at a lock's name: its holder (null when it names none of ours) and its inode, which a re-made lock changes. */
interface Entry {
  holder: Holder | null;
  ino: number;
}

/** The entry at `file`; 'gone' when absent. Garbage, a FIFO, another user's entry: no holder. */
async function readEntry(file: string): Promise<Entry | 'gone'> {
  const st = await lstat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) return 'gone';
  // Made by another user (root, in this user's folder): not a lock of ours to honour.
  if (st.uid !== effectiveUid()) return { holder: null, ino: st.ino };
  const text = st.isSymbolicLink() ? await readlink(file).catch(() => '') : await smallRegularFile(file);
  return { holder: parseHolder(text), ino: st.ino };
}

/** symlink(2) `target` at `at`: true when we created it, false when it exists. */
async function createOnce(target: string, at: string): Promise<boolean> {
  try {
    await symlink(target, at);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function unlinkQuietly(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}

/**
 * Break the lock held by a dead `holder`; false when it could not be. A
 * guard file makes breakers take turns: without it, one breaker could read
 * the dead pid, another break the lock and a third take it, and the first
 * would then unlink a live lock.
 */
async function breakStale(lockPath: string, body: string, seen: Entry): Promise<'broken' | 'busy' | 'not-ours'> {
  const guard = `${lockPath}.break`;
  if (!(await createOnce(body, guard))) {
    const age = await lstat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_GUARD_MS) await unlinkQuietly(guard);
    return 'busy';
  }
  try {
    // Another breaker may have broken it and a live run taken it since: only the entry we judged goes.
    // An inode number is reused at once on ext4: the holder it names must be the same too.
    const again = await readEntry(lockPath);
    const same = (a: Holder | null, b: Holder | null) => a?.pid === b?.pid && a?.start === b?.start;
    if (again === 'gone' || again.ino !== seen.ino || !same(again.holder, seen.holder)) return 'broken';
    // In a sticky /tmp only its owner may remove it: a lock root left is not ours to break as uid 1000.
    return await unlink(lockPath).then(
      () => 'broken' as const,
      (err: NodeJS.ErrnoException) =>
        err.code === 'EPERM' || err.code === 'EACCES' ? ('not-ours' as const) : ('broken' as const),
    );
  } finally {
    await unlinkQuietly(guard);
  }
}

/**
 * Take the host's apply lock, waiting up to `waitMs` for another apply to
 * finish; ApplyLockedError when it does not. release() removes it (only if
 * it is still ours).
 */
export function acquireApplyLock(lockPath?: string, waitMs = APPLY_LOCK_WAIT_MS): Promise<HostLock> {
  return lockIn(lockPath ?? applyLockPath, waitMs, (at, refusal) => new ApplyLockedError(at, refusal));
}

/** Take the host's run lock, waiting up to `waitMs`; RunLockedError when another run holds it that long. */
export function acquireRunLock(waitMs: number, signal?: AbortSignal, lockPath?: string): Promise<HostLock> {
  return lockIn(lockPath ?? runLockPath, waitMs, (at, refusal) => new RunLockedError(at, refusal), signal);
}

type Refuse = (lockPath: string, refusal: LockRefusal) => Error;

/** The lock at `at` (or where `at()` finds this user's folder: no folder of ours alone is a refusal too). */
async function lockIn(
  at: string | (() => string),
  waitMs: number,
  refuse: Refuse,
  signal?: AbortSignal,
): Promise<HostLock> {
  let lockPath: string;
  try {
    lockPath = typeof at === 'string' ? at : at();
  } catch (err) {
    if (err instanceof NoLockFolderError) throw refuse('', { kind: 'no-folder', reason: err.message });
    throw err;
  }
  return acquireLock(lockPath, waitMs, (refusal) => refuse(lockPath, refusal), signal);
}

/**
 * Wait for `lockPath` up to `waitMs`, breaking it when its holder is gone;
 * `refuse` makes the error when time is up. An abort (a signal) stops the
 * wait with its reason, and never leaves the lock taken.
 */
export async function acquireLock(
  lockPath: string,
  waitMs: number,
  refuse: (refusal: LockRefusal) => Error,
  signal?: AbortSignal,
): Promise<HostLock> {
  const started = Date.now();
  const me: Holder = { pid: process.pid, start: startTimeOf(process.pid) };
  const body = `${me.pid}${me.start === null ? '' : ` ${me.start}`}`;
  const release = async () => {
    const e = await readEntry(lockPath).catch(() => 'gone' as const);
    if (e !== 'gone' && e.holder?.pid === me.pid && e.holder.start === me.start) await unlinkQuietly(lockPath);
  };
  let holder: Holder | null = null;
  for (;;) {
    signal?.throwIfAborted();
    if (await createOnce(body, lockPath)) {
      if (signal?.aborted) await release();
      signal?.throwIfAborted();
      return { path: lockPath, waitedMs: Date.now() - started, release };
    }
    const read = await readEntry(lockPath);
    if (read !== 'gone') holder = read.holder;
    // In a folder only we can write, an entry naming no live run of ours (garbage, a FIFO, root's) is no lock: broken.
    if (read !== 'gone' && (read.holder === null || !alive(read.holder))) {
      const outcome = await breakStale(lockPath, body, read);
      if (outcome === 'broken') continue;
      // Waiting would not change it: only its owner can remove it.
      if (outcome === 'not-ours') throw refuse({ kind: 'stale-not-ours', holderPid: read.holder?.pid ?? null });
    }
    if (Date.now() - started >= waitMs)
      throw refuse({ kind: 'held', holderPid: holder?.pid ?? null, waitedMs: Date.now() - started });
    if (read !== 'gone')
      await sleep(POLL_MS, undefined, signal ? { signal } : {}).catch(() => signal?.throwIfAborted());
  }
}

/** Break `lockPath` if its holder is gone (a run killed with SIGKILL); a live holder's lock stays. */
export async function clearStaleLock(at: string | (() => string)): Promise<void> {
  let lockPath: string;
  try {
    lockPath = typeof at === 'string' ? at : at();
  } catch {
    return; // No folder of ours: no lock of ours either.
  }
  const read = await readEntry(lockPath).catch(() => 'gone' as const);
  if (read !== 'gone' && (read.holder === null || !alive(read.holder)))
    await breakStale(lockPath, `${process.pid}`, read);
}
