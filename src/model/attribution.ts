import type { BtrfsFilesystem } from './btrfs.js';
import { isRunning, type DockerStorage } from './docker-storage.js';
import type { FilesystemRow } from './filesystems.js';
import { formatBytes } from '../text/bytes.js';
import { byText } from '../text/order.js';
import type { LastMeasured } from './last-measured.js';

export type SourceKind =
  | 'images'
  | 'dangling-images'
  | 'containers'
  | 'container-logs'
  | 'volumes'
  | 'build-cache'
  | 'overlay2-orphans'
  | 'btrfs-orphans'
  | 'btrfs-unused-chunks'
  | 'docker-metadata'
  | 'containerd-garbage'
  | 'containerd-other-clients'
  | 'deleted-open'
  | 'outside-docker';

export interface Source {
  kind: SourceKind;
  label: string;
  bytes: number;
  reclaimableBytes: number;
  /** False for allocated-but-unused btrfs chunks: they press on unallocated space, not on df's used. */
  countsInUsed: boolean;
}

export interface Attribution {
  mountpoint: string;
  usedBytes: number;
  sizeBytes: number;
  /** df's Use% of this filesystem. */
  usedPct: number;
  /** Largest first. */
  sources: Source[];
  /**
   * used − Σ sources that count in used. 0 when the books balance; negative
   * when Docker's own figures exceed what the filesystem uses (btrfs CoW
   * sharing, a volume counted on this filesystem that lives elsewhere).
   */
  unattributedBytes: number;
  notes: string[];
  /** Docker's sizes on this filesystem that this run lacks, as last measured: beside the sources, never in them (their bytes are in outside-docker this run). */
  stale: LastMeasured[];
}

export const SOURCE_LABELS: Record<SourceKind, string> = {
  images: 'images',
  'dangling-images': 'dangling images (untagged old builds)',
  containers: 'container writable layers',
  'container-logs': 'container logs',
  volumes: 'volumes',
  'build-cache': 'BuildKit build cache',
  'overlay2-orphans': 'orphaned overlay2 layer directories',
  'btrfs-orphans': 'orphaned btrfs subvolumes',
  'btrfs-unused-chunks': 'allocated but unused btrfs data chunks',
  'docker-metadata': "Docker's and containerd's own files (state, metadata)",
  'containerd-garbage': "containerd's unreferenced content and snapshots (its GC removes them)",
  'containerd-other-clients': 'other clients of the same containerd (other namespaces)',
  'deleted-open': 'deleted files still held open by a process',
  'outside-docker': 'outside Docker',
};

function source(kind: SourceKind, bytes: number, reclaimableBytes: number, countsInUsed = true): Source {
  return {
    kind,
    label: SOURCE_LABELS[kind],
    bytes: Math.max(0, bytes),
    reclaimableBytes: Math.max(0, reclaimableBytes),
    countsInUsed,
  };
}

/**
 * Split a filesystem's used bytes into where they come from. Docker's
 * figures count only when its data root is on this filesystem; what no
 * source accounts for is `outside-docker` (never negative).
 */
