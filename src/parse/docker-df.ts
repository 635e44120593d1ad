/**
 * GET /system/df, normalised across API shapes:
 * - up to 1.51: `LayersSize`, `Images[]`, `Containers[]`, `Volumes[]`, `BuildCache[]`;
 * - 1.52+: `ImageUsage|ContainerUsage|VolumeUsage|BuildCacheUsage`
 *   {ActiveCount, TotalCount, Reclaimable, TotalSize, Items (verbose only)}.
 * Unknown sizes stay -1 (the daemon's own convention), never 0.
 * Byte figures no disk can hold (negative, fractional, past 2^53) are counted
 * in `implausible`, so the caller can treat the sizes as unknown.
 */
import { byText } from '../text/order.js';

export interface DfImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  /** Unix seconds. */
  created: number;
  size: number;
  /** Bytes in layers this image shares with others; -1 unknown. */
  sharedSize: number;
  /** Containers using the image; -1 unknown. */
  containers: number;
  labels: Record<string, string>;
}

export interface DfContainer {
  id: string;
  name: string;
  image: string;
  imageId: string;
  state: string;
  /** Writable layer bytes (omitted by the daemon when 0). */
  sizeRw: number;
  sizeRootFs: number;
  created: number;
  labels: Record<string, string>;
}

export interface DfVolume {
  name: string;
  driver: string;
  labels: Record<string, string>;
  /** -1 when the driver cannot say. */
  size: number;
  refCount: number;
}

export interface DfBuildRecord {
  id: string;
  type: string;
  description: string;
  inUse: boolean;
  shared: boolean;
  size: number;
  lastUsedAt: string | null;
  /** When BuildKit made it (`CreatedAt`): a rebuild makes a new record for each step whose input changed. */
  createdAt: string | null;
  usageCount: number;
  /** Records this one builds on: BuildKit frees a parent only after its children. */
  parents: string[];
}

/** Daemon-computed category totals (API 1.52+ only). */
export interface DfCategoryTotals {
  activeCount: number;
  totalCount: number;
  reclaimable: number;
  totalSize: number;
}

export interface SystemDf {
  shape: 'legacy' | 'usage';
  /** Bytes of all image layers on disk (legacy `LayersSize`; usage `ImageUsage.TotalSize`). */
  layersSize: number | null;
  images: DfImage[];
  containers: DfContainer[];
  volumes: DfVolume[];
  buildCache: DfBuildRecord[];
  totals: {
    images?: DfCategoryTotals;
    containers?: DfCategoryTotals;
    volumes?: DfCategoryTotals;
    buildCache?: DfCategoryTotals;
  };
  /** Byte figures no real disk gives (a daemon bug, a corrupt layer db); example like `image sha256:ea2a48056cae Size 8.67e+289`. */
  implausible: { count: number; example: string | null };
  /** Categories listed without their sizes: the walking call gave no answer, the cheap lists stood in. */
  unsized: ('containers' | 'volumes')[];
}

/** Notes a byte figure as implausible; `unknownOk` where the daemon uses -1 for "not computed". */
type Check = (value: unknown, what: string, unknownOk?: boolean) => void;

type Json = Record<string, unknown>;

/**
 * Wire names of the 1.52 usage objects. The daemon's Go tags say `ImageUsage`…;
 * its changelog says `ImagesUsage`… and its swagger `ImagesDiskUsage`…: accept all three.
 */
const USAGE_KEYS = {
  images: ['ImageUsage', 'ImagesUsage', 'ImagesDiskUsage'],
  containers: ['ContainerUsage', 'ContainersUsage', 'ContainersDiskUsage'],
  volumes: ['VolumeUsage', 'VolumesUsage', 'VolumesDiskUsage'],
  buildCache: ['BuildCacheUsage', 'BuildCacheDiskUsage'],
} as const;

/** `list` by each item's `key` (an id), as text: the same state reads the same whatever the daemon's order. */
function sortedBy(list: readonly unknown[], key: string): unknown[] {
  const keyOf = (v: unknown) => String((v as Json | null)?.[key] ?? '');
  return [...list].sort((a, b) => byText(keyOf(a), keyOf(b)));
}

