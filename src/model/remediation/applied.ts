import type { HistoryRecord } from '../history.js';
import type { PlanStep, RemediationPlan, StepKind, Tier } from './plan.js';
import { formatBytes } from '../../text/bytes.js';
import { count } from '../../text/plural.js';

/*
 * What `remediate --apply` did, as kubelet's image GC says it: wanted to
 * free X, freed Y (measured by statfs), and why short. Pure types and
 * functions; the I/O is in run/apply/apply.ts and the actuators.
 */

/**
 * removed: gone because of this call; gone: already gone before it (404);
 * refused: the daemon said no (in use, running, has children); kept: the
 * call succeeded and the object stayed (BuildKit skipped the record), or the
 * re-check before it found the object changed since the plan (`changed`);
 * failed: an error or no answer in time.
 */
export type DeleteResult = 'removed' | 'gone' | 'refused' | 'kept' | 'failed';

export interface DeleteOutcome {
  result: DeleteResult;
  /** The daemon's words for anything but `removed`. */
  detail: string | null;
  /** Only /build/prune says what it freed (SpaceReclaimed); the DELETE calls say nothing. */
  reclaimedBytes: number | null;
  /** Kept by the re-check: no longer what the plan saw (never sent to the daemon). */
  changed?: true;
}

export type ApplyTier = Exclude<Tier, 'destructive'>;

export interface ObjectResult {
  id: string;
  name: string;
  /** What the plan expected this object to free. */
  plannedBytes: number;
  result: DeleteResult;
  detail: string | null;
  /** Kept because the re-check right before the deletion found it changed since the plan (detail says how). */
  changed?: true;
}

/** One planned object's result, from the outcome of its deletion. */
export function objectResult(
  o: { id: string; name: string; bytes: number },
  r: Omit<DeleteOutcome, 'reclaimedBytes'>,
): ObjectResult {
  return {
    id: o.id,
    name: o.name,
    plannedBytes: o.bytes,
    result: r.result,
    detail: r.detail,
    ...(r.changed ? { changed: true as const } : {}),
  };
}

/** What one step's actuator reports (before the shell measures). */
export interface StepRun {
  objects: ObjectResult[];
  /** Σ SpaceReclaimed of /build/prune; null where the calls say nothing (DELETE, btrfs). */
  daemonReclaimedBytes: number | null;
  /** The step as a whole failed or was not applicable (a tool missing, no API version). */
  problem: string | null;
  /** e.g. btrfs balance's `Done, had to relocate 0 out of 5 chunks`. */
  detail: string | null;
  /** Image steps: the BuildKit records that held the removed images' layers (PlanStep.cacheRecords), pruned after them. */
  cacheRecords?: { pruned: number; kept: number; failed: number };
  /** Clean-up rules on another filesystem than the plan's: its statfs before and after, the step's measured bytes. */
  ownFilesystem?: { mountpoint: string; usedBeforeBytes: number; usedAfterBytes: number };
}

export interface AppliedStep extends StepRun {
  kind: StepKind;
  tier: Tier;
  title: string;
  expectedBytes: number;
  usedBeforeBytes: number;
  /** null when the statfs after the step failed. */
  usedAfterBytes: number | null;
  /** used before − used after (negative when something else wrote meanwhile); null without a measure after. */
  measuredBytes: number | null;
  durationMs: number;
}

export interface NotRunStep {
  kind: StepKind;
  tier: Tier;
  title: string;
  expectedBytes: number;
  reason: 'target-reached' | 'tier-limit' | 'destructive' | 'deadline' | 'measure-failed';
}

export type StopReason =
  'target-reached' | 'already-below-target' | 'steps-exhausted' | 'deadline' | 'measure-failed' | 'no-plan';

export type ShortReasonKind =
  | 'steps-exhausted'
  | 'tier-limit'
  | 'destructive'
  | 'deadline'
  | 'changed'
  | 'refusals'
  | 'errors'
  | 'under-delivered'
  | 'measure-failed'
  | 'no-plan';

export interface ShortReason {
  kind: ShortReasonKind;
  /** The bytes behind this reason (planned, expected or missing), when known. */
  bytes: number | null;
  text: string;
}

export interface ApplyResult {
  mountpoint: string | null;
  targetPct: number | null;
  maxTier: ApplyTier;
  /** The locked window (ISO), null when nothing was locked. */
  startedAt: string | null;
  finishedAt: string | null;
  lockWaitedMs: number | null;
  capacityBytes: number | null;
  usedBeforeBytes: number | null;
  usedAfterBytes: number | null;
  /** used − target at the start, measured: what had to go. */
  wantedBytes: number | null;
  /** used before − used after, measured by statfs. */
  freedBytes: number | null;
  targetReached: boolean;
  stopped: StopReason;
  /** Why freed < wanted; empty when the target was reached. */
  short: ShortReason[];
  steps: AppliedStep[];
  notRun: NotRunStep[];
  notes: string[];
}

export const TIER_RANK: Record<Tier, number> = { safe: 0, moderate: 1, destructive: 2 };

/** Pure: the plan's steps this apply may run (in plan order), and the others with why not. */
export function selectSteps(plan: RemediationPlan, maxTier: ApplyTier): { eligible: PlanStep[]; beyond: NotRunStep[] } {
  const eligible = plan.steps.filter((s) => TIER_RANK[s.tier] <= TIER_RANK[maxTier]);
  const beyond = plan.steps
    .filter((s) => TIER_RANK[s.tier] > TIER_RANK[maxTier])
    .map((s) => notRun(s, s.tier === 'destructive' ? 'destructive' : 'tier-limit'));
  return { eligible, beyond };
}

