import { hostname } from 'node:os';
import { buildRecord } from '../../model/history-build.js';
import { trendFromHistory, type TrendData } from '../../model/trend/assess.js';
import type { Section } from '../types.js';
import { trendMarkdown } from './markdown.js';

export const trendSection: Section<TrendData> = {
  id: 'trend',
  title: 'Storage Trend',
  timeoutMs: 10_000,
  // After Storage Pressure: this run's findings are part of the alert state.
  phase: 3,
  async collect(ctx) {
    const history = await ctx.shared.history(ctx.deadline - 50);
    // The same record the history append writes for this run.
    const current = buildRecord(ctx.measured, hostname(), ctx.startedAt, ctx.runId);
    // Storage Pressure fitted every object over the same runs, when it had the history (its read may have been cut short).
    const pressure = ctx.measured.pressure?.data;
    const objects = pressure?.historyKnown ? pressure.objectTrends : undefined;
    const data = trendFromHistory(history, current, ctx.options.diskThresholdPct, objects);
    if (!ctx.options.journalRoot)
      return { status: 'degraded', reason: 'no journal (--no-journal): trends need past runs', data };
    return history.problem
      ? { status: 'degraded', reason: `history: ${history.problem}`, data }
      : { status: 'ok', data };
  },
  markdown: trendMarkdown,
  json: (d) => ({ trend: d ?? null }),
};
