/**
 * Output of the container-log listing script (probes/container-logs.ts), run in
 * `<data root>/containers`. Tab-separated lines:
 *   `L\t41943040\t3c7d…e4/3c7d…e4-json.log`        a log file and its st_size
 *   `H\t3c7d…e4\t{"Binds":null,…,"LogConfig":{"Type":"json-file","Config":{}},…}`  hostconfig.json
 *   `U\t3c7d…e4`   its hostconfig.json exists but this user may not read it
 *   `D\t3c7d…e4`   a container folder this user may not enter (its logs are not listed)
 * Container directories are named by 64-hex ids, so the fields cannot hold a tab or newline.
 */

export interface LogConfig {
  type: string;
  maxSize: string | null;
  maxFile: string | null;
}

export interface ContainerLogFiles {
  id: string;
  /** Every log file of the container (current and rotated), with sizes. */
  files: { name: string; bytes: number }[];
  bytes: number;
  logConfig: LogConfig | null;
  /** hostconfig.json was there but not readable by this user: the log settings are unknown. */
  configUnreadable: boolean;
}

// Sample: `L\t41943040\t3c7de72b…e4/3c7de72b…e4-json.log.1`
const LOG_LINE = /^L\t(\d+)\t([0-9a-f]{64})\/(.+)$/;
// Sample: `H\t3c7de72b…e4\t{"LogConfig":{"Type":"json-file","Config":{"max-size":"10m"}}}`
const HOSTCONFIG_LINE = /^H\t([0-9a-f]{64})\t(.*)$/;
// Sample: `U\t3c7de72b…e4`
const UNREADABLE_CONFIG_LINE = /^U\t([0-9a-f]{64})$/;
// Sample: `D\t3c7de72b…e4`
const DENIED_FOLDER_LINE = /^D\t([0-9a-f]{64})$/;

export function parseContainerLogListing(text: string): Map<string, ContainerLogFiles> {
  const byId = new Map<string, ContainerLogFiles>();
  const entry = (id: string) => {
    let e = byId.get(id);
    if (!e) {
      e = { id, files: [], bytes: 0, logConfig: null, configUnreadable: false };
      byId.set(id, e);
    }
    return e;
  };
  for (const line of text.split('\n')) {
    const log = LOG_LINE.exec(line);
    if (log) {
      const e = entry(log[2]!);
      const bytes = Number(log[1]);
      e.files.push({ name: log[3]!, bytes });
      e.bytes += bytes;
      continue;
    }
    const host = HOSTCONFIG_LINE.exec(line);
    if (host) {
      entry(host[1]!).logConfig = parseLogConfig(host[2]!);
      continue;
    }
    const unreadable = UNREADABLE_CONFIG_LINE.exec(line);
    if (unreadable) entry(unreadable[1]!).configUnreadable = true;
  }
  return byId;
}

/** Container folders the listing could not enter (`D` lines): their logs are missing from it. */
export function parseDeniedFolders(text: string): string[] {
  const ids: string[] = [];
  for (const line of text.split('\n')) {
    const m = DENIED_FOLDER_LINE.exec(line);
    if (m) ids.push(m[1]!);
  }
  return ids;
}

function parseLogConfig(json: string): LogConfig | null {
  try {
    const doc = JSON.parse(json) as { LogConfig?: { Type?: unknown; Config?: Record<string, unknown> } };
    const lc = doc.LogConfig;
    if (!lc) return null;
    const config = lc.Config ?? {};
    const opt = (k: string) => (typeof config[k] === 'string' && config[k] !== '' ? (config[k] as string) : null);
    return { type: typeof lc.Type === 'string' ? lc.Type : '', maxSize: opt('max-size'), maxFile: opt('max-file') };
  } catch {
    return null;
  }
}

/**
 * Does this log grow without bound? json-file without max-size does; `local`
 * rotates by default (20 MB × 5). Settings we could not read are not a finding.
 */
export function isUnbounded(config: LogConfig | null, daemonDriver: string, configUnreadable = false): boolean {
  if (configUnreadable) return false;
  const type = config?.type || daemonDriver;
  if (type === 'json-file') return !config?.maxSize;
  return false;
}
