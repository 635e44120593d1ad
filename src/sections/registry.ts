import { btrfsSection } from './btrfs/index.js';
import { dockerSection } from './docker/index.js';
import { filesystemSection } from './filesystem.js';
import { pressureSection } from './pressure/index.js';
import { remediationSection } from './remediation/index.js';
import { trendSection } from './trend/index.js';
import type { Section } from './types.js';

/** Every `## Section`, in report order (Storage Pressure is computed last but printed first). */
export const SECTIONS: readonly Section[] = Object.freeze([
  pressureSection as Section, remediationSection as Section,
  filesystemSection as Section, dockerSection as Section, btrfsSection as Section, trendSection as Section]);
