import { formatBytes } from '../text/bytes.js';
import { formatDuration } from '../text/duration.js';

/** The Docker sources whose sizes a run can miss: the walk (containers, volumes), or all of /system/df on API 1.41. */
export type StaleKind = 'images' | 'dangling-images' | 'containers' | 'volumes' | 'build-cache';

/**
 * A size this run could not measure, as the newest earlier run that measured
 * it recorded it (its attribution in the history). Never a figure of this
 * run: it is shown beside the fresh ones, never summed with them.
 */
export interface LastMeasured {
  kind: StaleKind;
  /** Bytes then; null when no run in the history measured it. */
  bytes: number | null;
  /** ISO time of that run; null with bytes. */
  measuredAt: string | null;
  /** This run's start less measuredAt, in whole seconds; null with bytes. */
  ageSeconds: number | null;
}

/** The part of a history record this reads (history.ts imports the models this one serves). */
export interface RecordedSources {
  at: string;
  sources: Record<string, number>;
}

/** Pure: for each kind, the newest record (oldest first in `records`) whose attribution held it. */
export function lastMeasured(
  records: readonly RecordedSources[],
  kinds: readonly StaleKind[],
  now: Date,
): LastMeasured[] {
  return kinds.map((kind) => {
    for (let i = records.length - 1; i >= 0; i -= 1) {
      const r = records[i]!;
      const bytes = r.sources[kind];
      if (bytes === undefined) continue;
      const ageSeconds = Math.max(0, Math.round((now.getTime() - Date.parse(r.at)) / 1000));
      return { kind, bytes, measuredAt: r.at, ageSeconds };
    }
    return { kind, bytes: null, measuredAt: null, ageSeconds: null };
  });
}

const NAMES: Record<StaleKind, string> = {
  images: 'images',
  'dangling-images': 'dangling images',
  containers: 'containers',
  volumes: 'volumes',
  'build-cache': 'build cache',
};

/**
 * `Last measured, not this run's figures: volumes 30.0 MiB, containers 50.0 MiB, 12 min ago (2026-12-06 20:01 UTC).`
 * Grouped by the run that measured them; null when nothing is stale.
 */
export function staleLine(stale: readonly LastMeasured[]): string | null {
  if (stale.length === 0) return null;
  const runs = [...new Set(stale.map((s) => s.measuredAt))];
  const parts = runs.map((at) => {
    const of = stale.filter((s) => s.measuredAt === at);
    if (at === null)
      return `${of.map((s) => NAMES[s.kind]).join(', ')} unknown (no earlier run in the history measured them)`;
    const when = `${at.slice(0, 16).replace('T', ' ')} UTC`;
    const figures = of.map((s) => `${NAMES[s.kind]} ${formatBytes(s.bytes ?? 0)}`).join(', ');
    return `${figures}, ${formatDuration((of[0]!.ageSeconds ?? 0) * 1000)} ago (${when})`;
  });
  return `Last measured, not this run's figures: ${parts.join('; ')}.`;
}
