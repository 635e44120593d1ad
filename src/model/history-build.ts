import { isRunning } from './docker-storage.js';
import { summaryRow } from './filesystems.js';
import type { Measurements } from './results.js';
import type { Attribution } from './attribution.js';
import type { HistoryRecord, Observed } from './history.js';
import { objectFiguresOf } from './object-figures.js';

/** Pure: what this run really measured (the alerts' and the vault items' rule for "cleared"). */
export function observedOf(run: Measurements): Observed {
  const fs = run.filesystem?.data;
  const pressure = { data: run.pressure?.data, status: run.pressure?.status };
  const d = run.docker?.data;
  return {
    // A cut-short assessment is no evidence that anything stopped firing.
    assessed: pressure.status === 'ok' && pressure.data !== undefined && pressure.data.historyKnown !== false,
    filesystems: (fs?.filesystems ?? []).filter((f) => f.usedBytes !== undefined).map((f) => f.mountpoint),
    looked: (fs?.filesystems ?? []).map((f) => f.mountpoint),
    btrfs: (run.btrfs?.data?.filesystems ?? []).filter((b) => b.assessment !== null).map((b) => b.mountpoint),
    // Every size, walk included: a run that kept its last measured sizes did not look at them.
    dockerSizes: !!(d?.images && d.containers && d.volumes && d.buildCache),
  };
}

/** kind → bytes; without outside-docker when Docker left sizes unmeasured (that remainder then holds them too). */
function recordedSources(a: Attribution | null): Record<string, number> {
  const kept = (a?.sources ?? []).filter((s) => s.kind !== 'outside-docker' || a!.stale.length === 0);
  return Object.fromEntries(kept.map((s) => [s.kind, s.bytes]));
}

/** Pure: what this run measured → the record the history keeps. */
export function buildRecord(run: Measurements, host: string, at: Date, runId: string): HistoryRecord {
  const fs = run.filesystem?.data;
  const docker = run.docker?.data;
  const pressure = run.pressure?.data;
  const measured = (fs?.filesystems ?? []).filter((f) => f.usedBytes !== undefined);
  const observed = observedOf(run);
  const assessed = observed.assessed;
  const objects = objectFiguresOf(docker);
  return {
    v: 2,
    at: at.toISOString(),
    id: runId,
    host,
    observed,
    summaryMount: fs ? (summaryRow(fs)?.mountpoint ?? null) : null,
    dockerRoot: fs?.docker.path ?? null,
    filesystems: measured.map((f) => ({
      mountpoint: f.mountpoint,
      usedBytes: f.usedBytes!,
      sizeBytes: f.sizeBytes!,
      availBytes: f.availBytes!,
      usedPct: f.usedPct!,
      inodesUsedPct: f.inodesUsedPct ?? null,
    })),
    sources: assessed ? recordedSources(pressure?.attribution ?? null) : {},
    driver: docker?.engine?.driver ?? null,
    counts:
      docker?.images && docker.containers && docker.volumes && docker.buildCache
        ? {
            images: docker.images.count,
            containers: docker.containers.count,
            volumes: docker.volumes.count,
            buildCache: docker.buildCache.count,
          }
        : null,
    churn: (docker?.churn ?? []).map((c) => ({
      repository: c.repository,
      builds24h: c.builds24h,
      danglingVersions: c.danglingVersions,
      danglingBytes: c.danglingBytes,
    })),
    fired: assessed
      ? (pressure?.findings ?? []).map((f) => ({
          name: f.name,
          severity: f.severity,
          ...(f.mountpoint ? { mountpoint: f.mountpoint } : {}),
        }))
      : [],
    remediation: [],
    escalations: [],
    // Running now, or started since the last run (a short `docker run --rm` job leaves no container behind).
    imagesInUse: [
      ...new Set(
        [
          ...(docker?.df?.containers ?? []).filter(isRunning).map((c) => c.imageId),
          ...(docker?.startedSinceLastRun?.imageIds ?? []),
        ].filter((id) => /^sha256:[0-9a-f]{64}$/.test(id)),
      ),
    ].sort(),
    ...(objects ? { objects } : {}),
  };
}
