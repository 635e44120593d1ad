import { formatBytes } from '../text/bytes.js';
import { inline } from '../text/escape.js';
import { table } from './table.js';
import type { SectionResult, SectionView } from '../model/results.js';
import {
  addedMeanwhile,
  freedText,
  type AppliedStep,
  type ApplyResult,
  type NotRunStep,
  type ObjectResult,
} from '../model/remediation/applied.js';

/** At most this many refused or failed objects are named; the rest are counted (JSON has them all). */
const MAX_NAMED = 5;

const STOPPED: Record<ApplyResult['stopped'], string> = {
  'target-reached': 'stopped at the target',
  'already-below-target': 'already at the target, nothing needed',
  'steps-exhausted': 'no step left to run',
  deadline: 'stopped: the budget ran out',
  'measure-failed': 'stopped: statfs failed',
  'no-plan': 'no plan',
};

const NOT_RUN: Record<NotRunStep['reason'], string> = {
  'target-reached': 'target reached',
  'tier-limit': 'above --max-tier',
  destructive: 'destructive: a person decides',
  deadline: 'budget spent',
  'measure-failed': 'statfs failed',
};

const pct = (used: number, capacity: number) => (capacity > 0 ? Math.ceil((used * 100) / capacity) : 0);

function objectsCell(s: AppliedStep): string {
  if (s.problem) return `failed: ${inline(s.problem, 120)}`;
  if (!s.objects.length) return s.detail ? inline(s.detail, 120) : '—';
  const counts = new Map<string, number>();
  for (const o of s.objects) {
    const key = o.changed ? `${o.result} (changed since the plan)` : o.result;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const records = s.cacheRecords
    ? `; ${s.cacheRecords.pruned} of ${s.cacheRecords.pruned + s.cacheRecords.kept + s.cacheRecords.failed} BuildKit records holding them pruned`
    : '';
  return `${[...counts].map(([result, n]) => `${n} ${result}`).join(', ')}${records}`;
}

function named(o: ObjectResult): string {
  return `${inline(o.name || o.id.slice(0, 19), 60)} ${o.result}: ${inline(o.detail ?? '', 160)}`;
}

/** `## Remediation Applied`: wanted vs freed (measured), each step's three figures, refusals, what did not run and why. */
export function appliedMarkdown(r: ApplyResult): string[] {
  const b = formatBytes;
  if (r.stopped === 'no-plan') return [`Nothing applied: ${inline(r.short[0]?.text ?? 'no plan', 300)}.`];
  const where = inline(r.mountpoint ?? '?');
  if (r.usedBeforeBytes === null || r.capacityBytes === null) {
    return [
      `Nothing applied on ${where}: the target could not be checked (${inline(r.notes[0] ?? 'statfs failed', 200)}).`,
    ];
  }
  const now = r.usedAfterBytes === null ? 'use now unknown' : `now ${pct(r.usedAfterBytes, r.capacityBytes)}% used`;
  const lines = [
    `Wanted to free ${b(r.wantedBytes ?? 0)} on ${where} (to ${r.targetPct}%; ${pct(r.usedBeforeBytes, r.capacityBytes)}% used before), ${freedText(r.freedBytes)} (statfs); ${now}, ${STOPPED[r.stopped]} after ${r.steps.length} step${r.steps.length === 1 ? '' : 's'} (--max-tier ${r.maxTier}).`,
  ];
  if (r.steps.length) {
    lines.push(
      '',
      ...table(
        ['#', 'Tier', 'Step', 'Expected', 'Daemon reclaimed', 'Measured', 'Objects'],
        r.steps.map((s, i) => [
          String(i + 1),
          s.tier,
          inline(s.title, 120),
          b(s.expectedBytes),
          s.daemonReclaimedBytes === null ? '—' : b(s.daemonReclaimedBytes),
          s.measuredBytes === null ? '?' : s.measuredBytes < 0 ? addedMeanwhile(s.measuredBytes) : b(s.measuredBytes),
          objectsCell(s),
        ]),
      ),
      '',
    );
  }
  const trouble = r.steps.flatMap((s) => s.objects).filter((o) => o.result !== 'removed');
  if (trouble.length) {
    const more = trouble.length > MAX_NAMED ? `; … and ${trouble.length - MAX_NAMED} more` : '';
    lines.push(`Not removed: ${trouble.slice(0, MAX_NAMED).map(named).join('; ')}${more}.`);
  }
  // A rule's file truncated or rotated while a process held it: said, since its blocks may stay taken.
  const caveats = r.steps
    .filter((s) => s.kind === 'cleanup-rule')
    .flatMap((s) => s.objects)
    .filter((o) => o.result === 'removed' && o.detail);
  if (caveats.length) {
    const more = caveats.length > MAX_NAMED ? `; … and ${caveats.length - MAX_NAMED} more` : '';
    lines.push(`Still open: ${caveats.slice(0, MAX_NAMED).map(named).join('; ')}${more}.`);
  }
  if (r.notRun.length) {
    lines.push(
      `Not run: ${r.notRun.map((s) => `${inline(s.title, 100)} (${s.tier}, ${b(s.expectedBytes)}): ${NOT_RUN[s.reason]}`).join('; ')}.`,
    );
  }
  if (r.short.length)
    lines.push(
      `Short of the target by ${b(Math.max(0, (r.wantedBytes ?? 0) - Math.max(0, r.freedBytes ?? 0)))}: ${r.short.map((s) => inline(s.text, 200)).join('; ')}.`,
    );
  for (const n of r.notes) lines.push(inline(n, 300));
  return lines;
}

/** How the apply's result prints: `## Remediation Applied`, after the plan. */
export const APPLIED_SECTION: SectionView<ApplyResult> = {
  id: 'remediation-applied',
  title: 'Remediation Applied',
  markdown: appliedMarkdown,
  json: (d) => ({ remediationApplied: d ?? null }),
};

/** What remediate --apply did, as a part of the run's result. */
export function appliedResult(data: ApplyResult, durationMs: number): SectionResult<ApplyResult> {
  return { section: APPLIED_SECTION, status: 'ok', data, durationMs };
}