/**
 * Both shapes may come together (API 1.52 without `verbose` sends legacy arrays
 * beside the usage objects): items come from usage `Items` when present, else
 * the legacy arrays; daemon totals come from the usage objects.
 */
export function parseSystemDf(body: unknown): SystemDf {
  const doc = asObject(body);
  let count = 0;
  let example: string | null = null;
  const check: Check = (value, what, unknownOk = false) => {
    if (typeof value !== 'number' || plausibleBytes(value, unknownOk)) return;
    count += 1;
    example ??= `${what} ${showNumber(value)}`;
  };
  const usage = (keys: readonly string[]) => {
    const key = keys.find((k) => doc[k] !== undefined && doc[k] !== null);
    return key === undefined ? undefined : asObject(doc[key]);
  };
  const img = usage(USAGE_KEYS.images);
  const ctr = usage(USAGE_KEYS.containers);
  const vol = usage(USAGE_KEYS.volumes);
  const bc = usage(USAGE_KEYS.buildCache);
  // In the daemon's order the lists change between calls (map order): sorted by id, the same state reads the same.
  const items = (u: Json | undefined, legacy: unknown, key: string) =>
    sortedBy(u && Array.isArray(u.Items) ? u.Items : asArray(legacy), key);
  const layersSize =
    typeof doc.LayersSize === 'number' && Number.isFinite(doc.LayersSize)
      ? doc.LayersSize
      : img && 'TotalSize' in img
        ? num(img.TotalSize)
        : null;
  const parsed = {
    shape: img || ctr || vol || bc ? ('usage' as const) : ('legacy' as const),
    layersSize,
    images: items(img, doc.Images, 'Id').map((v) => image(v, check)),
    containers: items(ctr, doc.Containers, 'Id').map((v) => container(v, check)),
    volumes: items(vol, doc.Volumes, 'Name').map((v) => volume(v, check)),
    buildCache: items(bc, doc.BuildCache, 'ID').map((v) => buildRecord(v, check)),
    totals: {
      images: totals(img, 'images', check),
      containers: totals(ctr, 'containers', check),
      volumes: totals(vol, 'volumes', check),
      buildCache: totals(bc, 'build cache', check),
    },
  };
  // After the objects, so the example names one when it can.
  check(doc.LayersSize, 'LayersSize');
  return { ...parsed, implausible: { count, example }, unsized: [] };
}

/**
 * The two typed answers (API 1.42+) as one: images and build cache from the
 * cheap call, containers and volumes from the walking one, or, when it gave
 * no answer, from the daemon's plain lists (`listed`), marked unsized.
 */
export function mergeTypedDf(
  cheap: SystemDf,
  walked: SystemDf | null,
  listed?: Pick<SystemDf, 'containers' | 'volumes'>,
): SystemDf {
  const from = walked ?? { containers: listed?.containers ?? [], volumes: listed?.volumes ?? [] };
  return {
    ...cheap,
    shape: walked?.shape === 'usage' ? 'usage' : cheap.shape,
    containers: from.containers,
    volumes: from.volumes,
    totals: {
      images: cheap.totals.images,
      buildCache: cheap.totals.buildCache,
      containers: walked?.totals.containers,
      volumes: walked?.totals.volumes,
    },
    implausible: {
      count: cheap.implausible.count + (walked?.implausible.count ?? 0),
      example: cheap.implausible.example ?? walked?.implausible.example ?? null,
    },
    unsized: walked ? [] : ['containers', 'volumes'],
  };
}

/** GET /volumes answers as /system/df's volumes: names, labels, no sizes (-1). */
export function parseVolumeListing(volumes: readonly unknown[]): DfVolume[] {
  const ignore: Check = () => undefined;
  return sortedBy(volumes, 'Name').map((v) => volume(v, ignore));
}

/** A byte count a disk can hold: a whole number from 0 to 2^53 (8 PiB), or the daemon's -1 where it means unknown. */
export function plausibleBytes(value: number, unknownOk = false): boolean {
  return Number.isSafeInteger(value) && (value >= 0 || (unknownOk && value === -1));
}

/** `8.67e+289`, `-5`, `1.5`, `Infinity`: short, and never dressed up as bytes. */
function showNumber(value: number): string {
  return Number.isFinite(value) && Math.abs(value) < 1e15 ? String(value) : value.toPrecision(3);
}