export function attribute(
  fs: FilesystemRow,
  docker: DockerStorage | null,
  btrfs: BtrfsFilesystem | null,
  /** Which of Docker's roots lie on this filesystem: its data root; containerd's (containerd image store). */
  here: { dataRoot: boolean; containerdRoot: boolean },
  /** Why Docker's figures are absent (one sentence), when they are. */
  dockerNote: string | null,
  /** What deleted files still held open hold on this filesystem: no folder lists them, so no other source counts them. */
  heldDeletedBytes = 0,
): Attribution {
  const used = fs.usedBytes ?? 0;
  const sources: Source[] = [];
  const notes: string[] = [];
  if (docker?.containerd) {
    containerdStoreSources(docker, docker.containerd, here, sources, notes);
    if (!here.dataRoot && !here.containerdRoot && dockerNote) notes.push(dockerNote);
  } else if (docker && here.dataRoot) {
    const i = docker.images;
    if (i) {
      sources.push(
        source('images', i.totalBytes - i.dangling.uniqueBytes, i.reclaimableBytes - i.dangling.reclaimableBytes),
      );
      sources.push(source('dangling-images', i.dangling.uniqueBytes, i.dangling.reclaimableBytes));
    }
    if (docker.containers)
      sources.push(source('containers', docker.containers.writableBytes, docker.containers.reclaimableBytes));
    if (docker.logs.visible) sources.push(logsSource(docker));
    if (docker.dataRootMetadataBytes) sources.push(source('docker-metadata', docker.dataRootMetadataBytes, 0));
    const held = docker.images?.heldByBuildCacheBytes ?? 0;
    if (held) notes.push(heldNote(held, false));
    if (docker.volumes) sources.push(source('volumes', docker.volumes.totalBytes, docker.volumes.reclaimableBytes));
    if (docker.buildCache)
      sources.push(source('build-cache', docker.buildCache.totalBytes, docker.buildCache.reclaimableBytes));
    // Measured by du, not by the daemon: known even when /system/df is not. All of it goes with the directories.
    const orphans = docker.overlayOrphans;
    if (orphans && orphans.dirs.length) sources.push(source('overlay2-orphans', orphans.bytes, orphans.bytes));
    if (docker.dfProblem)
      notes.push(`Docker sizes unknown this run (${docker.dfProblem}): their bytes count as outside Docker.`);
    else if (docker.walkProblem)
      notes.push(
        `Container and volume sizes unknown this run (${docker.walkProblem}): their bytes count as outside Docker.`,
      );
    const unread = unreadNote(docker);
    if (unread) notes.push(unread);
  } else if (dockerNote) {
    notes.push(dockerNote);
  }
  if (btrfs) {
    if (btrfs.docker && btrfs.docker.orphans.length)
      sources.push(source('btrfs-orphans', btrfs.docker.orphanBytes, btrfs.docker.orphanBytes));
    if (btrfs.assessment && btrfs.assessment.verdict !== 'ok') {
      sources.push(
        source(
          'btrfs-unused-chunks',
          btrfs.assessment.unusedDataChunkBytes,
          btrfs.assessment.unusedDataChunkBytes,
          false,
        ),
      );
    }
    notes.push(
      "On btrfs, layers share extents (copy-on-write): per-object sizes count a shared extent once per object, so Docker's figures can exceed what the filesystem uses, and outside-docker is then a lower bound.",
    );
  }
  // Freed when their holders close them: all of it is reclaimable, by a person (the plan's step).
  if (heldDeletedBytes > 0) sources.push(source('deleted-open', heldDeletedBytes, heldDeletedBytes));
  const counted = sources.filter((s) => s.countsInUsed).reduce((a, s) => a + s.bytes, 0);
  sources.push(source('outside-docker', used - counted, 0));
  sources.sort((a, b) => b.bytes - a.bytes || byText(a.kind, b.kind));
  return {
    mountpoint: fs.mountpoint,
    usedBytes: used,
    sizeBytes: fs.sizeBytes ?? 0,
    usedPct: fs.usedPct ?? 0,
    sources,
    unattributedBytes: Math.min(0, used - counted),
    notes,
    stale: staleHere(docker, here),
  };
}

/** The last measured sizes of what lives here: volumes in the data root; on the containerd store the rest in containerd's root. */
function staleHere(docker: DockerStorage | null, here: { dataRoot: boolean; containerdRoot: boolean }): LastMeasured[] {
  const stale = docker?.stale ?? [];
  if (!docker?.containerd) return here.dataRoot ? stale : [];
  return stale.filter((s) => (s.kind === 'volumes' ? here.dataRoot : here.containerdRoot));
}

/**
 * The containerd image store: images, containers' snapshots and BuildKit's
 * cache live in containerd's root, by the owners containerd's own records
 * name; logs, volumes and Docker's own files in the data root. Each counts
 * on the filesystem that holds it.
 */
