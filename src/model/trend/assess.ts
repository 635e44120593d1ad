import type { HistoryRecord, HistoryWindow } from '../history.js';
import { alertStates, type AlertState } from './alerts.js';
import { leastSquares, sparkline, timeToLimitMs, type LinearFit, type Point } from './fit.js';
import { growth, MIN_POINTS, needsOf, spanOf, WINDOWS, type Growth, type Needs } from './growth.js';
import { growingObjects, objectTrends, type GrowingObject, type ObjectTrend } from './objects.js';
import { formatDuration } from '../../text/duration.js';

const HOUR = 3_600_000;
export { MIN_POINTS, RATE_MIN_SHARE, WINDOWS, needsOf } from './growth.js';
export type { Growth, Needs, WindowName } from './growth.js';

export interface FilesystemTrend extends Growth {
  mountpoint: string;
  usedPct: number | null;
  /** predict_linear over the last 6 h (24 h when sparse): ms until full, null when not filling or not trusted. */
  timeToFullMs: number | null;
  /** Where the forecast came from; null while there is no trusted forecast (forecastNeeds says why). */
  forecastWindow: '6h' | '24h' | null;
  /** Time between the first and last point of the forecast's fit (ms): seconds of runs are no trend. */
  forecastSpanMs: number;
  /** What the forecast still lacks; null once it is trusted. */
  forecastNeeds: Needs | null;
  /** Consecutive latest runs above the threshold. */
  streakAbove: number;
  sparkline24h: string;
}

export type { AlertState };

export interface Trend {
  entries: number;
  unreadable: number;
  filesystems: FilesystemTrend[];
  sources: ({ kind: string } & Growth)[];
  /** The biggest Docker objects of the latest run, each with its rates. */
  objects: ObjectTrend[];
  /** The few whose trusted growth is material (objects.ts), fastest first: the ones named. */
  growingObjects: GrowingObject[];
  churnByDay: { day: string; repository: string; builds24h: number; danglingVersions: number }[];
  alerts: AlertState[];
  /** Clean-up applied in the last 7 days, oldest first: steps and what statfs measured each free. */
  remediations: { at: string; action: string; reclaimedBytes: number }[];
  /** When the latest run whose Storage Pressure finished (its findings whole) started, this run included; null if none did. */
  lastAssessedAt: string | null;
}

/** Runs closer together than this are no trend: a minute of writes would forecast a full disk. */
export const MIN_FORECAST_SPAN_MS = 30 * 60_000;

/** `needs 25 min more of runs`: what the table and the chart say in place of a figure. */
export function needsText(n: Needs): string {
  const parts = [
    ...(n.moreRuns ? [`${n.moreRuns} more run${n.moreRuns === 1 ? '' : 's'}`] : []),
    // "of runs" once: the chart's legend has room for about 40 characters a line.
    ...(n.moreMs ? [`${formatDuration(n.moreMs)} more${n.moreRuns ? '' : ' of runs'}`] : []),
  ];
  return `needs ${parts.join(' and ')}`;
}

type ForecastEvidence = Pick<FilesystemTrend, 'points' | 'forecastSpanMs'>;

/** What a forecast lacks: at least MIN_POINTS runs in its fit, over MIN_FORECAST_SPAN_MS. */
export function forecastShortfall(t: ForecastEvidence): Needs | null {
  return needsOf(t.points['24h'], t.forecastSpanMs, MIN_FORECAST_SPAN_MS);
}

/** The one rule escalation, the table, JSON, metrics and the chart use for time-to-full. */
export function forecastTrusted(t: ForecastEvidence): boolean {
  return forecastShortfall(t) === null;
}

interface ForecastFit {
  window: '6h' | '24h' | null;
  fit: LinearFit | null;
  spanMs: number;
}

/**
 * The fit time-to-full comes from: the last 6 h when it has 3 runs, else
 * 24 h; but after a gap, a burst of runs makes a 6 h fit too short to
 * trust, and then a trusted 24 h fit is the forecast.
 */
function forecastFit(used: readonly Point[], now: number, points: Growth['points']): ForecastFit {
  const over = (window: '6h' | '24h', hours: number): ForecastFit => {
    const fitted = used.filter((p) => p.t >= now - hours * HOUR);
    const fit = leastSquares(fitted);
    return { window: fit ? window : null, fit, spanMs: spanOf(fitted) };
  };
  const six = over('6h', 6);
  const day = over('24h', 24);
  const trusted = (f: ForecastFit) => f.fit !== null && forecastTrusted({ points, forecastSpanMs: f.spanMs });
  if (six.fit && six.fit.points >= MIN_POINTS && (trusted(six) || !trusted(day))) return six;
  return day;
}

