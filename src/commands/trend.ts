import { UsageError } from '../model/errors.js';
import { readHistory } from '../probes/history.js';
import { type HistoryWindow } from '../model/history.js';
import { EXIT, type Io } from './io.js';
import type { RunOptions } from '../model/options.js';
import { execRunner } from '../host/exec.js';
import { FileProblem } from '../host/file-problem.js';
import { replaceFile } from '../sinks/files.js';
import { plain } from '../text/escape.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { PLOT_COLUMNS, renderTrendSvg } from '../render/trend-svg.js';
import { makeReport } from '../model/report.js';
import { trendSection } from '../sections/trend/index.js';
import { trendFromHistory, type TrendData } from '../model/trend/assess.js';
import type { SectionResult } from '../model/results.js';
import { chartModel } from '../model/trend/chart.js';

/** `preflight trend`: the trend section alone, from the history, with no probes; within the budget whatever hangs. */
export async function trend(options: RunOptions, io: Io): Promise<number> {
  const startedAt = new Date();
  const deadline = startedAt.getTime() + options.budgetMs - 200;
  const toFile = options.trendSvg !== undefined && options.trendSvg !== '-';
  // A chart to write keeps half the budget for the write: a hung journal disk must not starve it.
  const readMs = toFile ? (deadline - startedAt.getTime()) / 2 : deadline - startedAt.getTime();
  const history = await readHistory(
    execRunner,
    options.journalRoot ?? './journal',
    options.trendDays,
    startedAt,
    Math.max(1, readMs),
  );
  const data = trendFromHistory(history, null, options.diskThresholdPct);
  if (options.trendSvg !== undefined) {
    const svg = chartSvg(history, data, options);
    if (!toFile) {
      io.stdout(svg);
      return EXIT.ok;
    }
    // Written before anything is printed: a failure is one line on stderr and nothing on stdout (exit 2).
    try {
      await replaceFile(execRunner, options.trendSvg, svg, Math.max(1, deadline - Date.now()));
    } catch (err) {
      if (err instanceof FileProblem) throw new UsageError(plain(`--svg ${options.trendSvg}: ${err.message}`));
      throw err;
    }
  }
  const trend: SectionResult<TrendData> = history.problem
    ? {
        section: trendSection,
        status: 'degraded',
        reason: `history: ${history.problem}`,
        data,
        durationMs: Date.now() - startedAt.getTime(),
      }
    : { section: trendSection, status: 'ok', data, durationMs: Date.now() - startedAt.getTime() };
  const rep = makeReport([trend], startedAt, new Date(), null, { trend });
  io.stdout(options.format === 'json' ? renderJson(rep) : renderMarkdown(rep));
  return EXIT.ok;
}

function chartSvg(history: HistoryWindow, data: TrendData, options: RunOptions): string {
  const model = chartModel({
    records: history.records,
    trendOf: (mountpoint) => data.filesystems.find((f) => f.mountpoint === mountpoint),
    days: options.trendDays,
    maxPoints: PLOT_COLUMNS,
  });
  return renderTrendSvg({
    model,
    days: options.trendDays,
    thresholdPct: options.diskThresholdPct,
    problem: history.problem,
  });
}
