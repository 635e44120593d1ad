import { hostname } from 'node:os';
import { execRunner } from '../host/exec.js';
import { renderReserveMs } from '../host/budget.js';
import { callTimeout, remainingMs } from '../host/deadline.js';
import { buildRecord } from '../model/history-build.js';
import type { HistoryRecord } from '../model/history.js';
import type { RunOptions } from '../model/options.js';
import type { ApplyResult } from '../model/remediation/applied.js';
import type { JournalStatus, Report } from '../model/report.js';
import type { RunResult } from '../model/results.js';
import { alertStates } from '../model/trend/alerts.js';
import { createSharedProbes, type SharedProbes } from '../probes/shared.js';
import { escalationJournalLines, escalationResult } from '../render/escalation.js';
import { renderProm } from '../render/prom.js';
import { measurementsOf, SECTIONS } from '../sections/registry.js';
import { appendRecord, pruneOld } from '../sinks/history.js';
import { appendDayJournal, changeLines } from '../sinks/journal.js';
import { writeTextfile } from '../sinks/textfile.js';
import { alertEvents, notifyMessage } from '../model/notify.js';
import { notifyResult, verdictOf } from '../render/notify.js';
import { sendNotifications } from '../sinks/notify.js';
import { escalateRun } from './escalation/run.js';
import { runSections } from './sections.js';

/*
 * One run, as report, remediate and the gate (--format fired) share it:
 * measure every part under the budget into the run's typed record; then,
 * by the command, apply (remediate --apply, between measuring and
 * recording), escalate, and record the run in the history and day journal.
 * `watch` runs this same pipeline in a child per interval.
 */

/** One run's measurements, before they are recorded (remediate --apply acts in between). */
export interface Measured {
  run: RunResult;
  shared: SharedProbes;
  startedAt: Date;
  runId: string;
  /** When the whole run must be done, less the render reserve (epoch ms). */
  runDeadline: number;
  renderReserve: number;
}

/** With --escalate, measuring leaves a share of the budget for the vault writes. */
export const ESCALATE_MEASURE_SHARE = 0.9;

/** Every section under the budget, or under `shareOfBudget` of it (remediate --apply keeps the rest for its steps). */
export async function measure(options: RunOptions, shareOfBudget = 1): Promise<Measured> {
  const startedAt = new Date();
  const runId = `${process.pid}-${startedAt.getTime().toString(36)}`;
  const renderReserve = renderReserveMs(options.budgetMs);
  const runDeadline = startedAt.getTime() + Math.max(0, options.budgetMs - renderReserve);
  const shared = createSharedProbes(options, execRunner, startedAt);
  const sectionsDeadline =
    startedAt.getTime() + Math.max(0, Math.floor((options.budgetMs - renderReserve) * shareOfBudget));
  // The socket's check first: /system/df waits for it. Then the history read, alongside every probe, done when Storage Pressure needs it.
  shared.dockerSocket(sectionsDeadline).catch(() => undefined);
  void shared.history();
  // Deleted files still held open: two short children, done long before Storage Pressure counts them.
  void shared.deletedOpen(sectionsDeadline);
  const results = await runSections(
    SECTIONS,
    sectionsDeadline,
    { startedAt, runId, options, run: execRunner, shared },
    measurementsOf,
  );
  return { run: measurementsOf(results), shared, startedAt, runId, runDeadline, renderReserve };
}

/**
 * Every section under the budget; with --escalate, the vault items; then this
 * run appended to the history (and the day journal when something changed).
 */
export async function measureAndRecord(
  options: RunOptions,
): Promise<{ run: RunResult; journal: JournalStatus | null; startedAt: Date }> {
  const m = await measure(options, measureShare(options));
  const run = await notifyMeasured(options, m, await escalateMeasured(options, m));
  const journal = await recordMeasured(options, m, m.runDeadline + m.renderReserve / 2, run);
  return { run, journal, startedAt: m.startedAt };
}

/** What measuring may take of the budget: --escalate and --notify keep a share for their writes. */
export function measureShare(options: RunOptions, full = 1): number {
  return options.escalate || options.notify.length > 0 ? Math.min(full, ESCALATE_MEASURE_SHARE) : full;
}

/**
 * --notify: tell every target what is news this run (an alert raised, still
 * firing past the cooldown, recovered; a clean-up applied; a vault item
 * filed), by the run's deadline; the run with its Notifications part. The
 * record this run appends keeps what was told, so a restart neither repeats
 * nor loses one.
 */
