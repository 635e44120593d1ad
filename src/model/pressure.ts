import type { Attribution } from './attribution.js';
import type { Finding } from './findings.js';
import type { GrowingObject } from './trend/objects.js';

export interface PressureData {
  /** For the filesystem holding Docker's data root (else /); null when it could not be measured. */
  attribution: Attribution | null;
  /** For containerd's root when it lies on another filesystem (containerd image store); else null. */
  containerdAttribution: Attribution | null;
  /** When outside-docker leads: the biggest directories outside the data root. */
  outsideDocker: { path: string; bytes: number; largestChild: { path: string; bytes: number } | null }[] | null;
  outsideDockerProblem: string | null;
  pressure: { mountpoint: string; ratio: number | null }[];
  findings: Finding[];
  /** The Docker objects whose trusted growth is material, fastest first (the trend's rule, this run included). */
  growingObjects: GrowingObject[];
  /**
   * False when the history could not be read: hysteresis had no baseline, so
   * this run's tiers are no evidence for the alert state (not recorded as assessed).
   */
  historyKnown: boolean;
}
