import { TimeoutError, UnavailableError, errorMessage, formatSeconds } from '../model/errors.js';
import { dockerGetAnswer } from '../host/docker-api.js';
import { engineFromInfo, type EngineIdentity } from '../parse/docker-engine.js';
import type { RunOptions } from '../model/options.js';
import { recipeCacheFile, type RecipeCacheRead } from '../model/recipe-cache.js';
import { recipeCacheFromRead } from './recipe-cache.js';
import { readHistoryWith } from './history.js';
import { EMPTY_HISTORY, type HistoryWindow } from '../model/history.js';
import type { Runner } from '../host/exec.js';
import { getMountTable } from './mountinfo.js';
import { getContainerdRoot, type ContainerdRootFound } from './containerd-root.js';
import { pathLookupCannotHang } from '../host/safe-lookup.js';
import type { MountEntry } from '../parse/mountinfo.js';
import { callTimeout, remainingMs, withTimeout } from '../host/deadline.js';
import { EMPTY_SCAN, type DeletedOpenScan } from '../model/deleted-open.js';
import { getDeletedOpen } from './deleted-open.js';

export type DockerEngine =
  { reachable: true; identity: EngineIdentity } | { reachable: false; reason: string; error: unknown };

export interface SharedProbes {
  /**
   * Resolves once the Docker socket's path answers (a child looked it up), so
   * a call may connect; rejects with the reason it cannot. Once per run.
   */
  dockerSocket(deadline: number): Promise<void>;
  /** GET /info (the API version from its headers), once per run. */
  dockerEngine(deadline: number): Promise<DockerEngine>;
  /**
   * The history's last `trendDays` days, read once per run (empty with
   * --no-journal); with a deadline, a read not done by then gives an empty
   * window that says so.
   */
  history(deadline?: number): Promise<HistoryWindow>;
  /**
   * The image recipe cache (churn), read in the history's child; by
   * `deadline`, else an empty cache that says why. Null with --no-journal.
   */
  recipeCache(deadline: number): Promise<RecipeCacheRead> | null;
  /** /proc/self/mountinfo, read once per run (procfs: in-process, it never blocks). */
  mountTable(): Promise<MountEntry[]>;
  /**
   * On the containerd image store: where the daemon's containerd keeps its
   * data (the Filesystem section measures it, the Docker section reads it),
   * once per run; null on the graph-driver store, or when it cannot be told.
   */
  containerdRoot(deadline: number): Promise<ContainerdRootFound | null>;
  /**
   * Deleted files still held open (/proc/<pid>/fd), scanned once per run,
   * from the first call on (the pipeline starts it beside the probes);
   * a later caller's deadline cuts only its own wait.
   */
  deletedOpen(deadline: number): Promise<DeletedOpenScan>;
}

/** Cheap calls answer in milliseconds; past this the daemon is in trouble. */
const CHEAP_CALL_TIMEOUT_MS = 3000;
/** A week of history reads in milliseconds; a journal on a hung disk must not hold the run. */
const HISTORY_READ_TIMEOUT_MS = 3000;
/** Two short children over /proc; past this a held file sits on a hung mount. */
const DELETED_OPEN_TIMEOUT_MS = 5000;

/**
 * Probes more than one section needs, memoised for the lifetime of one run
 * (not the module), so a report makes each call once.
 */
