import { describe, expect, it } from 'vitest';
import {
  summarizeBuildCache,
  summarizeContainers,
  summarizeImages,
  summarizeVolumes,
} from '../../src/model/docker-storage.js';
import { parseCliSystemDf, humanBytes } from '../../src/parse/docker-cli-df.js';
import { parseSystemDf } from '../../src/parse/docker-df.js';
import { engineFromInfo, parseInfo, parseVersion } from '../../src/parse/docker-engine.js';
import { fixture } from '../helpers/fixtures.js';

const json = (name: string) => JSON.parse(fixture(name)) as Record<string, any>;

describe.each(['overlay2-20.10', 'btrfs-20.10'])('captured /system/df, API 1.41 (%s)', (dir) => {
  const raw = json(`docker/${dir}/system-df.json.txt`);
  const df = parseSystemDf(raw);

  it('keeps every object and exact byte figure', () => {
    expect(df.shape).toBe('legacy');
    expect(df.layersSize).toBe(raw.LayersSize);
    // In id (name) order, not the daemon's.
    const by = (key: string) => (a: any, b: any) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0);
    expect(df.images.map((i) => [i.id, i.size, i.sharedSize, i.containers])).toEqual(
      [...raw.Images].sort(by('Id')).map((i: any) => [i.Id, i.Size, i.SharedSize, i.Containers]),
    );
    // The daemon omits SizeRw when it is 0.
    expect(df.containers.map((c) => [c.name, c.sizeRw])).toEqual(
      [...raw.Containers].sort(by('Id')).map((c: any) => [c.Names[0].slice(1), c.SizeRw ?? 0]),
    );
    expect(df.volumes.map((v) => [v.name, v.size, v.refCount])).toEqual(
      [...raw.Volumes].sort(by('Name')).map((v: any) => [v.Name, v.UsageData.Size, v.UsageData.RefCount]),
    );
    expect(df.buildCache.map((b) => b.size)).toEqual([...raw.BuildCache].sort(by('ID')).map((b: any) => b.Size));
  });

  it('treats <none>:<none> as dangling, not as a repository called <none>', () => {
    const dangling = raw.Images.filter((i: any) => i.RepoTags[0] === '<none>:<none>').length;
    expect(dangling).toBe(3);
    expect(summarizeImages(df).dangling.count).toBe(3);
  });

  it('counts reclaimable bytes as docker system df does', () => {
    const images = summarizeImages(df);
    // CLI: LayersSize − Σ(Size − SharedSize) of images used by containers.
    const used = raw.Images.filter((i: any) => i.Containers > 0).reduce(
      (a: number, i: any) => a + i.Size - i.SharedSize,
      0,
    );
    expect(images.totalBytes).toBe(raw.LayersSize);
    expect(images.cliReclaimableBytes).toBe(raw.LayersSize - used);
    // prune -a keeps every layer of pf-base:1 (in use), shared base included.
    const inUse = raw.Images.filter((i: any) => i.Containers > 0);
    expect(inUse).toHaveLength(1);
    expect(images.reclaimableBytes).toBe(raw.LayersSize - inUse[0].Size);
    const containers = summarizeContainers(df);
    expect(containers.reclaimableBytes).toBe(52_428_800); // pf-stopped50 wrote 50 MiB; the others nothing
    expect(containers.running).toBe(1);
    const volumes = summarizeVolumes(df, '1.41');
    expect(volumes).toMatchObject({ unused: 1, unusedBytes: 31_457_280, reclaimableBytes: 31_457_280 });
    const cache = summarizeBuildCache(df);
    const own = raw.BuildCache.filter((b: any) => !b.Shared);
    expect(cache.totalBytes).toBe(own.reduce((a: number, b: any) => a + b.Size, 0));
    expect(cache.reclaimableBytes).toBe(
      cache.totalBytes - own.filter((b: any) => b.InUse).reduce((a: number, b: any) => a + b.Size, 0),
    );
    expect(Object.values(cache.byType).reduce((a, b) => a + b, 0)).toBe(cache.totalBytes);
  });

  it('reads the engine identity', () => {
    const engine = parseInfo(json(`docker/${dir}/info.json.txt`), parseVersion(json(`docker/${dir}/version.json.txt`)));
    expect(engine).toMatchObject({
      apiVersion: '1.41',
      driver: dir.split('-')[0],
      imageStore: 'graphdriver',
      loggingDriver: 'json-file',
    });
    expect(engine.backingFilesystem).toBe(dir.startsWith('overlay2') ? 'extfs' : null);
  });

  it('reads the same state the same, whatever order the daemon lists it in (map order)', () => {
    const reversed = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? [...v].reverse() : v]),
    );
    expect(parseSystemDf(reversed)).toEqual(df);
  });

  it('needs no GET /version: /info and its Api-Version header say the same', () => {
    const withVersion = parseInfo(
      json(`docker/${dir}/info.json.txt`),
      parseVersion(json(`docker/${dir}/version.json.txt`)),
    );
    expect(engineFromInfo(json(`docker/${dir}/info.json.txt`), '1.41')).toEqual(withVersion);
  });
});

