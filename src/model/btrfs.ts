import { groupTotals, type BlockGroup, type BtrfsUsage } from '../parse/btrfs-usage.js';
import type { TargetRole } from './filesystems.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export type MetadataVerdict = 'ok' | 'risk' | 'exhausted';

export interface BtrfsAssessment {
  data: { size: number; used: number } | null;
  metadata: { size: number; used: number } | null;
  system: { size: number; used: number } | null;
  /** Metadata used + global reserve, over the metadata allocated. */
  metadataFullness: number | null;
  /** Unallocated bytes below which new metadata chunks may not be found. */
  unallocatedGuideline: number;
  verdict: MetadataVerdict;
  /** One line for people; null when all is well. */
  verdictText: string | null;
  /** Allocated to data chunks but unused: what a filtered balance can return to unallocated. */
  unusedDataChunkBytes: number;
  /** What df shows as available (statfs f_bavail) for "df shows X free". */
  dfFree: number | null;
}

/** Metadata this full (with the reserve) while unallocated is short is an ENOSPC risk. */
export const METADATA_RISK_FULLNESS = 0.75;

/**
 * The unallocated space btrfs needs to keep growing metadata: about one
 * chunk per device plus two. Chunks are 1 GiB above 50 GiB; smaller
 * filesystems get smaller chunks (10% of the size, 16–256 MiB), so the
 * guideline scales with them.
 */
export function unallocatedGuideline(deviceSize: number, devices: number): number {
  const chunk = deviceSize > 50 * GiB ? GiB : Math.min(256 * MiB, Math.max(16 * MiB, Math.floor(deviceSize / 10)));
  return chunk * (Math.max(1, devices) + 2);
}

export function assessBtrfs(u: BtrfsUsage, formatBytes: (n: number) => string): BtrfsAssessment {
  const data = groupTotals(u.groups, 'Data');
  const metadata = groupTotals(u.groups, 'Metadata');
  const system = groupTotals(u.groups, 'System');
  const reserve = u.globalReserve ?? 0;
  const guideline = unallocatedGuideline(u.deviceSize ?? 0, u.devices.length || 1);
  const unallocated = u.deviceUnallocated;
  const fullness = metadata && metadata.size > 0 ? (metadata.used + reserve) / metadata.size : null;
  const dfFree = u.freeStatfs ?? u.freeEstimated;
  let verdict: MetadataVerdict = 'ok';
  let verdictText: string | null = null;
  if (metadata && fullness !== null && unallocated !== null) {
    const short = unallocated < guideline;
    const detail = `metadata ${Math.round(fullness * 100)}% full (used ${formatBytes(metadata.used)} + reserve ${formatBytes(reserve)} of ${formatBytes(metadata.size)}) and ${formatBytes(unallocated)} unallocated (guideline ≥ ${formatBytes(guideline)})`;
    const df = dfFree === null ? '' : ` while df shows ${formatBytes(dfFree)} free`;
    if (fullness >= 1 && short) {
      verdict = 'exhausted';
      verdictText = `ENOSPC now likely${df}: ${detail}.`;
    } else if (fullness >= METADATA_RISK_FULLNESS && short) {
      verdict = 'risk';
      verdictText = `ENOSPC possible${df}: ${detail}.`;
    }
  }
  return {
    data,
    metadata,
    system,
    metadataFullness: fullness,
    unallocatedGuideline: guideline,
    verdict,
    verdictText,
    unusedDataChunkBytes: data ? Math.max(0, data.size - data.used) : 0,
    dfFree,
  };
}

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
