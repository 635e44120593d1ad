import type { Blocked } from '../parse/blocked.js';

/**
 * Typed errors. The CLI maps them to exit codes in one place (cli/exit.ts);
 * sections map them to a one-line reason.
 */

/** Malformed flags or values: exit 2 with one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Why a host lock was not taken: another run held it, a dead run left one this user may not remove, or no folder is this user's alone. */
export type LockRefusal =
  | { kind: 'held'; holderPid: number | null; waitedMs: number }
  | { kind: 'stale-not-ours'; holderPid: number | null }
  | { kind: 'no-folder'; reason: string };

/** The one line for a refused lock; `who` is what may hold it, `undone` what did not happen. */
function refusalText(lockPath: string, r: LockRefusal, who: string, undone: string): string {
  switch (r.kind) {
    case 'no-folder':
      return `${r.reason}; ${undone}`;
    case 'stale-not-ours':
      return `${lockPath} was left by pid ${r.holderPid ?? '?'}, which is gone, and belongs to another user: this user may not remove it (remove it as root); ${undone}`;
    case 'held':
      return `another ${who}${r.holderPid === null ? '' : ` (pid ${r.holderPid})`} holds ${lockPath}; gave up after ${formatSeconds(r.waitedMs)}, ${undone}`;
  }
}

/** A host lock not taken: one line, and the exit code of the subclass (cli/exit.ts). */
abstract class LockedError extends Error {
  readonly holderPid: number | null;
  constructor(
    readonly lockPath: string,
    readonly refusal: LockRefusal,
    who: string,
    undone: string,
  ) {
    super(refusalText(lockPath, refusal, who, undone));
    this.holderPid = refusal.kind === 'no-folder' ? null : refusal.holderPid;
  }
}

/** Another `remediate --apply` held the apply lock past the wait: exit 4 with one line (two applies never delete at once). */
export class ApplyLockedError extends LockedError {
  override name = 'ApplyLockedError';
  constructor(lockPath: string, refusal: LockRefusal) {
    super(lockPath, refusal, 'remediate --apply', 'nothing was applied');
  }
}

/** Another measuring run (a report, remediate or a watch's run) held the run lock as long as this run could wait: exit 5, nothing measured. */
export class RunLockedError extends LockedError {
  override name = 'RunLockedError';
  constructor(lockPath: string, refusal: LockRefusal) {
    super(lockPath, refusal, 'preflight run', 'nothing was measured');
  }
}

/** SIGTERM or SIGINT cut a run short: exit 143 or 130 (128 + the signal's number, as a shell reports it). */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(readonly signal: 'SIGTERM' | 'SIGINT') {
    super(`stopped by ${signal} before the report was printed (the run lock is released)`);
  }
}

/** A probe did not answer within its deadline. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  /** `partialOutput`: what a child printed before its deadline (a batch that answers as it goes). */
  constructor(
    readonly what: string,
    readonly afterMs: number,
    readonly partialOutput = '',
  ) {
    super(`${what} gave no answer in ${formatSeconds(afterMs)}`);
  }
}

/** An external tool is not installed (ENOENT on spawn). */
export class ToolMissingError extends Error {
  override name = 'ToolMissingError';
  constructor(readonly tool: string) {
    super(`${tool}: not installed (not found on PATH)`);
  }
}

/** A source that the report needs is not reachable; the message is the one-line reason. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}

/** A folder of the data root could not be entered (not root, not mounted here): which one, and why. */
export class UnreadableError extends UnavailableError {
  override name = 'UnreadableError';
  constructor(
    readonly blocked: Blocked,
    message: string,
  ) {
    super(message);
  }
}

/** A source answered more than we are willing to hold in memory; the message names the cap. */
export class TooLargeError extends UnavailableError {
  override name = 'TooLargeError';
  constructor(
    readonly what: string,
    readonly limitBytes: number,
  ) {
    super(`${what} answered more than ${(limitBytes / 1024 / 1024).toFixed(1)} MiB; too large to read`);
  }
}

/** The section has nothing to say on this host (no btrfs at all): omitted from markdown. */
export class NotApplicableError extends Error {
  override name = 'NotApplicableError';
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
