import { execa } from 'execa';
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mountFor, parseMountinfoBytes } from '../../src/parse/mountinfo.js';
import { getMountTable } from '../../src/probes/mountinfo.js';
import { pathsCannotHang } from '../../src/probes/files-in-process.js';
import { lookupCannotHang, pathLookupCannotHang, walkPath } from '../../src/host/safe-lookup.js';
import { execRunner } from '../../src/host/exec.js';
import { measurePath, measurePathInProcess } from '../../src/probes/statfs.js';
import { useScratchDir } from '../helpers/scratch.js';

// Hand-written in the kernel's mountinfo format (no NFS server here): /, /run, an NFS export, a FUSE mount under /run, a tmpfs on the NFS mount.
// A real FUSE mount (bindfs, stopped) is in test/integration/stuck-mount.test.ts.
const TABLE = parseMountinfoBytes(
  Buffer.from(
    [
      '23 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
      '24 23 0:22 / /run rw,nosuid,nodev - tmpfs tmpfs rw,size=815276k,mode=755',
      '61 23 0:50 / /mnt/nfs rw,relatime - nfs4 10.0.0.5:/export rw,vers=4.2',
      '62 24 0:51 / /run/user/1000/gvfs rw,nosuid,nodev - fuse.gvfsd-fuse gvfsd-fuse rw,user_id=1000',
      '63 61 0:52 / /mnt/nfs/ram rw - tmpfs tmpfs rw',
    ].join('\n'),
  ),
);

describe('mountFor and lookupCannotHang', () => {
  it('take the longest mount point that covers the path', () => {
    expect(mountFor(TABLE, '/var/run/docker.sock')?.mountpoint).toBe('/');
    expect(mountFor(TABLE, '/run/docker.sock')?.fstype).toBe('tmpfs');
    expect(mountFor(TABLE, '/run')?.fstype).toBe('tmpfs');
    expect(mountFor(TABLE, '/runner/x')?.mountpoint).toBe('/');
    expect(mountFor(TABLE, '/mnt/nfs/docker.sock')?.fstype).toBe('nfs4');
    expect(mountFor(TABLE, '/mnt/nfs/ram/docker.sock')?.fstype).toBe('tmpfs');
    expect(mountFor(TABLE, '/run/user/1000/gvfs/x')?.fstype).toBe('fuse.gvfsd-fuse');
  });

  it('trust / and memory filesystems only', () => {
    expect(TABLE.map((m) => [m.mountpoint, lookupCannotHang(m)])).toEqual([
      ['/', true],
      ['/run', true],
      ['/mnt/nfs', false],
      ['/run/user/1000/gvfs', false],
      ['/mnt/nfs/ram', true],
    ]);
    expect(lookupCannotHang(undefined)).toBe(false);
  });

  it('refuse the socket on an NFS mount without looking at it (/mnt/nfs does not exist here)', async () => {
    expect(await pathLookupCannotHang('/mnt/nfs/docker.sock', TABLE)).toBe(false);
    expect(await pathLookupCannotHang('relative/docker.sock', TABLE)).toBe(false);
  });
});

describe('pathLookupCannotHang on this machine', () => {
  let dir = '';
  useScratchDir('pf-sock-', (d) => {
    dir = d;
  });

  it('follows symlinks name by name: one into an NFS mount is refused, one that stays on / is not', async () => {
    const table = [...(await getMountTable()), ...TABLE.slice(2, 3)];
    await symlink('/mnt/nfs/docker.sock', path.join(dir, 'far.sock'));
    await symlink(path.join(dir, 'near'), path.join(dir, 'near.sock'));
    await symlink('../pf-x/../x.sock', path.join(dir, 'relative.sock'));
    expect(await pathLookupCannotHang(path.join(dir, 'far.sock'), table)).toBe(false);
    expect(await pathLookupCannotHang(path.join(dir, 'near.sock'), table)).toBe(true);
    expect(await pathLookupCannotHang(path.join(dir, 'relative.sock'), table)).toBe(true);
  });

  it('gives up on a symlink loop', async () => {
    await symlink(path.join(dir, 'b'), path.join(dir, 'a'));
    await symlink(path.join(dir, 'a'), path.join(dir, 'b'));
    expect(await pathLookupCannotHang(path.join(dir, 'a'), await getMountTable())).toBe(false);
  });

  it('refuses when a mount point is not UTF-8 (it cannot be compared here)', async () => {
    const raw = parseMountinfoBytes(
      Buffer.concat([Buffer.from('70 23 0:60 / /mnt/'), Buffer.from([0xff]), Buffer.from(' rw - tmpfs tmpfs rw\n')]),
    );
    expect(raw[0]?.rawMountpoint).toBeDefined();
    expect(await pathLookupCannotHang('/var/run/docker.sock', [...TABLE, ...raw])).toBe(false);
  });
});

