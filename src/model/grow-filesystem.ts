import { plain, shellQuote } from '../text/escape.js';
import type { FilesystemRow } from './filesystems.js';

type Step = { text: string; command: string };
type Known = (where: string, q: string, row: Pick<FilesystemRow, 'device' | 'sizeBytes'>) => Step;

const AFTER_DEVICE = 'once its device (disk, partition or logical volume) has grown';
const ext: Known = (where, _q, row) => ({
  text: `Or grow the filesystem holding ${where}, ${AFTER_DEVICE}:`,
  command: `resize2fs ${shellQuote(plain(row.device, 200))}`,
});

/** The tool that grows each filesystem type in place, mounted. */
const GROW: Record<string, Known> = {
  ext2: ext,
  ext3: ext,
  ext4: ext,
  xfs: (where, q) => ({
    text: `Or grow the filesystem holding ${where}, ${AFTER_DEVICE}:`,
    command: `xfs_growfs ${q}`,
  }),
  btrfs: (where, q) => ({
    text: `Or grow the filesystem holding ${where}, ${AFTER_DEVICE} (or add a device with btrfs device add):`,
    command: `btrfs filesystem resize max ${q}`,
  }),
  // In memory: a half again as large, when the host has the memory.
  tmpfs: (where, q, row) => ({
    text: `Or grow the tmpfs at ${where} (it lives in memory: check free memory first):`,
    command: `mount -o remount,size=${Math.ceil(((row.sizeBytes ?? 0) * 1.5) / 1024 ** 2)}m ${q}`,
  }),
};

/** Pure: the Human Action step that grows the filesystem at `mountpoint`, by the type this run saw. */
export function growStep(
  mountpoint: string,
  row: Pick<FilesystemRow, 'device' | 'fstype' | 'sizeBytes'> | undefined,
): Step {
  const where = plain(mountpoint, 200);
  const q = shellQuote(where);
  const known = row ? GROW[row.fstype] : undefined;
  if (row && known && !(row.fstype === 'tmpfs' && !row.sizeBytes)) return known(where, q, row);
  const type = row ? ` (${plain(row.fstype, 40)})` : '';
  return {
    text: `Or grow the filesystem holding ${where}${type}: find its device and type, grow the device, then the filesystem with its own tool:`,
    command: `findmnt --target ${q} -o SOURCE,FSTYPE,SIZE,AVAIL`,
  };
}
