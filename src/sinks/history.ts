import type { Runner } from '../host/exec.js';
import { errorMessage } from '../model/errors.js';
import { formatRecord, historyDir, historyFile, type HistoryRecord } from '../model/history.js';
import { listFiles } from '../host/list-files.js';
import { appendToFile, removeFiles } from './files.js';

/** Our day files in the history folder (`2026-12-06.jsonl`). */
const DAY_FILE = /^(\d{4}-\d\d-\d\d)\.jsonl$/;

export type AppendResult = { ok: true; file: string } | { ok: false; file: string; reason: string };

/** Append one record (one O_APPEND write, in a child under `timeoutMs`); a failure is a reason, never a throw. */
export async function appendRecord(
  run: Runner,
  root: string,
  record: HistoryRecord,
  timeoutMs: number,
): Promise<AppendResult> {
  const file = historyFile(root, new Date(record.at));
  try {
    await appendToFile(run, historyDir(root), file, formatRecord(record), timeoutMs, '0700');
    return { ok: true, file };
  } catch (err) {
    return { ok: false, file, reason: errorMessage(err) };
  }
}

/** --journal-keep-days: remove our history files and the shared day files older than that. Only dated names are touched. */
export async function pruneOld(
  run: Runner,
  root: string,
  keepDays: number,
  now: Date,
  timeoutMs: number,
): Promise<void> {
  const cutoff = new Date(now.getTime() - keepDays * 86_400_000).toISOString().slice(0, 10);
  const old = (names: string[], pattern: RegExp) => names.filter((n) => (pattern.exec(n)?.[1] ?? '9999') < cutoff);
  const dirs: [string, RegExp][] = [
    [historyDir(root), DAY_FILE],
    [root, /^(\d{4}-\d\d-\d\d)\.md$/],
  ];
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