export async function notifyMeasured(
  options: RunOptions,
  m: Measured,
  run: RunResult,
  applied: ApplyResult | null = null,
): Promise<RunResult> {
  if (options.notify.length === 0) return run;
  const started = Date.now();
  const deadline = m.runDeadline + m.renderReserve / 4;
  const host = hostname();
  const history = options.journalRoot ? await m.shared.history(deadline) : null;
  // Without the history, what is news is unknown: better no alert message than a false "raised".
  const states =
    history && !(history.problem && history.records.length === 0)
      ? alertStates([...history.records, buildRecord(run, host, m.startedAt, m.runId)])
      : [];
  const events = alertEvents(states, history?.records ?? [], m.startedAt, options.notifyCooldownMs);
  const escalation = run.escalation?.data ?? null;
  const cleaned = applied !== null && applied.steps.length > 0;
  const filed = (escalation?.items ?? []).some((i) => i.state === 'filed');
  if (events.length === 0 && !cleaned && !filed)
    return { ...run, notify: notifyResult({ message: null, sent: [], targets: [] }, Date.now() - started) };
  const message = notifyMessage(events, verdictOf(run, host, events, applied, escalation));
  const event = {
    source: 'storage-preflight',
    host,
    at: m.startedAt.toISOString(),
    alerts: events.map((e) => ({ kind: e.kind, ...e.state })),
    freedBytes: cleaned ? applied.freedBytes : null,
    filed: (escalation?.items ?? []).filter((i) => i.state === 'filed').map((i) => i.slug),
    text: message,
  };
  const targets = await sendNotifications(options.notify, message, event, deadline);
  // Told when any target took it: the others are each a line in the report, and are not retried.
  const sent = targets.some((t) => t.ok) ? events.map((e) => ({ key: e.state.key, kind: e.kind })) : [];
  return { ...run, notify: notifyResult({ message, sent, targets }, Date.now() - started) };
}

/** --escalate: file, update or resolve the vault items for this run (after its apply, if any); the run with its escalation. */
export async function escalateMeasured(
  options: RunOptions,
  m: Measured,
  applied: ApplyResult | null = null,
): Promise<RunResult> {
  if (!options.escalate) return m.run;
  const started = Date.now();
  const deadline = m.runDeadline + m.renderReserve / 4;
  const history = await m.shared.history(deadline);
  const data = await escalateRun(execRunner, options, m.run, applied, history.records, m.startedAt, deadline);
  return { ...m.run, escalation: escalationResult(data, Date.now() - started) };
}

/**
 * With --prom-file: the metrics of every section that ran, written
 * atomically before the budget ends (after the journal's share); the report
 * then says how that went. A failure is a line in it, never an error.
 */
export async function withPromFile(options: RunOptions, rep: Report): Promise<Report> {
  if (!options.promFile) return rep;
  const deadline = rep.generatedAt.getTime() + options.budgetMs - renderReserveMs(options.budgetMs) / 4;
  const timeout = callTimeout(deadline, 3000);
  return { ...rep, promFile: await writeTextfile(execRunner, options.promFile, renderProm(rep), timeout) };
}

/** What a run adds to its record beyond the measurements: the clean-up it applied. */
export interface RunExtras {
  remediation?: HistoryRecord['remediation'];
}

/**
 * Append a measured run to the history (with the clean-up it applied and
 * its vault items, if any), by `deadline`: a hung journal disk must not
 * stretch the run.
 */
export async function recordMeasured(
  options: RunOptions,
  m: Measured,
  deadline: number,
  run: RunResult,
  extra: RunExtras = {},
): Promise<JournalStatus | null> {
  return options.journalRoot
    ? recordRun(options, options.journalRoot, run, m.shared, m.startedAt, m.runId, deadline, extra)
    : null;
}

/**
 * Append this run to the history (always) and to the shared day journal
 * (only the alerts that changed), then apply retention. Failures are
 * reported, never fatal.
 */
async function recordRun(
  options: RunOptions,
  root: string,
  run: RunResult,
  shared: SharedProbes,
  startedAt: Date,
  runId: string,
  deadline: number,
  extra: RunExtras,
): Promise<JournalStatus> {
  const history = await shared.history(deadline);
  const escalation = run.escalation?.data ?? null;
  // Without --escalate this run, the conditions last escalated still stand (their items are still pending).
  const escalations =
    escalation?.active ?? [...history.records].reverse().find((r) => r.observed.assessed)?.escalations ?? [];
  const notified = run.notify?.data?.sent ?? [];
  const record = {
    ...buildRecord(run, hostname(), startedAt, runId),
    remediation: extra.remediation ?? [],
    escalations,
    ...(notified.length > 0 ? { notified } : {}),
  };
  const findings = run.pressure?.data?.findings ?? [];
  // Without the history, what changed is unknown: better no line than a false "raised".
  const lines =
    history.problem && history.records.length === 0
      ? null
      : changeLines(alertStates([...history.records, record]), findings, startedAt, escalationJournalLines(escalation));
  const timeout = callTimeout(deadline, 3000);
  const [own, day] = await Promise.all([
    appendRecord(execRunner, root, record, timeout),
    lines ? appendDayJournal(execRunner, root, lines, startedAt, timeout) : Promise.resolve(null),
  ]);
  if (own.ok && options.journalKeepDays !== null)
    await pruneOld(execRunner, root, options.journalKeepDays, startedAt, Math.max(1, remainingMs(deadline)));
  return {
    written: own.ok,
    file: own.file,
    reason: own.ok ? null : own.reason,
    dayJournal: day,
  };
}
