import { isUnbounded, type ContainerLogFiles } from '../parse/container-logs.js';
import type { DfBuildRecord, DfContainer, DfImage, DfVolume, SystemDf } from '../parse/docker-df.js';
import { apiAtLeast, type EngineIdentity } from '../parse/docker-engine.js';
import type { OverlayOrphans } from '../parse/overlay2-dirs.js';
import { byText } from '../text/order.js';
import { summarizeChurn, summarizeRecordChurn, type RepositoryChurn, type TaggedRecipe } from './churn.js';
import { containerdFigures, type ContainerdFigures, type ContainerdRead } from './containerd-store.js';
import { containerdUsage } from './containerd-usage.js';
import type { LastMeasured, StaleKind } from './last-measured.js';

/**
 * Per-category byte figures, counted the way the matching prune counts them.
 * Pure: /system/df (+ log listing) in, summaries out.
 */

export interface ImageSummary {
  count: number;
  /** Bytes of all layers on disk (LayersSize): what images occupy. */
  totalBytes: number;
  /** Σ (Size − SharedSize): bytes that belong to exactly one image. */
  uniqueBytes: number;
  /** totalBytes − uniqueBytes: layers two or more images share. */
  sharedBytes: number;
  inUse: { count: number; uniqueBytes: number };
  unused: { count: number; uniqueBytes: number };
  dangling: { count: number; uniqueBytes: number; reclaimableBytes: number };
  /**
   * What `docker image prune -a` frees: every layer no in-use image needs.
   * total − Σ Size of images in use: exact when in-use images share no layers
   * with each other, otherwise an underestimate (never a promise prune breaks).
   */
  reclaimableBytes: number;
  /** The docker CLI's figure (total − unique bytes of images in use): counts shared base layers of in-use images as reclaimable. */
  cliReclaimableBytes: number;
  /** Daemon's own figure (API 1.52+), when given. */
  daemonReclaimableBytes: number | null;
  /** Layer bytes BuildKit's records hold too (records shared with images): an image's deletion frees them only with the records. */
  heldByBuildCacheBytes: number;
}

export interface ContainerSummary {
  count: number;
  running: number;
  stopped: number;
  writableBytes: number;
  runningWritableBytes: number;
  stoppedWritableBytes: number;
  /** `docker container prune`: writable layers of containers that are not running. */
  reclaimableBytes: number;
}

export interface VolumeSummary {
  count: number;
  inUse: number;
  unused: number;
  /** Σ known sizes. */
  totalBytes: number;
  unusedBytes: number;
  unknownSizeCount: number;
  /** `docker volume prune`: from API 1.42 only anonymous unused volumes; before, every unused one. */
  reclaimableBytes: number;
  /** `docker volume prune --all` (API 1.42+): every unused volume. */
  reclaimableAllBytes: number;
}

export interface BuildCacheSummary {
  count: number;
  /** Σ size of records that are not shared with images (the CLI's total). */
  totalBytes: number;
  sharedBytes: number;
  inUseBytes: number;
  /** `docker builder prune -a` (CLI formula): total − in-use (non-shared) bytes. */
  reclaimableBytes: number;
  byType: Record<string, number>;
  oldestLastUsedAt: string | null;
}

export interface LogEntry {
  id: string;
  name: string;
  bytes: number;
  files: number;
  driver: string;
  maxSize: string | null;
  maxFile: string | null;
  unbounded: boolean;
}

export interface LogSummary {
  visible: boolean;
  /** Why the logs are not visible; with visible logs, what is unknown about them (settings not readable). */
  reason: string | null;
  totalBytes: number;
  files: number;
  containers: number;
  /** Containers whose json-file log has no max-size: they grow until the disk is full. */
  unboundedContainers: number;
  unboundedBytes: number;
  entries: LogEntry[];
}

export function isDangling(image: DfImage): boolean {
  return image.repoTags.length === 0;
}

/** Bytes that belong to this image alone (all of it when the daemon did not compute sharing). */
export function uniqueOf(image: DfImage): number {
  return image.sharedSize >= 0 ? Math.max(0, image.size - image.sharedSize) : image.size;
}

