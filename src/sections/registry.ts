import { btrfsSection } from './btrfs/index.js';
import { dockerSection } from './docker/index.js';
import { filesystemSection } from './filesystem.js';
import type { Section } from './types.js';

/** Every `## Section`, in report order. */
export const SECTIONS: readonly Section[] = Object.freeze([filesystemSection as Section, dockerSection as Section, btrfsSection as Section]);
