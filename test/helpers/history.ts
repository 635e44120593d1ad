import type { HistoryRecord } from '../../src/model/history.js';

export const GiB = 1024 ** 3;
export const MIN = 60_000;
export const HOUR = 60 * MIN;

/**
 * One valid history record (it passes validRecord): `mountpoint` used
 * `usedBytes` of `sizeBytes`, sources as given (outside-docker takes the rest).
 */
export function historyRecord(
  at: number,
  usedBytes: number,
  opts: {
    mountpoint?: string;
    sizeBytes?: number;
    sources?: Record<string, number>;
    over?: Partial<HistoryRecord>;
  } = {},
): HistoryRecord {
  const mountpoint = opts.mountpoint ?? '/var/lib/docker';
  const sizeBytes = opts.sizeBytes ?? 100 * GiB;
  const availBytes = sizeBytes - usedBytes;
  const sources = opts.sources ?? {};
  const counted = Object.values(sources).reduce((a, b) => a + b, 0);
  return {
    v: 2,
    at: new Date(at).toISOString(),
    id: `t-${at}`,
    host: 'h',
    observed: { assessed: true, filesystems: [mountpoint], looked: [mountpoint], btrfs: [], dockerSizes: true },
    summaryMount: mountpoint,
    dockerRoot: mountpoint,
    filesystems: [
      {
        mountpoint,
        usedBytes,
        sizeBytes,
        availBytes,
        usedPct: Math.ceil((usedBytes * 100) / sizeBytes),
        inodesUsedPct: 1,
      },
    ],
    sources: { ...sources, 'outside-docker': Math.max(0, usedBytes - counted) },
    driver: 'overlay2',
    counts: null,
    churn: [],
    fired: [],
    remediation: [],
    imagesInUse: [],
    escalations: [],
    ...opts.over,
  };
}
