/**
 * Output of `stat -f -L -c '%S %b %f %a %c %d'` (GNU coreutils), the same
 * statfs(2) call df makes:
 * `4096 65793553 45327161 41970233 16777216 16424111`
 *  frsize blocks  bfree    bavail   files    ffree
 */
export interface StatfsFigures {
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** Sample: `4096 65793553 45327161 41970233 16777216 16424111` */
const STATFS_LINE = /^(\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/;

export function parseStatfsLine(line: string): StatfsFigures | undefined {
  const m = STATFS_LINE.exec(line.trim());
  if (!m) return undefined;
  const [frsize, blocks, bfree, bavail, files, ffree] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { frsize, blocks, bfree, bavail, files, ffree };
}

/** Sizes in bytes computed the way GNU df does (blocks × f_frsize). */
export interface FsUsage {
  sizeBytes: number;
  usedBytes: number;
  availBytes: number;
  /** Blocks only root may use: bfree − bavail. */
  reservedBytes: number;
  /** df's Use%: used / (used + avail), rounded up. */
  usedPct: number;
  /** df -i's IUse%, rounded up; null when the filesystem has no inode count (btrfs). */
  inodesUsedPct: number | null;
  /** Inodes used over inodes total, unrounded (the Prometheus ratio); null where inodesUsedPct is. */
  inodesUsedRatio: number | null;
}

export function usageFromStatfs(s: StatfsFigures): FsUsage {
  const usedBlocks = s.blocks - s.bfree;
  const usedInodes = s.files - s.ffree;
  return {
    sizeBytes: s.blocks * s.frsize,
    usedBytes: usedBlocks * s.frsize,
    availBytes: s.bavail * s.frsize,
    reservedBytes: Math.max(0, s.bfree - s.bavail) * s.frsize,
    usedPct: ceilPct(usedBlocks, usedBlocks + s.bavail),
    inodesUsedPct: s.files === 0 ? null : ceilPct(usedInodes, s.files),
    inodesUsedRatio: s.files === 0 ? null : usedInodes / s.files,
  };
}

/** Integer percentage rounded up, as df prints it; 0 of 0 is 0. */
function ceilPct(part: number, whole: number): number {
  if (whole <= 0) return 0;
  return Math.ceil((part * 100) / whole);
}
