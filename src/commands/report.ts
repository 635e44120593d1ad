import { hostname } from 'node:os';
import { buildRecord } from '../model/history-build.js';
import type { HistoryRecord } from '../model/history.js';
import { appendRecord, pruneOld } from '../sinks/history.js';
import { EXIT, type Io } from './io.js';
import { exclusively } from './exclusive.js';
import { appendDayJournal, changeLines } from '../sinks/journal.js';
import type { Finding } from '../model/findings.js';
import type { RunOptions } from '../model/options.js';
import { execRunner } from '../host/exec.js';
import { writeTextfile } from '../sinks/textfile.js';
import { firedOf, renderFired } from '../render/fired.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderProm } from '../render/prom.js';
import { makeReport, type JournalStatus, type Report } from '../model/report.js';
import { renderReserveMs } from '../host/budget.js';
import { remainingMs } from '../host/deadline.js';
import { runSections } from '../run/sections.js';
import { createSharedProbes, type SharedProbes } from '../probes/shared.js';
import { SECTIONS } from '../sections/registry.js';
import type { SectionResult } from '../model/results.js';
import { alertStates } from '../model/trend/alerts.js';
import { escalateRun, type EscalationData } from '../run/escalation/run.js';
import { escalationJournalLines, escalationResult } from '../run/escalation/section.js';
import type { ApplyResult } from '../model/remediation/applied.js';

/** `preflight [report]`: every section under the budget, the history and journal appended, one format printed; one run at a time per host. */
export function report(options: RunOptions, io: Io): Promise<number> {
  return exclusively(options, io, (left, gated) => reportRun(left, gated));
}

async function reportRun(options: RunOptions, io: Io): Promise<number> {
  const { results, journal, startedAt } = await measureAndRecord(options);
  const rep = await withPromFile(options, makeReport(results, startedAt, new Date(), journal));
  const render = {
    // The JSON carries the gate's decision too: the same entries --format fired prints.
    json: () => renderJson(rep, { fired: firedOf(rep, options.actionScript) }),
    markdown: () => renderMarkdown(rep),
    fired: () => renderFired(rep, options.actionScript),
    prom: () => renderProm(rep),
  }[options.format];
  io.stdout(render());
  return EXIT.ok;
}

/**
 * With --prom-file: the metrics of every section that ran, written
 * atomically before the budget ends (after the journal's share); the report
 * then says how that went. A failure is a line in it, never an error.
 */
export async function withPromFile(options: RunOptions, rep: Report): Promise<Report> {
  if (!options.promFile) return rep;
  const deadline = rep.generatedAt.getTime() + options.budgetMs - renderReserveMs(options.budgetMs) / 4;
  const timeout = Math.max(1, Math.min(3000, remainingMs(deadline)));
  return { ...rep, promFile: await writeTextfile(execRunner, options.promFile, renderProm(rep), timeout) };
}

/**
 * Every section under the budget; with --escalate, the vault items; then this
 * run appended to the history (and the day journal when something changed).
 */
export async function measureAndRecord(options: RunOptions): Promise<{ results: SectionResult[]; journal: JournalStatus | null; startedAt: Date }> {
  const m = await measure(options, options.escalate ? ESCALATE_MEASURE_SHARE : 1);
  const escalated = await escalateMeasured(options, m, null);
  const journal = await recordMeasured(options, m, m.runDeadline + m.renderReserve / 2, { escalation: escalated?.data ?? null });
  return { results: escalated ? [...m.results, escalated.result] : m.results, journal, startedAt: m.startedAt };
}

/** With --escalate, measuring leaves a share of the budget for the vault writes. */
export const ESCALATE_MEASURE_SHARE = 0.9;

/** --escalate: file, update or resolve the vault items for this run (after its apply, if any). */
export async function escalateMeasured(options: RunOptions, m: Measured, applied: ApplyResult | null): Promise<{ data: EscalationData; result: SectionResult } | null> {
  if (!options.escalate) return null;
  const started = Date.now();
  const deadline = m.runDeadline + m.renderReserve / 4;
  const history = await m.shared.history(deadline);
  const data = await escalateRun(execRunner, options, m.results, applied, history.records, m.startedAt, deadline);
  return { data, result: escalationResult(data, Date.now() - started) };
}

