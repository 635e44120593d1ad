import type { Finding } from '../model/findings.js';
import type { Report } from '../report.js';
import { guardDiskFigure, plain } from './escape.js';

/**
 * The recipe gate: `{"fired":[{"name","severity","evidence","action","action_script"}]}`.
 * The supervisor skips the LLM when `fired` is empty.
 */
export function renderFired(report: Report): string {
  const pressure = report.results.find((r) => r.section.id === 'pressure');
  const findings: Finding[] = [...((pressure?.data as { findings?: Finding[] } | undefined)?.findings ?? [])];
  // No assessment must not read as "nothing fired": the supervisor would skip the LLM blind.
  if (!pressure || pressure.status !== 'ok') {
    findings.push({
      name: 'preflight-incomplete', severity: 'P3', action: 'llm', action_script: '',
      evidence: guardDiskFigure(`Storage Pressure ${pressure ? `${pressure.status}: ${plain(pressure.reason ?? '')}` : 'did not run'}`.trim()),
    });
  }
  const fired = findings.map((f) => ({ name: f.name, severity: f.severity, evidence: f.evidence, action: f.action, action_script: guardDiskFigure(plain(f.action_script, 1000)) }));
  return `${JSON.stringify({ fired })}\n`;
}
