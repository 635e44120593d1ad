import { describe, expect, it } from 'vitest';
import { assessBtrfs, unallocatedGuideline } from '../../src/model/btrfs.js';
import { parseBtrfsDf, parseBtrfsDfJson } from '../../src/parse/btrfs-df.js';
import { parseCompsize, parseFilesystemDu, parseQgroupShow, quotasDisabled } from '../../src/parse/btrfs-qgroup.js';
import {
  orphanSubvolumes, parseDeletedSubvolumes, parseDockerSubvolumeListing, parseSubvolumeList,
} from '../../src/parse/btrfs-subvolumes.js';
import { groupTotals, parseBtrfsUsage } from '../../src/parse/btrfs-usage.js';
import { formatBytes } from '../../src/render/bytes.js';
import { fixture, fixtureHeader } from '../helpers/fixtures.js';

const MiB = 1024 * 1024;

describe('btrfs-progs v6.2 (captured here)', () => {
  const usage = parseBtrfsUsage(fixture('btrfs/v6.2/usage-b.txt'));

  it('reads every Overall figure', () => {
    for (const key of ['deviceSize', 'deviceAllocated', 'deviceUnallocated', 'used', 'freeEstimated', 'freeEstimatedMin', 'freeStatfs', 'globalReserve'] as const) {
      expect(usage[key], key).toEqual(expect.any(Number));
    }
    expect(usage.deviceAllocated! + usage.deviceUnallocated!).toBe(usage.deviceSize);
    expect(usage).toMatchObject({ dataRatio: 1, metadataRatio: 2, multipleProfiles: false, deviceMissing: 0, deviceSlack: 0, globalReserveUsed: 0 });
    expect(usage.devices).toHaveLength(1);
  });

  it('agrees with filesystem df, text and JSON, to the byte', () => {
    const text = parseBtrfsDf(fixture('btrfs/v6.2/df-b.txt'));
    const json = parseBtrfsDfJson(fixture('btrfs/v6.2/df.json.txt'));
    expect(json).toEqual(text);
    for (const g of usage.groups) expect(text).toContainEqual(g);
    expect(text.find((g) => g.type === 'GlobalReserve')?.size).toBe(usage.globalReserve);
  });

  it('lists exactly the three 64-hex subvolumes no layerdb file references', () => {
    const listing = parseDockerSubvolumeListing(fixture('btrfs/v6.2/docker-subvolume-listing.txt'));
    const expected = /orphans: ([0-9a-f ]+)\)/.exec(fixtureHeader('btrfs/v6.2/docker-subvolume-listing.txt'))![1]!.trim().split(' ');
    expect(orphanSubvolumes(listing).sort()).toEqual(expected.sort());
    // BuildKit's names are never candidates, referenced or not.
    expect(listing.names.some((n) => /^[0-9a-z]{25}$/.test(n))).toBe(true);
    expect(listing.names.some((n) => n.endsWith('-init'))).toBe(true);
  });

  it('reads qgroups, with the <stale> group of a deleted subvolume', () => {
    const rows = parseQgroupShow(fixture('btrfs/v6.2/qgroup-show-re-raw.txt'));
    expect(rows.map((r) => r.path)).toEqual(['<toplevel>', 'sv1', 'sv2', '<stale>']);
    expect(rows.find((r) => r.path === 'sv2')).toMatchObject({ id: 257, exclusive: 5_017_600 });
    expect(parseSubvolumeList(fixture('btrfs/v6.2/subvolume-list.txt'))).toEqual(new Map([['sv1', 256], ['sv2', 257]]));
    expect(parseDeletedSubvolumes(fixture('btrfs/v6.2/subvolume-list-d.txt'))).toEqual([258]);
    expect(quotasDisabled(fixture('btrfs/v6.2/qgroup-show-quotas-off.stderr.txt'))).toBe(true);
  });

  it('reads filesystem du and compsize', () => {
    const du = parseFilesystemDu(fixture('btrfs/v6.2/fi-du-orphans.txt'));
    expect(du).toHaveLength(3);
    for (const row of du) expect(row.exclusive).toBe(40 * MiB);
    const c = parseCompsize(fixture('btrfs/v6.2/compsize-b.txt'));
    expect(c!.diskUsage).toBeGreaterThan(0);
    expect(c!.referenced).toBeGreaterThanOrEqual(c!.uncompressed);
  });
});

describe('assessBtrfs', () => {
  const usage = parseBtrfsUsage(fixture('btrfs/v6.2/usage-b.txt'));

  it('finds nothing wrong on a roomy filesystem and counts unused data chunks', () => {
    const a = assessBtrfs(usage, formatBytes);
    expect(a.verdict).toBe('ok');
    const data = groupTotals(usage.groups, 'Data')!;
    expect(a.unusedDataChunkBytes).toBe(data.size - data.used);
  });

  it('raises the ENOSPC risk when metadata nears full and unallocated is short, naming df free', () => {
    const tight = { ...usage, deviceUnallocated: MiB, freeStatfs: 86 * 1024 ** 3,
      groups: usage.groups.map((g) => (g.type === 'Metadata' ? { ...g, used: Math.floor(g.size * 0.8) - usage.globalReserve! } : g)) };
    const a = assessBtrfs(tight, formatBytes);
    expect(a.verdict).toBe('risk');
    expect(a.verdictText).toMatch(/^ENOSPC possible while df shows 86\.0 GiB free: metadata 80% full/);
    // Just under the threshold: no verdict.
    const under = { ...tight, groups: tight.groups.map((g) => (g.type === 'Metadata' ? { ...g, used: Math.floor(g.size * 0.74) - usage.globalReserve! } : g)) };
    expect(assessBtrfs(under, formatBytes).verdict).toBe('ok');
  });

  it('does not raise it while there is unallocated space to grow metadata into', () => {
    const roomy = { ...usage, groups: usage.groups.map((g) => (g.type === 'Metadata' ? { ...g, used: g.size } : g)) };
    expect(assessBtrfs(roomy, formatBytes).verdict).toBe('ok');
  });

  it('scales the unallocated guideline: 1 GiB chunks over 50 GB, smaller below', () => {
    expect(unallocatedGuideline(100 * 1024 ** 3, 2)).toBe(4 * 1024 ** 3);
    expect(unallocatedGuideline(300 * MiB, 1)).toBe(90 * MiB);
    expect(unallocatedGuideline(10 * 1024 ** 3, 1)).toBe(3 * 256 * MiB);
  });
});
