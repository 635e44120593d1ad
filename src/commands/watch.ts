import { setTimeout as sleep } from 'node:timers/promises';
import { clearStaleLock, runLockPath } from '../host/lock.js';
import { EXIT, type Io } from './io.js';
import { runChild, type ChildEnd } from '../host/child-run.js';
import { plain } from '../text/escape.js';

export interface WatchPlan {
  intervalMs: number;
  /** Each run's budget, as resolved at start. */
  budgetMs: number;
  /** The flags each run gets: watch's own, but --interval and --notify. */
  runArgv: readonly string[];
  /** watch's --notify URLs: each run gets them as PREFLIGHT_NOTIFY, out of the process list. */
  notify: readonly string[];
}

/** Node's start-up and the run's exit, on top of its budget: past that, the run is killed. */
const RUN_GRACE_MS = 5000;
/** After SIGTERM, what a run gets to release its lock and exit before it is killed. */
const STOP_GRACE_MS = 600;

/** How this process was started (node, its flags, the entry script): each run starts the same way. */
export function selfCommand(): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1]!];
}

/**
 * `preflight watch`: `preflight [flags]` every interval, start to start, for
 * hosts without a supervisor. Each run is a child process, the same as a
 * one-shot run (it takes the run lock, keeps its budget, prints its report
 * straight to stdout): whatever a run does (throws, hangs, crashes), the
 * loop goes on, with one line on stderr. SIGTERM or SIGINT end the watch
 * with exit 0: stopping is how a watch ends, and systemd then counts the
 * service as cleanly stopped.
 */
export async function watch(plan: WatchPlan, io: Io, self = selfCommand()): Promise<number> {
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => stop.abort(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    while (!stop.signal.aborted) {
      const startedAt = Date.now();
      const end = await runChild(
        [...self, ...plan.runArgv],
        runEnv(io.env, plan.notify),
        plan.budgetMs + RUN_GRACE_MS,
        STOP_GRACE_MS,
        stop.signal,
      );
      // A run killed while holding the run lock leaves it to a dead pid: break it now, not at the next run's wait.
      if (end.kind === 'overran' || end.kind === 'cut') await clearStaleLock(runLockPath);
      const line = endLine(end, new Date(startedAt), plan, String(stop.signal.reason ?? ''));
      if (line) io.stderr(line);
      // Start to start; a run longer than the interval is followed at once, and missed starts are not made up.
      await sleep(Math.max(0, startedAt + plan.intervalMs - Date.now()), undefined, { signal: stop.signal }).catch(
        () => undefined,
      );
    }
    return EXIT.ok;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/**
 * The runs' environment: watch's own, with --notify (which outranks
 * $PREFLIGHT_NOTIFY, as in a run) as PREFLIGHT_NOTIFY. Each URL as parsed,
 * so a space in one is %20 and cannot split it in two.
 */
export function runEnv(env: NodeJS.ProcessEnv, notify: readonly string[]): NodeJS.ProcessEnv {
  if (notify.length === 0) return env;
  return { ...env, PREFLIGHT_NOTIFY: notify.map((u) => new URL(u).href).join(' ') };
}

/** The one stderr line a run gets when it did not end well; a run that ended well passes its stderr (normally nothing) on. */
export function endLine(end: ChildEnd, startedAt: Date, plan: WatchPlan, signal: string): string | null {
  const run = `preflight watch: the run started ${startedAt.toISOString()}`;
  switch (end.kind) {
    case 'exited': {
      if (end.code === 0) return end.stderr || null;
      const said =
        end.stderr
          .split('\n')
          .find((l) => l.trim())
          ?.replace(/^preflight: /, '') ?? 'no message';
      return `${run} failed (${end.code === null ? `killed by ${end.signal}` : `exit ${end.code}`}): ${plain(said, 300)}\n`;
    }
    case 'overran':
      return `${run} was killed ${(plan.budgetMs + RUN_GRACE_MS) / 1000} s after it started (budget ${plan.budgetMs / 1000} s)\n`;
    case 'cut':
      return `${run} was cut by ${signal}; stopped\n`;
    case 'spawn-failed':
      return `${run} could not start: ${plain(end.message, 300)}\n`;
  }
}
