import type { Runner } from '../probes/exec.js';
import type { RunOptions } from '../options.js';
import type { SharedProbes } from '../run/shared-probes.js';

export type SectionStatus = 'ok' | 'degraded' | 'error' | 'timeout' | 'skipped';

export interface SectionContext {
  /** Absolute deadline (epoch ms) for this section; probes budget against it. */
  deadline: number;
  /** When the run started: the time its journal entry carries. */
  startedAt: Date;
  /** This run's id in the history. */
  runId: string;
  options: RunOptions;
  run: Runner;
  /** Probes several sections need, run at most once per report. */
  shared: SharedProbes;
  /** For later-phase sections: what the earlier phases produced. */
  earlier?: readonly SectionResult[];
}

/** What a section's collect() returns when it produced data. */
export interface Collected<T> {
  /** `timeout`: the expensive part ran out of time, `data` holds what the cheap part learned. */
  status: 'ok' | 'degraded' | 'timeout';
  reason?: string;
  data: T;
}

/**
 * One `## Title` of the report. collect() does the I/O (through probes) and
 * returns a typed model; markdown() and json() render that same model.
 */
export interface Section<T = unknown> {
  id: string;
  title: string;
  /** Upper bound for this section; the run budget may cut it shorter. */
  timeoutMs: number;
  /** 0 (default) measures; later phases run after earlier ones and read their results (ctx.earlier). */
  phase?: number;
  /**
   * Ids of sections of the same phase whose results it reads (ctx.earlier):
   * it starts when they are done, alongside the rest of its phase.
   */
  after?: readonly string[];
  collect(ctx: SectionContext): Promise<Collected<T>>;
  /** Lines under the title. */
  markdown(data: T): string[];
  /** Top-level JSON keys this section owns; `data` is undefined when it failed. */
  json(data: T | undefined): Record<string, unknown>;
}

export interface SectionResult<T = unknown> {
  section: Section<T>;
  status: SectionStatus;
  reason?: string;
  data?: T;
  durationMs: number;
  /** Nothing to report on this host (e.g. no btrfs): JSON says so, markdown leaves the section out. */
  notApplicable?: boolean;
}

/** A section's result in a run's results, by id (later phases and the history read earlier ones). */
export function resultOf(results: readonly SectionResult[] | undefined, id: string): SectionResult | undefined {
  return results?.find((r) => r.section.id === id);
}

/** That result's data, typed by the caller who knows the section. */
export function dataOf<T>(results: readonly SectionResult[] | undefined, id: string): T | undefined {
  return resultOf(results, id)?.data as T | undefined;
}
