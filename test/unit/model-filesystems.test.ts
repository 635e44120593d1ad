import { describe, expect, it } from 'vitest';
import { buildFilesystemModel, canonicalMount, realMounts, summaryRow } from '../../src/model/filesystems.js';
import { mountFor, parseMountinfo } from '../../src/parse/mountinfo.js';
import { fixture } from '../helpers/fixtures.js';

const table = parseMountinfo(fixture('mountinfo/docker-overlay2-hostile.txt'));
const statfs = { frsize: 4096, blocks: 1000, bfree: 400, bavail: 350, files: 100, ffree: 90 };

describe('mountFor', () => {
  it('picks the longest mountpoint that holds the path', () => {
    expect(mountFor(table, '/tmp/dd/mnt/data/volumes/x')?.mountpoint).toBe('/tmp/dd/mnt/data');
    expect(mountFor(table, '/tmp/dd/mnt/other')?.mountpoint).toBe('/tmp/dd/mnt');
    expect(mountFor(table, '/etc/passwd')?.mountpoint).toBe('/');
  });

  it('does not treat a sibling with a common prefix as a parent', () => {
    expect(mountFor(table, '/tmp/dd/mntx')?.mountpoint).toBe('/');
  });

  it('lets the last of stacked mounts win', () => {
    const stacked = parseMountinfo(
      '1 0 8:1 / / rw - ext4 /dev/a rw\n2 1 8:2 / /m rw - ext4 /dev/b rw\n3 1 8:3 / /m rw - xfs /dev/c rw\n',
    );
    expect(mountFor(stacked, '/m/f')?.source).toBe('/dev/c');
  });
});

describe('canonicalMount', () => {
  it("names a filesystem by the mount of its root, not dockerd's self-bind of the data root", () => {
    const bind = table.find((m) => m.mountpoint === '/tmp/dd/mnt/data')!;
    expect(bind.root).toBe('/data');
    expect(canonicalMount(table, bind).mountpoint).toBe('/tmp/dd/mnt');
  });

  it('keeps a bind mount when the root of its filesystem is not mounted here', () => {
    const only = parseMountinfo('1 0 8:1 / / rw - ext4 /dev/a rw\n2 1 8:2 /sub /m rw - ext4 /dev/b rw\n');
    expect(canonicalMount(only, only[1]!).mountpoint).toBe('/m');
  });
});

describe('realMounts', () => {
  it("drops pseudo filesystems, Docker's overlay mounts and repeated devices", () => {
    const points = realMounts(table).map((m) => m.mountpoint);
    expect(points).toContain('/');
    expect(points).toContain('/tmp/dd/mnt');
    expect(points).not.toContain('/tmp/dd/mnt/data'); // same device as /tmp/dd/mnt
    expect(points.some((p) => p.startsWith('/proc') || p.startsWith('/sys') || p.endsWith('/merged'))).toBe(false);
    expect(
      realMounts(table).every((m) => !['proc', 'sysfs', 'cgroup', 'overlay', 'nsfs', 'devpts'].includes(m.fstype)),
    ).toBe(true);
  });
});

describe('buildFilesystemModel', () => {
  it('merges targets on one device into one row and keeps missing paths apart', () => {
    const model = buildFilesystemModel(
      table,
      [
        { path: '/', role: 'root' },
        { path: '/etc', role: 'path' },
        { path: '/nope', role: 'path' },
      ],
      [
        { kind: 'ok', path: '/', realpath: '/', statfs },
        { kind: 'ok', path: '/etc', realpath: '/etc', statfs },
        { kind: 'missing', path: '/nope', reason: 'No such file or directory' },
      ],
    );
    expect(model.filesystems).toHaveLength(1);
    expect(model.filesystems[0]).toMatchObject({
      mountpoint: '/',
      roles: ['root', 'path'],
      paths: ['/', '/etc'],
      usedBytes: 600 * 4096,
    });
    expect(model.unmeasured).toEqual([{ path: '/nope', role: 'path', reason: 'No such file or directory' }]);
  });

  it('resolves symlinked paths through their realpath', () => {
    const model = buildFilesystemModel(
      table,
      [{ path: '/srv/link', role: 'path' }],
      [{ kind: 'ok', path: '/srv/link', realpath: '/tmp/dd/mnt/data/x', statfs }],
    );
    // Named by the filesystem's own mount, not dockerd's bind of its data root.
    expect(model.filesystems[0]?.mountpoint).toBe('/tmp/dd/mnt');
  });

  it('marks a stuck mount with no figures and falls back to / for the summary', () => {
    const model = buildFilesystemModel(
      table,
      [
        { path: '/', role: 'root' },
        { path: '/tmp/dd/mnt/data', role: 'docker-data-root' },
      ],
      [
        { kind: 'ok', path: '/', realpath: '/', statfs },
        { kind: 'stuck', path: '/tmp/dd/mnt/data', reason: 'statfs gave no answer in 5 s' },
      ],
    );
    const stuck = model.filesystems.find((r) => r.stuck);
    expect(stuck).toMatchObject({ mountpoint: '/tmp/dd/mnt', problem: 'statfs gave no answer in 5 s' });
    expect(stuck?.sizeBytes).toBeUndefined();
    expect(summaryRow(model)?.mountpoint).toBe('/');
  });

  it('takes the figures from whichever path on a device answered, and summarises the docker data root', () => {
    const model = buildFilesystemModel(
      table,
      [
        { path: '/', role: 'root' },
        { path: '/tmp/dd/mnt/data', role: 'docker-data-root' },
        { path: '/tmp/dd/mnt/data/v', role: 'path' },
      ],
      [
        { kind: 'ok', path: '/', realpath: '/', statfs },
        { kind: 'stuck', path: '/tmp/dd/mnt/data', reason: 'statfs gave no answer in 5 s' },
        { kind: 'ok', path: '/tmp/dd/mnt/data/v', realpath: '/tmp/dd/mnt/data/v', statfs: { ...statfs, blocks: 2000 } },
      ],
    );
    const data = model.filesystems.find((r) => r.deviceNumber === '7:0');
    expect(data).toMatchObject({ stuck: false, sizeBytes: 2000 * 4096, roles: ['docker-data-root', 'path'] });
    expect(summaryRow(model)?.mountpoint).toBe('/tmp/dd/mnt');
  });
});
