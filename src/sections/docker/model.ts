import type {
  BuildCacheSummary, ContainerSummary, ImageSummary, LogSummary, VolumeSummary,
} from '../../model/docker-storage.js';
import type { RepositoryChurn } from '../../model/churn.js';
import type { EngineIdentity } from '../../parse/docker-engine.js';
import type { SystemDf } from '../../parse/docker-df.js';

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
}
