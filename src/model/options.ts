import type { EscalationPolicy } from './escalation.js';
import type { RemediationPolicy } from './remediation/policy.js';
import type { DockerEndpoint } from '../parse/docker-host.js';

/** DOCKER_CONTEXT, DOCKER_HOST and the CLI's config folder (DOCKER_CONFIG, else ~/.docker), as the CLI reads them. */
export interface DockerCliSettings {
  context: string | null;
  host: string | null;
  configDir: string;
}

export type OutputFormat = 'markdown' | 'json' | 'fired' | 'prom';

/** Everything a run needs to know, resolved from flags, config file and environment. */
export interface RunOptions {
  format: OutputFormat;
  budgetMs: number;
  /** Extra paths to measure (--path, config `paths`). */
  paths: string[];
  /** Also measure every real filesystem in the mount table. */
  allMounts: boolean;
  docker: DockerEndpoint;
  /** What the docker CLI would use beyond the socket (its fallback when the API fails), from the environment; absent: not tried. */
  dockerCli?: DockerCliSettings;
  /** P1 disk finding above this used % (the formula's priority); warning 10 below, critical above. */
  diskThresholdPct: number;
  /** du the filesystem when outside-docker leads even without disk pressure. */
  scanOutside: boolean;
  /** Daily journal directory; null with --no-journal. */
  journalRoot: string | null;
  /** --journal-keep-days: remove day files older than this; null keeps everything. */
  journalKeepDays: number | null;
  /** Days of journal the trend reads. */
  trendDays: number;
  /** trend --svg: the chart's file, `-` for stdout; absent, no chart. */
  trendSvg?: string;
  /**
   * What fired `direct` findings name as their action script: our clean-up
   * script's path relative to the host's root ($FACTORY_ROOT), as the host runs it.
   */
  actionScript: string;
  /** --escalate: file, update and resolve vault items for what a person must do. */
  escalate: boolean;
  escalation: EscalationPolicy;
  /** The host's vault: the pending folder itself, and where action TOMLs go (--vault-actions). */
  vault: { pending: string | null; actions: string | null };
  /**
   * The clean-up policy; `always`: plan even without pressure (`preflight remediate`);
   * `applySafe`: a report run applies the safe tier when the gate fires it `direct` (--apply-safe).
   */
  remediation: {
    policy: RemediationPolicy;
    always: boolean;
    apply: boolean;
    applySafe: boolean;
    maxTier: 'safe' | 'moderate';
  };
  /** --prom-file: node_exporter textfile written (atomically) by every measuring run, whatever the format; null: none. */
  promFile: string | null;
  /** --notify: webhook URLs (secrets: never printed); empty: none. */
  notify: string[];
  /** Re-alert a condition that holds after this long since its last notification. */
  notifyCooldownMs: number;
}
