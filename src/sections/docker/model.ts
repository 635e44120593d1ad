import {
  summarizeBuildCache, summarizeContainers, uniqueOf, summarizeImages, summarizeLogs, summarizeVolumes,
  type BuildCacheSummary, type ContainerSummary, type ImageSummary, type LogSummary, type VolumeSummary,
} from '../../model/docker-storage.js';
import { summarizeChurn, type RepositoryChurn } from '../../model/churn.js';
import type { ContainerLogFiles } from '../../parse/container-logs.js';
import type { EngineIdentity } from '../../parse/docker-engine.js';
import type { SystemDf } from '../../parse/docker-df.js';
import type { OverlayOrphans } from '../../parse/overlay2-dirs.js';

/** Everything the Docker Storage section learned; markdown and JSON render this. */
export interface DockerStorage {
  /** api: exact bytes from the Engine API; cli: `docker system df` strings, approximate. */
  source: 'api' | 'cli';
  approximate: boolean;
  endpoint: string;
  engine: EngineIdentity | null;
  /** Why /system/df figures are missing or partial this run, if they are. */
  dfProblem: string | null;
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
  overlayOrphans?: OverlayOrphans | null;
  nowSeconds: number;
}

/** Pure: what the probes learned → the section's model. */
export function buildDockerStorage(input: DockerStorageInput): DockerStorage {
  const { df, engine } = input;
  const sized = df !== null && input.dfProblem === null;
  return {
    source: input.source,
    approximate: input.source === 'cli',
    endpoint: input.endpoint,
    engine,
    dfProblem: input.dfProblem,
    df,
    images: df && sized ? summarizeImages(df) : null,
    containers: df && sized ? summarizeContainers(df) : null,
    volumes: df && sized ? summarizeVolumes(df, engine?.apiVersion ?? '1.41') : null,
    buildCache: df && sized ? summarizeBuildCache(df) : null,
    logs: summarizeLogs(input.logs, input.logsReason, df?.containers ?? [], engine?.loggingDriver ?? 'json-file'),
    // Churn sums image sizes: none at all beats a sum of impossible figures.
    churn: df && df.implausible.count === 0 ? summarizeChurn(df.images, new Map(Object.entries(input.danglingRepository)), uniqueOf, input.nowSeconds) : [],
    danglingRepository: input.danglingRepository,
    overlayOrphans: input.overlayOrphans ?? null,
  };
}
