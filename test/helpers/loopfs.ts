import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseMountinfo } from '../../src/parse/mountinfo.js';
import { sh } from './tools.js';

export interface LoopFs {
  /** Where the filesystem is mounted. */
  mountpoint: string;
  /** The scratch directory holding the image (and the mountpoint unless given). */
  dir: string;
  fstype: 'ext4' | 'btrfs';
  cleanup(): Promise<void>;
}

/**
 * A real filesystem of its own on a loop device, so what a test writes
 * dominates its figures. `mount -o loop` sets autoclear: unmounting detaches
 * the loop device.
 */
export async function makeLoopFs(opts: {
  fstype: 'ext4' | 'btrfs';
  sizeMiB: number;
  mountpoint?: string;
}): Promise<LoopFs> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pf-loop-'));
  const image = path.join(dir, 'fs.img');
  const mountpoint = opts.mountpoint ?? path.join(dir, 'mnt');
  await sh('truncate', ['-s', `${opts.sizeMiB}M`, image]);
  if (opts.fstype === 'ext4') await sh('mkfs.ext4', ['-q', '-F', image]);
  else await sh('mkfs.btrfs', ['-q', '-f', image]);
  await mkdir(mountpoint, { recursive: true });
  await sh('mount', ['-o', 'loop', image, mountpoint]);
  return {
    mountpoint,
    dir,
    fstype: opts.fstype,
    async cleanup() {
      await unmountUnder(mountpoint);
      await rm(dir, { recursive: true, force: true });
      if (opts.mountpoint) await rm(opts.mountpoint, { recursive: true, force: true });
    },
  };
}

/** Unmount everything at or below `dir`, deepest first (lazy, so busy mounts still go). */
export async function unmountUnder(dir: string): Promise<void> {
  const table = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
  const under = table
    .map((m) => m.mountpoint)
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mp of under) {
    await sh('umount', ['-l', mp]).catch(() => undefined);
  }
}
