/*
 * A run's results as the renderers and the history read them: each part's
 * status, reason and data, with what it needs to print itself.
 */

export type SectionStatus = 'ok' | 'degraded' | 'error' | 'timeout' | 'skipped';

/** What a renderer needs of one `## Title` of the report: its id, title and how it prints. */
export interface SectionView<T = unknown> {
  id: string;
  title: string;
  /** Lines under the title. */
  markdown(data: T): string[];
  /** Top-level JSON keys this section owns; `data` is undefined when it failed. */
  json(data: T | undefined): Record<string, unknown>;
}

export interface SectionResult<T = unknown> {
  section: SectionView<T>;
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