/** `sha256:ea2a48056caef765…` → `sha256:ea2a48056cae`: enough to find the object. */
function shortId(id: string): string {
  return id.slice(0, id.startsWith('sha256:') ? 19 : 24);
}

function totals(o: Json | undefined, what: string, check: Check): DfCategoryTotals | undefined {
  if (!o) return undefined;
  check(o.Reclaimable, `${what} Reclaimable`);
  check(o.TotalSize, `${what} TotalSize`);
  return {
    activeCount: num(o.ActiveCount),
    totalCount: num(o.TotalCount),
    reclaimable: num(o.Reclaimable),
    totalSize: num(o.TotalSize),
  };
}

function image(value: unknown, check: Check): DfImage {
  const o = asObject(value);
  check(o.Size, `image ${shortId(str(o.Id))} Size`);
  check(o.SharedSize, `image ${shortId(str(o.Id))} SharedSize`, true);
  return {
    id: str(o.Id),
    // 20.10 lists a dangling image as `<none>:<none>` / `<none>@<none>`: no name at all.
    repoTags: strings(o.RepoTags).filter((t) => t !== '<none>:<none>'),
    repoDigests: strings(o.RepoDigests).filter((d) => d !== '<none>@<none>'),
    created: num(o.Created),
    size: num(o.Size),
    sharedSize: num(o.SharedSize, -1),
    containers: num(o.Containers, -1),
    labels: labelsOf(o.Labels),
  };
}

function container(value: unknown, check: Check): DfContainer {
  const o = asObject(value);
  // `/pf-chatty` → `pf-chatty`
  const name = (strings(o.Names)[0] ?? '').replace(/^\//, '');
  check(o.SizeRw, `container ${name || shortId(str(o.Id))} SizeRw`);
  check(o.SizeRootFs, `container ${name || shortId(str(o.Id))} SizeRootFs`);
  return {
    id: str(o.Id),
    name,
    image: str(o.Image),
    imageId: str(o.ImageID),
    state: str(o.State),
    sizeRw: num(o.SizeRw),
    sizeRootFs: num(o.SizeRootFs),
    created: num(o.Created),
    labels: labelsOf(o.Labels),
  };
}

/** Labels as the daemon sends them (null when none). */
function labelsOf(value: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObject(value))) labels[k] = String(v);
  return labels;
}

function volume(value: unknown, check: Check): DfVolume {
  const o = asObject(value);
  const usage = o.UsageData === null || o.UsageData === undefined ? null : asObject(o.UsageData);
  check(usage?.Size, `volume ${shortId(str(o.Name))} Size`, true);
  return {
    name: str(o.Name),
    driver: str(o.Driver),
    labels: labelsOf(o.Labels),
    size: usage ? num(usage.Size, -1) : -1,
    refCount: usage ? num(usage.RefCount, -1) : -1,
  };
}

function buildRecord(value: unknown, check: Check): DfBuildRecord {
  const o = asObject(value);
  check(o.Size, `build cache ${shortId(str(o.ID))} Size`);
  return {
    id: str(o.ID),
    type: str(o.Type) || 'unknown',
    description: str(o.Description),
    inUse: o.InUse === true,
    shared: o.Shared === true,
    size: num(o.Size),
    lastUsedAt: typeof o.LastUsedAt === 'string' ? o.LastUsedAt : null,
    createdAt: typeof o.CreatedAt === 'string' ? o.CreatedAt : null,
    usageCount: num(o.UsageCount),
    parents: recordParents(o),
  };
}

/**
 * API 1.41 has one `"Parent": "b9194ki8yiy8twda7x4vfpfg9"` (empty for none);
 * 1.42+ adds `"Parents": ["…"]` and deprecates `Parent`.
 */
export function recordParents(o: Record<string, unknown>): string[] {
  const list = Array.isArray(o.Parents) ? o.Parents.filter((p): p is string => typeof p === 'string' && p !== '') : [];
  if (list.length) return list;
  return typeof o.Parent === 'string' && o.Parent !== '' ? [o.Parent] : [];
}

export function asObject(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function strings(value: unknown): string[] {
  return asArray(value).filter((v): v is string => typeof v === 'string');
}
