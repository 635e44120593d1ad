import { balanceData, filesystemSync, subvolumeSync } from '../../actuators/btrfs.js';
import { pruneBuildRecords, removeContainer, removeImage, type DeleteOutcome } from '../../actuators/docker.js';
import { applyRule } from '../../actuators/rule-files.js';
import { buildCachePath, recheckContainer, recheckImage, recheckRecords } from '../../actuators/docker-recheck.js';
import type { HostLock } from '../../host/lock.js';
import type { PlanObject, PlanStep, RemediationPlan } from '../../model/remediation/plan.js';
import type { Recheck } from '../../model/remediation/recheck.js';
import type { DockerEndpoint } from '../../parse/docker-host.js';
import { parseSystemDf } from '../../parse/docker-df.js';
import { usageFromStatfs } from '../../parse/statfs.js';
import { dockerGet } from '../../host/docker-api.js';
import type { Runner } from '../../host/exec.js';
import { measurePath } from '../../probes/statfs.js';
import { callTimeout, remainingMs } from '../../host/deadline.js';
import type { ApplyEvent } from './progress.js';
import {
  notRun,
  objectResult,
  selectSteps,
  shortReasons,
  targetUsedBytes,
  type AppliedStep,
  type ApplyResult,
  type ApplyTier,
  type NotRunStep,
  type ObjectResult,
  type StepRun,
  type StopReason,
} from '../../model/remediation/applied.js';

export type Measure = { usedBytes: number; availBytes: number } | { problem: string };

/** The shell's side effects, injected: tests drive the loop with fakes, the command with the actuators. */
export interface ApplyDeps {
  lock(): Promise<HostLock>;
  /** statfs of the plan's filesystem (after a flush where it frees late), by `deadline`. */
  measure(deadline: number): Promise<Measure>;
  /** Run one step's deletions, starting none after `deadline`. */
  step(step: PlanStep, deadline: number): Promise<StepRun>;
  now(): number;
  /** Told as each step starts and ends (a progress line on a terminal); the result is the same without it. */
  progress?(event: ApplyEvent): void;
}

/** What a statfs (and a btrfs subvolume sync) is given after the steps' own deadline. */
const MEASURE_RESERVE_MS = 5000;
/*
 * Steps the target does not stop: a balance aims at unallocated space (metadata room), which df does not show;
 * an operator's rule is its own bound (its ages and sizes), and may be about another filesystem.
 */
const NOT_STOPPED_BY_TARGET: ReadonlySet<PlanStep['kind']> = new Set([
  'btrfs-balance-empty',
  'btrfs-balance-stepped',
  'cleanup-rule',
]);
/** A step is not started with less than this left: it would be cut off mid-way. */
const MIN_STEP_MS = 500;
/** Records per /build/prune call: about 2.6 KB of filter, and each call walks every record (≈220 ms on a big host). */
const PRUNE_BATCH = 100;

/**
 * Run the plan's steps in order, up to `maxTier`, re-measuring the
 * filesystem after each and stopping as soon as it is at the target. One
 * apply at a time per host (the lock); nothing runs without a first
 * measurement, since the target could not be checked.
 */