function sum<T>(items: readonly T[], f: (t: T) => number): number {
  return items.reduce((acc, t) => acc + f(t), 0);
}

export function summarizeImages(df: SystemDf): ImageSummary {
  const images = df.images;
  const inUse = images.filter((i) => i.containers > 0);
  const unused = images.filter((i) => i.containers === 0);
  const dangling = images.filter(isDangling);
  const uniqueBytes = sum(images, uniqueOf);
  const totalBytes = df.layersSize ?? df.totals.images?.totalSize ?? uniqueBytes;
  const inUseUnique = sum(inUse, uniqueOf);
  return {
    count: df.totals.images?.totalCount ?? images.length,
    totalBytes,
    uniqueBytes,
    sharedBytes: Math.max(0, totalBytes - uniqueBytes),
    inUse: { count: inUse.length, uniqueBytes: inUseUnique },
    unused: { count: unused.length, uniqueBytes: sum(unused, uniqueOf) },
    dangling: {
      count: dangling.length,
      uniqueBytes: sum(dangling, uniqueOf),
      reclaimableBytes: sum(
        dangling.filter((i) => i.containers === 0),
        uniqueOf,
      ),
    },
    reclaimableBytes: Math.max(0, totalBytes - sum(inUse, (i) => i.size)),
    cliReclaimableBytes: Math.max(0, totalBytes - inUseUnique),
    daemonReclaimableBytes: df.totals.images?.reclaimable ?? null,
    heldByBuildCacheBytes: sum(
      df.buildCache.filter((r) => r.shared),
      (r) => Math.max(0, r.size),
    ),
  };
}

export function isRunning(c: DfContainer): boolean {
  return c.state === 'running' || c.state === 'paused' || c.state === 'restarting';
}

export function summarizeContainers(df: SystemDf): ContainerSummary {
  const running = df.containers.filter(isRunning);
  const stopped = df.containers.filter((c) => !isRunning(c));
  const runningWritableBytes = sum(running, (c) => c.sizeRw);
  const stoppedWritableBytes = sum(stopped, (c) => c.sizeRw);
  return {
    count: df.totals.containers?.totalCount ?? df.containers.length,
    running: running.length,
    stopped: stopped.length,
    writableBytes: runningWritableBytes + stoppedWritableBytes,
    runningWritableBytes,
    stoppedWritableBytes,
    reclaimableBytes: df.totals.containers?.reclaimable ?? stoppedWritableBytes,
  };
}

/** Anonymous volumes carry this label from Docker 23 (API 1.42) on. */
export const ANONYMOUS_VOLUME_LABEL = 'com.docker.volume.anonymous';

export function summarizeVolumes(df: SystemDf, apiVersion: string): VolumeSummary {
  const vols = df.volumes;
  const known = (v: DfVolume) => (v.size >= 0 ? v.size : 0);
  const unused = vols.filter((v) => v.refCount === 0);
  const anonymousOnly = apiAtLeast(apiVersion, '1.42');
  const prunable = anonymousOnly ? unused.filter((v) => ANONYMOUS_VOLUME_LABEL in v.labels) : unused;
  return {
    count: df.totals.volumes?.totalCount ?? vols.length,
    inUse: vols.filter((v) => v.refCount > 0).length,
    unused: unused.length,
    totalBytes: sum(vols, known),
    unusedBytes: sum(unused, known),
    unknownSizeCount: vols.filter((v) => v.size < 0).length,
    reclaimableBytes: sum(prunable, known),
    reclaimableAllBytes: sum(unused, known),
  };
}

