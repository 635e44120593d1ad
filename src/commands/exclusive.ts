import { acquireRunLock } from '../host/lock.js';
import { InterruptedError } from '../model/errors.js';
import type { Io } from './io.js';
import type { RunOptions } from '../model/options.js';
import { killChildTrees } from '../host/exec.js';

/** A run waits for another at most this share of its budget; what is left is its own. */
const RUN_LOCK_WAIT_SHARE = 0.5;

/**
 * A measuring run (report, remediate, each run of a watch) under the host's
 * run lock, so runs never overlap, whoever started them. The wait counts
 * against the budget: `work` gets what is left. SIGTERM or SIGINT cut the
 * run: the lock is released and InterruptedError becomes exit 143 or 130.
 * The abandoned work prints nothing more, and its children (probes, a
 * journal append) are killed as the process exits, not before: freed
 * early, the work could go on to write a report of a run that was cut.
 */
export async function exclusively<T>(
  options: RunOptions,
  io: Io,
  work: (options: RunOptions, io: Io) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const stop = new AbortController();
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    process.once('exit', () => killChildTrees());
    stop.abort(new InterruptedError(signal));
  };
  const stopped = new Promise<never>((_, reject) =>
    stop.signal.addEventListener('abort', () => reject(stop.signal.reason as Error), { once: true }),
  );
  stopped.catch(() => undefined);
  const open = (write: (text: string) => void) => (text: string) => {
    if (!stop.signal.aborted) write(text);
  };
  const gated: Io = { ...io, stdout: open(io.stdout), stderr: open(io.stderr) };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const lock = await acquireRunLock(Math.floor(options.budgetMs * RUN_LOCK_WAIT_SHARE), stop.signal);
    try {
      const left = { ...options, budgetMs: Math.max(1, options.budgetMs - (Date.now() - started)) };
      return await Promise.race([work(left, gated), stopped]);
    } finally {
      await lock.release();
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
