import { describe, expect, it } from 'vitest';
import { assessBtrfs, unallocatedGuideline } from '../../src/model/btrfs.js';
import { parseBtrfsDf, parseBtrfsDfJson } from '../../src/parse/btrfs-df.js';
import { parseCompsize, parseFilesystemDu, parseQgroupShow, quotasDisabled } from '../../src/parse/btrfs-qgroup.js';
import {
  orphanSubvolumes,
  parseDeletedSubvolumes,
  parseDockerSubvolumeListing,
  parseSubvolumeList,
} from '../../src/parse/btrfs-subvolumes.js';
import { groupTotals, parseBtrfsUsage } from '../../src/parse/btrfs-usage.js';
import { formatBytes } from '../../src/text/bytes.js';
import { fixture, fixtureHeader } from '../helpers/fixtures.js';

const MiB = 1024 * 1024;

describe('btrfs-progs v6.2 (captured here)', () => {
  const usage = parseBtrfsUsage(fixture('btrfs/v6.2/usage-b.txt'));

  it('reads every Overall figure', () => {
    for (const key of [
      'deviceSize',
      'deviceAllocated',
      'deviceUnallocated',
      'used',
      'freeEstimated',
      'freeEstimatedMin',
      'freeStatfs',
      'globalReserve',
    ] as const) {
      expect(usage[key], key).toEqual(expect.any(Number));
    }
    expect(usage.deviceAllocated! + usage.deviceUnallocated!).toBe(usage.deviceSize);
    expect(usage).toMatchObject({
      dataRatio: 1,
      metadataRatio: 2,
      multipleProfiles: false,
      deviceMissing: 0,
      deviceSlack: 0,
      globalReserveUsed: 0,
    });
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
    const expected = /orphans: ([0-9a-f ]+)\)/
      .exec(fixtureHeader('btrfs/v6.2/docker-subvolume-listing.txt'))![1]!
      .trim()
      .split(' ');
    expect(orphanSubvolumes(listing).sort()).toEqual(expected.sort());
    // BuildKit's names are never candidates, referenced or not.
    expect(listing.names.some((n) => /^[0-9a-z]{25}$/.test(n))).toBe(true);
    expect(listing.names.some((n) => n.endsWith('-init'))).toBe(true);
  });

  it('reads qgroups, with the <stale> group of a deleted subvolume', () => {
    const rows = parseQgroupShow(fixture('btrfs/v6.2/qgroup-show-re-raw.txt'));
    expect(rows.map((r) => r.path)).toEqual(['<toplevel>', 'sv1', 'sv2', '<stale>']);
    expect(rows.find((r) => r.path === 'sv2')).toMatchObject({ id: 257, exclusive: 5_017_600 });
    expect(parseSubvolumeList(fixture('btrfs/v6.2/subvolume-list.txt'))).toEqual(
      new Map([
        ['sv1', 256],
        ['sv2', 257],
      ]),
    );
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
    const tight = {
      ...usage,
      deviceUnallocated: MiB,
      freeStatfs: 86 * 1024 ** 3,
      groups: usage.groups.map((g) =>
        g.type === 'Metadata' ? { ...g, used: Math.floor(g.size * 0.8) - usage.globalReserve! } : g,
      ),
    };
    const a = assessBtrfs(tight, formatBytes);
    expect(a.verdict).toBe('risk');
    expect(a.verdictText).toMatch(/^ENOSPC possible while df shows 86\.0 GiB free: metadata 80% full/);
    // Just under the threshold: no verdict.
    const under = {
      ...tight,
      groups: tight.groups.map((g) =>
        g.type === 'Metadata' ? { ...g, used: Math.floor(g.size * 0.74) - usage.globalReserve! } : g,
      ),
    };
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

describe('older btrfs-progs formats (cited public outputs: these versions cannot run here)', () => {
  it('4.x raw RAID1: no slack, no statfs free, no percentages, two devices', () => {
    const u = parseBtrfsUsage(fixture('btrfs/cited/usage-b-v4.x-raid1.txt'));
    expect(u).toMatchObject({
      deviceSize: 21_474_836_480,
      deviceAllocated: 4_311_744_512,
      deviceUnallocated: 17_163_091_968,
      deviceMissing: 0,
      deviceSlack: null,
      freeStatfs: null,
      multipleProfiles: null,
      used: 1_310_720,
      freeEstimated: 9_654_763_520,
      freeEstimatedMin: 9_654_763_520,
      dataRatio: 2,
      metadataRatio: 2,
      globalReserve: 16_777_216,
      globalReserveUsed: 0,
    });
    expect(u.groups).toEqual([
      { type: 'Data', profile: 'RAID1', size: 1_073_741_824, used: 524_288 },
      { type: 'Metadata', profile: 'RAID1', size: 1_073_741_824, used: 114_688 },
      { type: 'System', profile: 'RAID1', size: 8_388_608, used: 16_384 },
    ]);
    expect(u.devices).toEqual(['/dev/sdb', '/dev/sdc']);
    // Two devices: the guideline is (2 + 2) chunks; a 20 GiB filesystem has 256 MiB metadata chunks.
    expect(assessBtrfs(u, formatBytes).unallocatedGuideline).toBe(4 * 256 * MiB);
  });

  it('5.7 human units: Multiple profiles and percentages', () => {
    const u = parseBtrfsUsage(fixture('btrfs/cited/usage-v5.7-raid0.txt'));
    expect(u.multipleProfiles).toBe(false);
    expect(u.freeStatfs).toBeNull();
    expect(u.groups.map((g) => `${g.type},${g.profile}`)).toEqual(['Data,RAID0', 'Metadata,RAID1', 'System,RAID1']);
    expect(u.groups[0]!.size).toBe(890 * MiB);
    expect(u.devices).toEqual(['/dev/vda3', '/dev/vdb1']);
    expect(u.globalReserve).toBe(Math.round(3.25 * MiB));
  });

  it('5.4-5.6 full filesystem: unallocated gone, the reserve dwarfs metadata used', () => {
    const u = parseBtrfsUsage(fixture('btrfs/cited/usage-v5.4-full.txt'));
    expect(u.deviceUnallocated).toBe(MiB);
    const a = assessBtrfs(u, formatBytes);
    // (144 KiB used + 512 MiB reserve) of 481.5 MiB metadata: past full while df still shows space.
    expect(a.metadataFullness).toBeGreaterThan(1);
    expect(a.verdict).toBe('exhausted');
    expect(a.verdictText).toMatch(/^ENOSPC now likely while df shows 119\.3 MiB free/);
  });

  it('3.17 raw df: two profiles of one type are summed', () => {
    const groups = parseBtrfsDf(fixture('btrfs/cited/df-raw-v3.17.txt'));
    expect(groups).toHaveLength(5);
    expect(groupTotals(groups, 'Metadata')).toEqual({ size: 53_673_984 + 8_388_608, used: 114_688 });
  });

  it('5.x qgroup show: lowercase header, no Path column', () => {
    const rows = parseQgroupShow(fixture('btrfs/cited/qgroup-show-re-raw-v5.x.txt'));
    expect(rows).toHaveLength(10);
    expect(rows[0]).toEqual({ id: 256, referenced: 1_732_771_840, exclusive: 1_732_771_840, path: null });
    expect(rows.find((r) => r.id === 262)?.exclusive).toBe(60_463_501_312);
  });

  it('5.x subvolume list -d', () => {
    expect(parseDeletedSubvolumes(fixture('btrfs/cited/subvolume-list-d-v5.x.txt'))).toEqual([10201, 10210, 10230]);
  });
});
