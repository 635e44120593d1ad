import type { RunOptions } from '../model/options.js';
import { makeReport } from '../model/report.js';
import { partsInOrder } from '../model/results.js';
import { firedOf, renderFired } from '../render/fired.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderProm } from '../render/prom.js';
import { measureAndRecord, withPromFile } from '../run/pipeline.js';
import { exclusively } from './exclusive.js';
import { EXIT, type Io } from './io.js';

/** `preflight [report]`: every section under the budget, the history and journal appended, one format printed; one run at a time per host. */
export function report(options: RunOptions, io: Io): Promise<number> {
  return exclusively(options, io, (left, gated) => reportRun(left, gated));
}

async function reportRun(options: RunOptions, io: Io): Promise<number> {
  const { run, journal, startedAt } = await measureAndRecord(options);
  const rep = await withPromFile(options, makeReport(partsInOrder(run), startedAt, new Date(), journal, run));
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
