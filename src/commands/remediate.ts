import { execRunner } from '../host/exec.js';
import { acquireApplyLock } from '../host/lock.js';
import { summaryRow } from '../model/filesystems.js';
import type { RunOptions } from '../model/options.js';
import { historyEntries, type ApplyResult } from '../model/remediation/applied.js';
import { makeReport, type Report } from '../model/report.js';
import { partsInOrder, type RunResult } from '../model/results.js';
import { appliedResult } from '../render/applied.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderProm } from '../render/prom.js';
import { applyPlan, noPlan, shellDeps } from '../run/apply/apply.js';
import { progressText, type ApplyEvent } from '../run/apply/progress.js';
import {
  escalateMeasured,
  measure,
  measureAndRecord,
  measureShare,
  notifyMeasured,
  recordMeasured,
  withPromFile,
  type Measured,
} from '../run/pipeline.js';
import { exclusively } from './exclusive.js';
import { EXIT, type Io } from './io.js';

/**
 * With --apply, measuring may use this share of the budget; the steps, their
 * statfs checks and the history append get the rest.
 */
export const APPLY_MEASURE_SHARE = 0.5;

/**
 * `preflight remediate`: the plan for the Docker data root's filesystem,
 * from a full measuring run (recorded in the history like any run). A dry
 * run changes nothing. With --apply: measure and plan, run the plan's steps
 * up to --max-tier (one apply per host at a time), then record the run with
 * what each step freed. One measuring run at a time per host (the run lock).
 */
export function remediate(options: RunOptions, io: Io): Promise<number> {
  return exclusively(options, io, (left, gated) => remediateRun(left, gated));
}

async function remediateRun(options: RunOptions, io: Io): Promise<number> {
  if (!options.remediation.apply) {
    const { run, journal, startedAt } = await measureAndRecord(options);
    const full = await withPromFile(options, makeReport(partsInOrder(run), startedAt, new Date(), journal, run));
    io.stdout(render(options, full));
    return EXIT.ok;
  }
  // A person at a terminal sees each step as it runs; elsewhere (the supervisor, a pipe) nothing extra is written.
  const progress = io.terminal ? (e: ApplyEvent) => io.stderr(progressText(e)) : undefined;
  progress?.({ kind: 'measuring', budgetMs: options.budgetMs * APPLY_MEASURE_SHARE });
  const m = await measure(options, measureShare(options, APPLY_MEASURE_SHARE));
  io.stdout(render(options, await applyAndRecord(options, m, progress)));
  // The apply ran (even if it freed less than wanted): that is a result, not a failure.
  return EXIT.ok;
}

/**
 * Apply the measured plan up to --max-tier, escalate what it could not fix,
 * and record the run with what each step freed: remediate --apply, and a
 * report run with --apply-safe (watch's runs) when the gate fires direct.
 */
export async function applyAndRecord(
  options: RunOptions,
  m: Measured,
  progress?: (e: ApplyEvent) => void,
): Promise<Report> {
  const applyStarted = Date.now();
  const applied = await applyMeasured(m, options, progress);
  const appliedPart = appliedResult(applied, Date.now() - applyStarted);
  // After the apply: what it could not fix is what a person must.
  const escalated: RunResult = { ...(await escalateMeasured(options, m, applied)), applied: appliedPart };
  const run = await notifyMeasured(options, m, escalated, applied);
  const journal = await recordMeasured(options, m, m.runDeadline + m.renderReserve / 2, run, {
    remediation: historyEntries(applied),
  });
  return withPromFile(options, makeReport(partsInOrder(run), m.startedAt, new Date(), journal, run));
}

/** remediate prints its own parts (the plan, the apply, the escalation); the metrics (--format prom, like --prom-file) cover every part the run measured. */
function render(options: RunOptions, full: Report): string {
  if (options.format === 'prom') return renderProm(full);
  const { remediation, applied, escalation, notify } = full.run;
  const rep = { ...full, results: partsInOrder({ remediation, applied, escalation, notify }) };
  return options.format === 'json' ? renderJson(rep) : renderMarkdown(rep);
}

/** The plan this run measured, applied by the deadline the measuring left (ApplyLockedError when another apply holds the host). */
async function applyMeasured(
  m: Measured,
  options: RunOptions,
  progress?: (e: ApplyEvent) => void,
): Promise<ApplyResult> {
  const { maxTier } = options.remediation;
  const planned = m.run.remediation?.data;
  if (!planned?.plan) {
    const reason = planned?.reason ?? m.run.remediation?.reason ?? 'the plan could not be made';
    progress?.({ kind: 'stopped', stopped: 'no-plan', notRun: 0, detail: reason });
    return noPlan(reason, maxTier);
  }
  const plan = planned.plan;
  const fs = m.run.filesystem?.data;
  const row = fs ? summaryRow(fs) : undefined;
  const deps = shellDeps({
    run: execRunner,
    docker: options.docker,
    apiVersion: m.run.docker?.data?.engine?.apiVersion ?? null,
    mountpoint: plan.mountpoint,
    fstype: row?.mountpoint === plan.mountpoint ? (row.fstype ?? null) : null,
    lock: () => acquireApplyLock(),
  });
  return applyPlan(plan, maxTier, m.runDeadline, { ...deps, progress });
}
