import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../../src/model/history.js';
import {
  assessTrend,
  forecastTrusted,
  MIN_FORECAST_SPAN_MS,
  RATE_MIN_SHARE,
  WINDOWS,
  type TrendData,
} from '../../src/model/trend/assess.js';
import { chartModel } from '../../src/model/trend/chart.js';
import { trendMarkdown } from '../../src/sections/trend/markdown.js';
import { renderProm } from '../../src/render/prom.js';
import { makeReport } from '../../src/model/report.js';
import { trendSection } from '../../src/sections/trend/index.js';
import { DEFAULT_ESCALATION, escalations, type EscalationInput } from '../../src/model/escalation.js';
import { formatBytes } from '../../src/text/bytes.js';
import { GiB, HOUR, MIN, historyRecord } from '../helpers/history.js';

/*
 * A figure is given only once the runs cover it: a window's rate when 3
 * runs span half of it, time-to-full when 3 runs span 30 minutes (the rule
 * escalation uses). At the edge, just below and exactly at, in every form.
 */

const T0 = Date.parse('2026-11-20T00:00:00Z');
const MOUNT = '/var/lib/docker';

/** Runs at these minutes after T0, filling 2 GiB a run: fast enough to be full within a day. */
const at = (minutes: readonly number[]): HistoryRecord[] =>
  minutes.map((m, i) => historyRecord(T0 + m * MIN, 50 * GiB + i * 2 * GiB));

const fsOf = (records: readonly HistoryRecord[]) => assessTrend(records, 0, 80).filesystems[0]!;

function data(records: readonly HistoryRecord[]): TrendData {
  return { ...assessTrend(records, 0, 80), journalProblem: null, files: 1 };
}

/** The table's row for the mount, cell by cell. */
function row(records: readonly HistoryRecord[]): Record<string, string> {
  const lines = trendMarkdown(data(records));
  const header = lines.find((l) => l.startsWith('| Mount'))!.split(' | ');
  const cells = lines.find((l) => l.startsWith(`| ${MOUNT}`))!.split(' | ');
  return Object.fromEntries(header.map((h, i) => [h.replace(/^\| /, ''), cells[i]!]));
}

function prom(records: readonly HistoryRecord[]): string[] {
  const d = data(records);
  const result = { section: trendSection, status: 'ok' as const, data: d, durationMs: 1 };
  const report = makeReport([result], new Date(T0), new Date(T0), null, { trend: result });
  return renderProm(report)
    .split('\n')
    .filter((l) => !l.startsWith('#') && /growth|time_to_full/.test(l));
}

function chartForecast(records: readonly HistoryRecord[]) {
  const trend = assessTrend(records, 0, 80);
  return chartModel({
    records,
    trendOf: (m) => trend.filesystems.find((f) => f.mountpoint === m),
    days: 7,
    maxPoints: 600,
  })!.forecast;
}

describe('a rate is given once 3 runs span half its window', () => {
  it('states the share: 30 min for 1 h', () => {
    expect(RATE_MIN_SHARE * WINDOWS['1h']).toBe(30 * MIN);
  });

  it('1 h: runs spanning 29 min give no rate and say what is missing; 30 min give it', () => {
    const below = at([0, 15, 29]);
    const fs = fsOf(below);
    expect(fs.bytesPerHour['1h']).toBeNull();
    expect(fs.rateNeeds['1h']).toEqual({ moreMs: MIN, moreRuns: 0 });
    expect(row(below)['Growth 1 h']).toBe('— (needs 1 min more of runs)');
    expect(prom(below).filter((l) => l.includes('window="1h"'))).toEqual([]);

    const exact = at([0, 15, 30]);
    expect(fsOf(exact).bytesPerHour['1h']).toBeCloseTo(8 * GiB, -3);
    expect(fsOf(exact).rateNeeds['1h']).toBeNull();
    expect(row(exact)['Growth 1 h']).toBe('+8.0 GiB/h');
    expect(
      prom(exact).filter((l) => l.startsWith('storage_preflight_filesystem_growth') && l.includes('"1h"')),
    ).toHaveLength(1);
  });

  it('two runs are no rate however far apart; a third gives it', () => {
    const two = at([0, 40]);
    expect(fsOf(two).bytesPerHour['1h']).toBeNull();
    expect(fsOf(two).rateNeeds['1h']).toEqual({ moreMs: 0, moreRuns: 1 });
    expect(row(two)['Growth 1 h']).toBe('— (needs 1 more run)');
    expect(fsOf(at([0, 20, 40])).bytesPerHour['1h']).not.toBeNull();
    // A first run lacks both, said short enough for the chart's legend.
    expect(row(at([0]))['Growth 1 h']).toBe('— (needs 2 more runs and 30 min more)');
    expect(chartForecast(at([0]))).toEqual({
      kind: 'none',
      why: 'no forecast yet (needs 2 more runs and 30 min more)',
    });
  });

  it('24 h: a run every 20 minutes gives it at 12 h, not 20 minutes before', () => {
    const every20 = (n: number) => at(Array.from({ length: n }, (_, i) => i * 20));
    const below = every20(36); // 11 h 40 min
    expect(fsOf(below).bytesPerHour['24h']).toBeNull();
    expect(fsOf(below).bytesPerHour['1h']).not.toBeNull();
    expect(row(below)['24 h']).toBe('— (needs 20 min more of runs)');
    expect(row(below)['7 d']).toBe('— (needs 3 days more of runs)');
    expect(fsOf(every20(37)).bytesPerHour['24h']).not.toBeNull();
  });

  it('sources follow the same rule', () => {
    const records = [0, 15, 29].map((m, i) =>
      historyRecord(T0 + m * MIN, 50 * GiB + i * GiB, { sources: { 'container-logs': GiB + i * GiB } }),
    );
    const logs = assessTrend(records, 0, 80).sources.find((s) => s.kind === 'container-logs')!;
    expect(logs.bytesPerHour['1h']).toBeNull();
    expect(logs.rateNeeds['1h']).toEqual({ moreMs: MIN, moreRuns: 0 });
  });
});