describe('measurePathInProcess', () => {
  it('measures a path on / as the child does (stat -f), and leaves a path on another mount to the child', async () => {
    const table = await getMountTable();
    const inProcess = await measurePathInProcess('/usr/bin', table);
    const child = await measurePath(execRunner, '/usr/bin', 5000);
    if (inProcess?.kind !== 'ok' || child.kind !== 'ok')
      throw new Error(`not measured: ${JSON.stringify([inProcess, child])}`);
    expect(inProcess.realpath).toBe(child.realpath);
    expect(inProcess.statfs.frsize).toBe(child.statfs.frsize);
    expect(inProcess.statfs.blocks).toBe(child.statfs.blocks);
    expect(inProcess.statfs.files).toBe(child.statfs.files);
    // Free space moves between the two calls; not by more than a few MiB on an idle disk.
    expect(Math.abs(inProcess.statfs.bavail - child.statfs.bavail) * inProcess.statfs.frsize).toBeLessThan(
      64 * 1024 * 1024,
    );
    const other = table.find(
      (m) =>
        m.mountpoint !== '/' &&
        !['tmpfs', 'devtmpfs', 'ramfs', 'proc', 'sysfs'].includes(m.fstype) &&
        m.rawMountpoint === undefined,
    );
    if (other) expect(await measurePathInProcess(other.mountpoint, table)).toBeNull();
    expect(await measurePathInProcess('/nonexistent/x', table)).toEqual({
      kind: 'missing',
      path: '/nonexistent/x',
      reason: 'No such file or directory',
    });
  });
});

describe('walkPath, where its reading could part from the kernel’s', () => {
  let dir = '';
  useScratchDir('pf-walk-', (d) => {
    dir = d;
  });

  it('says Not a directory past a file, as realpath does (a trailing slash, `..` after a file)', async () => {
    const table = await getMountTable();
    await writeFile(path.join(dir, 'f'), 'x');
    expect(walkPath(path.join(dir, 'f/'), table)).toEqual({ kind: 'missing', reason: 'Not a directory' });
    expect(walkPath(`${path.join(dir, 'f')}/..`, table)).toEqual({ kind: 'missing', reason: 'Not a directory' });
    expect(walkPath(path.join(dir, 'f'), table)).toEqual({ kind: 'resolved', realpath: path.join(dir, 'f') });
  });

  it('does not follow a symlink whose target is not UTF-8, nor enter /proc (its magic links lead elsewhere than their text)', async () => {
    const table = await getMountTable();
    const link = path.join(dir, 'odd');
    // The target's last byte is 0xff: not UTF-8.
    await execa('sh', ['-c', 'ln -s "$(printf "%s/\\377" "$1")" "$2"', 'sh', dir, link]);
    expect(walkPath(link, table)).toEqual({ kind: 'unsafe' });
    expect(walkPath('/proc/self/root/etc', table)).toEqual({ kind: 'unsafe' });
  });

  it('leaves a file that is itself a mount point (a single-file bind mount) to the child', async () => {
    const table0 = await getMountTable();
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    await writeFile(a, 'a');
    await writeFile(b, 'b');
    expect(pathsCannotHang([b], table0)).toBe(true);
    await execa('mount', ['--bind', a, b]);
    try {
      expect(pathsCannotHang([b], await getMountTable())).toBe(false);
      expect(pathsCannotHang([a], await getMountTable())).toBe(true);
    } finally {
      await execa('umount', ['-l', b]);
    }
  });
});
