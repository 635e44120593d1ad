import { gateFindings } from '../model/gate.js';
import type { Finding } from '../model/findings.js';
import type { Report } from '../model/report.js';
import { guardDiskFigure, plain } from '../text/escape.js';

/**
 * The recipe gate: `{"fired":[{"name","severity","evidence","action","action_script"}]}`.
 * The supervisor skips the LLM when `fired` is empty or all of it is `direct` with a script.
 */
export function firedOf(report: Report, actionScript: string) {
  const pressure = report.run.pressure;
  const findings: Finding[] = [...(pressure?.data?.findings ?? [])];
  // No assessment must not read as "nothing fired": the supervisor would skip the LLM blind.
  if (!pressure || pressure.status !== 'ok') {
    findings.push({
      name: 'preflight-incomplete',
      severity: 'P3',
      action: 'llm',
      evidence: guardDiskFigure(
        `Storage Pressure ${pressure ? `${pressure.status}: ${plain(pressure.reason ?? '')}` : 'did not run'}`.trim(),
      ),
    });
  }
  const plan = report.run.remediation?.data?.plan ?? null;
  return gateFindings(findings, plan, guardDiskFigure(plain(actionScript, 1000)));
}

export function renderFired(report: Report, actionScript: string): string {
  return `${JSON.stringify({ fired: firedOf(report, actionScript) })}\n`;
}
