import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import { parseFdListing, parseFdStats } from '../../src/parse/deleted-open.js';
import {
  deletedOpenFiles,
  deletedOpenReport,
  EMPTY_SCAN,
  heldOn,
  nameContainerLogs,
  type DeletedOpenFile,
} from '../../src/model/deleted-open.js';
import { releaseDeletedFiles } from '../../src/model/remediation/release-deleted.js';

const listing = parseFdListing(fixture('deleted-open/listing.txt'));
const stats = parseFdStats(fixture('deleted-open/stat.txt'), '\x1eCAPTURE');
const ID = '0b3d'.repeat(16);

describe('deleted files still held open, from captured /proc listings', () => {
  it('reads every link whose target ends in " (deleted)", a path holding a newline included', () => {
    expect(listing.processes).toBe(125);
    expect(listing.hidden).toBe(0);
    expect(listing.fds).toEqual([
      { pid: 17788, fd: 3, path: '/tmp/pf-cap/app\nlog.log' },
      { pid: 17788, fd: 4, path: '/tmp/pf-cap/fake' },
      { pid: 17789, fd: 3, path: '/tmp/pf-cap/app\nlog.log' },
      { pid: 17789, fd: 4, path: '/tmp/pf-cap/fake' },
    ]);
  });

  it('counts a file once however many hold it, by allocated blocks; a live file named "… (deleted)" is none', () => {
    const { files, processes } = deletedOpenFiles(listing, stats);
    expect(files).toEqual([
      {
        path: '/tmp/pf-cap/app\nlog.log',
        device: '254:0',
        inode: 2171651,
        bytes: 6144 * 512,
        sizeBytes: 3145728,
        holders: [
          { pid: 17788, fd: 3 },
          { pid: 17789, fd: 3 },
        ],
        container: null,
      },
    ]);
    expect(processes).toEqual([
      {
        pid: 17788,
        uid: 0,
        command: 'sh -c exec 3<"$0" 4<"$1"; sleep 60; : /tmp/pf-cap/app\nlog.log /tmp/pf-cap/fake (deleted)',
      },
      { pid: 17789, uid: 0, command: 'sleep 60' },
    ]);
    expect(heldOn(files, '254:0')).toBe(3145728);
    expect(heldOn(files, '7:0')).toBe(0);
  });

  it('a record cut by the deadline is no record', () => {
    const text = fixture('deleted-open/stat.txt');
    expect(parseFdStats(text.slice(0, text.lastIndexOf('sleep 60')), '\x1eCAPTURE').map((p) => p.pid)).toEqual([17788]);
  });

  const file = (path: string, device = '7:0'): DeletedOpenFile => ({
    path,
    device,
    inode: 12,
    bytes: 4096,
    sizeBytes: 4000,
    holders: [{ pid: 77, fd: 9 }],
    container: null,
  });

  it("names a container's log by its id's folder, wherever the data root is seen from", () => {
    const named = nameContainerLogs(
      [
        file(`/srv/chroot/var/lib/docker/containers/${ID}/${ID}-json.log`),
        file(`/var/lib/docker/containers/${ID}/local-logs/container.log`),
        file(`/var/lib/docker/containers/${ID}/${'1'.repeat(64)}-json.log`),
      ],
      new Map([[ID, 'web']]),
    );
    expect(named.map((f) => f.container)).toEqual([{ id: ID, name: 'web' }, { id: ID, name: 'web' }, null]);
  });

  it('places files on the measured filesystems only, with totals per filesystem', () => {
    const report = deletedOpenReport(
      {
        ...EMPTY_SCAN,
        files: [file('/a.log'), file('/dev/shm/x', '0:5')],
        processes: [{ pid: 77, uid: 0, command: 'app' }],
      },
      [{ mountpoint: '/', deviceNumber: '7:0' }],
      new Map(),
    );
    expect(report.files.map((f) => [f.path, f.mountpoint])).toEqual([['/a.log', '/']]);
    expect(report.byFilesystem).toEqual([{ mountpoint: '/', bytes: 4096, files: 1 }]);
  });

  it('the plan: a destructive step; a log is emptied through its fd, anything else waits for a restart', () => {
    expect(releaseDeletedFiles([])).toBeNull();
    const held = [file('/var/log/app.log'), { ...file('/srv/data.db'), holders: [{ pid: 5, fd: 3 }] }];
    // 4 KiB each: counted in attribution, not worth a person's step.
    expect(releaseDeletedFiles(held)).toBeNull();
    const step = releaseDeletedFiles(held, 4096)!;
    expect(step).toMatchObject({ kind: 'release-deleted-files', tier: 'destructive', expectedBytes: 8192 });
    expect(step.title).toBe('release 2 deleted files still held open by 2 processes');
    expect(step.cli).toBe('truncate -s 0 /proc/77/fd/9; ps -o pid,args -p 5');
  });
});
