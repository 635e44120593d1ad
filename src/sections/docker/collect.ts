import { TimeoutError, UnavailableError, UnreadableError, errorMessage, formatSeconds } from '../../model/errors.js';
import { attributeDangling, recordStep, type TaggedRecipe } from '../../model/churn.js';
import {
  buildDockerStorage,
  isDangling,
  unsizedKinds,
  type ContainerdInput,
  type DockerStorage,
  type StartedImages,
} from '../../model/docker-storage.js';
import { lastMeasured, type LastMeasured, type StaleKind } from '../../model/last-measured.js';
import type { Blocked } from '../../parse/blocked.js';
import type { ContainerLogFiles } from '../../parse/container-logs.js';
import {
  mergeTypedDf,
  parseSystemDf,
  parseVolumeListing,
  type DfBuildRecord,
  type DfImage,
  type DfVolume,
  type SystemDf,
} from '../../parse/docker-df.js';
import { apiAtLeast, type EngineIdentity } from '../../parse/docker-engine.js';
import { overlayOrphansProblem, type OverlayOrphans } from '../../parse/overlay2-dirs.js';
import { getContainerLogs } from '../../probes/container-logs.js';
import { dockerCliMightWork } from '../../probes/docker-cli-context.js';
import {
  getCheapListing,
  getCliSystemDf,
  getImageRecipe,
  getSystemDf,
  getVolumeListing,
  getWalkingDf,
} from '../../probes/docker-storage.js';
import { getOverlayOrphans } from '../../probes/overlay2.js';
import { startContainerdStore } from './containerd.js';
import { startedSinceLastRun } from './events.js';
import { afterReserve } from './budget.js';
import { type RecipeCache } from '../../model/recipe-cache.js';
import { writeRecipeCache } from '../../sinks/recipe-cache.js';
import { churnLookupMs } from '../../host/budget.js';
import { callTimeout, remainingMs } from '../../host/deadline.js';
import { mapLimit } from '../../host/map-limit.js';
import type { Collected, SectionContext } from '../types.js';

const LOG_LISTING_TIMEOUT_MS = 10_000;
/** Listing plus du of at most 50 candidates, together. */
const OVERLAY_ORPHANS_TIMEOUT_MS = 10_000;
const HISTORY_TIMEOUT_MS = 2000;
/** Reading or writing the image history cache (the journal may sit on a hung disk). */
const RECIPE_CACHE_TIMEOUT_MS = 1000;
/** Bounded history look-ups for churn: the newest images matter. */
const MAX_DANGLING_LOOKUPS = 60;
const MAX_TAGGED_LOOKUPS = 120;

export async function collectDocker(ctx: SectionContext): Promise<Collected<DockerStorage>> {
  // /system/df starts first, beside /info rather than after it (its cheap half from API 1.42; all of it before).
  const df = ctx.shared
    .dockerSocket(ctx.deadline)
    .then(() => getSystemDf(ctx.options.docker, Math.max(1, afterReserve(ctx.deadline))));
  df.catch(() => undefined);
  const engine = await ctx.shared.dockerEngine(ctx.deadline);
  if (!engine.reachable) {
    // A daemon that accepted and never answered: the section times out, with the call named.
    if (engine.error instanceof TimeoutError) throw engine.error;
    return collectViaCli(ctx, engine.reason);
  }
  return collectViaApi(ctx, engine.identity, df);
}