export async function applyPlan(
  plan: RemediationPlan,
  maxTier: ApplyTier,
  deadline: number,
  deps: ApplyDeps,
): Promise<ApplyResult> {
  const { eligible, beyond } = selectSteps(plan, maxTier);
  // The figures are all set at the end, from the measurements.
  const base = { mountpoint: plan.mountpoint, targetPct: plan.targetPct, maxTier, notes: [] as string[] };
  const lock = await deps.lock();
  const startedAt = deps.now();
  const stepsDeadline = deadline - Math.min(MEASURE_RESERVE_MS, Math.max(0, (deadline - startedAt) / 4));
  const steps: AppliedStep[] = [];
  const skipped: NotRunStep[] = [];
  let stopped: StopReason = 'steps-exhausted';
  let finishedAt = startedAt;
  let first: Measure;
  let last: Measure;
  try {
    first = await deps.measure(deadline);
    last = first;
    if ('problem' in first) {
      stopped = 'measure-failed';
      skipped.push(...eligible.map((s) => notRun(s, 'measure-failed')));
      base.notes.push(first.problem);
    } else {
      const target = targetUsedBytes(first.usedBytes, first.availBytes, plan.targetPct);
      const capacityBytes = first.usedBytes + first.availBytes;
      deps.progress?.({
        kind: 'measured',
        mountpoint: plan.mountpoint,
        usedBytes: first.usedBytes,
        capacityBytes,
        targetPct: plan.targetPct,
        steps: eligible.length,
        maxTier,
      });
      for (const [i, step] of eligible.entries()) {
        const now = last as { usedBytes: number; availBytes: number };
        if (now.usedBytes <= target && !NOT_STOPPED_BY_TARGET.has(step.kind)) {
          if (stopped === 'steps-exhausted')
            stopped = first.usedBytes <= target ? 'already-below-target' : 'target-reached';
          skipped.push(notRun(step, 'target-reached'));
          continue;
        }
        if (remainingMs(stepsDeadline, deps.now()) < MIN_STEP_MS) {
          stopped = 'deadline';
          skipped.push(...eligible.slice(i).map((s) => notRun(s, 'deadline')));
          break;
        }
        const t0 = deps.now();
        deps.progress?.({ kind: 'step', index: i + 1, total: eligible.length, step });
        const run = await deps.step(step, stepsDeadline);
        const after = await deps.measure(deadline);
        const usedAfter = 'problem' in after ? null : after.usedBytes;
        steps.push({
          kind: step.kind,
          tier: step.tier,
          title: step.title,
          expectedBytes: step.expectedBytes,
          ...run,
          usedBeforeBytes: now.usedBytes,
          usedAfterBytes: usedAfter,
          measuredBytes: run.ownFilesystem
            ? run.ownFilesystem.usedBeforeBytes - run.ownFilesystem.usedAfterBytes
            : usedAfter === null
              ? null
              : now.usedBytes - usedAfter,
          durationMs: deps.now() - t0,
        });
        deps.progress?.({ kind: 'step-done', step: steps.at(-1)!, capacityBytes });
        last = after;
        if ('problem' in after) {
          stopped = 'measure-failed';
          skipped.push(...eligible.slice(i + 1).map((s) => notRun(s, 'measure-failed')));
          base.notes.push(after.problem);
          break;
        }
      }
      if (!('problem' in last) && last.usedBytes <= target && stopped === 'steps-exhausted')
        stopped = eligible.length ? 'target-reached' : 'already-below-target';
    }
  } finally {
    // Inside the lock: two applies' windows never overlap.
    finishedAt = deps.now();
    await lock.release();
  }
  const measured = !('problem' in first) ? first : null;
  const end = !('problem' in last) ? last : null;
  const targetReached = stopped === 'target-reached' || stopped === 'already-below-target';
  const notRunSteps = [...skipped, ...beyond];
  deps.progress?.({
    kind: 'stopped',
    stopped,
    notRun: notRunSteps.length,
    detail: 'problem' in last ? last.problem : null,
  });
  return {
    ...base,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    lockWaitedMs: lock.waitedMs,
    capacityBytes: measured ? measured.usedBytes + measured.availBytes : null,
    usedBeforeBytes: measured?.usedBytes ?? null,
    usedAfterBytes: end?.usedBytes ?? null,
    wantedBytes: measured
      ? Math.max(0, measured.usedBytes - targetUsedBytes(measured.usedBytes, measured.availBytes, plan.targetPct))
      : null,
    freedBytes: measured && end ? measured.usedBytes - end.usedBytes : null,
    targetReached,
    stopped,
    short: shortReasons({ stopped, steps, notRun: notRunSteps, maxTier, targetReached }),
    steps,
    notRun: notRunSteps,
  };
}

/** No plan to apply (the daemon or the filesystem could not be measured): said in the result, nothing locked. */
export function noPlan(reason: string, maxTier: ApplyTier): ApplyResult {
  return {
    mountpoint: null,
    targetPct: null,
    maxTier,
    startedAt: null,
    finishedAt: null,
    lockWaitedMs: null,
    capacityBytes: null,
    usedBeforeBytes: null,
    usedAfterBytes: null,
    wantedBytes: null,
    freedBytes: null,
    targetReached: false,
    stopped: 'no-plan',
    short: [{ kind: 'no-plan', bytes: null, text: reason }],
    steps: [],
    notRun: [],
    notes: [],
  };
}

export interface ShellContext {
  run: Runner;
  docker: DockerEndpoint;
  /** The daemon's API version from /version; null when it was not reached. */
  apiVersion: string | null;
  /** The plan's filesystem and its type (btrfs frees deleted subvolumes in the background). */
  mountpoint: string;
  fstype: string | null;
  lock(): Promise<HostLock>;
}

/** Longest wait for one Engine API call: removing a big writable layer takes a while. */
const CALL_TIMEOUT_MS = 30_000;
const STATFS_TIMEOUT_MS = 5000;