/** What a run adds to its record beyond the measurements: the clean-up it applied, the vault items. */
export interface RunExtras {
  remediation?: HistoryRecord['remediation'];
  escalation?: EscalationData | null;
}

/** One run's measurements, before they are recorded (remediate --apply acts in between). */
export interface Measured {
  results: SectionResult[];
  shared: SharedProbes;
  startedAt: Date;
  runId: string;
  /** When the whole run must be done, less the render reserve (epoch ms). */
  runDeadline: number;
  renderReserve: number;
}

/** Every section under the budget, or under `shareOfBudget` of it (remediate --apply keeps the rest for its steps). */
export async function measure(options: RunOptions, shareOfBudget = 1): Promise<Measured> {
  const startedAt = new Date();
  const runId = `${process.pid}-${startedAt.getTime().toString(36)}`;
  const renderReserve = renderReserveMs(options.budgetMs);
  const runDeadline = startedAt.getTime() + Math.max(0, options.budgetMs - renderReserve);
  const shared = createSharedProbes(options, execRunner, startedAt);
  const sectionsDeadline = startedAt.getTime() + Math.max(0, Math.floor((options.budgetMs - renderReserve) * shareOfBudget));
  // The socket's check first: /system/df waits for it. Then the history read, alongside every probe, done when Storage Pressure needs it.
  shared.dockerSocket(sectionsDeadline).catch(() => undefined);
  void shared.history();
  const results = await runSections(SECTIONS, sectionsDeadline, { startedAt, runId, options, run: execRunner, shared });
  return { results, shared, startedAt, runId, runDeadline, renderReserve };
}

/**
 * Append a measured run to the history (with the clean-up it applied, if
 * any), by `deadline`: a hung journal disk must not stretch the run.
 */
export async function recordMeasured(options: RunOptions, m: Measured, deadline: number, extra: RunExtras = {}): Promise<JournalStatus | null> {
  return options.journalRoot
    ? recordRun(options, options.journalRoot, m.results, m.shared, m.startedAt, m.runId, deadline, extra)
    : null;
}

/**
 * Append this run to the history (always) and to the shared day journal
 * (only the alerts that changed), then apply retention. Failures are
 * reported, never fatal.
 */
async function recordRun(
  options: RunOptions, root: string, results: SectionResult[], shared: SharedProbes, startedAt: Date, runId: string, deadline: number,
  extra: RunExtras,
): Promise<JournalStatus> {
  const history = await shared.history(deadline);
  // Without --escalate this run, the conditions last escalated still stand (their items are still pending).
  const escalations = extra.escalation?.active ?? [...history.records].reverse().find((r) => r.observed.assessed)?.escalations ?? [];
  const record = { ...buildRecord(results, hostname(), startedAt, runId), remediation: extra.remediation ?? [], escalations };
  const findings = (results.find((r) => r.section.id === 'pressure')?.data as { findings?: Finding[] } | undefined)?.findings ?? [];
  // Without the history, what changed is unknown: better no line than a false "raised".
  const lines = history.problem && history.records.length === 0 ? null : changeLines(alertStates([...history.records, record]), findings, startedAt, escalationJournalLines(extra.escalation ?? null));
  const timeout = Math.max(1, Math.min(3000, remainingMs(deadline)));
  const [own, day] = await Promise.all([
    appendRecord(execRunner, root, record, timeout),
    lines ? appendDayJournal(execRunner, root, lines, startedAt, timeout) : Promise.resolve(null),
  ]);
  if (own.ok && options.journalKeepDays !== null) await pruneOld(execRunner, root, options.journalKeepDays, startedAt, Math.max(1, remainingMs(deadline)));
  return {
    written: own.ok, file: own.file, reason: own.ok ? null : own.reason,
    dayJournal: day,
  };
}