async function collectViaApi(
  ctx: SectionContext,
  engine: EngineIdentity,
  dfAnswer: Promise<unknown>,
): Promise<Collected<DockerStorage>> {
  // Without an Api-Version header (a proxy?), unversioned paths: the daemon's own version.
  const versioned = (path: string) => (engine.apiVersion ? `/v${engine.apiVersion}${path}` : path);
  // The walking half, on its own (API 1.42+): a slow volume walk no longer hides images and build cache.
  const walking = apiAtLeast(engine.apiVersion, '1.42')
    ? getWalkingDf(ctx.options.docker, Math.max(1, afterReserve(ctx.deadline)))
    : null;
  walking?.catch(() => undefined);
  const logsPromise = getContainerLogs(
    ctx.run,
    engine.rootDir,
    Math.min(LOG_LISTING_TIMEOUT_MS, afterReserve(ctx.deadline)),
  )
    .then((logs) => ({ logs, reason: null as string | null, blocked: null as Blocked | null }))
    .catch((err: unknown) => ({
      logs: null as Map<string, ContainerLogFiles> | null,
      reason: errorMessage(err),
      blocked: err instanceof UnreadableError ? err.blocked : null,
    }));
  // Started beside /system/df, not after it: it reads the disk, the daemon walks layers.
  const overlayPromise = startOverlayOrphans(ctx, engine);
  // The containerd store: containerd's records and folders, and Docker's own files in the data root.
  const storePromise = startContainerdStore(ctx, engine);
  const recipesPromise = ctx.shared.recipeCache(
    Date.now() + Math.min(RECIPE_CACHE_TIMEOUT_MS, afterReserve(ctx.deadline)),
  );

  let df: SystemDf | null = null;
  let dfProblem: string | null = null;
  let timedOut = false;
  let walkProblem: string | null = null;
  try {
    df = parseSystemDf(await dfAnswer);
    if (walking) {
      const walked = await walking.then(parseSystemDf).catch((err: unknown) => {
        walkProblem = walkReason(err);
        return null;
      });
      df = mergeTypedDf(df, walked, walked ? undefined : await listedWithoutSizes(ctx, versioned));
    }
    // Figures no disk holds mean the daemon's accounting is broken: show counts, not sizes.
    if (df.implausible.count > 0) dfProblem = implausibleReason(df.implausible);
  } catch (err) {
    timedOut = err instanceof TimeoutError;
    dfProblem =
      err instanceof TimeoutError
        ? `GET /system/df gave no answer in ${formatSeconds(err.afterMs)}`
        : errorMessage(err);
    df = await cheapListing(ctx, versioned);
  }

  // Between runs, short jobs leave only their start events: their images were used. Asked now, beside the listings.
  const startedPromise = df ? startedSinceLastRun(ctx, engine, df.images) : Promise.resolve(null);
  const logsRead = await logsPromise;
  const { orphans, blocked: orphansBlocked } = await overlayPromise;
  const recipes = await recipesPromise;
  const churn = df
    ? await attributeOldBuilds(ctx, engine, df, recipes?.cache ?? new Map())
    : { byId: {}, tagged: [], problem: null };
  const store = await storePromise;
  const started = await startedPromise;
  const assembled: DockerStorage = {
    ...(await assemble(ctx, engine, df, dfProblem, logsRead.logs, logsRead.reason, 'api', orphans, churn, {
      ...store,
      startedSinceLastRun: started,
    })),
    walkProblem,
  };
  const data = { ...assembled, stale: await lastSizes(ctx, unsizedKinds(assembled)) };
  if (timedOut)
    return {
      status: 'timeout',
      reason: `${dfProblem}; sizes of images, containers, volumes and build cache are unknown this run`,
      data,
    };
  const problems = dockerProblems({
    dfProblem: dfProblem ?? walkProblem,
    logs: data.logs.reason ? { reason: data.logs.reason, blocked: logsRead.blocked } : null,
    orphans: orphans?.problem ? { reason: orphans.problem, blocked: orphansBlocked } : null,
    cacheProblem: recipes?.problem ?? churn.problem,
  });
  return problems ? { status: 'degraded', reason: problems, data } : { status: 'ok', data };
}

interface Problem {
  reason: string;
  /** Set when the data root (or a folder in it) could not be entered. */
  blocked: Blocked | null;
}

/**
 * Pure: the section's one-line reason. When the logs and the overlay2 check
 * were both stopped by the same folder (a data root that is root-only, or
 * not mounted here), that is said once, with what it leaves unmeasured.
 */
export function dockerProblems(p: {
  dfProblem: string | null;
  logs: Problem | null;
  orphans: Problem | null;
  cacheProblem?: string | null;
}): string | null {
  const { logs, orphans } = p;
  const sameFolder =
    logs?.blocked &&
    orphans?.blocked &&
    logs.blocked.path === orphans.blocked.path &&
    logs.blocked.folders === undefined;
  const parts = sameFolder
    ? [p.dfProblem, `${logs.reason}: container logs and orphaned overlay2 layers not measured`]
    : [
        p.dfProblem,
        logs ? `container logs: ${logs.reason}` : null,
        orphans ? `overlay2 orphans: ${orphans.reason}` : null,
      ];
  if (p.cacheProblem) parts.push(`image history cache: ${p.cacheProblem}`);
  const out = parts.filter((x): x is string => x !== null);
  return out.length ? out.join('; ') : null;
}

/** What the history last measured of the sizes this run lacks (none known without a journal). */
async function lastSizes(ctx: SectionContext, kinds: readonly StaleKind[]): Promise<LastMeasured[]> {
  if (kinds.length === 0) return [];
  const history = await ctx.shared.history(ctx.deadline - 100);
  return lastMeasured(history.records, kinds, ctx.startedAt);
}

