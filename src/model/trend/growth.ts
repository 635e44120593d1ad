import type { Point } from './fit.js';
import { leastSquares } from './fit.js';

/*
 * A growth rate per window, with the trust rule every rate follows
 * (filesystems, sources, Docker objects): given only once enough runs
 * cover the window, otherwise what is still needed.
 */

const HOUR = 3_600_000;
export const WINDOWS = { '1h': HOUR, '24h': 24 * HOUR, '7d': 7 * 24 * HOUR } as const;
export type WindowName = keyof typeof WINDOWS;

/** History a figure still lacks before it is given: more time between first and last run, more runs. */
export interface Needs {
  moreMs: number;
  moreRuns: number;
}

export interface Growth {
  /** Bytes per hour, fitted over every entry in the window; null until the runs cover it (rateNeeds). */
  bytesPerHour: Record<WindowName, number | null>;
  points: Record<WindowName, number>;
  /** What each window's rate still lacks; null once it is given. */
  rateNeeds: Record<WindowName, Needs | null>;
}

/** Fewer points than this make any blip a trend (two points always fit a line). */
export const MIN_POINTS = 3;
/**
 * A window's rate is given once its runs span this share of it: a 1 h rate
 * needs 30 min of runs, 24 h 12 h, 7 d 3.5 days. Seconds of runs labelled
 * as an hour would be a blip scaled up.
 */
export const RATE_MIN_SHARE = 0.5;

/** What `points` runs spanning `spanMs` lack to reach `minSpanMs` and MIN_POINTS; null when nothing. */
export function needsOf(points: number, spanMs: number, minSpanMs: number): Needs | null {
  const needs = { moreMs: Math.max(0, minSpanMs - spanMs), moreRuns: Math.max(0, MIN_POINTS - points) };
  return needs.moreMs === 0 && needs.moreRuns === 0 ? null : needs;
}

export const spanOf = (points: readonly Point[]) => (points.length ? points[points.length - 1]!.t - points[0]!.t : 0);

/** Every window's least-squares rate over `series` (oldest first), up to `now`, each given only when trusted. */
export function growth(series: readonly Point[], now: number): Growth {
  const bytesPerHour = {} as Record<WindowName, number | null>;
  const points = {} as Record<WindowName, number>;
  const rateNeeds = {} as Record<WindowName, Needs | null>;
  for (const [name, span] of Object.entries(WINDOWS) as [WindowName, number][]) {
    const inWindow = series.filter((p) => p.t >= now - span);
    const fit = leastSquares(inWindow);
    points[name] = inWindow.length;
    rateNeeds[name] = needsOf(inWindow.length, spanOf(inWindow), RATE_MIN_SHARE * span);
    bytesPerHour[name] = fit && rateNeeds[name] === null ? fit.slope * HOUR : null;
  }
  return { bytesPerHour, points, rateNeeds };
}
