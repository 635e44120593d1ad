import type { Report } from '../model/report.js';
import { PRINT_ORDER, type SectionResult } from '../model/results.js';
import { guardDiskFigure, inline } from '../text/escape.js';
import { recipeFieldLines } from './recipe-fields.js';

/** The report as `## Section` markdown; its parts in order, blank line between. */
export function renderMarkdown(report: Report): string {
  const fields = fieldLinesByPart(report);
  const body = report.results
    .filter((r) => !r.notApplicable)
    .map((r) => renderSection(r, fields.get(r) ?? []))
    .join('\n\n');
  const j = report.journal;
  const p = report.promFile;
  // Said only when it failed: the report itself is whole either way.
  const failures = [
    j && !j.written
      ? `Journal: appending to ${inline(j.file)} failed (${inline(j.reason ?? 'unknown')}); this run is not recorded.`
      : '',
    j?.dayJournal && !j.dayJournal.written
      ? `Journal: appending to ${inline(j.dayJournal.file)} failed (${inline(j.dayJournal.reason ?? 'unknown')}); the alert changes of this run are not in the day journal.`
      : '',
    p && !p.written
      ? `Metrics: writing ${inline(p.file)} failed (${inline(p.reason ?? 'unknown')}); node_exporter keeps serving the previous file, if there is one.`
      : '',
  ].filter(Boolean);
  return guardDiskFigure(`${body}${failures.map((f) => `\n\n${f}`).join('')}\n`);
}

/**
 * The recipe field lines of each printed part; none unless the report prints
 * Storage Pressure (remediate prints only its own parts, without them).
 */
function fieldLinesByPart(report: Report): Map<SectionResult, string[]> {
  const { run } = report;
  if (!run.pressure || !report.results.includes(run.pressure)) return new Map();
  const lines = recipeFieldLines(run);
  const byPart = new Map<SectionResult, string[]>();
  for (const key of PRINT_ORDER) {
    const part: SectionResult | undefined = run[key];
    const mine = lines.get(key);
    if (part && mine) byPart.set(part, mine);
  }
  return byPart;
}

/** Title, content, then the recipe field lines (our own words only: see model/recipe-fields.ts). */
function renderSection(result: SectionResult, fields: readonly string[]): string {
  const lines = [`## ${result.section.title}`];
  if (result.data !== undefined) {
    if (result.status !== 'ok' && result.reason) lines.push(`(${result.status}: ${inline(result.reason)})`);
    lines.push(...result.section.markdown(result.data));
  } else {
    lines.push(`(${inline(result.reason ?? result.status)})`);
  }
  lines.push(...fields);
  return guardDiskFigure(lines.join('\n'));
}