export function notRun(s: PlanStep, reason: NotRunStep['reason']): NotRunStep {
  return { kind: s.kind, tier: s.tier, title: s.title, expectedBytes: s.expectedBytes, reason };
}

/** The used bytes at or below which the filesystem is at the target (the plan's own rounding). */
export function targetUsedBytes(usedBytes: number, availBytes: number, targetPct: number): number {
  return Math.floor(((usedBytes + availBytes) * targetPct) / 100);
}

const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);

/** statfs saw more used after a step than before: another process wrote more than the step freed. */
export const addedMeanwhile = (bytes: number, b = formatBytes) => `another writer added ${b(-bytes)} meanwhile`;

/** What statfs saw a step or an apply free (used before − used after), said so a negative figure reads as what it is. */
export function freedText(bytes: number | null, b = formatBytes): string {
  if (bytes === null) return 'freed an unknown amount';
  return bytes < 0 ? addedMeanwhile(bytes, b) : `freed ${b(bytes)}`;
}

/** Pure: why an apply freed less than it wanted, each with its bytes. */
export function shortReasons(
  r: Pick<ApplyResult, 'stopped' | 'steps' | 'notRun' | 'maxTier' | 'targetReached'>,
): ShortReason[] {
  if (r.targetReached) return [];
  const b = formatBytes;
  const out: ShortReason[] = [];
  const notRunOf = (reason: NotRunStep['reason']) => r.notRun.filter((s) => s.reason === reason);
  if (r.stopped === 'steps-exhausted')
    out.push({
      kind: 'steps-exhausted',
      bytes: null,
      text: r.steps.length
        ? `every step up to --max-tier ${r.maxTier} ran`
        : `the plan has no step up to --max-tier ${r.maxTier}`,
    });
  const deadline = notRunOf('deadline');
  if (deadline.length)
    out.push({
      kind: 'deadline',
      bytes: sum(deadline, (s) => s.expectedBytes),
      text: `the budget ran out before ${count(deadline.length, 'step')} (${b(sum(deadline, (s) => s.expectedBytes))} expected)`,
    });
  const measure = notRunOf('measure-failed');
  if (r.stopped === 'measure-failed')
    out.push({
      kind: 'measure-failed',
      bytes: sum(measure, (s) => s.expectedBytes),
      text: `statfs failed, so the target could not be checked: ${count(measure.length, 'step')} not run`,
    });
  const tier = notRunOf('tier-limit');
  if (tier.length)
    out.push({
      kind: 'tier-limit',
      bytes: sum(tier, (s) => s.expectedBytes),
      text: `${count(tier.length, 'moderate step')} not run (--max-tier ${r.maxTier}; ${b(sum(tier, (s) => s.expectedBytes))} expected)`,
    });
  const destructive = notRunOf('destructive');
  if (destructive.length)
    out.push({
      kind: 'destructive',
      bytes: sum(destructive, (s) => s.expectedBytes),
      text: `${count(destructive.length, 'destructive step')} left to a person (${b(sum(destructive, (s) => s.expectedBytes))} expected)`,
    });
  const objects = r.steps.flatMap((s) => s.objects);
  const changed = objects.filter((o) => o.changed);
  if (changed.length)
    out.push({
      kind: 'changed',
      bytes: sum(changed, (o) => o.plannedBytes),
      text: `${count(changed.length, 'object')} changed since the plan, kept (${b(sum(changed, (o) => o.plannedBytes))} planned)`,
    });
  const refused = objects.filter((o) => (o.result === 'refused' || o.result === 'kept') && !o.changed);
  if (refused.length)
    out.push({
      kind: 'refusals',
      bytes: sum(refused, (o) => o.plannedBytes),
      text: `the daemon refused or kept ${count(refused.length, 'object')} (in use or changed since the plan; ${b(sum(refused, (o) => o.plannedBytes))} planned)`,
    });
  const failed = objects.filter((o) => o.result === 'failed');
  const failedSteps = r.steps.filter((s) => s.problem !== null);
  if (failed.length || failedSteps.length) {
    const what = [
      failed.length ? count(failed.length, 'object') : '',
      failedSteps.length ? count(failedSteps.length, 'step') : '',
    ]
      .filter(Boolean)
      .join(' and ');
    out.push({
      kind: 'errors',
      bytes: sum(failed, (o) => o.plannedBytes) + sum(failedSteps, (s) => s.expectedBytes),
      text: `${what} failed`,
    });
  }
  // Measured against what the removed objects were expected to free, beyond 10% (statfs sees block rounding and the daemon's own writes).
  const delivered = r.steps.filter((s) => s.measuredBytes !== null && s.problem === null);
  const expected = sum(delivered, (s) =>
    s.objects.length
      ? sum(
          s.objects.filter((o) => o.result === 'removed'),
          (o) => o.plannedBytes,
        )
      : s.expectedBytes,
  );
  const measured = sum(delivered, (s) => s.measuredBytes!);
  if (expected > 0 && measured < 0)
    out.push({
      kind: 'under-delivered',
      bytes: expected,
      text: `statfs saw none of the ${b(expected)} their removals were expected to free: ${addedMeanwhile(measured)}`,
    });
  else if (expected > 0 && measured < expected * 0.9)
    out.push({
      kind: 'under-delivered',
      bytes: expected - measured,
      text: `the steps that ran freed ${b(measured)}, ${b(expected - measured)} less than their removals were expected to`,
    });
  return out;
}

/** The history's view: one entry per step run, its measured reclaim (never negative there). */
export function historyEntries(r: ApplyResult | null): HistoryRecord['remediation'] {
  return (r?.steps ?? []).map((s) => ({ action: s.kind, reclaimedBytes: Math.max(0, s.measuredBytes ?? 0) }));
}
