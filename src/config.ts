import { UsageError } from './errors.js';
import { execRunner } from './probes/exec.js';
import { readSmallFile } from './probes/files.js';
import { parseBudget, parseDuration, parsePct, parseSize } from './values.js';
import type { RemediationPolicy } from './model/remediation/policy.js';

/** What a config file may set; flags override it. */
export interface FileConfig {
  paths: string[];
  budgetSeconds?: number;
  allMounts?: boolean;
  dockerHost?: string;
  diskThresholdPct?: number;
  /** `[remediation]`: the protection policy; flags (--target-pct, --min-age) override it. */
  remediation?: Partial<RemediationPolicy>;
}

const CONFIG_MAX_BYTES = 1024 * 1024;
const CONFIG_READ_TIMEOUT_MS = 3000;

const KNOWN_KEYS = new Set(['paths', 'budget', 'all_mounts', 'docker_host', 'disk_threshold', 'remediation']);
/** `[remediation]` keys: durations as `90m`, `24h`, `7d`; sizes as `10G`. */
const DURATION_KEYS = {
  dangling_image_min_age: 'danglingImageMinAgeMs', exited_container_grace: 'exitedContainerGraceMs',
  build_cache_min_age: 'buildCacheMinAgeMs', unused_image_min_age: 'unusedImageMinAgeMs',
} as const;
const REMEDIATION_KEYS = new Set([...Object.keys(DURATION_KEYS), 'target_pct', 'build_cache_reserve', 'keep_labels', 'keep_image_patterns']);

/**
 * Load a TOML config such as:
 *   paths = ["/srv/models", "/var/log"]
 *   budget = 45
 * Unknown keys and wrong types are usage errors (exit 2), never ignored.
 */
export async function loadConfig(file: string): Promise<FileConfig> {
  let text: string;
  try {
    // In a child under a deadline: a config on a hung mount must not hold the process.
    text = await readSmallFile(execRunner, file, CONFIG_MAX_BYTES, CONFIG_READ_TIMEOUT_MS);
  } catch (err) {
    throw new UsageError(`--config ${file}: ${(err as Error).message}`);
  }
  const { parse } = await import('smol-toml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`--config ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  return configFromToml(doc, file);
}

export function configFromToml(doc: Record<string, unknown>, file: string): FileConfig {
  const unknown = Object.keys(doc).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length) throw new UsageError(`${file}: unknown key '${unknown[0]}'`);
  const { paths = [], budget, all_mounts: allMounts, docker_host: dockerHost, disk_threshold: diskThreshold } = doc;
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p !== '')) {
    throw new UsageError(`${file}: paths must be an array of non-empty strings`);
  }
  if (allMounts !== undefined && typeof allMounts !== 'boolean') throw new UsageError(`${file}: all_mounts must be true or false`);
  if (dockerHost !== undefined && typeof dockerHost !== 'string') throw new UsageError(`${file}: docker_host must be a string`);
  if (budget !== undefined && typeof budget !== 'number') throw new UsageError(`${file}: budget must be a number`);
  return {
    paths: paths as string[],
    budgetSeconds: budget === undefined ? undefined : parseBudget(budget),
    allMounts: allMounts as boolean | undefined,
    dockerHost: dockerHost as string | undefined,
    diskThresholdPct: diskThreshold === undefined ? undefined : parsePct(diskThreshold as number, `${file}: disk_threshold`),
    ...(doc.remediation === undefined ? {} : { remediation: remediationFromToml(doc.remediation, file) }),
  };
}

/**
 * `[remediation]`, e.g.
 *   target_pct = 75
 *   exited_container_grace = "24h"
 *   build_cache_reserve = "10G"
 *   keep_labels = ["storage-preflight.keep", "com.example.tier=prod"]
 *   keep_image_patterns = ["^registry\\.example\\.com/base/"]
 */
function remediationFromToml(value: unknown, file: string): Partial<RemediationPolicy> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${file}: remediation must be a table ([remediation])`);
  const t = value as Record<string, unknown>;
  const unknown = Object.keys(t).find((k) => !REMEDIATION_KEYS.has(k));
  if (unknown) throw new UsageError(`${file}: unknown key 'remediation.${unknown}'`);
  const out: Partial<RemediationPolicy> = {};
  const text = (key: string): string => {
    if (typeof t[key] !== 'string') throw new UsageError(`${file}: remediation.${key} must be a string such as "24h" or "10G"`);
    return t[key] as string;
  };
  const strings = (key: string): string[] => {
    const v = t[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '')) throw new UsageError(`${file}: remediation.${key} must be an array of non-empty strings`);
    return v as string[];
  };
  for (const [key, field] of Object.entries(DURATION_KEYS)) {
    if (t[key] !== undefined) out[field] = parseDuration(text(key), `${file}: remediation.${key}`);
  }
  if (t.target_pct !== undefined) out.targetPct = parsePct(t.target_pct as number, `${file}: remediation.target_pct`);
  if (t.build_cache_reserve !== undefined) out.buildCacheReserveBytes = parseSize(text('build_cache_reserve'), `${file}: remediation.build_cache_reserve`);
  if (t.keep_labels !== undefined) out.keepLabels = strings('keep_labels');
  if (t.keep_image_patterns !== undefined) {
    out.keepImagePatterns = strings('keep_image_patterns');
    for (const p of out.keepImagePatterns) {
      try {
        new RegExp(p);
      } catch (err) {
        throw new UsageError(`${file}: remediation.keep_image_patterns: '${p}' is not a regular expression (${(err as Error).message})`);
      }
    }
  }
  return out;
}