/** Only the overlay2 graph driver keeps layers in `<root>/overlay2` with a layerdb (not the containerd image store). */
function startOverlayOrphans(
  ctx: SectionContext,
  engine: EngineIdentity,
): Promise<{ orphans: OverlayOrphans | null; blocked: Blocked | null }> {
  if (engine.driver !== 'overlay2' || engine.imageStore !== 'graphdriver' || !engine.rootDir)
    return Promise.resolve({ orphans: null, blocked: null });
  const deadline = Date.now() + Math.min(OVERLAY_ORPHANS_TIMEOUT_MS, afterReserve(ctx.deadline));
  return getOverlayOrphans(ctx.run, engine.rootDir, deadline).then(
    (orphans) => ({ orphans, blocked: null }),
    (err: unknown) => ({
      orphans: overlayOrphansProblem(errorMessage(err)),
      blocked: err instanceof UnreadableError ? err.blocked : null,
    }),
  );
}

/** `container and volume sizes: GET /system/df gave no answer in 20 s` */
function walkReason(err: unknown): string {
  const why = err instanceof TimeoutError ? `no answer in ${formatSeconds(err.afterMs)}` : errorMessage(err);
  return `container and volume sizes: GET /system/df?type=container&type=volume gave ${err instanceof TimeoutError ? why : `an error (${why})`}`;
}

/** The plain lists (images, containers, volumes), which cost the daemon nothing; null where one did not answer. */
async function plainLists(
  ctx: SectionContext,
  versioned: (p: string) => string,
): Promise<{ listing: SystemDf | null; volumes: DfVolume[] | null }> {
  const timeout = listingTimeout(ctx);
  const [listing, volumes] = await Promise.all([
    getCheapListing(ctx.options.docker, versioned, timeout).catch(() => null),
    getVolumeListing(ctx.options.docker, versioned, timeout).then(parseVolumeListing, () => null),
  ]);
  return { listing, volumes };
}

/** Containers and volumes by name, without sizes, from the lists that cost the daemon nothing. */
async function listedWithoutSizes(
  ctx: SectionContext,
  versioned: (p: string) => string,
): Promise<Pick<SystemDf, 'containers' | 'volumes'>> {
  const { listing, volumes } = await plainLists(ctx, versioned);
  return { containers: listing?.containers ?? [], volumes: volumes ?? [] };
}

/** `the daemon reported implausible sizes (3 figures, e.g. image sha256:ea2a48056cae Size 8.67e+289): sizes treated as unknown` */
export function implausibleReason(implausible: SystemDf['implausible']): string {
  const n = implausible.count;
  return `the daemon reported implausible sizes (${n} figure${n === 1 ? '' : 's'}, e.g. ${implausible.example}): sizes treated as unknown`;
}

/** When /system/df fails: the lists that cost the daemon nothing, without sizes it must compute. */
async function cheapListing(ctx: SectionContext, versioned: (p: string) => string): Promise<SystemDf | null> {
  const { listing, volumes } = await plainLists(ctx, versioned);
  if (!listing) return null;
  return volumes ? { ...listing, volumes, unsized: ['containers', 'volumes'] } : listing;
}

/** The plain lists answer in milliseconds: at most 2 s, and half of what is left, so the section still ends in time. */
function listingTimeout(ctx: SectionContext): number {
  const left = remainingMs(ctx.deadline);
  return Math.max(1, Math.min(2000, left - Math.min(200, left / 2)));
}

async function collectViaCli(ctx: SectionContext, apiReason: string): Promise<Collected<DockerStorage>> {
  if (!(await dockerCliMightWork(ctx.run, ctx.options.dockerCli))) throw new UnavailableError(apiReason);
  let df: SystemDf;
  try {
    df = await getCliSystemDf(ctx.run, Math.max(1, remainingMs(ctx.deadline) - 200));
  } catch (err) {
    // The API's reason is the one that matters; the CLI was only a second chance.
    const cli = errorMessage(err);
    const why = /Cannot connect to the Docker daemon/.test(cli) ? 'cannot reach it either' : cli.slice(0, 120);
    throw new UnavailableError(`${apiReason} (docker CLI fallback: ${why})`);
  }
  const data = await assemble(
    ctx,
    null,
    df,
    null,
    null,
    'the Engine API is out of reach, so log files were not located',
    'cli',
    null,
  );
  return { status: 'degraded', reason: `${apiReason}; figures from \`docker system df\`, rounded to 3-4 digits`, data };
}