/** The real side effects: the actuators, statfs in a child, btrfs through the runner. */
export function shellDeps(ctx: ShellContext): ApplyDeps {
  return {
    lock: ctx.lock,
    now: () => Date.now(),
    async measure(deadline) {
      if (ctx.fstype === 'btrfs') {
        // Deleted subvolumes are cleaned in the background, and what they freed reaches statfs only at a commit.
        // A commit first hands them to the cleaner and wakes it: `subvolume sync` then waits ~30 ms, not up to 30 s.
        const left = () => Math.max(1, remainingMs(deadline) - 1000);
        for (const [what, sync] of [
          ['filesystem sync', filesystemSync],
          ['subvolume sync', subvolumeSync],
          ['filesystem sync', filesystemSync],
        ] as const) {
          const done = await sync(ctx.run, ctx.mountpoint, left());
          if (!done.ok) return { problem: `btrfs ${what} ${ctx.mountpoint}: ${done.detail}` };
        }
      }
      const m = await measurePath(ctx.run, ctx.mountpoint, callTimeout(deadline, STATFS_TIMEOUT_MS));
      if (m.kind !== 'ok') return { problem: `statfs ${ctx.mountpoint}: ${m.reason}` };
      const u = usageFromStatfs(m.statfs);
      return { usedBytes: u.usedBytes, availBytes: u.availBytes };
    },
    step: (step, deadline) => runStep(ctx, step, deadline),
  };
}

const empty = (problem: string | null, detail: string | null = null): StepRun => ({
  objects: [],
  daemonReclaimedBytes: null,
  problem,
  detail,
});

async function runStep(ctx: ShellContext, step: PlanStep, deadline: number): Promise<StepRun> {
  const timeout = () => callTimeout(deadline, CALL_TIMEOUT_MS);
  const api = ctx.apiVersion;
  const recheck = step.recheck;
  // Each Docker deletion is re-checked against the plan's reason right before it: none without one.
  const needsApi = (f: (api: string, recheck: Recheck) => Promise<StepRun>) =>
    api === null
      ? Promise.resolve(empty('the Docker API version is unknown (the daemon was not reached)'))
      : recheck === undefined
        ? Promise.resolve(empty('the plan gives no re-check for these objects: not applied'))
        : f(api, recheck);
  switch (step.kind) {
    case 'remove-containers':
      return needsApi((v, rc) =>
        inPasses(
          step.objects,
          deadline,
          1,
          oneAtATime(
            async (o) =>
              (await recheckContainer(ctx.docker, v, o.id, rc, timeout())) ??
              removeContainer(ctx.docker, v, o.id, timeout()),
          ),
          () => false,
        ),
      );
    case 'remove-dangling-images':
    case 'remove-unused-images':
      return needsApi(async (v, rc) => {
        // An image whose child is in the same step goes once the child has gone (a sample refusal: `conflict: unable to delete 5f0c… (cannot be forced) - image has dependent child images`).
        const images = await inPasses(
          step.objects,
          deadline,
          1,
          oneAtATime(
            async (o) =>
              (await recheckImage(ctx.docker, v, o.id, rc, timeout())) ?? removeImage(ctx.docker, v, o.id, timeout()),
          ),
          (r) => r.result === 'refused' && /child image/i.test(r.detail ?? ''),
        );
        if (!step.cacheRecords?.length || !images.objects.some((o) => o.result === 'removed')) return images;
        // BuildKit still holds the layers it built: prune the records that held them; any still shared with an image is kept.
        // Which records the removals freed: one /system/df, not one prune per record (a big host holds
        // a thousand shared records; pruning each by id took the whole budget, measured by bench/big-host.ts).
        const freed = await recordsNoLongerShared(ctx, v, step.cacheRecords, timeout());
        const toPrune = freed ? step.cacheRecords.filter((o) => freed.has(o.id)) : step.cacheRecords;
        const records = await inPasses(
          toPrune,
          deadline,
          PRUNE_BATCH,
          (os) =>
            pruneBuildRecords(
              ctx.docker,
              v,
              os.map((o) => o.id),
              timeout(),
            ),
          (r) => r.result === 'kept',
        );
        const count = (result: string) => records.objects.filter((o) => o.result === result).length;
        const stillShared = step.cacheRecords.length - toPrune.length;
        return {
          ...images,
          daemonReclaimedBytes: records.daemonReclaimedBytes,
          cacheRecords: { pruned: count('removed'), kept: count('kept') + stillShared, failed: count('failed') },
        };
      });
    case 'prune-build-cache':
    case 'prune-all-build-cache':
      // A record another planned record builds on goes once that one has gone; one the re-check kept stays kept.
      return needsApi((v, rc) =>
        inPasses(
          step.objects,
          deadline,
          PRUNE_BATCH,
          async (os) => {
            const { go, outcomes } = await recheckRecords(
              ctx.docker,
              v,
              os.map((o) => o.id),
              rc,
              timeout(),
            );
            return go.length
              ? new Map([...outcomes, ...(await pruneBuildRecords(ctx.docker, v, go, timeout()))])
              : outcomes;
          },
          (r) => r.result === 'kept' && !r.changed,
        ),
      );
    case 'btrfs-balance-empty': {
      const r = await balanceData(ctx.run, ctx.mountpoint, 0, Math.max(1, remainingMs(deadline)));
      return empty(r.ok ? null : r.detail, r.ok ? r.detail : null);
    }
    case 'btrfs-balance-stepped': {
      const details: string[] = [];
      for (const pct of [5, 10]) {
        const r = await balanceData(ctx.run, ctx.mountpoint, pct, Math.max(1, remainingMs(deadline)));
        if (!r.ok) return empty(`-dusage=${pct}: ${r.detail}`, details.join('; ') || null);
        details.push(`-dusage=${pct}: ${r.detail}`);
      }
      return empty(null, details.join('; '));
    }
    case 'cleanup-rule':
      return step.rule
        ? applyRule(ctx.run, step.rule, step.objects, ctx.mountpoint, deadline)
        : empty('the plan gives no rule for these files: not applied');
    default:
      // Destructive kinds never reach here (selectSteps); a new kind without an actuator is said, not guessed.
      return empty(`no actuator for ${step.kind}: not applied`);
  }
}

