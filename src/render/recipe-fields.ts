import { diskPressure, FIELDS, metadataRisk, safeCleanup, topSourceKind } from '../model/recipe-fields.js';
import type { RunResult } from '../model/results.js';

/**
 * The recipe field lines each part ends with, by the part's name in the run
 * (pressure, remediation, btrfs). They need findings and the plan together,
 * which no one part holds, so they are rendered from the whole run; a part
 * that failed still gets its lines. Only a run with Storage Pressure has
 * them (a full report is what the host's evaluator reads).
 */
export function recipeFieldLines(run: RunResult): Map<string, string[]> {
  const pressure = run.pressure;
  if (!pressure) return new Map();
  const p = pressure.data;
  const findings = p?.findings ?? [];
  const plan = run.remediation?.data?.plan ?? null;
  const btrfs = run.btrfs?.data?.filesystems ?? [];
  return new Map([
    [
      'pressure',
      [
        `${FIELDS.topSource}: ${topSourceKind(p?.attribution ?? null)}`,
        // The same test as the gate's preflight-incomplete: a blind run must not read as healthy.
        `${FIELDS.diskPressure}: ${diskPressure(findings, plan, pressure.status === 'ok' && p !== undefined)}`,
      ],
    ],
    ['remediation', [`${FIELDS.safeCleanup}: ${safeCleanup(findings, plan)}`]],
    ['btrfs', [`${FIELDS.metadataRisk}: ${metadataRisk(btrfs, plan)}`]],
  ]);
}