async function assemble(
  ctx: SectionContext,
  engine: EngineIdentity | null,
  df: SystemDf | null,
  dfProblem: string | null,
  logs: Map<string, ContainerLogFiles> | null,
  logsReason: string | null,
  source: 'api' | 'cli',
  overlayOrphans: OverlayOrphans | null,
  builds: { byId: Record<string, string>; tagged: TaggedRecipe[] } = { byId: {}, tagged: [] },
  extra: {
    containerd: ContainerdInput | null;
    dataRootBytes: number | null;
    startedSinceLastRun?: StartedImages | null;
  } = { containerd: null, dataRootBytes: null },
): Promise<DockerStorage> {
  return buildDockerStorage({
    source,
    endpoint: ctx.options.docker.label,
    engine,
    df,
    dfProblem,
    logs,
    logsReason,
    danglingRepository: builds.byId,
    taggedRecipes: builds.tagged,
    overlayOrphans,
    containerd: extra.containerd,
    dataRootBytes: extra.dataRootBytes,
    startedSinceLastRun: extra.startedSinceLastRun ?? null,
    nowSeconds: Math.floor(Date.now() / 1000),
  });
}

/**
 * Tell which repository each old build belongs to, from build histories:
 * cached by image id (immutable), the misses looked up within a bounded
 * share of the budget (a cold cache never holds the report longer), the
 * cache then kept to the images that still exist. On the graph-driver store
 * old builds are dangling images; on the containerd store they are only
 * BuildKit records, tied to the tagged image whose history has their step.
 */
async function attributeOldBuilds(
  ctx: SectionContext,
  engine: EngineIdentity,
  df: SystemDf,
  cached: RecipeCache,
): Promise<{ byId: Record<string, string>; tagged: TaggedRecipe[]; problem: string | null }> {
  const images = df.images;
  const newestFirst = (a: DfImage, b: DfImage) => b.created - a.created || (a.id < b.id ? -1 : 1);
  const dangling = images.filter(isDangling).sort(newestFirst).slice(0, MAX_DANGLING_LOOKUPS);
  const recordsRebuilt = engine.imageStore === 'containerd' && hasRebuiltSteps(df.buildCache);
  if (dangling.length === 0 && !recordsRebuilt) return { byId: {}, tagged: [], problem: null };
  const tagged = images
    .filter((i) => !isDangling(i))
    .sort(newestFirst)
    .slice(0, MAX_TAGGED_LOOKUPS);
  const misses = [...dangling, ...tagged].filter((i) => !cached.has(i.id));
  const deadline = Math.min(ctx.deadline - 200, Date.now() + churnLookupMs(ctx.options.budgetMs));
  const prefix = engine.apiVersion ? `/v${engine.apiVersion}` : '';
  const history = (image: DfImage) =>
    getImageRecipe(ctx.options.docker, prefix, image.id, callTimeout(deadline, HISTORY_TIMEOUT_MS));
  const fetched = await mapLimit(misses, 8, deadline, history);
  const recipes: RecipeCache = new Map(cached);
  misses.forEach((image, i) => fetched[i] && recipes.set(image.id, fetched[i]!));
  const known = tagged.flatMap((image) => (recipes.has(image.id) ? [{ image, recipe: recipes.get(image.id)! }] : []));
  const byId: Record<string, string> = {};
  for (const image of dangling) byId[image.id] = attributeDangling(image, recipes.get(image.id), known);
  return { byId, tagged: known, problem: await keepRecipes(ctx, recipes, images, cached) };
}

/** Two records of one build step: a rebuild. */
function hasRebuiltSteps(records: readonly DfBuildRecord[]): boolean {
  const seen = new Set<string>();
  for (const r of records) {
    if (r.type !== 'regular') continue;
    const step = recordStep(r.description);
    if (seen.has(step)) return true;
    seen.add(step);
  }
  return false;
}

/** Write the cache when it changed: new recipes, or images gone since. */
async function keepRecipes(
  ctx: SectionContext,
  recipes: RecipeCache,
  images: readonly DfImage[],
  before: RecipeCache,
): Promise<string | null> {
  const root = ctx.options.journalRoot;
  if (!root) return null;
  const present = new Set(images.map((i) => i.id));
  const kept: RecipeCache = new Map([...recipes].filter(([id]) => present.has(id)));
  if (kept.size === before.size && [...kept.keys()].every((id) => before.has(id))) return null;
  return writeRecipeCache(ctx.run, root, kept, callTimeout(ctx.deadline, RECIPE_CACHE_TIMEOUT_MS, 100));
}
