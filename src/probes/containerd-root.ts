import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Runner } from '../host/exec.js';
import {
  containerdConfigPath,
  containerdRoot,
  containerdRootFromMounts,
  parseCmdline,
  socketInodeOfLink,
  socketInodes,
} from '../parse/containerd-process.js';
import type { MountEntry } from '../parse/mountinfo.js';
import { readProcFile } from './mountinfo.js';

/** Where the containerd behind the Docker daemon keeps its content and snapshots, and how that was learned. */
export interface ContainerdRootFound {
  /** The root as a path from here (through the process's root when it runs in a chroot or container). */
  path: string;
  /** `containerd (pid 812, config /etc/containerd/config.toml)` or `the mount table`. */
  via: string;
}

/**
 * containerd's root, from the daemon's answer (its socket's address) and
 * procfs, never assumed: the process listening on that socket, its
 * `--root` or its config's `root`; else a running container's overlay in
 * the mount table. Null when neither tells (not root: other users'
 * /proc/<pid>/fd cannot be read). procfs reads never block; the config,
 * which may lie on any disk, is read by a child under the deadline.
 */
export async function getContainerdRoot(
  run: Runner,
  address: string,
  snapshotter: string,
  mounts: readonly MountEntry[],
  timeoutMs: number,
): Promise<ContainerdRootFound | null> {
  const pid = await listenerOf(address).catch(() => null);
  if (pid !== null) {
    const args = parseCmdline(await readProcFile(`/proc/${pid}/cmdline`));
    const configPath = containerdConfigPath(args);
    const procRoot = `/proc/${pid}/root`;
    const config = await readConfig(run, path.join(procRoot, configPath), timeoutMs);
    const root = containerdRoot(args, config);
    return {
      path: await asSeenFromHere(run, procRoot, root, timeoutMs),
      via: `containerd (pid ${pid}, config ${configPath})`,
    };
  }
  const fromMounts = containerdRootFromMounts(
    mounts.filter((m) => m.fstype === 'overlay').map((m) => m.superOptions),
    snapshotter,
  );
  return fromMounts ? { path: fromMounts, via: 'the mount table (a running container’s layers)' } : null;
}

/** The pid of a containerd process holding a socket bound at `address`. */
async function listenerOf(address: string): Promise<number | null> {
  const inodes = socketInodes((await readProcFile('/proc/net/unix')).toString('utf8'), address);
  if (inodes.size === 0) return null;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readProcFile(`/proc/${entry}/comm`).catch(() => Buffer.alloc(0));
    if (comm.toString('utf8').trim() !== 'containerd') continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      const inode = socketInodeOfLink(link);
      if (inode && inodes.has(inode)) return Number(entry);
    }
  }
  return null;
}

/** The config, parsed; null when it is missing or unreadable (containerd then ran on its defaults). */
async function readConfig(run: Runner, file: string, timeoutMs: number): Promise<unknown> {
  try {
    const res = await run('cat', ['--', file], timeoutMs);
    if (res.exitCode !== 0) return null;
    const { parse } = await import('smol-toml');
    return parse(res.stdout);
  } catch {
    // Unreadable in time, or not TOML: the defaults stand, as they would for containerd.
    return null;
  }
}

/** The root as this process sees it: the same path when the process shares our root or binds the folder at the same path, else through its /proc/<pid>/root. */
async function asSeenFromHere(run: Runner, procRoot: string, root: string, timeoutMs: number): Promise<string> {
  if ((await readlink(procRoot).catch(() => '')) === '/') return root;
  const through = path.join(procRoot, root);
  // In a child: the folder may lie on any disk. Sample output: `64768:1310722\n64768:1310722`.
  const res = await run('stat', ['-L', '-c', '%d:%i', '--', through, root], timeoutMs).catch(() => null);
  const [a, b] = res?.exitCode === 0 ? res.stdout.trim().split('\n') : [];
  return a !== undefined && a === b ? root : through;
}