describe('time-to-full only when escalation would trust it', () => {
  it('3 runs over 29 min: no forecast in the table, JSON, metrics or chart, and escalation agrees', () => {
    const below = at([0, 15, 29]);
    const fs = fsOf(below);
    expect(forecastTrusted(fs)).toBe(false);
    expect(fs).toMatchObject({ timeToFullMs: null, forecastWindow: null, forecastNeeds: { moreMs: MIN, moreRuns: 0 } });
    expect(row(below)['Full in']).toBe('— (needs 1 min more of runs)');
    expect(prom(below).filter((l) => l.includes('time_to_full'))).toEqual([]);
    expect(chartForecast(below)).toEqual({ kind: 'none', why: 'no forecast yet (needs 1 min more of runs)' });
  });

  it('3 runs over 30 min: trusted, and given everywhere', () => {
    const exact = at([0, 15, MIN_FORECAST_SPAN_MS / MIN]);
    const fs = fsOf(exact);
    expect(forecastTrusted(fs)).toBe(true);
    expect(fs.forecastWindow).toBe('6h');
    expect(fs.timeToFullMs).toBeGreaterThan(0);
    expect(fs.forecastNeeds).toBeNull();
    expect(row(exact)['Full in']).toMatch(/^\d+ h( \d+ min)? \(6h fit\)$/);
    expect(prom(exact).filter((l) => l.includes('time_to_full'))).toHaveLength(1);
    expect(chartForecast(exact).kind).toMatch(/^(full|beyond)$/);
  });

  it('two runs over an hour: needs one more run, not "not filling"', () => {
    const flat = [historyRecord(T0, 50 * GiB), historyRecord(T0 + HOUR, 50 * GiB)];
    expect(fsOf(flat).forecastNeeds).toEqual({ moreMs: 0, moreRuns: 1 });
    expect(row(flat)['Full in']).toBe('— (needs 1 more run)');
  });
});

describe('after a gap over 6 h, a burst of runs does not hide a trusted 24 h forecast', () => {
  // A run every 20 min for 4 h, 8 h of nothing, then 3 runs 5 min apart, filling 1 GiB/h throughout.
  const minutes = [...Array.from({ length: 13 }, (_, i) => i * 20), 720, 725, 730];
  const records = minutes.map((m) => historyRecord(T0 + m * MIN, 70 * GiB + (m / 60) * GiB));

  it('the 24 h fit is the forecast in the table, JSON, metrics, chart and escalation', () => {
    const fs = fsOf(records);
    expect(fs.points['24h']).toBe(16);
    expect(forecastTrusted(fs)).toBe(true);
    expect(fs).toMatchObject({ forecastWindow: '24h', forecastNeeds: null, forecastSpanMs: 730 * MIN });
    // 70 GiB + 12 h 10 min at 1 GiB/h leaves about 17.8 GiB: full in about 17 h 50 min.
    expect(fs.timeToFullMs! / HOUR).toBeCloseTo(100 - 70 - 730 / 60, 1);
    expect(row(records)['Full in']).toMatch(/^17 h 5\d min \(24h fit\)$/);
    expect(JSON.parse(JSON.stringify(data(records))).filesystems[0]).toMatchObject({ forecastWindow: '24h' });
    expect(prom(records).filter((l) => l.includes('time_to_full'))).toHaveLength(1);
    expect(chartForecast(records)).toMatchObject({ window: '24h fit' });
    const input: EscalationInput = {
      findings: [],
      filesystems: [],
      attribution: null,
      plan: null,
      applied: null,
      trend: assessTrend(records, 0, 80),
      diskHighPct: 80,
    };
    const [e] = escalations(input, DEFAULT_ESCALATION, formatBytes);
    expect(JSON.stringify(e)).toContain('(24h fit');
  });

  it('the burst alone (nothing before the gap in 24 h) still withholds the forecast', () => {
    const burst = records.slice(13);
    expect(fsOf(burst)).toMatchObject({ forecastWindow: null, timeToFullMs: null });
    expect(fsOf(burst).forecastNeeds).toEqual({ moreMs: 20 * MIN, moreRuns: 0 });
  });
});
