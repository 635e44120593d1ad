import os from 'node:os';
import type { RunResult, SectionResult } from './results.js';

/** The typed model every output format renders. */
export interface Report {
  host: string;
  generatedAt: Date;
  durationMs: number;
  /** The parts this report prints, in order (remediate prints its own few). */
  results: SectionResult[];
  /** The whole run, typed: what the metrics, the gate and the recipe fields read. */
  run: RunResult;
  /** The journal append of this run; null when there is no journal (--no-journal, trend). */
  journal: JournalStatus | null;
  /** The --prom-file write of this run; null or absent without --prom-file. */
  promFile?: TextfileStatus | null;
}

/** This run's history append; `dayJournal` is the shared day journal's, null when nothing changed to say. */
export interface JournalStatus {
  written: boolean;
  file: string;
  reason: string | null;
  dayJournal: { written: boolean; file: string; reason: string | null } | null;
}

export function makeReport(
  results: SectionResult[],
  startedAt: Date,
  finishedAt: Date,
  journal: JournalStatus | null,
  run: RunResult = {},
): Report {
  return {
    host: os.hostname(),
    generatedAt: startedAt,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    results,
    run,
    journal,
  };
}

/** What became of --prom-file this run; a failure is reported, never fatal. */
export interface TextfileStatus {
  written: boolean;
  file: string;
  reason: string | null;
}
