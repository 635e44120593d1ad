import { asArray, asObject, str } from './docker-df.js';

export type ImageStore = 'graphdriver' | 'containerd';

/** Who the daemon is and how it stores images, from GET /version and GET /info. */
export interface EngineIdentity {
  version: string;
  apiVersion: string;
  os: string;
  driver: string;
  driverStatus: [string, string][];
  rootDir: string;
  /** overlay2's `Backing Filesystem` (extfs, xfs, btrfs…), when the driver says. */
  backingFilesystem: string | null;
  imageStore: ImageStore;
  loggingDriver: string;
  /** The containerd dockerd talks to (API 1.46+: `Containerd.Address`), and the namespace of its containers and images. */
  containerd: { address: string; namespace: string } | null;
}

export function parseVersion(body: unknown): { version: string; apiVersion: string; os: string } {
  const o = asObject(body);
  return { version: str(o.Version), apiVersion: str(o.ApiVersion), os: str(o.Os) };
}

/**
 * DriverStatus sample (overlay2, 20.10): [["Backing Filesystem","extfs"],["Supports d_type","true"]];
 * with the containerd image store (Docker ≥ 24 opt-in, ≥ 29 default) it carries
 * ["driver-type","io.containerd.snapshotter.v1"] and Driver names the snapshotter.
 */
export function parseInfo(body: unknown, version: { version: string; apiVersion: string; os: string }): EngineIdentity {
  const o = asObject(body);
  const driverStatus = asArray(o.DriverStatus)
    .map((pair) => asArray(pair).map((v) => String(v ?? '')))
    .filter((pair) => pair.length >= 2)
    .map((pair) => [pair[0]!, pair[1]!] as [string, string]);
  const status = (key: string) => driverStatus.find(([k]) => k === key)?.[1] ?? null;
  return {
    ...version,
    version: version.version || str(o.ServerVersion),
    os: version.os || str(o.OSType),
    driver: str(o.Driver),
    driverStatus,
    rootDir: str(o.DockerRootDir),
    backingFilesystem: status('Backing Filesystem'),
    imageStore: status('driver-type') === 'io.containerd.snapshotter.v1' ? 'containerd' : 'graphdriver',
    loggingDriver: str(o.LoggingDriver),
    containerd: containerdOf(o.Containerd),
  };
}

/** `"Containerd":{"Address":"/run/containerd/containerd.sock","Namespaces":{"Containers":"moby","Plugins":"plugins.moby"}}` */
function containerdOf(value: unknown): EngineIdentity['containerd'] {
  const o = asObject(value);
  const address = str(o.Address);
  if (!address.startsWith('/')) return null;
  return { address, namespace: str(asObject(o.Namespaces).Containers) || 'moby' };
}

/**
 * From GET /info alone: the API version comes from the answer's `Api-Version`
 * header, so no GET /version round trip precedes the calls that matter.
 */
export function engineFromInfo(body: unknown, apiVersion: string | null): EngineIdentity {
  return parseInfo(body, { version: '', apiVersion: apiVersion ?? '', os: '' });
}

/** Compare dotted API versions: "1.41" < "1.52". */
export function apiAtLeast(apiVersion: string, wanted: string): boolean {
  const [a1 = 0, a2 = 0] = apiVersion.split('.').map(Number);
  const [w1 = 0, w2 = 0] = wanted.split('.').map(Number);
  return a1 > w1 || (a1 === w1 && a2 >= w2);
}
