import path from 'node:path';
import { errorMessage } from '../model/errors.js';
import type { Finding } from '../model/findings.js';
import type { Runner } from '../host/exec.js';
import { appendToFile } from './files.js';
import { clip, guardDiskFigure, markdownOfPlain, plain } from '../text/escape.js';
import type { AlertState } from '../model/trend/alerts.js';

/**
 * The shared day journal is the supervisor's: the LLM appends its run blocks
 * and reads the whole file every run, so every byte here is paid 72 times a
 * day. We add a few short lines only when something changes, and never read
 * anything back from it.
 */
export function dayJournalFile(root: string, at: Date): string {
  return path.join(root, `${at.toISOString().slice(0, 10)}.md`);
}

/** Pure: this run's alert changes → the lines for the day journal, or null when nothing changed. */
export function changeLines(
  alerts: readonly AlertState[],
  findings: readonly Finding[],
  at: Date,
  extra: readonly string[] = [],
): string | null {
  const evidence = (a: AlertState) =>
    findings.find((f) => f.name === a.name && f.mountpoint === a.mountpoint)?.evidence;
  const lines = alerts.flatMap((a) => {
    if (a.state === 'new') {
      // Evidence is already one safe line (findings.ts): only shortened here.
      const why = evidence(a);
      return [
        `- raised ${a.severity} ${markdownOfPlain(plain(a.key, 120))}${why ? `: ${markdownOfPlain(clip(why, 200))}` : ''}`,
      ];
    }
    if (a.state === 'recovered') return [`- cleared ${a.severity} ${markdownOfPlain(plain(a.key, 120))}`];
    return [];
  });
  lines.push(...extra);
  if (lines.length === 0) return null;
  // The LLM reads this file: a mount named `Disk: 0% used` must not read as a figure here either.
  return guardDiskFigure(`\n### Storage preflight — ${at.toISOString().slice(11, 16)} UTC\n${lines.join('\n')}\n`);
}

export interface JournalWrite {
  written: boolean;
  file: string;
  reason: string | null;
}

/** Append to the day journal, refusing a symlink or a non-regular file; a failure is a reason, never a throw. */
export async function appendDayJournal(
  run: Runner,
  root: string,
  text: string,
  at: Date,
  timeoutMs: number,
): Promise<JournalWrite> {
  const file = dayJournalFile(root, at);
  try {
    await appendToFile(run, root, file, text, timeoutMs);
    return { written: true, file, reason: null };
  } catch (err) {
    return { written: false, file, reason: errorMessage(err) };
  }
}
