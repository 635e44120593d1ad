import { describe, expect, it } from 'vitest';
import type { FilesystemData, FilesystemRow, UnmeasuredPath } from '../../src/model/filesystems.js';
import { dfReserveMs, phaseReserveMs, renderReserveMs } from '../../src/host/budget.js';
import { filesystemSection, tableOrder } from '../../src/sections/filesystem.js';
import { pressureMarkdown } from '../../src/sections/pressure/markdown.js';

describe('budget split', () => {
  it('keeps the fixed reserves at the default 60 s budget', () => {
    expect(renderReserveMs(60_000)).toBe(300);
    expect(phaseReserveMs(59_700)).toBe(2000);
    expect(dfReserveMs(50_000)).toBe(1500);
  });

  it('shrinks them with a small budget, so the work gets most of it', () => {
    expect(renderReserveMs(1000)).toBe(100);
    expect(phaseReserveMs(900)).toBe(50);
    expect(phaseReserveMs(4000)).toBe(200);
    expect(dfReserveMs(700)).toBe(210);
    // --budget 1: render, three later phases, then the docker reserve still leave /system/df over half.
    const phase0 = 1000 - renderReserveMs(1000) - 3 * phaseReserveMs(1000 - renderReserveMs(1000));
    expect(phase0 - dfReserveMs(phase0)).toBeGreaterThan(500);
  });
});

const GiB = 1024 ** 3;

function row(i: number, over: Partial<FilesystemRow> = {}): FilesystemRow {
  return {
    mountpoint: `/m/${i}`,
    device: `dev${i}`,
    fstype: 'ext4',
    deviceNumber: `9:${i}`,
    readonly: false,
    stuck: false,
    roles: ['mount'],
    paths: [`/m/${i}`],
    sizeBytes: 100 * GiB,
    usedBytes: i * GiB,
    availBytes: (100 - i) * GiB,
    reservedBytes: 0,
    usedPct: i,
    inodesUsedPct: 1,
    ...over,
  };
}

describe('Filesystem markdown on a host with hundreds of filesystems', () => {
  const root = row(3, { mountpoint: '/', roles: ['root'] });
  const dataRoot = row(5, { mountpoint: '/var/lib/docker', roles: ['docker-data-root'] });
  const stuck = row(0, {
    mountpoint: '/nfs',
    stuck: true,
    problem: 'statfs gave no answer in 5 s',
    sizeBytes: undefined,
    usedPct: undefined,
  });
  const many = Array.from({ length: 40 }, (_, i) => row(10 + i));
  const unmeasured: UnmeasuredPath[] = Array.from({ length: 8 }, (_, i) => ({
    path: `/gone/${i}`,
    role: 'path',
    reason: 'No such file or directory',
  }));
  const data: FilesystemData = {
    filesystems: [...many, stuck, root, dataRoot],
    unmeasured,
    docker: { path: '/var/lib/docker', source: 'api', driver: 'overlay2', unreachable: null },
  };

  it('orders the Disk row, the data root and /, stuck mounts, then fullest first', () => {
    const order = tableOrder(data).map((r) => r.mountpoint);
    expect(order.slice(0, 6)).toEqual(['/var/lib/docker', '/', '/nfs', '/m/49', '/m/48', '/m/47']);
    expect(order).toHaveLength(43);
    // With no daemon the Disk line is about /, which then leads.
    expect(tableOrder({ ...data, filesystems: [many[0]!, root] }).map((r) => r.mountpoint)).toEqual(['/', '/m/10']);
  });

  it('caps the table at 20 rows and the Not measured lines at 5, with what was left out', () => {
    const lines = filesystemSection.markdown(data);
    expect(lines.filter((l) => l.startsWith('| /'))).toHaveLength(20);
    expect(lines).toContain('… and 23 more filesystems (see --format json)');
    expect(lines.filter((l) => l.startsWith('Not measured: '))).toHaveLength(5);
    expect(lines.at(-1)).toBe('… and 3 more not measured');
    expect(lines[0]).toBe('Disk: 5% used (5.0 GiB/100.0 GiB on /var/lib/docker)');
  });

  it('leaves a small host as it was', () => {
    const lines = filesystemSection.markdown({
      ...data,
      filesystems: [root, dataRoot],
      unmeasured: unmeasured.slice(0, 1),
    });
    expect(lines.some((l) => l.startsWith('…'))).toBe(false);
    expect(lines.filter((l) => l.startsWith('Not measured: '))).toHaveLength(1);
  });
});

describe('Pressure line', () => {
  const line = (n: number) =>
    pressureMarkdown({
      attribution: null,
      containerdAttribution: null,
      outsideDocker: null,
      outsideDockerProblem: null,
      largestFiles: null,
      deletedOpen: null,
      findings: [],
      growingObjects: [],
      objectTrends: [],
      historyKnown: true,
      pressure: Array.from({ length: n }, (_, i) => ({ mountpoint: `/m/${i}`, ratio: i / 100 })),
    }).find((l) => l.startsWith('Pressure'));

  it('names the 10 highest ratios, then how many more', () => {
    expect(line(400)).toBe(
      `Pressure (used / capacity): ${Array.from({ length: 10 }, (_, i) => `/m/${399 - i} ${((399 - i) / 100).toFixed(3)}`).join(', ')}, … and 390 more.`,
    );
    expect(line(2)).toBe('Pressure (used / capacity): /m/1 0.010, /m/0 0.000.');
  });
});
