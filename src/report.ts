import os from 'node:os';
import type { SectionResult } from './sections/types.js';

/** The typed model every output format renders. */
export interface Report {
  host: string;
  generatedAt: Date;
  durationMs: number;
  results: SectionResult[];
}

export function makeReport(results: SectionResult[], startedAt: Date, finishedAt: Date): Report {
  return {
    host: os.hostname(),
    generatedAt: startedAt,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    results,
  };
}
