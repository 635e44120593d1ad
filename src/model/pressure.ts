import type { Attribution } from './attribution.js';
import type { DeletedOpenReport } from './deleted-open.js';
import type { Finding } from './findings.js';
import type { GrowingObject, ObjectTrend } from './trend/objects.js';

export interface PressureData {
  /** For the filesystem holding Docker's data root (else /); null when it could not be measured. */
  attribution: Attribution | null;
  /** For containerd's root when it lies on another filesystem (containerd image store); else null. */
  containerdAttribution: Attribution | null;
  /** When outside-docker leads: the biggest directories outside the data root. */
  outsideDocker: { path: string; bytes: number; largestChild: { path: string; bytes: number } | null }[] | null;
  outsideDockerProblem: string | null;
  /** Beside the biggest directories: the largest files outside the data root (allocated bytes, never across a mount). */
  largestFiles: LargeFile[] | null;
  /** Deleted files still held open on the measured filesystems; null when the scan did not run. */
  deletedOpen: DeletedOpenReport | null;
  pressure: { mountpoint: string; ratio: number | null }[];
  findings: Finding[];
  /** The Docker objects whose trusted growth is material, fastest first (the trend's rule, this run included). */
  growingObjects: GrowingObject[];
  /** Every object of this run with its rates over the history and this run: the trend reads them, not fits them again. */
  objectTrends: ObjectTrend[];
  /**
   * False when the history could not be read: hysteresis had no baseline, so
   * this run's tiers are no evidence for the alert state (not recorded as assessed).
   */
  historyKnown: boolean;
}

/** One of the largest files: allocated bytes (what it holds on disk, as du counts) and its apparent size. */
export interface LargeFile {
  path: string;
  bytes: number;
  sizeBytes: number;
}
