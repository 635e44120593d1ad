import { isRunning, type DockerStorage } from './docker-storage.js';
import { summaryRow, type FilesystemData } from './filesystems.js';
import type { BtrfsData } from './btrfs.js';
import type { PressureData } from './pressure.js';
import { dataOf, resultOf, type SectionResult } from './results.js';
import type { HistoryRecord, Observed } from './history.js';

/** Pure: what this run really measured (the alerts' and the vault items' rule for "cleared"). */
export function observedOf(results: readonly SectionResult[]): Observed {
  const fs = dataOf<FilesystemData>(results, 'filesystem');
  const pressure = { data: dataOf<PressureData>(results, 'pressure'), status: resultOf(results, 'pressure')?.status };
  return {
    // A cut-short assessment is no evidence that anything stopped firing.
    assessed: pressure.status === 'ok' && pressure.data !== undefined && pressure.data.historyKnown !== false,
    filesystems: (fs?.filesystems ?? []).filter((f) => f.usedBytes !== undefined).map((f) => f.mountpoint),
    looked: (fs?.filesystems ?? []).map((f) => f.mountpoint),
    btrfs: (dataOf<BtrfsData>(results, 'btrfs')?.filesystems ?? []).filter((b) => b.assessment !== null).map((b) => b.mountpoint),
    dockerSizes: !!dataOf<DockerStorage>(results, 'docker')?.images,
  };
}

/** Pure: this run's section results → the record the history keeps. */
export function buildRecord(results: readonly SectionResult[], host: string, at: Date, runId: string): HistoryRecord {
  const fs = dataOf<FilesystemData>(results, 'filesystem');
  const docker = dataOf<DockerStorage>(results, 'docker');
  const pressure = dataOf<PressureData>(results, 'pressure');
  const measured = (fs?.filesystems ?? []).filter((f) => f.usedBytes !== undefined);
  const observed = observedOf(results);
  const assessed = observed.assessed;
  return {
    v: 2,
    at: at.toISOString(),
    id: runId,
    host,
    observed,
    summaryMount: fs ? summaryRow(fs)?.mountpoint ?? null : null,
    dockerRoot: fs?.docker.path ?? null,
    filesystems: measured.map((f) => ({
      mountpoint: f.mountpoint,
      usedBytes: f.usedBytes!,
      sizeBytes: f.sizeBytes!,
      availBytes: f.availBytes!,
      usedPct: f.usedPct!,
      inodesUsedPct: f.inodesUsedPct ?? null,
    })),
    sources: assessed ? Object.fromEntries((pressure?.attribution?.sources ?? []).map((s) => [s.kind, s.bytes])) : {},
    driver: docker?.engine?.driver ?? null,
    counts: docker?.images && docker.containers && docker.volumes && docker.buildCache
      ? { images: docker.images.count, containers: docker.containers.count, volumes: docker.volumes.count, buildCache: docker.buildCache.count }
      : null,
    churn: (docker?.churn ?? []).map((c) => ({ repository: c.repository, builds24h: c.builds24h, danglingVersions: c.danglingVersions, danglingBytes: c.danglingBytes })),
    fired: assessed ? (pressure?.findings ?? []).map((f) => ({ name: f.name, severity: f.severity, ...(f.mountpoint ? { mountpoint: f.mountpoint } : {}) })) : [],
    remediation: [],
    escalations: [],
    imagesInUse: [...new Set((docker?.df?.containers ?? []).filter(isRunning).map((c) => c.imageId).filter((id) => /^sha256:[0-9a-f]{64}$/.test(id)))].sort(),
  };
}
