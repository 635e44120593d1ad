import type { Report } from '../model/report.js';

export const SCHEMA_VERSION = 1;

/**
 * The JSON contract (docs/json.md): exact bytes, raw strings.
 * Later work adds keys; it never renames these.
 */
export function renderJson(report: Report, extra: Record<string, unknown> = {}): string {
  const doc: Record<string, unknown> = {
    schemaVersion: SCHEMA_VERSION,
    host: report.host,
    generatedAt: report.generatedAt.toISOString(),
    durationMs: report.durationMs,
    sections: report.results.map((r) => ({
      id: r.section.id,
      title: r.section.title,
      status: r.status,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      durationMs: r.durationMs,
    })),
  };
  for (const r of report.results) Object.assign(doc, r.section.json(r.data));
  doc.journal = report.journal;
  doc.promFile = report.promFile ?? null;
  Object.assign(doc, extra);
  return `${JSON.stringify(doc, null, 2)}\n`;
}
