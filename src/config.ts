import { UsageError } from './errors.js';
import { execRunner } from './probes/exec.js';
import { readSmallFile } from './probes/files.js';
import { parseBudget, parsePct } from './args.js';

/** What a config file may set; flags override it. */
export interface FileConfig {
  paths: string[];
  budgetSeconds?: number;
  allMounts?: boolean;
  dockerHost?: string;
  diskThresholdPct?: number;
}

const CONFIG_MAX_BYTES = 1024 * 1024;
const CONFIG_READ_TIMEOUT_MS = 3000;

const KNOWN_KEYS = new Set(['paths', 'budget', 'all_mounts', 'docker_host', 'disk_threshold']);

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
  };
}
