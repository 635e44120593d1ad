import { summaryRow } from '../model/filesystems.js';
import type { DockerStorage } from '../sections/docker/model.js';
import type { FilesystemData } from '../sections/filesystem.js';
import type { PressureData } from '../sections/pressure/model.js';
import type { SectionResult } from '../sections/types.js';
import type { JournalEntry } from './entry.js';

function dataOf<T>(results: readonly SectionResult[], id: string): T | undefined {
  return results.find((r) => r.section.id === id)?.data as T | undefined;
}

/** Pure: this run's section results → the figures the journal keeps. */
export function buildEntry(results: readonly SectionResult[], host: string, at: Date): JournalEntry {
  const fs = dataOf<FilesystemData>(results, 'filesystem');
  const docker = dataOf<DockerStorage>(results, 'docker');
  const pressure = dataOf<PressureData>(results, 'pressure');
  const measured = (fs?.filesystems ?? []).filter((f) => f.usedBytes !== undefined);
  return {
    v: 1,
    at: at.toISOString(),
    id: `${process.pid}-${at.getTime().toString(36)}`,
    host,
    summaryMount: fs ? summaryRow(fs)?.mountpoint ?? null : null,
    filesystems: measured.map((f) => ({
      mountpoint: f.mountpoint,
      usedBytes: f.usedBytes!,
      sizeBytes: f.sizeBytes!,
      availBytes: f.availBytes!,
      usedPct: f.usedPct!,
      inodesUsedPct: f.inodesUsedPct ?? null,
    })),
    sources: Object.fromEntries((pressure?.attribution?.sources ?? []).map((s) => [s.kind, s.bytes])),
    driver: docker?.engine?.driver ?? null,
    counts: docker?.images && docker.containers && docker.volumes && docker.buildCache
      ? { images: docker.images.count, containers: docker.containers.count, volumes: docker.volumes.count, buildCache: docker.buildCache.count }
      : null,
    churn: (docker?.churn ?? []).map((c) => ({ ...c })),
    fired: (pressure?.findings ?? []).map((f) => ({ name: f.name, severity: f.severity, ...(f.mountpoint ? { mountpoint: f.mountpoint } : {}) })),
    remediation: [],
  };
}
