import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unmountUnder } from './loopfs.js';
import { sh } from './tools.js';

/**
 * The engine matrix: the machine's own Debian engine (Debian 12: 20.10, API
 * 1.41) and Debian's newest (the unstable suite's docker.io, run from a cached
 * chroot on this kernel), each on the graph-driver or the containerd image store.
 */
export type EngineName = 'debian' | 'newest';
export type ImageStore = 'graphdriver' | 'containerd';
export interface EngineChoice {
  engine: EngineName;
  store: ImageStore;
}

/** The matrix every engine test runs on: graph driver and containerd store on the newest engine; the machine's own on its graph driver. */
export const ENGINE_MATRIX: readonly EngineChoice[] = [
  { engine: 'debian', store: 'graphdriver' },
  { engine: 'newest', store: 'graphdriver' },
  { engine: 'newest', store: 'containerd' },
];

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const FETCH = path.join(REPO, 'test/helpers/fetch-modern-engine.sh');
/** Where fetch-modern-engine.sh leaves the built root (its .complete stamp marks it whole). */
export const MODERN_ROOT = path.join(REPO, '.cache/engine-sid');

/** What the newest engine needs beyond the machine's own engine tools: its cached root. */
export function modernEngineMissing(): string[] {
  return existsSync(path.join(MODERN_ROOT, '.complete'))
    ? []
    : [`Debian's newest engine (bash ${path.relative(process.cwd(), FETCH)} builds it into .cache/)`];
}

export interface ModernRoot {
  /** The chroot: a copy-on-write view of the cached root, private to one sandbox. */
  dir: string;
  /** argv that runs a program of the newest engine inside the chroot. */
  command(file: string, args: readonly string[]): [string, string[]];
  cleanup(): Promise<void>;
}

/**
 * A private chroot of the cached root for one sandbox: an overlay (so a
 * daemon writes nothing into the cache), /proc, /sys and /dev, and the
 * sandbox's own folders bound at the same paths, so the paths the daemon
 * reports (DockerRootDir, sockets) are the same outside and in.
 */
export async function enterModernEngine(binds: readonly string[]): Promise<ModernRoot> {
  if (modernEngineMissing().length) throw new Error(modernEngineMissing()[0]);
  const base = await mkdtemp(path.join(tmpdir(), 'pf-chroot-'));
  const dir = path.join(base, 'root');
  const cleanup = async () => {
    await unmountUnder(base);
    await rm(base, { recursive: true, force: true });
  };
  try {
    for (const d of ['root', 'upper', 'work']) await mkdir(path.join(base, d));
    await sh('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${MODERN_ROOT},upperdir=${base}/upper,workdir=${base}/work`,
      dir,
    ]);
    // Private: what the daemon mounts in here stays in here, and goes with one unmount.
    await sh('mount', ['--make-rprivate', dir]);
    await sh('mount', ['-t', 'proc', 'proc', path.join(dir, 'proc')]);
    for (const d of ['sys', 'dev']) {
      await sh('mount', ['--rbind', `/${d}`, path.join(dir, d)]);
      await sh('mount', ['--make-rslave', path.join(dir, d)]);
    }
    for (const b of binds) {
      const at = path.join(dir, b);
      await mkdir(at, { recursive: true });
      await sh('mount', ['--rbind', b, at]);
      await sh('mount', ['--make-rslave', at]);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { dir, command: (file, args) => ['chroot', [dir, file, ...args]], cleanup };
}

/** `28.5.2` and `1.51`, as the daemon says. */
export async function engineVersion(cli: (args: readonly string[]) => Promise<string>) {
  const out = await cli(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}']);
  const [version = '?', api = '?'] = out.trim().split(' ');
  return { version, api };
}

/** containerd's own config for a sandbox: its root and sockets in the sandbox, no CRI. containerd 2.x reads version 3. */
export function containerdConfig(opts: { root: string; state: string; socket: string; major: number }): string {
  return [
    `version = ${opts.major >= 2 ? 3 : 2}`,
    `root = ${JSON.stringify(opts.root)}`,
    `state = ${JSON.stringify(opts.state)}`,
    `disabled_plugins = ["io.containerd.grpc.v1.cri"]`,
    '[grpc]',
    `  address = ${JSON.stringify(opts.socket)}`,
    '[ttrpc]',
    `  address = ${JSON.stringify(`${opts.socket}.ttrpc`)}`,
    '',
  ].join('\n');
}

/** containerd's major version inside the chroot. */
export async function containerdMajor(root: ModernRoot): Promise<number> {
  const [file, args] = root.command('containerd', ['--version']);
  const res = await execa(file, args, { reject: false, timeout: 10_000 });
  // containerd github.com/containerd/containerd/v2 2.1.4~ds1 2.1.4~ds1-1
  const m = /\s(\d+)\.\d+\.\d+/.exec(String(res.stdout));
  return m ? Number(m[1]) : 2;
}