function containerdStoreSources(
  docker: DockerStorage,
  c: NonNullable<DockerStorage['containerd']>,
  here: { dataRoot: boolean; containerdRoot: boolean },
  sources: Source[],
  notes: string[],
): void {
  let metadata = 0;
  if (here.dataRoot) {
    if (docker.logs.visible) sources.push(logsSource(docker));
    if (docker.volumes) sources.push(source('volumes', docker.volumes.totalBytes, docker.volumes.reclaimableBytes));
    metadata += docker.dataRootMetadataBytes ?? 0;
    if (docker.dfProblem)
      notes.push(`Docker sizes unknown this run (${docker.dfProblem}): their bytes count as outside Docker.`);
    else if (docker.walkProblem)
      notes.push(`Volume sizes unknown this run (${docker.walkProblem}): their bytes count as outside Docker.`);
    const unread = unreadNote(docker);
    if (unread) notes.push(unread);
  }
  const f = c.figures;
  if (here.containerdRoot && f) {
    sources.push(source('images', f.images.bytes, f.images.reclaimableBytes));
    sources.push(source('containers', f.containers.bytes, f.containers.reclaimableBytes));
    sources.push(source('build-cache', f.buildCache.bytes, docker.buildCache?.reclaimableBytes ?? 0));
    if (f.orphanBytes) sources.push(source('containerd-garbage', f.orphanBytes, 0));
    if (f.otherClients.bytes) sources.push(source('containerd-other-clients', f.otherClients.bytes, 0));
    metadata += c.metadataBytes ?? 0;
    if (f.images.heldByBuildCacheBytes) notes.push(heldNote(f.images.heldByBuildCacheBytes, true));
    if (c.walkProblem)
      notes.push(
        `containerd's snapshot folders not measured (${c.walkProblem}): committed ones count at their recorded size, active ones as 0.`,
      );
  } else if (!f && (here.containerdRoot || (here.dataRoot && c.root === null))) {
    notes.push(
      `containerd's records could not be read (${c.problem ?? 'unknown'}): the images', containers' and build cache's bytes count as outside Docker.`,
    );
  }
  if (metadata) sources.push(source('docker-metadata', metadata, 0));
}

/**
 * Layers BuildKit built here stay while its records hold them. containerd's
 * records tell which image each is (so an image's figures leave them out); the
 * graph driver's answers do not.
 */
function heldNote(bytes: number, known: boolean): string {
  return known
    ? `Of the images' bytes, ${formatBytes(bytes)} are also held by BuildKit's cache (layers built here): deleting the images frees them only once the build cache is pruned too.`
    : `BuildKit's records share ${formatBytes(bytes)} of layers with images built here: deleting such an image frees its layers only once those records are pruned too, and how much of one image's bytes that is cannot be told from the daemon's answers.`;
}

/** Container logs; `docker container prune` removes a stopped container's log with it. */
function logsSource(docker: DockerStorage): Source {
  const stopped = new Set((docker.df?.containers ?? []).filter((c) => !isRunning(c)).map((c) => c.id));
  const reclaimable = docker.logs.entries.filter((e) => stopped.has(e.id)).reduce((a, e) => a + e.bytes, 0);
  return source('container-logs', docker.logs.totalBytes, reclaimable);
}

/**
 * What the data root hid from us (not root, not mounted here), in one note:
 * `Container logs and orphaned overlay2 layers not measured (/var/lib/docker is not readable by uid 1000 (needs root)): their bytes count as outside Docker.`
 */
function unreadNote(docker: DockerStorage): string | null {
  const logs = docker.logs.visible ? null : (docker.logs.reason ?? 'unknown');
  const orphans = docker.overlayOrphans?.problem ?? null;
  if (logs === null && orphans === null) return null;
  const what =
    logs !== null && orphans !== null
      ? 'Container logs and orphaned overlay2 layers'
      : logs !== null
        ? 'Container logs'
        : 'Orphaned overlay2 layers';
  return `${what} not measured (${logs ?? orphans}): their bytes count as outside Docker.`;
}

/** used / capacity (used + available, as df): never clamped, so broken accounting stays visible above 1. */
export function pressureRatio(fs: FilesystemRow): number | null {
  if (fs.usedBytes === undefined || fs.availBytes === undefined) return null;
  const capacity = fs.usedBytes + fs.availBytes;
  return capacity > 0 ? fs.usedBytes / capacity : null;
}
