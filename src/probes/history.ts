import path from 'node:path';
import type { Runner } from '../host/exec.js';
import type { ReadOutcome } from '../host/file-problem.js';
import { errorMessage } from '../model/errors.js';
import { historyDir, historyFile, MAX_HISTORY_FILE_BYTES, parseHistory, type HistoryWindow } from '../model/history.js';
import { readFileTails } from './files.js';

/**
 * Records of the last `days` days (today included), oldest first: only those
 * days' files are read, each from its last MAX_HISTORY_FILE_BYTES, in one
 * child under `timeoutMs`.
 */
export async function readHistory(
  run: Runner,
  root: string,
  days: number,
  now: Date,
  timeoutMs: number,
): Promise<HistoryWindow> {
  return (await readHistoryWith(run, root, days, now, timeoutMs, [])).window;
}

/**
 * readHistory, and `others` (files of the history folder, under the same
 * cap) in the same child: one spawn fewer on a run's critical start. The
 * others' outcomes are null when the read failed as a whole (the window's
 * problem says why).
 */
export async function readHistoryWith(
  run: Runner,
  root: string,
  days: number,
  now: Date,
  timeoutMs: number,
  others: readonly string[],
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
    if (o.truncated)
      out.problem = `${path.basename(o.file)} is larger than ${MAX_HISTORY_FILE_BYTES / 1024 / 1024} MiB: only its end was read`;
    const parsed = parseHistory(o.text);
    out.unreadable += parsed.unreadable;
    out.records.push(...parsed.records.filter((r) => Date.parse(r.at) >= since && Date.parse(r.at) <= now.getTime()));
  }
  out.records.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return { window: out, others: outcomes.slice(files.size) };
}
