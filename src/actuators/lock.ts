import { readFileSync } from 'node:fs';
import { lstat, readFile, readlink, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplyLockedError, RunLockedError } from '../errors.js';

/*
 * Host-wide locks: one measuring run at a time (the run lock: reports,
 * remediate, each run of a watch), and one `remediate --apply` at a time
 * (the apply lock, taken inside it). A lock is a symbolic link in
 * the temporary directory (local, never a hung network mount, so plain
 * in-process calls) whose target is the holder's pid and start time:
 * symlink(2) creates it atomically (EEXIST when it exists), it is never
 * half-written, and its few bytes live in the inode, so it is created even
 * when the disk is full, which is when an apply runs. A lock whose holder
 * is gone (or whose pid now names another process) is stale and broken.
 */

export const APPLY_LOCK_WAIT_MS = 5000;
const POLL_MS = 100;
/** Breaking a stale lock takes microseconds: a guard older than this was left by a crash. */
const STALE_GUARD_MS = 10_000;

export function applyLockPath(): string {
  return path.join(tmpdir(), 'storage-preflight-apply.lock');
}

export function runLockPath(): string {
  return path.join(tmpdir(), 'storage-preflight-run.lock');
}

export interface HostLock {
  path: string;
  /** How long we waited for another holder. */
  waitedMs: number;
  release(): Promise<void>;
}

export type ApplyLock = HostLock;

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

async function readHolder(file: string): Promise<Holder | null | 'gone'> {
  try {
    return parseHolder(await readlink(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'gone';
    // A regular file (made by hand, or by an older tool): its text is read the same way.
    if (code === 'EINVAL') return parseHolder(await readFile(file, 'utf8').catch(() => ''));
    throw err;
  }
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
async function breakStale(lockPath: string, body: string, holder: Holder): Promise<'broken' | 'busy' | 'not-ours'> {
  const guard = `${lockPath}.break`;
  if (!(await createOnce(body, guard))) {
    const age = await lstat(guard).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > STALE_GUARD_MS) await unlinkQuietly(guard);
    return 'busy';
  }
  try {
    const again = await readHolder(lockPath);
    if (again === 'gone' || again === null || again.pid !== holder.pid || again.start !== holder.start) return 'broken';
    // In a sticky /tmp only its owner may remove it: a lock root left is not ours to break as uid 1000.
    return await unlink(lockPath).then(
      () => 'broken' as const,
      (err: NodeJS.ErrnoException) => (err.code === 'EPERM' || err.code === 'EACCES' ? 'not-ours' as const : 'broken' as const),
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
export function acquireApplyLock(lockPath = applyLockPath(), waitMs = APPLY_LOCK_WAIT_MS): Promise<HostLock> {
  return acquireLock(lockPath, waitMs, (pid, waited, notOurs) => new ApplyLockedError(lockPath, pid, waited, notOurs));
}

/** Take the host's run lock, waiting up to `waitMs`; RunLockedError when another run holds it that long. */
export function acquireRunLock(waitMs: number, signal?: AbortSignal, lockPath = runLockPath()): Promise<HostLock> {
  return acquireLock(lockPath, waitMs, (pid, waited, notOurs) => new RunLockedError(lockPath, pid, waited, notOurs), signal);
}

/**
 * Wait for `lockPath` up to `waitMs`, breaking it when its holder is gone;
 * `refuse` makes the error when time is up. An abort (a signal) stops the
 * wait with its reason, and never leaves the lock taken.
 */
export async function acquireLock(
  lockPath: string, waitMs: number, refuse: (holderPid: number | null, waitedMs: number, staleNotOurs: boolean) => Error, signal?: AbortSignal,
): Promise<HostLock> {
  const started = Date.now();
  const me: Holder = { pid: process.pid, start: startTimeOf(process.pid) };
  const body = `${me.pid}${me.start === null ? '' : ` ${me.start}`}`;
  const release = async () => {
    const h = await readHolder(lockPath);
    if (h !== 'gone' && h !== null && h.pid === me.pid && h.start === me.start) await unlinkQuietly(lockPath);
  };
  let holder: Holder | null = null;
  for (;;) {
    signal?.throwIfAborted();
    if (await createOnce(body, lockPath)) {
      if (signal?.aborted) await release();
      signal?.throwIfAborted();
      return { path: lockPath, waitedMs: Date.now() - started, release };
    }
    const read = await readHolder(lockPath);
    if (read !== 'gone') holder = read;
    // An unreadable lock is never ours to break: it is waited for like a live one.
    if (read !== 'gone' && read !== null && !alive(read)) {
      const outcome = await breakStale(lockPath, body, read);
      if (outcome === 'broken') continue;
      // Waiting would not change it: only its owner can remove it.
      if (outcome === 'not-ours') throw refuse(read.pid, Date.now() - started, true);
    }
    if (Date.now() - started >= waitMs) throw refuse(holder?.pid ?? null, Date.now() - started, false);
    if (read !== 'gone') await sleep(POLL_MS, undefined, signal ? { signal } : {}).catch(() => signal?.throwIfAborted());
  }
}

/** Break `lockPath` if its holder is gone (a run killed with SIGKILL); a live holder's lock stays. */
export async function clearStaleLock(lockPath: string): Promise<void> {
  const read = await readHolder(lockPath).catch(() => null);
  if (read !== 'gone' && read !== null && !alive(read)) await breakStale(lockPath, `${process.pid}`, read);
}
