import { btrfsSection } from './btrfs/index.js';
import { dockerSection } from './docker/index.js';
import { filesystemSection } from './filesystem.js';
import { pressureSection } from './pressure/index.js';
import { remediationSection } from './remediation/index.js';
import { trendSection } from './trend/index.js';
import type { Measurements, SectionResult } from '../model/results.js';
import type { Section } from './types.js';

/** Every `## Section`, in report order (Storage Pressure is computed last but printed first). */
export const SECTIONS: readonly Section[] = Object.freeze([
  pressureSection as Section,
  remediationSection as Section,
  filesystemSection as Section,
  dockerSection as Section,
  btrfsSection as Section,
  trendSection as Section,
]);

/**
 * The engine's results → the run's typed record. Each part is found by its
 * section object (never by a string id): the result whose section is
 * `section` holds what that section's collect() returned, a T.
 */
export function measurementsOf(results: readonly SectionResult[]): Measurements {
  const find = <T>(section: Section<T>) => results.find((r) => r.section === section) as SectionResult<T> | undefined;
  return {
    pressure: find(pressureSection),
    remediation: find(remediationSection),
    filesystem: find(filesystemSection),
    docker: find(dockerSection),
    btrfs: find(btrfsSection),
    trend: find(trendSection),
  };
}
