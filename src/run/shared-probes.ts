import { errorMessage } from '../errors.js';
import { dockerGet } from '../probes/docker-api.js';
import { parseInfo, parseVersion, type EngineIdentity } from '../parse/docker-engine.js';
import type { RunOptions } from '../options.js';
import { readWindow, type JournalWindow } from '../journal/store.js';
import { remainingMs, withTimeout } from './deadline.js';

export type DockerEngine =
  | { reachable: true; identity: EngineIdentity }
  | { reachable: false; reason: string; error: unknown };

export interface SharedProbes {
  /** GET /version then GET /info, once per run. */
  dockerEngine(deadline: number): Promise<DockerEngine>;
  /** The journal's last `trendDays` days, read once per run (empty with --no-journal). */
  journalHistory(): Promise<JournalWindow>;
}

/** Cheap calls answer in milliseconds; past this the daemon is in trouble. */
const CHEAP_CALL_TIMEOUT_MS = 3000;
/** A week of day files reads in milliseconds; a journal on a hung disk must not hold the run. */
const JOURNAL_READ_TIMEOUT_MS = 3000;

/**
 * Probes more than one section needs, memoised for the lifetime of one run
 * (not the module), so a report makes each call once.
 */
export function createSharedProbes(options: RunOptions): SharedProbes {
  let engine: Promise<DockerEngine> | undefined;
  let history: Promise<JournalWindow> | undefined;
  const now = new Date();
  return {
    dockerEngine(deadline) {
      engine ??= fetchEngine(options, deadline);
      return engine;
    },
    journalHistory() {
      history ??= options.journalRoot
        ? withTimeout(readWindow(options.journalRoot, options.trendDays, now), JOURNAL_READ_TIMEOUT_MS, 'reading the journal')
          .catch((err: unknown) => ({ entries: [], unreadable: 0, files: 0, problem: errorMessage(err) }))
        : Promise.resolve({ entries: [], unreadable: 0, files: 0, problem: null });
      return history;
    },
  };
}

async function fetchEngine(options: RunOptions, deadline: number): Promise<DockerEngine> {
  const timeout = () => Math.max(1, Math.min(CHEAP_CALL_TIMEOUT_MS, remainingMs(deadline)));
  try {
    // Both are cheap but not free (/version asks containerd and runc): ask at once.
    const [version, info] = await Promise.all([
      dockerGet(options.docker, '/version', timeout()),
      dockerGet(options.docker, '/info', timeout()),
    ]);
    return { reachable: true, identity: parseInfo(info, parseVersion(version)) };
  } catch (err) {
    return { reachable: false, reason: errorMessage(err), error: err };
  }
}
