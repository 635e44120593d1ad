import { diskPressure, FIELDS, metadataRisk, safeCleanup, topSourceKind } from '../model/recipe-fields.js';
import type { BtrfsData } from '../model/btrfs.js';
import type { PressureData } from '../model/pressure.js';
import type { RemediationData } from '../model/remediation/plan.js';
import { dataOf, resultOf, type SectionResult } from '../model/results.js';

/**
 * The recipe field lines each section ends with, by section id. They need
 * findings and the plan together, which no one section holds, so they are
 * rendered from the whole run; a section that failed still gets its lines.
 * Only a full report has them (it alone holds Storage Pressure): it is what
 * the host's evaluator reads.
 */
export function recipeFieldLines(results: readonly SectionResult[]): Map<string, string[]> {
  const pressure = resultOf(results, 'pressure');
  if (!pressure) return new Map();
  const p = pressure.data as PressureData | undefined;
  const findings = p?.findings ?? [];
  const plan = dataOf<RemediationData>(results, 'remediation')?.plan ?? null;
  const btrfs = dataOf<BtrfsData>(results, 'btrfs')?.filesystems ?? [];
  return new Map([
    ['pressure', [
      `${FIELDS.topSource}: ${topSourceKind(p?.attribution ?? null)}`,
      // The same test as the gate's preflight-incomplete: a blind run must not read as healthy.
      `${FIELDS.diskPressure}: ${diskPressure(findings, plan, pressure.status === 'ok' && p !== undefined)}`,
    ]],
    ['remediation', [`${FIELDS.safeCleanup}: ${safeCleanup(findings, plan)}`]],
    ['btrfs', [`${FIELDS.metadataRisk}: ${metadataRisk(btrfs, plan)}`]],
  ]);
}
