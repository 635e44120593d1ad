import type { RunOptions } from '../model/options.js';
import { makeReport } from '../model/report.js';
import { partsInOrder } from '../model/results.js';
import { firedOf, renderFired, runsSafeCleanup } from '../render/fired.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderProm } from '../render/prom.js';
import type { Report } from '../model/report.js';
import {
  escalateMeasured,
  measure,
  measureAndRecord,
  measureShare,
  notifyMeasured,
  recordMeasured,
  withPromFile,
} from '../run/pipeline.js';
import { applyAndRecord, APPLY_MEASURE_SHARE } from './remediate.js';
import { exclusively } from './exclusive.js';
import { EXIT, type Io } from './io.js';

/** `preflight [report]`: every section under the budget, the history and journal appended, one format printed; one run at a time per host. */
export function report(options: RunOptions, io: Io): Promise<number> {
  return exclusively(options, io, (left, gated) => reportRun(left, gated));
}

async function reportRun(options: RunOptions, io: Io): Promise<number> {
  const rep = options.remediation.applySafe ? await applySafeRun(options) : await plainRun(options);
  const render = {
    // The JSON carries the gate's decision too: the same entries --format fired prints.
    json: () => renderJson(rep, { fired: firedOf(rep, options.actionScript) }),
    markdown: () => renderMarkdown(rep),
    fired: () => renderFired(rep, options.actionScript),
    prom: () => renderProm(rep),
  }[options.format];
  io.stdout(render());
  return EXIT.ok;
}

async function plainRun(options: RunOptions): Promise<Report> {
  const { run, journal, startedAt } = await measureAndRecord(options);
  return withPromFile(options, makeReport(partsInOrder(run), startedAt, new Date(), journal, run));
}

/**
 * --apply-safe: measured as remediate --apply measures (the steps get the
 * rest of the budget); when the host's gate would run our clean-up on this
 * run (everything fired is `direct`), the safe tier is applied as that
 * clean-up applies it and the report carries Remediation Applied. Else a
 * plain run: nothing changed.
 */
async function applySafeRun(options: RunOptions): Promise<Report> {
  const m = await measure(options, measureShare(options, APPLY_MEASURE_SHARE));
  // Never past safe, whatever else the options say: this is the action the gate fires, nothing more.
  if (runsSafeCleanup(m.run, options.actionScript))
    return applyAndRecord({ ...options, remediation: { ...options.remediation, maxTier: 'safe' } }, m);
  // A run that applies nothing still tells what is news: a recovery, a raise the safe tier cannot help.
  const run = await notifyMeasured(options, m, await escalateMeasured(options, m));
  const journal = await recordMeasured(options, m, m.runDeadline + m.renderReserve / 2, run);
  return withPromFile(options, makeReport(partsInOrder(run), m.startedAt, new Date(), journal, run));
}
