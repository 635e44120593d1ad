import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/args.js';
import { parseSize } from '../../src/config/value-parsers.js';
import { attribute, pressureRatio } from '../../src/model/attribution.js';
import { findFindings, tiers } from '../../src/model/findings.js';
import type { FilesystemRow } from '../../src/model/filesystems.js';
import { assessGuard } from '../../src/commands/guard.js';
import { parseContainerLogListing } from '../../src/parse/container-logs.js';
import { parseSystemDf } from '../../src/parse/docker-df.js';
import { parseInfo, parseVersion } from '../../src/parse/docker-engine.js';
import { biggestDirectories, parseDu } from '../../src/parse/du.js';
import { formatBytes } from '../../src/text/bytes.js';
import { buildDockerStorage } from '../../src/model/docker-storage.js';
import { fixture } from '../helpers/fixtures.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function row(over: Partial<FilesystemRow>): FilesystemRow {
  return {
    mountpoint: '/var/lib/docker',
    device: '/dev/sda1',
    fstype: 'ext4',
    deviceNumber: '8:1',
    readonly: false,
    stuck: false,
    roles: ['docker-data-root'],
    paths: ['/var/lib/docker'],
    sizeBytes: 100 * GiB,
    usedBytes: 50 * GiB,
    availBytes: 45 * GiB,
    reservedBytes: 5 * GiB,
    usedPct: 53,
    inodesUsedPct: 10,
    ...over,
  };
}

/** The captured overlay2 scenario, as the Docker section models it. */
const docker = buildDockerStorage({
  source: 'api',
  endpoint: 'x',
  engine: parseInfo(
    JSON.parse(fixture('docker/overlay2-20.10/info.json.txt')),
    parseVersion(JSON.parse(fixture('docker/overlay2-20.10/version.json.txt'))),
  ),
  df: parseSystemDf(JSON.parse(fixture('docker/overlay2-20.10/system-df.json.txt'))),
  dfProblem: null,
  logs: parseContainerLogListing(fixture('docker/overlay2-20.10/logs-listing.txt')),
  logsReason: null,
  danglingRepository: {},
  nowSeconds: 0,
});

describe('attribute', () => {
  it("splits used bytes into Docker's categories, largest first, the rest outside Docker", () => {
    const used = 400 * MiB;
    const a = attribute(row({ usedBytes: used }), docker, null, { dataRoot: true, containerdRoot: false }, null);
    const kinds = a.sources.map((s) => s.kind);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'images',
        'dangling-images',
        'containers',
        'container-logs',
        'volumes',
        'build-cache',
        'outside-docker',
      ]),
    );
    for (let i = 1; i < a.sources.length; i += 1)
      expect(a.sources[i - 1]!.bytes).toBeGreaterThanOrEqual(a.sources[i]!.bytes);
    const sum = a.sources.reduce((acc, s) => acc + s.bytes, 0);
    expect(sum).toBe(used);
    expect(a.unattributedBytes).toBe(0);
    expect(a.sources.find((s) => s.kind === 'containers')!.bytes).toBe(50 * MiB);
    expect(a.sources.find((s) => s.kind === 'volumes')!.bytes).toBe(30 * MiB);
    expect(a.sources.find((s) => s.kind === 'container-logs')!.bytes).toBe(docker.logs.totalBytes);
  });

  it('never lets outside-docker go negative, and shows the overshoot instead', () => {
    const a = attribute(row({ usedBytes: 10 * MiB }), docker, null, { dataRoot: true, containerdRoot: false }, null);
    expect(a.sources.find((s) => s.kind === 'outside-docker')!.bytes).toBe(0);
    expect(a.unattributedBytes).toBeLessThan(0);
  });

  it('counts nothing for Docker when its data root is on another filesystem', () => {
    const a = attribute(
      row({ mountpoint: '/', roles: ['root'] }),
      docker,
      null,
      { dataRoot: false, containerdRoot: false },
      null,
    );
    expect(a.sources).toHaveLength(1);
    expect(a.sources[0]).toMatchObject({ kind: 'outside-docker', bytes: 50 * GiB });
  });

  it('keeps the pressure ratio unclamped', () => {
    expect(pressureRatio(row({ usedBytes: 90, availBytes: 10 }))).toBe(0.9);
    expect(pressureRatio(row({ usedBytes: 120, availBytes: -20 }))).toBe(1.2);
  });
});

describe('findings', () => {
  const f = (usedPct: number, over: Partial<FilesystemRow> = {}) =>
    findFindings([row({ usedPct, ...over })], null, [], null, { diskHighPct: 80 }, formatBytes).map(
      (x) => `${x.severity} ${x.name}`,
    );

  it('tiers around the configured threshold', () => {
    expect(tiers({ diskHighPct: 80 })).toEqual({ warn: 70, high: 80, critical: 90 });
    expect(f(69)).toEqual([]);
    expect(f(70)).toEqual(['P4 disk-warning']);
    expect(f(80)).toEqual(['P4 disk-warning']);
    expect(f(81)).toEqual(['P1 disk-high']);
    expect(f(91)).toEqual(['P1 disk-critical']);
  });

  it('flags inodes, read-only and stuck mounts', () => {
    expect(f(10, { inodesUsedPct: 85 })).toEqual(['P1 inodes-high']);
    expect(f(10, { readonly: true })).toEqual(['P1 filesystem-readonly']);
    expect(f(10, { stuck: true, usedPct: undefined })).toEqual(['P3 mount-stuck']);
  });

  it('names the top source in the evidence', () => {
    const a = attribute(
      row({ usedBytes: 200 * MiB, usedPct: 85 }),
      docker,
      null,
      { dataRoot: true, containerdRoot: false },
      null,
    );
    const [finding] = findFindings(
      [row({ usedBytes: 200 * MiB, usedPct: 85 })],
      a,
      [],
      null,
      { diskHighPct: 80 },
      formatBytes,
    );
    expect(finding!.evidence).toMatch(/top source: /);
    expect(finding!.action).toBe('llm');
  });
});

