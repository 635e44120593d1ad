import { TimeoutError } from '../model/errors.js';

/** Milliseconds left until an absolute deadline (epoch ms), never negative. */
export function remainingMs(deadline: number, now = Date.now()): number {
  return Math.max(0, deadline - now);
}

/**
 * The timeout for one call by `deadline`: at most `capMs`, `keepMs` kept back
 * for what follows it, and at least 1 ms (a timeout of 0 means none to a runner).
 */
export function callTimeout(deadline: number, capMs: number, keepMs = 0): number {
  return Math.max(1, Math.min(capMs, remainingMs(deadline) - keepMs));
}

/**
 * Settle with `work`, or reject with TimeoutError after `ms`.
 * `onTimeout` runs when the deadline wins (kill a child, destroy a socket);
 * the loser's eventual rejection is swallowed so it cannot crash the run.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new TimeoutError(what, ms));
    }, ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