/**
 * Trends from journal entries (oldest first, the current run last).
 * `thresholdPct` is the disk threshold streaks count against.
 */
export function assessTrend(
  entries: readonly HistoryRecord[],
  unreadable: number,
  thresholdPct: number,
  knownObjects?: ObjectTrend[],
): Trend {
  const now = entries.length ? Date.parse(entries[entries.length - 1]!.at) : Date.now();
  const latest = entries[entries.length - 1];
  const mounts = latest ? latest.filesystems.map((f) => f.mountpoint) : [];
  const filesystems = mounts.map((mountpoint): FilesystemTrend => {
    const rows = entries.flatMap((e) => {
      const f = e.filesystems.find((x) => x.mountpoint === mountpoint);
      return f ? [{ t: Date.parse(e.at), f }] : [];
    });
    const used: Point[] = rows.map((r) => ({ t: r.t, v: r.f.usedBytes }));
    const current = rows[rows.length - 1]?.f;
    const capacity = current ? current.usedBytes + current.availBytes : 0;
    const g = growth(used, now);
    const { window: forecastWindow, fit, spanMs: forecastSpanMs } = forecastFit(used, now, g.points);
    // The rule escalation uses: an untrusted fit is no forecast anywhere, not a "not filling".
    const forecastNeeds = forecastShortfall({ points: g.points, forecastSpanMs });
    const trusted = forecastNeeds === null;
    let streakAbove = 0;
    for (let i = rows.length - 1; i >= 0 && rows[i]!.f.usedPct > thresholdPct; i -= 1) streakAbove += 1;
    const pct: Point[] = rows.map((r) => ({ t: r.t, v: r.f.usedPct }));
    return {
      mountpoint,
      usedPct: current?.usedPct ?? null,
      ...g,
      timeToFullMs: trusted && fit && capacity > 0 ? timeToLimitMs(fit, capacity, now) : null,
      forecastWindow: trusted ? forecastWindow : null,
      forecastSpanMs,
      forecastNeeds,
      streakAbove,
      sparkline24h: sparkline(pct, now - 24 * HOUR, now + 1, 24),
    };
  });
  const kinds = latest ? Object.keys(latest.sources) : [];
  const sources = kinds.map((kind) => ({
    kind,
    ...growth(
      entries.filter((e) => kind in e.sources).map((e) => ({ t: Date.parse(e.at), v: e.sources[kind]! })),
      now,
    ),
  }));
  const remediations = entries
    .filter((e) => Date.parse(e.at) >= now - WINDOWS['7d'])
    .flatMap((e) => e.remediation.map((r) => ({ at: e.at, action: r.action, reclaimedBytes: r.reclaimedBytes })));
  const lastAssessedAt = [...entries].reverse().find((e) => e.observed.assessed)?.at ?? null;
  const objects = knownObjects ?? objectTrends(entries);
  const summary = latest?.filesystems.find((f) => f.mountpoint === latest.summaryMount);
  return {
    entries: entries.length,
    unreadable,
    filesystems,
    sources,
    objects,
    growingObjects: growingObjects(objects, summary?.sizeBytes ?? null),
    churnByDay: churnByDay(entries),
    alerts: alertStates(entries),
    remediations,
    lastAssessedAt,
  };
}

/** Per UTC day and repository: the day's last figures. */
function churnByDay(entries: readonly HistoryRecord[]): Trend['churnByDay'] {
  const last = new Map<string, Trend['churnByDay'][number]>();
  for (const e of entries) {
    for (const c of e.churn) {
      const day = e.at.slice(0, 10);
      last.set(`${day} ${c.repository}`, {
        day,
        repository: c.repository,
        builds24h: c.builds24h,
        danglingVersions: c.danglingVersions,
      });
    }
  }
  return [...last.values()];
}

export interface TrendData extends Trend {
  journalProblem: string | null;
  files: number;
}

/** Pure: history window (+ this run's record, when there is a run) → trend. */
export function trendFromHistory(
  history: HistoryWindow,
  current: HistoryRecord | null,
  thresholdPct: number,
  objects?: ObjectTrend[],
): TrendData {
  const entries = current ? [...history.records, current] : history.records;
  return {
    ...assessTrend(entries, history.unreadable, thresholdPct, objects),
    journalProblem: history.problem,
    files: history.files,
  };
}
