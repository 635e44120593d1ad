/**
 * Output of the container-log listing script (probes/container-logs.ts), run in
 * `<data root>/containers`. Two kinds of tab-separated lines:
 *   `L\t41943040\t3c7d…e4/3c7d…e4-json.log`        a log file and its st_size
 *   `H\t3c7d…e4\t{"Binds":null,…,"LogConfig":{"Type":"json-file","Config":{}},…}`  hostconfig.json
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
}

// Sample: `L\t41943040\t3c7de72b…e4/3c7de72b…e4-json.log.1`
const LOG_LINE = /^L\t(\d+)\t([0-9a-f]{64})\/(.+)$/;
// Sample: `H\t3c7de72b…e4\t{"LogConfig":{"Type":"json-file","Config":{"max-size":"10m"}}}`
const HOSTCONFIG_LINE = /^H\t([0-9a-f]{64})\t(.*)$/;

export function parseContainerLogListing(text: string): Map<string, ContainerLogFiles> {
  const byId = new Map<string, ContainerLogFiles>();
  const entry = (id: string) => {
    let e = byId.get(id);
    if (!e) {
      e = { id, files: [], bytes: 0, logConfig: null };
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
    if (host) entry(host[1]!).logConfig = parseLogConfig(host[2]!);
  }
  return byId;
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

/** Does this log grow without bound? json-file without max-size does; `local` rotates by default (20 MB × 5). */
export function isUnbounded(config: LogConfig | null, daemonDriver: string): boolean {
  const type = config?.type || daemonDriver;
  if (type === 'json-file') return !config?.maxSize;
  return false;
}
