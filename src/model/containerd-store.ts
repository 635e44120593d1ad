/**
 * Docker's share of a containerd's bytes, by what owns them: the images
 * (their content and unpacked snapshots), the containers (writable and init
 * snapshots), BuildKit's cache (its leases), other clients of the same
 * containerd (another namespace: Kubernetes' k8s.io…), and what nothing
 * references (containerd's GC collects it on its own). Pure: the usage
 * (containerd-usage.ts) and the daemon's lists in, figures out.
 */
import type { DfContainer, DfImage } from '../parse/docker-df.js';
import type { BackendSnapshot, ContainerdNamespace } from '../parse/containerd-meta.js';
import type { ContainerdUsage, OwnerClass } from './containerd-usage.js';

/** containerd's records and measured folders, as read from its root. */
export interface ContainerdRead {
  namespaces: ContainerdNamespace[];
  backend: BackendSnapshot[];
  /** du -B1 of each snapshots/<id> folder, by id; empty when the walk did not finish. */
  folderBytes: Map<string, number>;
  /** du -B1 of the root's own folders (content, snapshotter, metadata…), by name; empty when the walk did not finish. */
  topLevel: Map<string, number>;
  /** Why the folders were not measured, when they were not. */
  walkProblem: string | null;
}

export interface ContainerdFigures {
  /** Content and snapshots an image reaches (shared with the build cache included: an image owns them). */
  images: { bytes: number; reclaimableBytes: number; heldByBuildCacheBytes: number };
  /** Writable and init snapshots; reclaimable: those of stopped containers only. */
  containers: { bytes: number; reclaimableBytes: number };
  /** Snapshots and content only BuildKit's leases hold (its records and build history). */
  buildCache: { bytes: number };
  /** Bytes of other namespaces' owners (another client of this containerd). */
  otherClients: { bytes: number; namespaces: string[] };
  /** Nothing references them: containerd's GC removes them on its own. */
  orphanBytes: number;
  /** By Docker image id (the image's target digest): bytes it reaches, and bytes only it reaches (what deleting it frees). */
  perImage: Record<string, { bytes: number; uniqueBytes: number }>;
}

/** dockerd's own namespaces: its images and containers (`moby`), BuildKit's history (`moby_history`), plugins (`plugins.moby`). */
export function isDockerNamespace(namespace: string, docker: string): boolean {
  return namespace === docker || namespace.startsWith(`${docker}_`) || namespace === `plugins.${docker}`;
}

/** What owns an object, in the order a byte is counted: a container's before an image's before the build cache's. */
const PRECEDENCE: readonly OwnerClass[] = ['containers', 'images', 'buildCache', 'pinned'];

export function containerdFigures(input: {
  usage: ContainerdUsage;
  namespaces: readonly ContainerdNamespace[];
  dockerNamespace: string;
  images: readonly DfImage[];
  containers: readonly DfContainer[];
}): ContainerdFigures {
  const { usage, dockerNamespace } = input;
  const owner = new Map(usage.owners.map((o) => [o.key, o]));
  const targetOf = new Map<string, string>();
  for (const ns of input.namespaces)
    for (const image of ns.images) targetOf.set(`${ns.name}\0${image.name}`, image.target.digest);
  const imageIdOf = (key: string) => {
    const o = owner.get(key);
    return o && o.class === 'images' ? (targetOf.get(`${o.namespace}\0${o.id}`) ?? null) : null;
  };
  const inUse = new Set(input.images.filter((i) => i.containers > 0).map((i) => i.id));
  const running = new Set(
    input.containers.filter((c) => c.state === 'running' || c.state === 'paused').map((c) => c.id),
  );
  const figures: ContainerdFigures = {
    images: { bytes: 0, reclaimableBytes: 0, heldByBuildCacheBytes: 0 },
    containers: { bytes: 0, reclaimableBytes: 0 },
    buildCache: { bytes: 0 },
    otherClients: { bytes: 0, namespaces: [] },
    orphanBytes: 0,
    perImage: {},
  };
  const others = new Set<string>();
  for (const object of usage.objects) {
    if (object.owners.length === 0) {
      figures.orphanBytes += object.bytes;
      continue;
    }
    const ours = object.owners.filter((k) => isDockerNamespace(owner.get(k)?.namespace ?? '', dockerNamespace));
    if (ours.length === 0) {
      figures.otherClients.bytes += object.bytes;
      for (const k of object.owners) others.add(owner.get(k)?.namespace ?? '?');
      continue;
    }
    const classes = new Set(ours.map((k) => owner.get(k)!.class));
    const counted = PRECEDENCE.find((c) => classes.has(c))!;
    const imageIds = new Set(ours.map(imageIdOf).filter((id): id is string => id !== null));
    for (const id of imageIds) {
      const entry = (figures.perImage[id] ??= { bytes: 0, uniqueBytes: 0 });
      entry.bytes += object.bytes;
      // Only this image's names reach it, and no other client's: deleting the image frees it.
      if (classes.size === 1 && imageIds.size === 1 && ours.length === object.owners.length)
        entry.uniqueBytes += object.bytes;
    }
    if (counted === 'containers') {
      figures.containers.bytes += object.bytes;
      const ids = ours.filter((k) => owner.get(k)!.class === 'containers').map((k) => owner.get(k)!.id);
      if (classes.size === 1 && ids.every((id) => !running.has(id)))
        figures.containers.reclaimableBytes += object.bytes;
    } else if (counted === 'images' || counted === 'pinned') {
      figures.images.bytes += object.bytes;
      if (classes.has('buildCache')) figures.images.heldByBuildCacheBytes += object.bytes;
      else if (
        classes.size === 1 &&
        [...imageIds].every((id) => !inUse.has(id)) &&
        ours.length === object.owners.length
      )
        figures.images.reclaimableBytes += object.bytes;
    } else {
      figures.buildCache.bytes += object.bytes;
    }
  }
  figures.otherClients.namespaces = [...others].sort();
  return figures;
}
