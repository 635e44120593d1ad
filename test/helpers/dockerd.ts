import { execa, type ResultPromise } from 'execa';
import { copyFile, mkdir, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeLoopFs, unmountUnder, type LoopFs } from './loopfs.js';
import { sh } from './tools.js';

/** Debian's 20.10 client: the one on PATH first (/usr/local/bin, v28) has no buildx. */
export const DOCKER_CLI = '/usr/bin/docker';
export const ENGINE_TOOLS = ['dockerd', DOCKER_CLI, 'busybox', 'mkfs.ext4', 'mkfs.btrfs', 'losetup'];

export interface DockerSandbox {
  driver: 'overlay2' | 'btrfs';
  socket: string;
  /** `unix://…` for DOCKER_HOST. */
  host: string;
  dataRoot: string;
  fs: LoopFs;
  pid: number;
  /** Run the docker CLI against this daemon. */
  docker(args: readonly string[], opts?: { input?: string }): Promise<string>;
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
 */
export async function startDockerd(
  driver: 'overlay2' | 'btrfs',
  sizeMiB = 3072,
  opts: { fs?: LoopFs } = {},
): Promise<DockerSandbox> {
  const fs = opts.fs ?? (await makeLoopFs({ fstype: driver === 'btrfs' ? 'btrfs' : 'ext4', sizeMiB }));
  // Unix socket paths are limited to 108 bytes: keep the run dir short.
  const run = path.join(fs.dir, 'r');
  const dataRoot = path.join(fs.mountpoint, 'docker');
  const socket = path.join(run, 'd.sock');
  await mkdir(run, { recursive: true });
  await mkdir(dataRoot, { recursive: true });
  const daemon = execa(
    'dockerd',
    [
      '--data-root',
      dataRoot,
      '--exec-root',
      path.join(run, 'x'),
      '--host',
      `unix://${socket}`,
      '--pidfile',
      path.join(run, 'd.pid'),
      '--storage-driver',
      driver,
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
      '--shutdown-timeout',
      '1',
    ],
    { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: { file: path.join(fs.dir, 'dockerd.log') } },
  );
  const pid = daemon.pid ?? -1;
  const host = `unix://${socket}`;
  const docker = async (args: readonly string[], opts: { input?: string } = {}) => {
    const res = await execa(DOCKER_CLI, ['-H', host, ...args], {
      reject: false,
      input: opts.input,
      env: { DOCKER_BUILDKIT: '1' },
      timeout: 180_000,
    });
    if (res.exitCode !== 0) throw new Error(`docker ${args.join(' ')}: ${String(res.stderr).slice(-1500)}`);
    return String(res.stdout);
  };
  const sandbox: DockerSandbox = {
    driver,
    socket,
    host,
    dataRoot,
    fs,
    pid,
    docker,
    buildImage: (tag, extra = [], files = {}) => buildImage(docker, fs.dir, tag, extra, files),
    stop: () => stopSandbox(daemon, fs, host),
  };
  try {
    await waitForPing(daemon, host, path.join(fs.dir, 'dockerd.log'));
  } catch (err) {
    await sandbox.stop();
    throw err;
  }
  return sandbox;
}

async function waitForPing(daemon: ResultPromise, host: string, log: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (daemon.exitCode !== null && daemon.exitCode !== undefined) break;
    const res = await execa(DOCKER_CLI, ['-H', host, 'version', '--format', '{{.Server.Version}}'], {
      reject: false,
      timeout: 5000,
    });
    if (res.exitCode === 0) return;
    await sleep(200);
  }
  const tail = await readFile(log, 'utf8').catch(() => '');
  throw new Error(`dockerd did not come up:\n${tail.slice(-3000)}`);
}

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

/** Kill the daemon and whatever it started (containerd, shims, containers) by pid, then unmount. */
async function stopSandbox(daemon: ResultPromise, fs: LoopFs, host: string): Promise<void> {
  if (daemon.exitCode === null || daemon.exitCode === undefined) {
    // Kill containers first: once their shims are gone they would live on,
    // orphaned, pinning the loop filesystem through their mount namespace.
    const running = await execa(DOCKER_CLI, ['-H', host, 'ps', '-q'], { reject: false, timeout: 10_000 });
    const ids = String(running.stdout ?? '')
      .split('\n')
      .filter(Boolean);
    if (ids.length) await execa(DOCKER_CLI, ['-H', host, 'kill', ...ids], { reject: false, timeout: 20_000 });
    daemon.kill('SIGTERM');
    const exited = await Promise.race([daemon.then(() => true), sleep(20_000).then(() => false)]);
    if (!exited) daemon.kill('SIGKILL');
    await daemon.catch(() => undefined);
  }
  await killProcessesMentioning(fs.dir);
  await killProcessesMountedOn(fs.dir);
  // Container rootfs mounts under the data root, netns mounts under the exec root.
  await unmountUnder(fs.dir);
  await fs.cleanup();
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
