import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeLoopFs, unmountUnder, type LoopFs } from './loopfs.js';
import {
  containerdConfig,
  containerdMajor,
  engineVersion,
  enterModernEngine,
  type EngineChoice,
  type EngineName,
  type ImageStore,
  type ModernRoot,
} from './modern-engine.js';
import { sh } from './tools.js';

/** Debian's 20.10 client: the one on PATH first (/usr/local/bin, v28) has no buildx. */
export const DOCKER_CLI = '/usr/bin/docker';
export const ENGINE_TOOLS = ['dockerd', DOCKER_CLI, 'busybox', 'mkfs.ext4', 'mkfs.btrfs', 'losetup'];

export interface DockerSandbox {
  driver: 'overlay2' | 'btrfs';
  /** Which engine and image store: tests name both in their titles. */
  engine: EngineChoice;
  /** `Engine 28.5.2 (API 1.51), containerd store`: for titles and messages. */
  label: string;
  /** The daemon's own version and API version, read after it started. */
  version: string;
  apiVersion: string;
  /** Where containerd keeps content and snapshots (containerd store only). */
  containerdRoot: string | null;
  socket: string;
  /** `unix://…` for DOCKER_HOST. */
  host: string;
  dataRoot: string;
  fs: LoopFs;
  pid: number;
  /** Run the docker CLI against this daemon. */
  docker(args: readonly string[], opts?: { input?: string }): Promise<string>;
  /** Run a container that writes `mib` MiB of random bytes (zeros with `zeros`) to `file`, then exits. */
  writeIn(opts: WriteIn): Promise<void>;
  /** Build a FROM-scratch image with a static busybox, plus extra Dockerfile lines. */
  buildImage(tag: string, extraLines?: readonly string[], files?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real, sandboxed dockerd on its own loop filesystem (ext4 for overlay2,
 * btrfs for the btrfs driver), with its own exec root, socket and pidfile.
 * stop() kills it and everything it started by pid, unmounts and detaches
 * the loop device: call it in afterAll, it is safe when start failed halfway.
 * opts.fs: run on a filesystem the caller made (bench/ keeps a built host's
 * image between runs); stop() still unmounts it, through its cleanup().
 * opts.engine/store: which engine of the matrix (modern-engine.ts); the
 * containerd store runs its own containerd, rooted on opts.containerdFs when
 * given (a filesystem other than the data root's), else beside the data root.
 */
export async function startDockerd(
  driver: 'overlay2' | 'btrfs',
  sizeMiB = 3072,
  opts: { fs?: LoopFs; engine?: EngineName; store?: ImageStore; containerdFs?: LoopFs } = {},
): Promise<DockerSandbox> {
  const choice: EngineChoice = { engine: opts.engine ?? 'debian', store: opts.store ?? 'graphdriver' };
  const fs = opts.fs ?? (await makeLoopFs({ fstype: driver === 'btrfs' ? 'btrfs' : 'ext4', sizeMiB }));
  // Unix socket paths are limited to 108 bytes: keep the run dir short.
  const run = path.join(fs.dir, 'r');
  const dataRoot = path.join(fs.mountpoint, 'docker');
  const socket = path.join(run, 'd.sock');
  const host = `unix://${socket}`;
  await mkdir(run, { recursive: true });
  await mkdir(dataRoot, { recursive: true });
  const extraFs = opts.containerdFs ? [opts.containerdFs] : [];
  let chroot: ModernRoot | null = null;
  const daemons: ResultPromise[] = [];
  const stop = () => stopSandbox(daemons, [fs, ...extraFs], host, cli, chroot);
  // The machine's own engine runs its own binaries; the newest one runs in its chroot.
  const command = (file: string, args: readonly string[]): [string, string[]] =>
    chroot ? chroot.command(file, args) : [file === 'docker' ? DOCKER_CLI : file, [...args]];
  const cli = (args: readonly string[], timeout = 180_000, input?: string) => {
    const [file, argv] = command('docker', ['-H', host, ...args]);
    return execa(file, argv, { reject: false, input, env: { DOCKER_BUILDKIT: '1', HOME: '/root' }, timeout });
  };
  let containerdRoot: string | null = null;
  try {
    if (choice.engine === 'newest') chroot = await enterModernEngine([fs.dir, ...extraFs.map((f) => f.dir)]);
    const daemonArgs = [
      '--data-root',
      dataRoot,
      '--exec-root',
      path.join(run, 'x'),
      '--host',
      host,
      '--pidfile',
      path.join(run, 'd.pid'),
      '--storage-driver',
      driver,
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
      '--shutdown-timeout',
      '1',
    ];
    if (choice.store === 'containerd') {
      if (!chroot) throw new Error('the containerd image store is tested on the newest engine only');
      containerdRoot = path.join((opts.containerdFs ?? fs).mountpoint, 'containerd');
      const containerdSocket = path.join(run, 'c.sock');
      const config = path.join(fs.dir, 'containerd.toml');
      await writeFile(
        config,
        containerdConfig({
          root: containerdRoot,
          state: path.join(run, 'cs'),
          socket: containerdSocket,
          major: await containerdMajor(chroot),
        }),
      );
      const [file, argv] = command('containerd', ['--config', config]);
      daemons.push(spawnLogged(file, argv, path.join(fs.dir, 'containerd.log')));
      await waitForFile(containerdSocket, daemons[0]!, path.join(fs.dir, 'containerd.log'));
      const daemonJson = path.join(fs.dir, 'daemon.json');
      await writeFile(daemonJson, JSON.stringify({ features: { 'containerd-snapshotter': true } }));
      daemonArgs.push('--containerd', containerdSocket, '--config-file', daemonJson);
      // The snapshotter is named by the driver: overlayfs for overlay2, btrfs for btrfs.
      daemonArgs.splice(daemonArgs.indexOf('--storage-driver'), 2, '--storage-driver', snapshotterOf(driver));
    } else if (chroot) {
      // The graph-driver store on an engine that defaults to containerd's: say so.
      const daemonJson = path.join(fs.dir, 'daemon.json');
      await writeFile(daemonJson, JSON.stringify({ features: { 'containerd-snapshotter': false } }));
      daemonArgs.push('--config-file', daemonJson);
    }
    const [file, argv] = command('dockerd', daemonArgs);
    daemons.push(spawnLogged(file, argv, path.join(fs.dir, 'dockerd.log')));
    await waitForPing(daemons.at(-1)!, cli, path.join(fs.dir, 'dockerd.log'));
  } catch (err) {
    await stop();
    throw err;
  }
  const docker = async (args: readonly string[], o: { input?: string } = {}) => {
    const res = await cli(args, 180_000, o.input);
    if (res.exitCode !== 0) throw new Error(`docker ${args.join(' ')}: ${String(res.stderr).slice(-1500)}`);
    return String(res.stdout);
  };
  const { version, api } = await engineVersion(docker);
  return {
    driver,
    engine: choice,
    label: `Engine ${version} (API ${api}), ${choice.store === 'containerd' ? 'containerd' : 'graph-driver'} store`,
    version,
    apiVersion: api,
    containerdRoot,
    socket,
    host,
    dataRoot,
    fs,
    pid: daemons.at(-1)?.pid ?? -1,
    docker,
    buildImage: (tag, extra = [], files = {}) => buildImage(docker, fs.dir, tag, extra, files),
    writeIn: async (o) => void (await writeIn(docker, o)),
    stop,
  };
}

/** What a container writes: kept (`name`) or removed on exit (no name), into its layer or a volume. */
export interface WriteIn {
  image: string;
  name?: string;
  /** `pf-vol:/v` */
  volume?: string;
  file: string;
  mib: number;
  zeros?: boolean;
}

function writeIn(docker: DockerSandbox['docker'], o: WriteIn): Promise<string> {
  return docker([
    'run',
    ...(o.name ? ['--name', o.name] : ['--rm']),
    '--network',
    'none',
    ...(o.volume ? ['-v', o.volume] : []),
    o.image,
    'dd',
    `if=/dev/${o.zeros ? 'zero' : 'urandom'}`,
    `of=${o.file}`,
    'bs=1M',
    `count=${o.mib}`,
  ]);
}

/** The containerd snapshotter that stands for a graph driver. */
function snapshotterOf(driver: 'overlay2' | 'btrfs'): string {
  return driver === 'overlay2' ? 'overlayfs' : 'btrfs';
}

function spawnLogged(file: string, args: readonly string[], log: string): ResultPromise {
  return execa(file, args, { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: { file: log } });
}

async function waitForFile(file: string, daemon: ResultPromise, log: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until && (daemon.exitCode === null || daemon.exitCode === undefined)) {
    if (existsSync(file)) return;
    await sleep(100);
  }
  const tail = await readFile(log, 'utf8').catch(() => '');
  throw new Error(`${path.basename(file)} did not appear:\n${tail.slice(-3000)}`);
}

async function waitForPing(daemon: ResultPromise, cli: Cli, log: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (daemon.exitCode !== null && daemon.exitCode !== undefined) break;
    const res = await cli(['version', '--format', '{{.Server.Version}}'], 5000);
    if (res.exitCode === 0) return;
    await sleep(200);
  }
  const tail = await readFile(log, 'utf8').catch(() => '');
  throw new Error(`dockerd did not come up:\n${tail.slice(-3000)}`);
}

type Cli = (args: readonly string[], timeout?: number, input?: string) => ResultPromise;

async function buildImage(
  docker: DockerSandbox['docker'],
  scratch: string,
  tag: string,
  extraLines: readonly string[],
  files: Record<string, string>,
): Promise<void> {
  const ctx = path.join(scratch, `ctx-${tag.replace(/[^a-z0-9]/gi, '_')}-${Date.now()}`);
  await mkdir(ctx, { recursive: true });
  await copyFile('/bin/busybox', path.join(ctx, 'busybox'));
  for (const [name, body] of Object.entries(files)) await writeFile(path.join(ctx, name), body);
  const dockerfile = [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
    ...extraLines,
    'CMD ["/bin/sh"]',
  ].join('\n');
  await writeFile(path.join(ctx, 'Dockerfile'), `${dockerfile}\n`);
  await docker(['build', '--network', 'none', '-q', '-t', tag, ctx]);
  await rm(ctx, { recursive: true, force: true });
}

/** Kill the daemons and whatever they started (containerd, shims, containers) by pid, then unmount. */
async function stopSandbox(
  daemons: readonly ResultPromise[],
  filesystems: readonly LoopFs[],
  host: string,
  cli: Cli,
  chroot: ModernRoot | null,
): Promise<void> {
  const dockerd = daemons.at(-1);
  if (dockerd && (dockerd.exitCode === null || dockerd.exitCode === undefined)) {
    // Kill containers first: once their shims are gone they would live on,
    // orphaned, pinning the loop filesystem through their mount namespace.
    const running = await cli(['ps', '-q'], 10_000);
    const ids = String(running.stdout ?? '')
      .split('\n')
      .filter(Boolean);
    if (ids.length) await cli(['kill', ...ids], 20_000);
  }
  // dockerd first, then containerd: the reverse of their start.
  for (const daemon of [...daemons].reverse()) {
    if (daemon.exitCode !== null && daemon.exitCode !== undefined) continue;
    daemon.kill('SIGTERM');
    const exited = await Promise.race([daemon.then(() => true), sleep(20_000).then(() => false)]);
    if (!exited) daemon.kill('SIGKILL');
    await daemon.catch(() => undefined);
  }
  for (const fs of filesystems) {
    await killProcessesMentioning(fs.dir);
    await killProcessesMountedOn(fs.dir);
  }
  if (chroot) await chroot.cleanup();
  for (const fs of filesystems) {
    // Container rootfs mounts under the data root, netns mounts under the exec root.
    await unmountUnder(fs.dir);
    await fs.cleanup();
  }
}

/** containerd and its shims carry the sandbox's paths in their command lines. */
async function killProcessesMentioning(dir: string): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const pids = await pidsMentioning(dir);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        /* gone */
      }
    }
    await sleep(500);
  }
}

/** Processes in another mount namespace whose mounts live on the sandbox (orphaned containers). */
async function killProcessesMountedOn(dir: string): Promise<void> {
  const ownNs = await readlink('/proc/self/ns/mnt').catch(() => '');
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ns = await readlink(`/proc/${entry}/ns/mnt`).catch(() => ownNs);
    if (ns === ownNs) continue;
    const mounts = await readFile(`/proc/${entry}/mountinfo`, 'utf8').catch(() => '');
    if (!mounts.includes(dir)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await sleep(200);
}

async function pidsMentioning(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) pids.push(Number(entry));
  }
  return pids;
}