describe('guard threshold, to the byte', () => {
  // used + need must stay ≤ 95% of (used + avail).
  const used = 900_000;
  const avail = 100_000;
  const limit = (95 * (used + avail)) / 100 - used; // 50,000 bytes

  it('fits exactly at the threshold and refuses one byte past it', () => {
    expect(assessGuard(used, avail, limit, 95, '/m').fits).toBe(true);
    const over = assessGuard(used, avail, limit + 1, 95, '/m');
    expect(over.fits).toBe(false);
    expect(over.error).toEqual({
      error: 'DiskCapacity',
      mountpoint: '/m',
      usedBytes: used,
      capacityBytes: used + avail,
      needBytes: limit + 1,
      projectedPct: ((used + limit + 1) * 100) / (used + avail),
      maxPct: 95,
    });
  });

  it('refuses what exceeds the available space whatever the percentage', () => {
    expect(assessGuard(0, 100, 101, 100, '/m').fits).toBe(false);
  });

  it.each([
    ['12G', 12 * GiB],
    ['12GiB', 12 * GiB],
    ['500M', 500 * MiB],
    ['1.5T', 1.5 * 1024 * GiB],
    ['1048576', 1048576],
    ['2GB', 2e9],
    ['10k', 10240],
  ])('parseSize(%s)', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([['12X'], ['-5G'], [''], ['G']])('rejects %j', (text) => {
    expect(() => parseSize(text)).toThrow(/--need must be a size/);
  });

  it('parses the guard command line', () => {
    expect(parseCliArgs(['guard', '--path', '/var/lib/docker', '--need', '12G'])).toMatchObject({
      command: 'guard',
      paths: ['/var/lib/docker'],
      needBytes: 12 * GiB,
      maxPct: 95,
    });
    expect(() => parseCliArgs(['guard', '--need', '1G'])).toThrow(/exactly one --path/);
    expect(() => parseCliArgs(['guard', '--path', '/'])).toThrow(/--need/);
    expect(() => parseCliArgs(['--need', '1G'])).toThrow(/belongs to 'preflight guard'/);
  });
});

describe('du parsing', () => {
  it('keeps NUL-separated records whole and ranks first-level directories with their biggest child', () => {
    const text = [
      '5000\t/srv/a\n## b',
      '3000\t/srv/a\n## b/big',
      '9000\t/srv/c',
      '8000\t/srv/c/x',
      '1000\t/srv/c/y',
      '15000\t/srv',
      '',
    ].join('\0');
    const entries = parseDu(text);
    expect(entries).toHaveLength(6);
    expect(biggestDirectories(entries, '/srv')).toEqual([
      { path: '/srv/c', bytes: 9000, largestChild: { bytes: 8000, path: '/srv/c/x' } },
      { path: '/srv/a\n## b', bytes: 5000, largestChild: { bytes: 3000, path: '/srv/a\n## b/big' } },
    ]);
  });
});

describe('review fixes', () => {
  it('keeps the critical tier at or above the threshold', () => {
    expect(tiers({ diskHighPct: 97 })).toEqual({ warn: 87, high: 97, critical: 97 });
    expect(tiers({ diskHighPct: 50 })).toEqual({ warn: 40, high: 50, critical: 90 });
  });

  it('never names unused btrfs chunks (not part of used) as the top source or its clean-up', () => {
    const a = attribute(
      row({ usedBytes: 200 * MiB, usedPct: 85 }),
      docker,
      null,
      { dataRoot: true, containerdRoot: false },
      null,
    );
    a.sources.unshift({
      kind: 'btrfs-unused-chunks',
      label: 'chunks',
      bytes: 10 * GiB,
      reclaimableBytes: 10 * GiB,
      countsInUsed: false,
    });
    const [finding] = findFindings(
      [row({ usedBytes: 200 * MiB, usedPct: 85 })],
      a,
      [],
      null,
      { diskHighPct: 80 },
      formatBytes,
    );
    expect(finding!.evidence).not.toMatch(/chunks/);
  });

  it('rejects trend flags that make no sense', () => {
    expect(() => parseCliArgs(['trend', '--no-journal'])).toThrow(/nothing to read/);
    expect(() => parseCliArgs(['trend', '--format', 'fired'])).toThrow(/recipe gate/);
    expect(parseCliArgs(['trend', '--days', '3'])).toMatchObject({ command: 'trend', trendDays: 3 });
  });
});
