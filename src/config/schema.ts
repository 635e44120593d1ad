import type { EscalationPolicy } from '../model/escalation.js';
import { cleanupRules } from './cleanup-rules.js';
import type { RemediationPolicy } from '../model/remediation/policy.js';
import {
  boolean,
  dockerAddress,
  duration,
  listOf,
  notifyUrl,
  percentage,
  promFile,
  regex,
  seconds,
  size,
  text,
  wholeNumber,
  type ValueType,
} from './values.js';

/**
 * What a config file set, named as in RunOptions; resolveOptions (cli/dispatch.ts)
 * ranks it below flags and environment. Absent: the file did not set it.
 */
export interface FileConfig {
  paths?: string[];
  allMounts?: boolean;
  budgetSeconds?: number;
  diskThresholdPct?: number;
  dockerHost?: string;
  journalRoot?: string;
  journalKeepDays?: number;
  vaultPending?: string;
  vaultActions?: string;
  actionScript?: string;
  promFile?: string;
  notify?: string[];
  notifyCooldownMs?: number;
  remediation?: Partial<RemediationPolicy>;
  escalation?: Partial<EscalationPolicy>;
}

export interface ConfigKey {
  /** Dotted path in the document: `remediation.target_pct` is `target_pct` under `remediation`. */
  key: string;
  type: ValueType<unknown>;
  /**
   * `~` (null) means "the default": for keys whose default is computed
   * (from the environment, the disk threshold) or is "none", so the example
   * can list them. Elsewhere null is an error like any wrong type.
   */
  nullIsDefault: boolean;
  set(config: FileConfig, value: unknown): void;
}

type Plain = Exclude<keyof FileConfig, 'remediation' | 'escalation'>;

function setting<K extends Plain>(
  key: string,
  type: ValueType<NonNullable<FileConfig[K]>>,
  to: K,
  nullIsDefault = false,
): ConfigKey {
  return {
    key,
    type,
    nullIsDefault,
    set: (c, v) => {
      c[to] = v as FileConfig[K];
    },
  };
}

function policy<K extends keyof RemediationPolicy>(
  key: string,
  type: ValueType<NonNullable<RemediationPolicy[K]>>,
  to: K,
  nullIsDefault = false,
): ConfigKey {
  return {
    key: `remediation.${key}`,
    type,
    nullIsDefault,
    set: (c, v) => {
      (c.remediation ??= {})[to] = v as RemediationPolicy[K];
    },
  };
}

function escalation<K extends keyof EscalationPolicy>(
  key: string,
  type: ValueType<EscalationPolicy[K]>,
  to: K,
): ConfigKey {
  return {
    key: `escalation.${key}`,
    type,
    nullIsDefault: false,
    set: (c, v) => {
      (c.escalation ??= {})[to] = v as EscalationPolicy[K];
    },
  };
}

const strings = listOf(text, 'a list of non-empty strings');
/** Each image's tags are matched against every pattern: a few name what to keep. */
const MAX_KEEP_PATTERNS = 32;

/** Every key a config file may set, once: YAML and TOML alike (integrations/preflight.example.yaml lists them all). */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  setting('paths', strings, 'paths'),
  setting('all_mounts', boolean, 'allMounts'),
  setting('budget', seconds, 'budgetSeconds'),
  setting('disk_threshold', percentage, 'diskThresholdPct'),
  setting('docker_host', dockerAddress, 'dockerHost'),
  setting('action_script', text, 'actionScript', true),
  setting('prom_file', promFile, 'promFile', true),
  setting('notify', listOf(notifyUrl, 'a list of http, https or ntfy URLs', 16), 'notify'),
  setting('notify_cooldown', duration, 'notifyCooldownMs'),
  setting('journal.root', text, 'journalRoot', true),
  setting('journal.keep_days', wholeNumber(1, 3660, 'days'), 'journalKeepDays', true),
  setting('vault.pending', text, 'vaultPending', true),
  setting('vault.actions', text, 'vaultActions', true),
  policy('target_pct', percentage, 'targetPct', true),
  policy('dangling_image_min_age', duration, 'danglingImageMinAgeMs'),
  policy('exited_container_grace', duration, 'exitedContainerGraceMs'),
  policy('build_cache_min_age', duration, 'buildCacheMinAgeMs'),
  policy('unused_image_min_age', duration, 'unusedImageMinAgeMs'),
  policy('build_cache_reserve', size, 'buildCacheReserveBytes', true),
  policy('keep_labels', strings, 'keepLabels'),
  policy('keep_image_patterns', listOf(regex, 'a list of regular expressions', MAX_KEEP_PATTERNS), 'keepImagePatterns'),
  policy('rules', cleanupRules, 'rules'),
  escalation('horizon', duration, 'horizonMs'),
  escalation('persist_runs', wholeNumber(1, 1000, 'runs'), 'persistRuns'),
];

/** `journal`, `vault`, `remediation`, `escalation`: the mappings that hold keys. */
export const SECTIONS: ReadonlySet<string> = new Set(
  CONFIG_KEYS.flatMap(({ key }) =>
    key
      .split('.')
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join('.')),
  ),
);
