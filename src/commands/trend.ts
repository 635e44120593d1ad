import { readHistory } from '../history/store.js';
import { EXIT, type Io } from '../io.js';
import type { RunOptions } from '../options.js';
import { execRunner } from '../probes/exec.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { makeReport } from '../report.js';
import { trendFromHistory, trendSection } from '../sections/trend/index.js';
import type { Section, SectionResult } from '../sections/types.js';

/** `preflight trend`: the trend section alone, from the history, with no probes; within the budget whatever hangs. */
export async function trend(options: RunOptions, io: Io): Promise<number> {
  const startedAt = new Date();
  const history = await readHistory(execRunner, options.journalRoot ?? './journal', options.trendDays, startedAt, Math.max(1, options.budgetMs - 200));
  const data = trendFromHistory(history, null, options.diskThresholdPct);
  const result: SectionResult = history.problem
    ? { section: trendSection as Section, status: 'degraded', reason: `history: ${history.problem}`, data, durationMs: Date.now() - startedAt.getTime() }
    : { section: trendSection as Section, status: 'ok', data, durationMs: Date.now() - startedAt.getTime() };
  const rep = makeReport([result], startedAt, new Date(), null);
  io.stdout(options.format === 'json' ? renderJson(rep) : renderMarkdown(rep));
  return EXIT.ok;
}
