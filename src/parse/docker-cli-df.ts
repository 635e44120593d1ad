import { asArray, asObject, recordParents, str, type SystemDf } from './docker-df.js';

/**
 * `docker system df -v --format json` (CLI ≥ 23): one object whose figures are
 * strings rounded by go-units (decimal: `1.982MB`, `100B`, `N/A`). Used only
 * when the socket is out of reach but the CLI works (ssh contexts); the bytes
 * are approximate and the report says so.
 * Sample: {"Images":[{"Containers":"2","Size":"1.98MB","SharedSize":"0B","UniqueSize":"1.982MB",…}],…}
 */
export function parseCliSystemDf(text: string): SystemDf {
  let doc: Record<string, unknown>;
  try {
    doc = asObject(JSON.parse(text.trim()));
  } catch {
    // The 20.10 CLI treats `json` as a template and prints the word itself.
    throw new Error(
      `docker CLI did not print JSON (needs docker CLI >= 23 for --format json): ${text.trim().slice(0, 60)}`,
    );
  }
  const images = asArray(doc.Images)
    .map(asObject)
    .map((o) => {
      const repo = str(o.Repository);
      const tag = str(o.Tag);
      const digest = str(o.Digest);
      return {
        id: str(o.ID),
        repoTags: repo && repo !== '<none>' && tag && tag !== '<none>' ? [`${repo}:${tag}`] : [],
        repoDigests: repo && repo !== '<none>' && digest && digest !== '<none>' ? [`${repo}@${digest}`] : [],
        created: cliTime(str(o.CreatedAt)) ?? 0,
        size: humanBytes(str(o.Size)),
        sharedSize: humanBytes(str(o.SharedSize)),
        containers: intOr(str(o.Containers), -1),
        // The CLI's df table has no image labels.
        labels: {},
      };
    });
  const containers = asArray(doc.Containers)
    .map(asObject)
    .map((o) => ({
      id: str(o.ID),
      name: str(o.Names).split(',')[0] ?? '',
      image: str(o.Image),
      imageId: '',
      state: str(o.State) || (str(o.Status).startsWith('Up') ? 'running' : 'exited'),
      // `2MB` or `2MB (virtual 4MB)`: the first figure is the writable layer.
      sizeRw: Math.max(0, humanBytes(str(o.Size).split(' ')[0] ?? '')),
      sizeRootFs: Math.max(0, humanBytes(/\(virtual ([^)]+)\)/.exec(str(o.Size))?.[1] ?? '')),
      created: cliTime(str(o.CreatedAt)) ?? 0,
      labels: labelMap(str(o.Labels)),
    }));
  const volumes = asArray(doc.Volumes)
    .map(asObject)
    .map((o) => ({
      name: str(o.Name),
      driver: str(o.Driver),
      labels: labelMap(str(o.Labels)),
      size: humanBytes(str(o.Size)),
      refCount: intOr(str(o.Links), -1),
    }));
  const buildCache = asArray(doc.BuildCache)
    .map(asObject)
    .map((o) => {
      const last = cliTime(str(o.LastUsedAt));
      const created = cliTime(str(o.CreatedAt));
      return {
        id: str(o.ID),
        type: str(o.CacheType) || 'unknown',
        description: str(o.Description),
        inUse: str(o.InUse) === 'true',
        shared: str(o.Shared) === 'true',
        size: Math.max(0, humanBytes(str(o.Size))),
        lastUsedAt: last === null ? null : new Date(last * 1000).toISOString(),
        createdAt: created === null ? null : new Date(created * 1000).toISOString(),
        usageCount: intOr(str(o.UsageCount), 0),
        parents: recordParents(o),
      };
    });
  return {
    shape: 'legacy',
    layersSize: null,
    images,
    containers,
    volumes,
    buildCache,
    totals: {},
    implausible: { count: 0, example: null },
    unsized: [],
  };
}

const UNIT: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15 };

/** go-units HumanSize (decimal): `1.982MB` → 1982000; `N/A` or garbage → -1 (unknown). */
export function humanBytes(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kKMGTP]?B)$/.exec(text.trim());
  if (!m) return -1;
  return Math.round(Number(m[1]) * (UNIT[m[2]!] ?? 1));
}

/** `2026-11-23 05:25:08.959813967 +0000 UTC` → unix seconds. */
function cliTime(text: string): number | null {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? ([+-]\d\d)(\d\d)/.exec(text);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}${(m[3] ?? '').slice(0, 4)}${m[4]}:${m[5]}`);
  return Number.isNaN(ms) ? null : ms / 1000;
}

function intOr(text: string, fallback: number): number {
  return /^\d+$/.test(text) ? Number(text) : fallback;
}

/** `a=1,b=2` → {a: "1", b: "2"} (the CLI joins labels this way). */
function labelMap(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    out[eq >= 0 ? pair.slice(0, eq) : pair] = eq >= 0 ? pair.slice(eq + 1) : '';
  }
  return out;
}
