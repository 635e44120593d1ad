import { EXIT, type Io } from '../io.js';
import type { RunOptions } from '../options.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { makeReport } from '../report.js';
import { measureAndRecord } from './report.js';

/**
 * `preflight remediate`: the plan for the Docker data root's filesystem,
 * from a full measuring run (recorded in the history like any run). A dry
 * run changes nothing.
 */
export async function remediate(options: RunOptions, io: Io): Promise<number> {
  const { results, journal, startedAt } = await measureAndRecord(options);
  const plan = results.filter((r) => r.section.id === 'remediation');
  const rep = makeReport(plan, startedAt, new Date(), journal);
  io.stdout(options.format === 'json' ? renderJson(rep) : renderMarkdown(rep));
  return EXIT.ok;
}
