import type { DockerStorage } from '../../model/docker-storage.js';

/** The `docker` object of the JSON report: exact bytes, full per-object lists. */
export function dockerJson(d: DockerStorage | undefined): Record<string, unknown> {
  if (!d) return { docker: null };
  return {
    docker: {
      source: d.source,
      approximate: d.approximate,
      endpoint: d.endpoint,
      engine: d.engine,
      storageDriver: d.engine?.driver ?? null,
      imageStore: d.engine?.imageStore ?? null,
      dfProblem: d.dfProblem,
      walkProblem: d.walkProblem,
      // Sizes this run lacks, as last measured: `measuredAt` and `ageSeconds` say how old; never this run's figures.
      stale: d.stale,
      images: d.images && { ...d.images, items: d.df?.images ?? [] },
      containers: d.containers && { ...d.containers, items: d.df?.containers ?? [] },
      volumes: d.volumes && { ...d.volumes, items: d.df?.volumes ?? [] },
      buildCache: d.buildCache && { ...d.buildCache, items: d.df?.buildCache ?? [] },
      logs: d.logs,
      churn: d.churn,
      danglingRepository: d.danglingRepository,
      overlayOrphans: d.overlayOrphans,
      containerd: d.containerd,
      dataRootMetadataBytes: d.dataRootMetadataBytes,
      startedSinceLastRun: d.startedSinceLastRun,
    },
  };
}
