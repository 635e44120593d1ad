import { OBJECT_KINDS, type ObjectFigures, type ObjectKind } from '../history-objects.js';
import type { Point } from './fit.js';
import { growth, WINDOWS, type Growth } from './growth.js';
import { byText } from '../../text/order.js';

/*
 * Growth per Docker object (a volume, a container's writable layer or log,
 * a repository's images, a build-cache type), with the rule every rate
 * follows, and the few that grow enough to be named.
 */

export interface ObjectTrend extends Growth {
  kind: ObjectKind;
  name: string;
  /** Its bytes in the latest run. */
  bytes: number;
}

export interface GrowingObject {
  kind: ObjectKind;
  name: string;
  bytes: number;
  bytesPerHour: number;
  /** The fit the rate comes from: the 24 h one once it is given, else the 1 h one. */
  window: '24h' | '1h';
}

/** Runs as the object trend reads them: when, and the objects measured then. */
export type ObjectRun = { at: string; objects?: ObjectFigures };

/** At most this many growing objects are named (verdict, trend, JSON, metrics). */
export const MAX_GROWING = 3;
/** Material growth: at least this share of the filesystem's size a day… */
export const MATERIAL_SHARE_PER_DAY = 0.01;
/** …and at least this many bytes an hour, so a small disk does not name every log line. */
export const MATERIAL_MIN_BYTES_PER_HOUR = 1024 * 1024;

/** Every object of the latest run (oldest first, the latest last), with its rates over the runs that measured it. */
export function objectTrends(runs: readonly ObjectRun[]): ObjectTrend[] {
  const latest = runs[runs.length - 1];
  if (!latest?.objects) return [];
  // Only the latest run's objects get a series: one pass, each run's time parsed once; by kind, then name
  // (a week of history is 20,000 figures: no key built for each).
  const series = new Map(
    OBJECT_KINDS.map((kind) => [kind, new Map((latest.objects?.[kind] ?? []).map(([name]) => [name, [] as Point[]]))]),
  );
  const now = Date.parse(latest.at);
  // No window is longer than 7 d: the objects of older runs (a year of them) are never looked up.
  const since = now - WINDOWS['7d'];
  for (const run of runs) {
    if (!run.objects) continue;
    const t = Date.parse(run.at);
    if (t < since) continue;
    for (const kind of OBJECT_KINDS) {
      const figures = run.objects[kind];
      if (!figures) continue;
      const byName = series.get(kind)!;
      // Absent from a run (not measured, or not among the biggest then) is no point: unknown, not zero.
      for (const [name, bytes] of figures) byName.get(name)?.push({ t, v: bytes });
    }
  }
  return OBJECT_KINDS.flatMap((kind) =>
    (latest.objects?.[kind] ?? []).map(([name, bytes]) => ({
      kind,
      name,
      bytes,
      ...growth(series.get(kind)!.get(name)!, now),
    })),
  );
}

/** The rate an object must reach to be named, on a filesystem of `sizeBytes` (null: unknown). */
export function materialBytesPerHour(sizeBytes: number | null): number {
  return Math.max(MATERIAL_MIN_BYTES_PER_HOUR, ((sizeBytes ?? 0) * MATERIAL_SHARE_PER_DAY) / 24);
}

/** The few objects whose trusted growth is material, fastest first. */
export function growingObjects(trends: readonly ObjectTrend[], sizeBytes: number | null): GrowingObject[] {
  const floor = materialBytesPerHour(sizeBytes);
  return trends
    .flatMap((o): GrowingObject[] => {
      const window = o.bytesPerHour['24h'] !== null ? '24h' : o.bytesPerHour['1h'] !== null ? '1h' : null;
      const rate = window ? o.bytesPerHour[window]! : null;
      return window && rate !== null && rate >= floor
        ? [{ kind: o.kind, name: o.name, bytes: o.bytes, bytesPerHour: rate, window }]
        : [];
    })
    .sort((a, b) => b.bytesPerHour - a.bytesPerHour || byText(a.kind, b.kind) || byText(a.name, b.name))
    .slice(0, MAX_GROWING);
}