describe('API 1.52 /system/df (hand-written from the swagger: Docker 29 cannot run here)', () => {
  const verbose = parseSystemDf(json('docker/api-1.52/system-df-verbose.json.txt'));
  const both = parseSystemDf(json('docker/api-1.52/system-df-legacy-and-usage.json.txt'));

  it('reads items from the usage objects and totals from the daemon', () => {
    expect(verbose.shape).toBe('usage');
    expect(verbose.images).toHaveLength(3);
    expect(verbose.containers.map((c) => c.name)).toEqual(['funny_chatelet', 'stopped_one']);
    expect(verbose.totals.images).toEqual({
      activeCount: 1,
      totalCount: 3,
      reclaimable: 9_000_000,
      totalSize: 181_064_416,
    });
    expect(verbose.layersSize).toBe(181_064_416);
  });

  it('gives the same model when legacy arrays come beside item-less usage objects', () => {
    expect(both).toEqual(verbose);
  });

  it("uses the daemon's figures, which agree with our own rules", () => {
    const images = summarizeImages(verbose);
    expect(images.daemonReclaimableBytes).toBe(9_000_000);
    expect(images.unused.uniqueBytes).toBe(9_000_000);
    expect(summarizeContainers(verbose).reclaimableBytes).toBe(2048);
    expect(summarizeBuildCache(verbose)).toMatchObject({ totalBytes: 1075, reclaimableBytes: 51, inUseBytes: 1024 });
  });

  it('prunes only anonymous unused volumes from API 1.42 on, and says what --all would add', () => {
    const v = summarizeVolumes(verbose, '1.52');
    expect(v).toMatchObject({
      unknownSizeCount: 1,
      unused: 1,
      reclaimableBytes: 5000,
      reclaimableAllBytes: 5000,
      totalBytes: 15_000,
    });
    const named = parseSystemDf({ Volumes: [{ Name: 'data', Labels: {}, UsageData: { Size: 700, RefCount: 0 } }] });
    expect(summarizeVolumes(named, '1.44')).toMatchObject({ reclaimableBytes: 0, reclaimableAllBytes: 700 });
    expect(summarizeVolumes(named, '1.41')).toMatchObject({ reclaimableBytes: 700 });
  });

  it('identifies the containerd image store', () => {
    const engine = parseInfo(
      { Driver: 'overlayfs', DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']] },
      { version: '29.0.0', apiVersion: '1.52', os: 'linux' },
    );
    expect(engine).toMatchObject({ driver: 'overlayfs', imageStore: 'containerd' });
  });
});

describe('docker system df -v --format json (CLI fallback)', () => {
  it.each(['docker-cli/system-df-v-cli28.json.txt', 'docker/overlay2-20.10/cli-system-df-v.json.txt'])(
    'parses %s into approximate bytes',
    (name) => {
      const raw = json(name);
      const df = parseCliSystemDf(fixture(name));
      expect(df.images).toHaveLength(raw.Images.length);
      expect(df.containers).toHaveLength(raw.Containers.length);
      expect(df.volumes).toHaveLength(raw.Volumes.length);
      expect(df.buildCache).toHaveLength(raw.BuildCache.length);
      for (const [i, img] of df.images.entries()) expect(img.size).toBe(humanBytes(raw.Images[i].Size));
    },
  );

  it('matches the API figures within the CLI rounding (3-4 significant digits)', () => {
    const api = parseSystemDf(json('docker/overlay2-20.10/system-df.json.txt'));
    const cli = parseCliSystemDf(fixture('docker/overlay2-20.10/cli-system-df-v.json.txt'));
    const stopped = (df: typeof api) => df.containers.find((c) => c.name === 'pf-stopped50')!.sizeRw;
    expect(Math.abs(stopped(cli) - stopped(api)) / stopped(api)).toBeLessThan(0.01);
    expect(cli.images.filter((i) => i.repoTags.length === 0)).toHaveLength(3);
  });

  it('says so when the CLI is too old to print JSON', () => {
    expect(() => parseCliSystemDf('json\n')).toThrow(/needs docker CLI >= 23/);
  });

  it.each([
    ['1.982MB', 1_982_000],
    ['100B', 100],
    ['2.5kB', 2500],
    ['N/A', -1],
    ['3GB', 3e9],
  ])('humanBytes(%s) = %d', (s, n) => {
    expect(humanBytes(s)).toBe(n);
  });
});
