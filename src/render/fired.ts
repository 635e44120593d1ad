import type { Finding } from '../model/findings.js';
import type { Report } from '../report.js';

/**
 * The recipe gate: `{"fired":[{"name","severity","evidence","action","action_script"}]}`.
 * The supervisor skips the LLM when `fired` is empty.
 */
export function renderFired(report: Report): string {
  const pressure = report.results.find((r) => r.section.id === 'pressure');
  const findings = ((pressure?.data as { findings?: Finding[] } | undefined)?.findings ?? []).map((f) => ({
    name: f.name, severity: f.severity, evidence: f.evidence, action: f.action, action_script: f.action_script,
  }));
  return `${JSON.stringify({ fired: findings })}\n`;
}