export function summarizeBuildCache(df: SystemDf): BuildCacheSummary {
  const records = df.buildCache;
  const own = records.filter((r) => !r.shared);
  const totalBytes = sum(own, (r) => r.size);
  const inUseBytes = sum(
    own.filter((r) => r.inUse),
    (r) => r.size,
  );
  const byType: Record<string, number> = {};
  for (const r of own) byType[r.type] = (byType[r.type] ?? 0) + r.size;
  // One pass, not a sort: 1,600 records cost 34,000 Date.parse calls in a comparator.
  let oldest: { at: string; ms: number } | null = null;
  for (const r of records) {
    const ms = r.lastUsedAt === null ? NaN : Date.parse(r.lastUsedAt);
    if (!Number.isNaN(ms) && (oldest === null || ms < oldest.ms)) oldest = { at: r.lastUsedAt!, ms };
  }
  return {
    count: df.totals.buildCache?.totalCount ?? records.length,
    totalBytes: df.totals.buildCache?.totalSize ?? totalBytes,
    sharedBytes: sum(
      records.filter((r) => r.shared),
      (r) => r.size,
    ),
    inUseBytes,
    reclaimableBytes: df.totals.buildCache?.reclaimable ?? Math.max(0, totalBytes - inUseBytes),
    byType,
    oldestLastUsedAt: oldest?.at ?? null,
  };
}

export function summarizeLogs(
  logs: Map<string, ContainerLogFiles> | null,
  reason: string | null,
  containers: readonly DfContainer[],
  daemonLogDriver: string,
): LogSummary {
  if (!logs) {
    return {
      visible: false,
      reason,
      totalBytes: 0,
      files: 0,
      containers: 0,
      unboundedContainers: 0,
      unboundedBytes: 0,
      entries: [],
    };
  }
  const names = new Map(containers.map((c) => [c.id, c.name]));
  const entries: LogEntry[] = [...logs.values()].map((l) => ({
    id: l.id,
    name: names.get(l.id) ?? l.id.slice(0, 12),
    bytes: l.bytes,
    files: l.files.length,
    driver: l.configUnreadable ? '?' : l.logConfig?.type || daemonLogDriver,
    maxSize: l.logConfig?.maxSize ?? null,
    maxFile: l.logConfig?.maxFile ?? null,
    unbounded: isUnbounded(l.logConfig, daemonLogDriver, l.configUnreadable),
  }));
  entries.sort((a, b) => b.bytes - a.bytes || byText(a.name, b.name) || byText(a.id, b.id));
  const unbounded = entries.filter((e) => e.unbounded);
  const unknown = [...logs.values()].filter((l) => l.configUnreadable).length;
  return {
    visible: true,
    reason: unknown
      ? `hostconfig.json of ${unknown} container${unknown === 1 ? '' : 's'} ${unknown === 1 ? 'is' : 'are'} not readable here: ${unknown === 1 ? 'its' : 'their'} log driver and max-size are unknown`
      : null,
    totalBytes: sum(entries, (e) => e.bytes),
    files: sum(entries, (e) => e.files),
    containers: entries.length,
    unboundedContainers: unbounded.length,
    unboundedBytes: sum(unbounded, (e) => e.bytes),
    entries,
  };
}

export type { DfBuildRecord, DfContainer, DfImage, DfVolume };

/** The containerd image store's side: where containerd keeps the bytes, and whose they are. */
export interface ContainerdView {
  /** containerd's root as a path from here; null when it could not be told. */
  root: string | null;
  /** How the root was found (`containerd (pid 812, config /etc/containerd/config.toml)`). */
  via: string | null;
  /** Why the figures are unknown, when they are. */
  problem: string | null;
  figures: ContainerdFigures | null;
  /** containerd's own records, its snapshotter's and block rounding: its folders less what its objects hold. */
  metadataBytes: number | null;
  /** Why the snapshot folders were not measured (their recorded sizes stood in), when they were not. */
  walkProblem: string | null;
}

/** What the probes read of the containerd store, for the pure model. */
export interface ContainerdInput {
  root: string | null;
  via: string | null;
  problem: string | null;
  read: ContainerdRead | null;
  snapshotter: string;
  now: Date;
}

