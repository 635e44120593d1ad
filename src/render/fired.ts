import { gateFindings } from '../model/gate.js';
import type { Finding } from '../model/findings.js';
import { wakesLlm } from '../model/recipe-evaluate.js';
import type { Report } from '../model/report.js';
import type { RunResult } from '../model/results.js';
import { guardDiskFigure, plain } from '../text/escape.js';

/**
 * The recipe gate: `{"fired":[{"name","severity","evidence","action","action_script"}]}`.
 * The supervisor skips the LLM when `fired` is empty or all of it is `direct` with a script.
 */
export function firedOf(report: Report, actionScript: string) {
  return firedOfRun(report.run, actionScript);
}

/** The gate's entries from a run before it is recorded (--apply-safe decides between measuring and recording). */
export function firedOfRun(run: RunResult, actionScript: string) {
  const pressure = run.pressure;
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
  const plan = run.remediation?.data?.plan ?? null;
  return gateFindings(findings, plan, guardDiskFigure(plain(actionScript, 1000)));
}

export function renderFired(report: Report, actionScript: string): string {
  return `${JSON.stringify({ fired: firedOf(report, actionScript) })}\n`;
}

/** The host's decision on these entries: it runs our clean-up, and wakes no LLM, when everything fired is `direct`. */
export function runsSafeCleanup(run: RunResult, actionScript: string): boolean {
  const fired = firedOfRun(run, actionScript);
  return fired.length > 0 && !wakesLlm(fired);
}
