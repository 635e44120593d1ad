import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMountinfoBytes } from '../../src/parse/mountinfo.js';
import { getMountTable } from '../../src/probes/mountinfo.js';
import { lookupCannotHang, mountOf, socketLookupCannotHang } from '../../src/probes/socket-path.js';
import { useScratchDir } from '../helpers/scratch.js';

// Hand-written in the kernel's mountinfo format (no NFS server here): /, /run, an NFS export, a FUSE mount under /run, a tmpfs on the NFS mount.
// A real FUSE mount (bindfs, stopped) is in test/integration/stuck-mount.test.ts.
const TABLE = parseMountinfoBytes(Buffer.from([
  '23 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '24 23 0:22 / /run rw,nosuid,nodev - tmpfs tmpfs rw,size=815276k,mode=755',
  '61 23 0:50 / /mnt/nfs rw,relatime - nfs4 10.0.0.5:/export rw,vers=4.2',
  '62 24 0:51 / /run/user/1000/gvfs rw,nosuid,nodev - fuse.gvfsd-fuse gvfsd-fuse rw,user_id=1000',
  '63 61 0:52 / /mnt/nfs/ram rw - tmpfs tmpfs rw',
].join('\n')));

describe('mountOf and lookupCannotHang', () => {
  it('take the longest mount point that covers the path', () => {
    expect(mountOf('/var/run/docker.sock', TABLE)?.mountpoint).toBe('/');
    expect(mountOf('/run/docker.sock', TABLE)?.fstype).toBe('tmpfs');
    expect(mountOf('/run', TABLE)?.fstype).toBe('tmpfs');
    expect(mountOf('/runner/x', TABLE)?.mountpoint).toBe('/');
    expect(mountOf('/mnt/nfs/docker.sock', TABLE)?.fstype).toBe('nfs4');
    expect(mountOf('/mnt/nfs/ram/docker.sock', TABLE)?.fstype).toBe('tmpfs');
    expect(mountOf('/run/user/1000/gvfs/x', TABLE)?.fstype).toBe('fuse.gvfsd-fuse');
  });

  it('trust / and memory filesystems only', () => {
    expect(TABLE.map((m) => [m.mountpoint, lookupCannotHang(m)])).toEqual([
      ['/', true], ['/run', true], ['/mnt/nfs', false], ['/run/user/1000/gvfs', false], ['/mnt/nfs/ram', true],
    ]);
    expect(lookupCannotHang(undefined)).toBe(false);
  });

  it('refuse the socket on an NFS mount without looking at it (/mnt/nfs does not exist here)', async () => {
    expect(await socketLookupCannotHang('/mnt/nfs/docker.sock', TABLE)).toBe(false);
    expect(await socketLookupCannotHang('relative/docker.sock', TABLE)).toBe(false);
  });
});

describe('socketLookupCannotHang on this machine', () => {
  let dir = '';
  useScratchDir('pf-sock-', (d) => { dir = d; });

  it('follows symlinks name by name: one into an NFS mount is refused, one that stays on / is not', async () => {
    const table = [...(await getMountTable()), ...TABLE.slice(2, 3)];
    await symlink('/mnt/nfs/docker.sock', path.join(dir, 'far.sock'));
    await symlink(path.join(dir, 'near'), path.join(dir, 'near.sock'));
    await symlink('../pf-x/../x.sock', path.join(dir, 'relative.sock'));
    expect(await socketLookupCannotHang(path.join(dir, 'far.sock'), table)).toBe(false);
    expect(await socketLookupCannotHang(path.join(dir, 'near.sock'), table)).toBe(true);
    expect(await socketLookupCannotHang(path.join(dir, 'relative.sock'), table)).toBe(true);
  });

  it('gives up on a symlink loop', async () => {
    await symlink(path.join(dir, 'b'), path.join(dir, 'a'));
    await symlink(path.join(dir, 'a'), path.join(dir, 'b'));
    expect(await socketLookupCannotHang(path.join(dir, 'a'), await getMountTable())).toBe(false);
  });

  it('refuses when a mount point is not UTF-8 (it cannot be compared here)', async () => {
    const raw = parseMountinfoBytes(Buffer.concat([Buffer.from('70 23 0:60 / /mnt/'), Buffer.from([0xff]), Buffer.from(' rw - tmpfs tmpfs rw\n')]));
    expect(raw[0]?.rawMountpoint).toBeDefined();
    expect(await socketLookupCannotHang('/var/run/docker.sock', [...TABLE, ...raw])).toBe(false);
  });
});