/** Everything the Docker Storage section learned; markdown and JSON render this. */
export interface DockerStorage {
  /** api: exact bytes from the Engine API; cli: `docker system df` strings, approximate. */
  source: 'api' | 'cli';
  approximate: boolean;
  endpoint: string;
  engine: EngineIdentity | null;
  /** Why /system/df figures are missing or partial this run, if they are. */
  dfProblem: string | null;
  /** Why containers' and volumes' sizes alone are missing (their walking call failed; images and build cache stand). */
  walkProblem: string | null;
  df: SystemDf | null;
  images: ImageSummary | null;
  containers: ContainerSummary | null;
  volumes: VolumeSummary | null;
  buildCache: BuildCacheSummary | null;
  logs: LogSummary;
  churn: RepositoryChurn[];
  /** Dangling image id → repository it was a version of. */
  danglingRepository: Record<string, string>;
  /** overlay2 layer directories no layerdb file references; null unless overlay2 and the data root is readable. */
  overlayOrphans: OverlayOrphans | null;
  /** The containerd image store's side; null on the graph-driver store. */
  containerd: ContainerdView | null;
  /** Docker's own files in the data root (containers' configs, BuildKit's and the network's state), on the containerd store; null when not measured. */
  dataRootMetadataBytes: number | null;
  /** Images containers were started from since the last run (the daemon's events), so a short job's image counts as used; null when not asked. */
  startedSinceLastRun: StartedImages | null;
  /** The sizes this run lacks, as last measured (with their age): never this run's figures. Empty when every size is fresh. */
  stale: LastMeasured[];
}

/**
 * Pure: the sources the daemon answered for without their sizes this run:
 * containers' and volumes' when the walk ran out, every one when all of
 * /system/df did (API 1.41). On the containerd store containerd's own
 * records size images, containers and build cache.
 */
export function unsizedKinds(d: DockerStorage): StaleKind[] {
  if (d.source !== 'api') return [];
  const own = !d.containerd?.figures;
  return [
    ...(own && !d.images ? (['images', 'dangling-images'] as const) : []),
    ...(own && !d.containers ? (['containers'] as const) : []),
    ...(!d.volumes ? (['volumes'] as const) : []),
    ...(own && !d.buildCache ? (['build-cache'] as const) : []),
  ];
}

export interface StartedImages {
  /** ISO time of the last run, where the events were read from. */
  since: string;
  imageIds: string[];
  /** The daemon keeps a bounded number of events: some starts may be missing. */
  mayHaveDropped: boolean;
}

export interface DockerStorageInput {
  source: 'api' | 'cli';
  endpoint: string;
  engine: EngineIdentity | null;
  df: SystemDf | null;
  dfProblem: string | null;
  logs: Map<string, ContainerLogFiles> | null;
  logsReason: string | null;
  danglingRepository: Record<string, string>;
  /** Tagged images with their recipes, when looked up (the containerd store's churn needs them). */
  taggedRecipes?: readonly TaggedRecipe[];
  overlayOrphans?: OverlayOrphans | null;
  containerd?: ContainerdInput | null;
  /** du of the data root without its volumes (containerd store): Docker's own files plus the logs. */
  dataRootBytes?: number | null;
  startedSinceLastRun?: StartedImages | null;
  nowSeconds: number;
}

/** Graph-driver store: dangling images per repository; containerd store: rebuilt steps' BuildKit records too. */
function churnOf(df: SystemDf, engine: EngineIdentity | null, input: DockerStorageInput): RepositoryChurn[] {
  const images = summarizeChurn(
    df.images,
    new Map(Object.entries(input.danglingRepository)),
    uniqueOf,
    input.nowSeconds,
  );
  if (engine?.imageStore !== 'containerd') return images;
  const records = summarizeRecordChurn(df.buildCache, input.taggedRecipes ?? [], input.nowSeconds);
  return [...records, ...images.filter((c) => !records.some((r) => r.repository === c.repository))];
}

