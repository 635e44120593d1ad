/**
 * Where a containerd keeps its data, from what its process shows: its
 * arguments, its config file (TOML, parsed by the caller), the unix sockets
 * it listens on. Pure; the probe reads procfs and the config.
 */

/** containerd's defaults (containerd/defaults/defaults_unix.go). */
export const DEFAULT_CONTAINERD_ROOT = '/var/lib/containerd';
export const DEFAULT_CONTAINERD_CONFIG = '/etc/containerd/config.toml';

/** `/proc/<pid>/cmdline`: NUL-separated arguments. */
export function parseCmdline(bytes: Buffer): string[] {
  const args = bytes.toString('utf8').split('\0');
  if (args.at(-1) === '') args.pop();
  return args;
}

/** The value of a flag given as `--name value`, `--name=value`, `-name value` or a short alias. */
function flagValue(args: readonly string[], names: readonly string[]): string | null {
  let found: string | null = null;
  for (let i = 1; i < args.length; i += 1) {
    const arg = args[i]!;
    for (const name of names) {
      if (arg === name && i + 1 < args.length) found = args[i + 1]!;
      else if (arg.startsWith(`${name}=`)) found = arg.slice(name.length + 1);
    }
  }
  return found;
}

/** `containerd --config /var/run/docker/containerd/containerd.toml` (the one dockerd manages) or the default config. */
export function containerdConfigPath(args: readonly string[]): string {
  return flagValue(args, ['--config', '-config', '-c']) ?? DEFAULT_CONTAINERD_CONFIG;
}

/** The root: `--root` wins over the config's `root`, which wins over the default. */
export function containerdRoot(args: readonly string[], config: unknown): string {
  const flag = flagValue(args, ['--root', '-root']);
  if (flag) return flag;
  const root = config && typeof config === 'object' ? (config as Record<string, unknown>).root : undefined;
  return typeof root === 'string' && root.startsWith('/') ? root : DEFAULT_CONTAINERD_ROOT;
}

/**
 * Inodes of the unix sockets bound at `socketPath`, from /proc/net/unix. Sample:
 * `0000000000000000: 00000002 00000000 00010000 0001 01 123456 /run/containerd/containerd.sock`
 * (a path with a newline would break the line: such a socket is simply not found).
 */
export function socketInodes(procNetUnix: string, socketPath: string): Set<string> {
  const inodes = new Set<string>();
  for (const line of procNetUnix.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 8 && fields.slice(7).join(' ') === socketPath && /^\d+$/.test(fields[6]!))
      inodes.add(fields[6]!);
  }
  return inodes;
}

/** An fd link of a socket: `socket:[123456]`. */
export function socketInodeOfLink(link: string): string | null {
  return /^socket:\[(\d+)\]$/.exec(link)?.[1] ?? null;
}

/**
 * containerd's root from the mount table, when its process cannot be seen:
 * a running container's overlay names its layers in lowerdir, e.g.
 * `lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/12/fs`.
 */
export function containerdRootFromMounts(
  superOptions: readonly (readonly string[])[],
  snapshotter: string,
): string | null {
  const marker = `/io.containerd.snapshotter.v1.${snapshotter}/snapshots/`;
  for (const options of superOptions)
    for (const option of options) {
      if (!/^(lowerdir|upperdir)=/.test(option)) continue;
      for (const dir of option.slice(option.indexOf('=') + 1).split(':')) {
        const at = dir.indexOf(marker);
        if (at > 0) return dir.slice(0, at);
      }
    }
  return null;
}
