import type { Runner } from '../host/exec.js';
import type { RunOptions } from '../model/options.js';
import type { SharedProbes } from '../probes/shared.js';
import type { Measurements, SectionResult, SectionView } from '../model/results.js';

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
  /** For later-phase sections: what the earlier phases produced, in the order they ran. */
  earlier?: readonly SectionResult[];
  /** The same, as the run's typed record: what later-phase sections read. */
  measured: Measurements;
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
export interface Section<T = unknown> extends SectionView<T> {
  /** Upper bound for this section; the run budget may cut it shorter. */
  timeoutMs: number;
  /** 0 (default) measures; later phases run after earlier ones and read their results (ctx.measured). */
  phase?: number;
  /**
   * Ids of sections of the same phase whose results it reads (ctx.measured):
   * it starts when they are done, alongside the rest of its phase.
   */
  after?: readonly string[];
  collect(ctx: SectionContext): Promise<Collected<T>>;
}
