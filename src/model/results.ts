import type { BtrfsData } from './btrfs.js';
import type { DockerStorage } from './docker-storage.js';
import type { EscalationData } from './escalation.js';
import type { FilesystemData } from './filesystems.js';
import type { NotifyData } from './notify.js';
import type { PressureData } from './pressure.js';
import type { ApplyResult } from './remediation/applied.js';
import type { RemediationData } from './remediation/plan.js';
import type { TrendData } from './trend/assess.js';

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

/**
 * What a run measured, one typed field per part (knip's typed issues record
 * is the model): the pipeline fills it, later parts read the earlier ones
 * from it, the renderers and the history read it. A part that has not run
 * (yet) is absent.
 */
export interface Measurements {
  pressure?: SectionResult<PressureData>;
  remediation?: SectionResult<RemediationData>;
  filesystem?: SectionResult<FilesystemData>;
  docker?: SectionResult<DockerStorage>;
  btrfs?: SectionResult<BtrfsData>;
  trend?: SectionResult<TrendData>;
}

/** One run's result: what it measured, and what it did after (remediate --apply's clean-up; --escalate's vault items). */
export interface RunResult extends Measurements {
  applied?: SectionResult<ApplyResult>;
  escalation?: SectionResult<EscalationData>;
  notify?: SectionResult<NotifyData>;
}

/** The order a full report prints a run's parts in (Storage Pressure is computed last but printed first). */
export const PRINT_ORDER = [
  'pressure',
  'remediation',
  'filesystem',
  'docker',
  'btrfs',
  'trend',
  'applied',
  'escalation',
  'notify',
] as const satisfies readonly (keyof RunResult)[];

/** A run's parts in print order, those it has. */
export function partsInOrder(run: RunResult): SectionResult[] {
  return PRINT_ORDER.flatMap((key) => {
    const part: SectionResult | undefined = run[key];
    return part ? [part] : [];
  });
}
