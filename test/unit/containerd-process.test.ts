import { describe, expect, it } from 'vitest';
import {
  containerdConfigPath,
  containerdRoot,
  containerdRootFromMounts,
  DEFAULT_CONTAINERD_CONFIG,
  DEFAULT_CONTAINERD_ROOT,
  parseCmdline,
  socketInodeOfLink,
  socketInodes,
} from '../../src/parse/containerd-process.js';

describe("containerd's root from its process", () => {
  it("dockerd's own containerd: the config it was given names the root", () => {
    const args = parseCmdline(Buffer.from('containerd\0--config\0/var/run/docker/containerd/containerd.toml\0'));
    expect(args).toEqual(['containerd', '--config', '/var/run/docker/containerd/containerd.toml']);
    expect(containerdConfigPath(args)).toBe('/var/run/docker/containerd/containerd.toml');
    expect(containerdRoot(args, { version: 2, root: '/var/lib/docker/containerd/daemon' })).toBe(
      '/var/lib/docker/containerd/daemon',
    );
  });

  it('a system containerd on its defaults; --root wins over the config; a relative root is not taken', () => {
    expect(containerdConfigPath(['/usr/bin/containerd'])).toBe(DEFAULT_CONTAINERD_CONFIG);
    expect(containerdRoot(['/usr/bin/containerd'], null)).toBe(DEFAULT_CONTAINERD_ROOT);
    expect(containerdRoot(['containerd', '--root=/srv/c', '-c', '/etc/c.toml'], { root: '/other' })).toBe('/srv/c');
    expect(containerdConfigPath(['containerd', '-c', '/etc/c.toml'])).toBe('/etc/c.toml');
    expect(containerdRoot(['containerd'], { root: 'relative' })).toBe(DEFAULT_CONTAINERD_ROOT);
  });

  it('the socket it listens on, from /proc/net/unix and its fd links', () => {
    // Lines as /proc/net/unix prints them (a listening socket, a connected one, an unnamed one).
    const table = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 812345 /run/containerd/containerd.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03 812399 /run/containerd/containerd.sock',
      '0000000000000000: 00000002 00000000 00010000 0001 01 812346 /run/containerd/containerd.sock.ttrpc',
      '0000000000000000: 00000003 00000000 00000000 0001 03  1083',
      '0000000000000000: 00000002 00000000 00010000 0001 01 900001 /tmp/a b/c.sock',
    ].join('\n');
    expect([...socketInodes(table, '/run/containerd/containerd.sock')].sort()).toEqual(['812345', '812399']);
    expect([...socketInodes(table, '/tmp/a b/c.sock')]).toEqual(['900001']);
    expect(socketInodes(table, '/run/docker.sock').size).toBe(0);
    expect(socketInodeOfLink('socket:[812345]')).toBe('812345');
    expect(socketInodeOfLink('/dev/null')).toBeNull();
  });

  it("from the mount table, when the process cannot be seen: a running container's layers", () => {
    const options = [
      [
        'rw',
        'lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/12/fs:/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/3/fs',
        'upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/14/fs',
      ],
    ];
    expect(containerdRootFromMounts(options, 'overlayfs')).toBe('/var/lib/containerd');
    // A graph-driver layer names no snapshotter.
    expect(containerdRootFromMounts([['lowerdir=/var/lib/docker/overlay2/l/ABC']], 'overlayfs')).toBeNull();
  });
});
