import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Runner } from '../probes/exec.js';
import { appendToFile, listFiles, readFileTails, removeFiles, type ReadOutcome } from '../probes/files.js';
import { formatRecord, parseHistory, type HistoryRecord, type HistoryWindow } from '../model/history.js';

/**
 * The history lives under the journal root in a folder of its own, which
 * the LLM's `cat` of the day file never reads: one JSON line per run, one
 * file per UTC day.
 */
export const HISTORY_DIR = '.storage-preflight';
const DAY_FILE = /^(\d{4}-\d\d-\d\d)\.jsonl$/;

export function historyDir(root: string): string {
  return path.join(root, HISTORY_DIR);
}

export function historyFile(root: string, at: Date): string {
  return path.join(historyDir(root), `${at.toISOString().slice(0, 10)}.jsonl`);
}

/** A day at 72 runs is ~300 KiB; more than this is read from its end only. */
export const MAX_HISTORY_FILE_BYTES = 4 * 1024 * 1024;

export type AppendResult = { ok: true; file: string } | { ok: false; file: string; reason: string };

/** Append one record (one O_APPEND write, in a child under `timeoutMs`); a failure is a reason, never a throw. */
export async function appendRecord(run: Runner, root: string, record: HistoryRecord, timeoutMs: number): Promise<AppendResult> {
  const file = historyFile(root, new Date(record.at));
  try {
    await appendToFile(run, historyDir(root), file, formatRecord(record), timeoutMs, '0700');
    return { ok: true, file };
  } catch (err) {
    return { ok: false, file, reason: errorMessage(err) };
  }
}

/**
 * Records of the last `days` days (today included), oldest first: only those
 * days' files are read, each from its last MAX_HISTORY_FILE_BYTES, in one
 * child under `timeoutMs`.
 */
export async function readHistory(run: Runner, root: string, days: number, now: Date, timeoutMs: number): Promise<HistoryWindow> {
  return (await readHistoryWith(run, root, days, now, timeoutMs, [])).window;
}

/**
 * readHistory, and `others` (files of the history folder, under the same
 * cap) in the same child: one spawn fewer on a run's critical start. The
 * others' outcomes are null when the read failed as a whole (the window's
 * problem says why).
 */
export async function readHistoryWith(
  run: Runner, root: string, days: number, now: Date, timeoutMs: number, others: readonly string[],
): Promise<{ window: HistoryWindow; others: ReadOutcome[] | null }> {
  // Newest first: if the child's output cap cuts the read, the oldest days are the ones lost.
  const files = new Set<string>();
  for (let d = 0; d <= days; d += 1) files.add(historyFile(root, new Date(now.getTime() - d * 86_400_000)));
  const since = now.getTime() - days * 86_400_000;
  const out: HistoryWindow = { records: [], unreadable: 0, files: 0, problem: null };
  let outcomes;
  try {
    outcomes = await readFileTails(run, [...files, ...others], MAX_HISTORY_FILE_BYTES, timeoutMs, historyDir(root));
  } catch (err) {
    return { window: { ...out, problem: errorMessage(err) }, others: null };
  }
  for (const o of outcomes.slice(0, files.size)) {
    if (o.kind === 'missing') continue;
    if (o.kind === 'refused') {
      out.problem = `${path.basename(o.file)}: ${o.problem.message}`;
      continue;
    }
    out.files += 1;
    if (o.truncated) out.problem = `${path.basename(o.file)} is larger than ${MAX_HISTORY_FILE_BYTES / 1024 / 1024} MiB: only its end was read`;
    const parsed = parseHistory(o.text);
    out.unreadable += parsed.unreadable;
    out.records.push(...parsed.records.filter((r) => Date.parse(r.at) >= since && Date.parse(r.at) <= now.getTime()));
  }
  out.records.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return { window: out, others: outcomes.slice(files.size) };
}

/** --journal-keep-days: remove our history files and the shared day files older than that. Only dated names are touched. */
export async function pruneOld(run: Runner, root: string, keepDays: number, now: Date, timeoutMs: number): Promise<void> {
  const cutoff = new Date(now.getTime() - keepDays * 86_400_000).toISOString().slice(0, 10);
  const old = (names: string[], pattern: RegExp) => names.filter((n) => (pattern.exec(n)?.[1] ?? '9999') < cutoff);
  const dirs: [string, RegExp][] = [[historyDir(root), DAY_FILE], [root, /^(\d{4}-\d\d-\d\d)\.md$/]];
  const deadline = Date.now() + timeoutMs;
  for (const [dir, pattern] of dirs) {
    // Retention is housekeeping: a folder that does not answer is skipped, never fatal.
    try {
      const names = old(await listFiles(run, dir, Math.max(1, deadline - Date.now())), pattern);
      await removeFiles(run, dir, names, Math.max(1, deadline - Date.now()));
    } catch {
      /* reported nowhere: the next run tries again */
    }
  }
}
