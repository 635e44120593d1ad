import type { BtrfsAssessment } from '../../model/btrfs.js';
import type { TargetRole } from '../../model/filesystems.js';
import type { BlockGroup, BtrfsUsage } from '../../parse/btrfs-usage.js';

export interface SubvolumeSize {
  name: string;
  referencedBytes: number | null;
  exclusiveBytes: number | null;
}

export interface DockerBtrfs {
  dataRoot: string;
  subvolumes: number;
  /** BuildKit's 25-character names: never orphan candidates. */
  buildkitSubvolumes: number;
  layerSubvolumes: number;
  quotas: 'enabled' | 'disabled' | 'unknown';
  /** Per-subvolume sizes, largest exclusive first (quotas on only). */
  qgroups: SubvolumeSize[];
  orphans: (SubvolumeSize & { sizeSource: 'qgroup' | 'du' | null })[];
  orphanBytes: number;
  pendingDeletion: { count: number; bytes: number | null };
}

export interface BtrfsFilesystem {
  mountpoint: string;
  device: string;
  /** Why it was measured (the Filesystem section's roles). */
  roles: TargetRole[];
  usage: BtrfsUsage | null;
  df: BlockGroup[] | null;
  assessment: BtrfsAssessment | null;
  docker: DockerBtrfs | null;
  compsize: { diskUsage: number; uncompressed: number; referenced: number } | null;
  /** What could not be measured and how to get it. */
  problems: string[];
}

export interface BtrfsData {
  filesystems: BtrfsFilesystem[];
}