/** One object per call (the DELETE calls): `inPasses` in batches of one. */
const oneAtATime = (once: (o: PlanObject) => Promise<DeleteOutcome>) => async (os: readonly PlanObject[]) =>
  new Map([[os[0]!.id, await once(os[0]!)]]);

/**
 * Each object once, in plan order, `batch` objects a call; then again those
 * `retry` picks, while a pass removed something (a parent after its child).
 * No call starts after the deadline: the objects it leaves are said to be
 * not tried.
 */
async function inPasses(
  objects: readonly PlanObject[],
  deadline: number,
  batch: number,
  call: (os: readonly PlanObject[]) => Promise<Map<string, DeleteOutcome>>,
  retry: (r: DeleteOutcome) => boolean,
): Promise<StepRun> {
  const results = new Map<string, ObjectResult>();
  let reclaimed: number | null = null;
  let pending = [...objects];
  while (pending.length) {
    const again: PlanObject[] = [];
    let progress = false;
    for (let i = 0; i < pending.length && remainingMs(deadline) > 0; i += batch) {
      const chunk = pending.slice(i, i + batch);
      const answers = await call(chunk);
      for (const o of chunk) {
        const r = answers.get(o.id) ?? {
          result: 'failed' as const,
          detail: 'no answer for this object',
          reclaimedBytes: null,
        };
        if (r.reclaimedBytes !== null) reclaimed = (reclaimed ?? 0) + r.reclaimedBytes;
        results.set(o.id, objectResult(o, r));
        if (r.result === 'removed') progress = true;
        else if (retry(r)) again.push(o);
      }
    }
    if (!progress || remainingMs(deadline) <= 0) break;
    pending = again;
  }
  const out = objects.map(
    (o) =>
      results.get(o.id) ?? {
        id: o.id,
        name: o.name,
        plannedBytes: o.bytes,
        result: 'failed' as const,
        detail: 'not tried: the budget was spent',
      },
  );
  return { objects: out, daemonReclaimedBytes: reclaimed, problem: null, detail: null };
}

/**
 * Of the records an image step planned to prune, those /system/df now lists
 * as neither shared with an image nor in use (or gone); null when it did not
 * answer: then each is tried, and BuildKit keeps any still shared.
 */
async function recordsNoLongerShared(
  ctx: ShellContext,
  api: string,
  planned: readonly PlanObject[],
  timeoutMs: number,
): Promise<Set<string> | null> {
  try {
    const df = parseSystemDf(await dockerGet(ctx.docker, buildCachePath(api), timeoutMs));
    const listed = new Map(df.buildCache.map((r) => [r.id, r]));
    return new Set(
      planned
        .filter((o) => {
          const r = listed.get(o.id);
          return r !== undefined && !r.shared && !r.inUse;
        })
        .map((o) => o.id),
    );
  } catch {
    return null;
  }
}