/** Pure: what the probes learned → the section's model. */
export function buildDockerStorage(input: DockerStorageInput): DockerStorage {
  const { engine } = input;
  const containerd = input.containerd ? containerdView(input.containerd, input.df, engine) : null;
  // On the containerd store the daemon's image sizes are not what the disk holds: containerd's records say.
  const df = input.df && containerd?.figures ? withContainerdSizes(input.df, containerd.figures) : input.df;
  const sized = df !== null && input.dfProblem === null;
  const images = df && sized ? summarizeImages(df) : null;
  const buildCache = df && sized ? summarizeBuildCache(df) : null;
  const f = containerd?.figures;
  return {
    source: input.source,
    approximate: input.source === 'cli',
    endpoint: input.endpoint,
    engine,
    dfProblem: input.dfProblem,
    walkProblem: null,
    df,
    images:
      images && f
        ? {
            ...images,
            reclaimableBytes: f.images.reclaimableBytes,
            heldByBuildCacheBytes: f.images.heldByBuildCacheBytes,
          }
        : images,
    containers: df && sized && !df.unsized.includes('containers') ? summarizeContainers(df) : null,
    volumes: df && sized && !df.unsized.includes('volumes') ? summarizeVolumes(df, engine?.apiVersion ?? '1.41') : null,
    buildCache:
      buildCache && f
        ? {
            ...buildCache,
            totalBytes: f.buildCache.bytes,
            reclaimableBytes: Math.max(0, f.buildCache.bytes - buildCache.inUseBytes),
          }
        : buildCache,
    logs: summarizeLogs(input.logs, input.logsReason, df?.containers ?? [], engine?.loggingDriver ?? 'json-file'),
    // Churn sums image sizes: none at all beats a sum of impossible figures.
    churn: df && df.implausible.count === 0 ? churnOf(df, engine, input) : [],
    danglingRepository: input.danglingRepository,
    overlayOrphans: input.overlayOrphans ?? null,
    containerd,
    dataRootMetadataBytes: metadataOf(input),
    startedSinceLastRun: input.startedSinceLastRun ?? null,
    stale: [],
  };
}

/**
 * Images sized as containerd holds them: an image's size is what it reaches
 * (content and unpacked snapshots), its shared size what others reach too;
 * LayersSize is every image's bytes once. Engine 28's own figures count the
 * containers' and BuildKit's snapshots as image bytes (moby f454e48).
 */
function withContainerdSizes(df: SystemDf, f: ContainerdFigures): SystemDf {
  return {
    ...df,
    layersSize: f.images.bytes,
    images: df.images.map((i) => {
      const own = f.perImage[i.id];
      return own
        ? { ...i, size: own.bytes, sharedSize: own.bytes - own.uniqueBytes }
        : { ...i, size: 0, sharedSize: 0 };
    }),
  };
}

/** Docker's own files in the data root: the walk without volumes, less the logs it also counted. */
function metadataOf(input: DockerStorageInput): number | null {
  if (input.dataRootBytes === null || input.dataRootBytes === undefined) return null;
  const logs = input.logs ? [...input.logs.values()].reduce((a, l) => a + l.bytes, 0) : 0;
  return Math.max(0, input.dataRootBytes - logs);
}

function containerdView(c: ContainerdInput, df: SystemDf | null, engine: EngineIdentity | null): ContainerdView {
  const base = { root: c.root, via: c.via, problem: c.problem, figures: null, metadataBytes: null, walkProblem: null };
  if (!c.read || !df) return { ...base, problem: c.problem ?? 'the daemon listed no objects this run' };
  const usage = containerdUsage({
    namespaces: c.read.namespaces,
    snapshotter: c.snapshotter,
    backend: c.read.backend,
    measuredBytes: c.read.folderBytes,
    now: c.now,
  });
  const figures = containerdFigures({
    usage,
    namespaces: c.read.namespaces,
    dockerNamespace: engine?.containerd?.namespace ?? 'moby',
    images: df.images,
    containers: df.containers,
  });
  const walked = [...c.read.topLevel.values()].reduce((a, b) => a + b, 0);
  return {
    ...base,
    figures,
    metadataBytes: c.read.topLevel.size ? Math.max(0, walked - usage.total) : null,
    walkProblem: c.read.walkProblem,
  };
}
