import { hostname } from 'node:os';
import { buildEntry } from '../../journal/build.js';
import type { JournalEntry } from '../../journal/entry.js';
import type { JournalWindow } from '../../journal/store.js';
import { assessTrend, type Trend } from '../../trend/assess.js';
import type { Section } from '../types.js';
import { trendMarkdown } from './markdown.js';

export interface TrendData extends Trend {
  journalProblem: string | null;
  files: number;
}

/** Pure: journal window (+ this run's entry, when there is a run) → trend. */
export function trendFromHistory(history: JournalWindow, current: JournalEntry | null, thresholdPct: number): TrendData {
  const entries = current ? [...history.entries, current] : history.entries;
  return { ...assessTrend(entries, history.unreadable, thresholdPct), journalProblem: history.problem, files: history.files };
}

export const trendSection: Section<TrendData> = {
  id: 'trend',
  title: 'Storage Trend',
  timeoutMs: 10_000,
  // After Storage Pressure: this run's findings are part of the alert state.
  phase: 3,
  async collect(ctx) {
    const history = await ctx.shared.journalHistory();
    // The same entry the journal append writes for this run.
    const current = buildEntry(ctx.earlier ?? [], hostname(), ctx.startedAt);
    const data = trendFromHistory(history, current, ctx.options.diskThresholdPct);
    if (!ctx.options.journalRoot) return { status: 'degraded', reason: 'no journal (--no-journal): trends need past runs', data };
    return history.problem ? { status: 'degraded', reason: `journal: ${history.problem}`, data } : { status: 'ok', data };
  },
  markdown: trendMarkdown,
  json: (d) => ({ trend: d ?? null }),
};
