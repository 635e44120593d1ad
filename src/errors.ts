/**
 * Typed errors. The CLI maps them to exit codes in one place (cli.ts);
 * sections map them to a one-line reason.
 */

/** Malformed flags or values: exit 2 with one line. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Another `remediate --apply` holds the host's apply lock and did not let go
 * in time: exit 4 with one line (two applies never delete at once).
 */
export class ApplyLockedError extends Error {
  override name = 'ApplyLockedError';
  constructor(readonly lockPath: string, readonly holderPid: number | null, readonly waitedMs: number) {
    super(`another remediate --apply${holderPid === null ? '' : ` (pid ${holderPid})`} holds ${lockPath}; gave up after ${formatSeconds(waitedMs)}, nothing was applied`);
  }
}

/** A probe did not answer within its deadline. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  /** `partialOutput`: what a child printed before its deadline (a batch that answers as it goes). */
  constructor(readonly what: string, readonly afterMs: number, readonly partialOutput = '') {
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

/** A source answered more than we are willing to hold in memory; the message names the cap. */
export class TooLargeError extends UnavailableError {
  override name = 'TooLargeError';
  constructor(readonly what: string, readonly limitBytes: number) {
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
