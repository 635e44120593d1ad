import type { HistoryRecord } from '../history.js';
import { needsText, type FilesystemTrend } from './assess.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Runs come every 20 minutes: a hole longer than this is missing runs, not a slow one. */
export const GAP_MS = HOUR;

/**
 * Stack order, bottom up: what changes least first, so growth shows at the
 * top. `btrfs-unused-chunks` is left out: those bytes are not part of used
 * (countsInUsed false in attribution.ts). `unattributed` is used bytes no
 * source explains (a run cut short records no sources).
 */
export const LAYER_KINDS = [
  'outside-docker',
  'deleted-open',
  'images',
  'dangling-images',
  'containers',
  'container-logs',
  'volumes',
  'build-cache',
  'overlay2-orphans',
  'btrfs-orphans',
  'unattributed',
] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];

export interface ChartPoint {
  t: number;
  used: number;
  /** used + available, as df and the time-to-full count it. */
  capacity: number;
  /** Bytes per LAYER_KINDS index. */
  layers: number[];
}

export type Forecast =
  | { kind: 'full'; ttfMs: number; window: string; from: ChartPoint; at: number }
  /** Full past the chart's right edge: the line stops there at `edgeBytes`. */
  | { kind: 'beyond'; ttfMs: number; window: string; from: ChartPoint; edgeBytes: number }
  | { kind: 'full-now'; window: string }
  | { kind: 'not-filling'; window: string }
  | { kind: 'none'; why: string };

export interface ChartModel {
  mountpoint: string;
  host: string;
  runs: number;
  /** Time axis: first run (an hour back at least) to the last run plus room for the projection. */
  start: number;
  last: number;
  end: number;
  /** Runs split where more than GAP_MS passes between two of them: never drawn across. */
  segments: ChartPoint[][];
  gaps: { from: number; to: number }[];
  /** Layers that hold bytes somewhere, bottom up. */
  kinds: LayerKind[];
  remediations: { t: number; freed: number; steps: { action: string; reclaimedBytes: number }[] }[];
  forecast: Forecast;
}

export interface ChartInput {
  records: readonly HistoryRecord[];
  /** The trend's row for the summary filesystem (its fit gives the projection). */
  trendOf: (mountpoint: string) => FilesystemTrend | undefined;
  days: number;
  /** At most this many points per segment: one per pixel column is all a chart can show. */
  maxPoints: number;
}

/** Pure: history → what the chart draws, or null when no run measured a summary filesystem. */
export function chartModel(input: ChartInput): ChartModel | null {
  const all = input.records;
  const latest = [...all].reverse().find((r) => r.summaryMount !== null);
  if (!latest) return null;
  const mountpoint = latest.summaryMount!;
  const lastAt = Date.parse(all[all.length - 1]!.at);
  const records = all.filter((r) => Date.parse(r.at) >= lastAt - input.days * DAY);
  const points = records.flatMap((r) => {
    const p = pointOf(r, mountpoint);
    return p ? [p] : [];
  });
  if (points.length === 0) return null;
  const first = points[0]!.t;
  const last = points[points.length - 1]!.t;
  const start = Math.min(first, last - HOUR);
  const end = last + Math.max(HOUR, (last - start) / 4);
  const segments: ChartPoint[][] = [];
  const gaps: ChartModel['gaps'] = [];
  for (const [i, p] of points.entries()) {
    const prev = points[i - 1];
    if (!prev || p.t - prev.t > GAP_MS) {
      if (prev) gaps.push({ from: prev.t, to: p.t });
      segments.push([]);
    }
    segments[segments.length - 1]!.push(p);
  }
  const bucketMs = (end - start) / input.maxPoints;
  return {
    mountpoint,
    host: latest.host,
    runs: points.length,
    start,
    last,
    end,
    segments: segments.map((s) => thin(s, start, bucketMs)),
    gaps,
    kinds: LAYER_KINDS.filter((_, k) => points.some((p) => p.layers[k]! > 0)),
    remediations: records
      .filter((r) => r.remediation.length > 0)
      .map((r) => ({
        t: Date.parse(r.at),
        freed: r.remediation.reduce((a, s) => a + s.reclaimedBytes, 0),
        steps: r.remediation,
      })),
    forecast: forecastOf(input.trendOf(mountpoint), points[points.length - 1]!, end),
  };
}

function pointOf(r: HistoryRecord, mountpoint: string): ChartPoint | null {
  const f = r.filesystems.find((x) => x.mountpoint === mountpoint);
  if (!f) return null;
  // Sources are the summary filesystem's: a run that summarised another one says nothing about this one's.
  const sources = r.summaryMount === mountpoint ? r.sources : {};
  const layers = LAYER_KINDS.map((k) => (k === 'unattributed' ? 0 : (sources[k] ?? 0)));
  const counted = layers.reduce((a, b) => a + b, 0);
  layers[LAYER_KINDS.indexOf('unattributed')] = Math.max(0, f.usedBytes - counted);
  return { t: Date.parse(r.at), used: f.usedBytes, capacity: f.usedBytes + f.availBytes, layers };
}

/** The last point of each time bucket, and the segment's first: its edges stay where they are. */
function thin(points: ChartPoint[], start: number, bucketMs: number): ChartPoint[] {
  const bucket = (p: ChartPoint) => Math.floor((p.t - start) / bucketMs);
  return points.filter((p, i) => i === 0 || i === points.length - 1 || bucket(p) !== bucket(points[i + 1]!));
}

function forecastOf(fs: FilesystemTrend | undefined, from: ChartPoint, end: number): Forecast {
  // The trend's own verdict (the rule escalation uses): the chart never projects what the table withholds.
  if (fs?.forecastNeeds) return { kind: 'none', why: `no forecast yet (${needsText(fs.forecastNeeds)})` };
  if (!fs || fs.forecastWindow === null) return { kind: 'none', why: 'no forecast yet' };
  const window = `${fs.forecastWindow} fit`;
  if (fs.timeToFullMs === null) return { kind: 'not-filling', window };
  if (fs.timeToFullMs === 0 || from.used >= from.capacity) return { kind: 'full-now', window };
  const at = from.t + fs.timeToFullMs;
  if (at <= end) return { kind: 'full', ttfMs: fs.timeToFullMs, window, from, at };
  // The fit's time-to-full, drawn from the last point: the line reaches capacity at `at`.
  const edgeBytes = from.used + ((from.capacity - from.used) * (end - from.t)) / (at - from.t);
  return { kind: 'beyond', ttfMs: fs.timeToFullMs, window, from, edgeBytes };
}