export function createSharedProbes(options: RunOptions, run: Runner, now: Date): SharedProbes {
  let socket: Promise<void> | undefined;
  let engine: Promise<DockerEngine> | undefined;
  let state: ReturnType<typeof readState> | undefined;
  let mounts: Promise<MountEntry[]> | undefined;
  let containerd: Promise<ContainerdRootFound | null> | undefined;
  let deleted: Promise<DeletedOpenScan> | undefined;
  const mountTable = () => {
    mounts ??= getMountTable();
    return mounts;
  };
  const dockerSocket = (deadline: number) => {
    socket ??=
      options.docker.kind === 'unix'
        ? socketPathAnswers(run, options.docker.socketPath, mountTable(), cheapTimeout(deadline))
        : Promise.resolve();
    return socket;
  };
  const readOnce = () => {
    state ??= readState(options, run, now);
    return state;
  };
  const dockerEngine = (deadline: number) => {
    engine ??= fetchEngine(options, dockerSocket(deadline), deadline);
    return engine;
  };
  return {
    dockerSocket,
    mountTable,
    dockerEngine,
    containerdRoot(deadline) {
      containerd ??= dockerEngine(deadline).then(async (e) => {
        if (!e.reachable || e.identity.imageStore !== 'containerd') return null;
        const address = e.identity.containerd?.address ?? '';
        return getContainerdRoot(run, address, e.identity.driver, await mountTable(), cheapTimeout(deadline)).catch(
          () => null,
        );
      });
      return containerd;
    },
    deletedOpen(deadline) {
      deleted ??= getDeletedOpen(run, callTimeout(deadline, DELETED_OPEN_TIMEOUT_MS));
      return withTimeout(deleted, Math.max(1, remainingMs(deadline)), 'the /proc scan').catch((err: unknown) => ({
        ...EMPTY_SCAN,
        problem: errorMessage(err),
      }));
    },
    history(deadline) {
      const history = readOnce().then((s) => s.window);
      if (deadline === undefined) return history;
      return withTimeout(history, Math.max(1, remainingMs(deadline)), 'reading the history').catch((err: unknown) => ({
        ...EMPTY_HISTORY,
        problem: errorMessage(err),
      }));
    },
    recipeCache(deadline) {
      if (!options.journalRoot) return null;
      return withTimeout(
        readOnce().then((s) => s.recipes),
        Math.max(1, remainingMs(deadline)),
        'the journal',
      ).catch((err: unknown) => ({ cache: new Map(), problem: errorMessage(err) }));
    },
  };
}

/** The history window and the recipe cache: files of one folder, read in one child. */
async function readState(
  options: RunOptions,
  run: Runner,
  now: Date,
): Promise<{ window: HistoryWindow; recipes: RecipeCacheRead }> {
  if (!options.journalRoot) return { window: EMPTY_HISTORY, recipes: { cache: new Map(), problem: null } };
  const timeout = Math.min(HISTORY_READ_TIMEOUT_MS, Math.max(100, options.budgetMs / 2));
  const read = await readHistoryWith(run, options.journalRoot, options.trendDays, now, timeout, [
    recipeCacheFile(options.journalRoot),
  ]);
  const recipes = read.others
    ? recipeCacheFromRead(read.others[0])
    : { cache: new Map(), problem: read.window.problem };
  return { window: read.window, recipes };
}

/*
 * connect() to a unix socket resolves its path on this thread: a DOCKER_HOST
 * on a hung mount would freeze the process past any deadline. When every
 * name on the way lies on `/` or in memory (the usual /var/run → /run), it
 * cannot hang; otherwise a child looks the path up first, and once it has
 * answered, the mount is alive.
 */
async function socketPathAnswers(
  run: Runner,
  socketPath: string,
  mounts: Promise<MountEntry[]>,
  timeoutMs: number,
): Promise<void> {
  const started = Date.now();
  if (
    await mounts.then(
      (table) => pathLookupCannotHang(socketPath, table),
      () => false,
    )
  )
    return;
  try {
    await run(
      'sh',
      ['-c', '[ -e "$1" ]', 'preflight-socket', socketPath],
      Math.max(1, timeoutMs - (Date.now() - started)),
    );
  } catch (err) {
    if (err instanceof TimeoutError)
      throw new UnavailableError(
        `docker: the socket path ${socketPath} gave no answer in ${formatSeconds(err.afterMs)} (hung mount?)`,
      );
    throw err;
  }
}

function cheapTimeout(deadline: number): number {
  return callTimeout(deadline, CHEAP_CALL_TIMEOUT_MS);
}

async function fetchEngine(options: RunOptions, socket: Promise<void>, deadline: number): Promise<DockerEngine> {
  try {
    await socket;
    // Unversioned: the daemon answers at its own API version, and says which in a header.
    const info = await dockerGetAnswer(options.docker, '/info', cheapTimeout(deadline));
    return { reachable: true, identity: engineFromInfo(info.json, info.apiVersion) };
  } catch (err) {
    return { reachable: false, reason: errorMessage(err), error: err };
  }
}
