import type { Section } from '../types.js';
import { collectBtrfs } from './collect.js';
import { btrfsMarkdown } from './markdown.js';
import type { BtrfsData } from '../../model/btrfs.js';

export const btrfsSection: Section<BtrfsData> = {
  id: 'btrfs',
  title: 'Btrfs',
  timeoutMs: 60_000,
  // After the Filesystem section, whose rows it examines, and beside /system/df.
  after: ['filesystem'],
  collect: collectBtrfs,
  markdown: btrfsMarkdown,
  json: (data) => ({ btrfs: data ?? null }),
};
