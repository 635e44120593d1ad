import type { BtrfsFilesystem } from './btrfs.js';
import { isRunning, type DockerStorage } from './docker-storage.js';
import type { FilesystemRow } from './filesystems.js';
import { byText } from '../text/order.js';

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
  dockerOnThisFs: boolean,
  /** Why Docker's figures are absent (one sentence), when they are. */
  dockerNote: string | null,
): Attribution {
  const used = fs.usedBytes ?? 0;
  const sources: Source[] = [];
  const notes: string[] = [];
  if (docker && dockerOnThisFs) {
    const i = docker.images;
    if (i) {
      sources.push(
        source('images', i.totalBytes - i.dangling.uniqueBytes, i.reclaimableBytes - i.dangling.reclaimableBytes),
      );
      sources.push(source('dangling-images', i.dangling.uniqueBytes, i.dangling.reclaimableBytes));
    }
    if (docker.containers)
      sources.push(source('containers', docker.containers.writableBytes, docker.containers.reclaimableBytes));
    if (docker.logs.visible) {
      const stopped = new Set((docker.df?.containers ?? []).filter((c) => !isRunning(c)).map((c) => c.id));
      // `docker container prune` removes a stopped container's log with it.
      const reclaimable = docker.logs.entries.filter((e) => stopped.has(e.id)).reduce((a, e) => a + e.bytes, 0);
      sources.push(source('container-logs', docker.logs.totalBytes, reclaimable));
    }
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
  };
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
