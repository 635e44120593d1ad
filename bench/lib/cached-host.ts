// A sandboxed dockerd whose loop filesystem outlives the run: the image file
// stays under /var/tmp with a marker beside it, so the next invocation
// restarts dockerd on the built host instead of building it again (minutes).
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDockerd, type DockerSandbox } from '../../test/helpers/dockerd.js';
import { unmountUnder, type LoopFs } from '../../test/helpers/loopfs.js';
import type { EngineName } from '../../test/helpers/modern-engine.js';
import { sh } from '../../test/helpers/tools.js';

export type Driver = 'overlay2' | 'btrfs';

export interface CachedHost {
  sandbox: DockerSandbox;
  /** True when the host was found built (the marker matched): nothing to build. */
  reused: boolean;
  image: string;
  /** Record that the host is built (call once it is complete). */
  markBuilt(): Promise<void>;
  stop(): Promise<void>;
}

export function imagePath(name: string): string {
  return `/var/tmp/pf-bench-bighost-${name}.img`;
}

/** Wait until no loop device holds the image (a lazy unmount detaches it a little later). */
async function waitDetached(image: string): Promise<void> {
  for (let i = 0; i < 50; i += 1) {
    const { stdout } = await sh('losetup', ['-j', image]);
    if (!stdout.trim()) return;
    await sleep(200);
  }
  throw new Error(`${image} is still attached to a loop device (losetup -j); is another bench running on it?`);
}

/** Mount an existing image file on a fresh scratch directory (dockerd's socket and exec root live there too). */
async function mountImage(image: string, fstype: LoopFs['fstype']): Promise<LoopFs> {
  await waitDetached(image);
  const dir = await mkdtemp(path.join(tmpdir(), 'pf-bh-'));
  const mountpoint = path.join(dir, 'mnt');
  await mkdir(mountpoint);
  await sh('mount', ['-o', 'loop', image, mountpoint]);
  return {
    mountpoint,
    dir,
    fstype,
    async cleanup() {
      await unmountUnder(mountpoint);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CachedHostOptions {
  /** Where the image file lives (default: imagePath(name)). */
  image?: string;
  /** More mkfs arguments (e.g. ext4's `-N` for a host of millions of files). */
  mkfsArgs?: readonly string[];
  engine?: EngineName;
}

/**
 * Start dockerd on the cached host `name` when its marker says it was built
 * from `recipe`; otherwise make a fresh image file (sizeMiB, sparse) for the
 * caller to build on.
 */
export async function openCachedHost(
  name: string,
  driver: Driver,
  sizeMiB: number,
  recipe: string,
  opts: CachedHostOptions = {},
): Promise<CachedHost> {
  const image = opts.image ?? imagePath(name);
  const marker = `${image}.built`;
  const fstype = driver === 'btrfs' ? 'btrfs' : 'ext4';
  const reused = existsSync(image) && (await readFile(marker, 'utf8').catch(() => '')) === recipe;
  if (!reused) {
    await rm(marker, { force: true });
    await waitDetached(image).catch(() => undefined);
    await rm(image, { force: true });
    await sh('truncate', ['-s', `${sizeMiB}M`, image]);
    await sh(fstype === 'ext4' ? 'mkfs.ext4' : 'mkfs.btrfs', [
      ...(fstype === 'ext4' ? ['-q', '-F'] : ['-q', '-f']),
      ...(opts.mkfsArgs ?? []),
      image,
    ]);
  }
  const fs = await mountImage(image, fstype);
  const sandbox = await startDockerd(driver, sizeMiB, { fs, engine: opts.engine });
  return {
    sandbox,
    reused,
    image,
    async markBuilt() {
      await sh('sync', []);
      await writeFile(marker, recipe);
    },
    stop: () => sandbox.stop(),
  };
}

/**
 * A throwaway copy of a built host's image (deleting things there leaves the
 * cache intact), with dockerd started on it. The original must be stopped.
 */
export async function openCopy(
  name: string,
  driver: Driver,
  sizeMiB: number,
): Promise<{ sandbox: DockerSandbox; stop(): Promise<void> }> {
  const image = imagePath(name);
  const copy = `${image}.apply-copy`;
  await waitDetached(image);
  await execa('cp', ['--sparse=always', image, copy]);
  const fs = await mountImage(copy, driver === 'btrfs' ? 'btrfs' : 'ext4');
  const sandbox = await startDockerd(driver, sizeMiB, { fs });
  return {
    sandbox,
    async stop() {
      await sandbox.stop();
      await waitDetached(copy).catch(() => undefined);
      await rm(copy, { force: true });
    },
  };
}
