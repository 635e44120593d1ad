import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, protectedByLabel, withMinAge } from '../../src/model/remediation/policy.js';
import { driverNotes, planRemediation, type PlanInput } from '../../src/model/remediation/plan.js';
import { parseContainerLogListing } from '../../src/parse/container-logs.js';
import { parseSystemDf } from '../../src/parse/docker-df.js';
import { parseInfo, parseVersion } from '../../src/parse/docker-engine.js';
import { buildDockerStorage } from '../../src/model/docker-storage.js';
import { fixture } from '../helpers/fixtures.js';

const json = (rel: string) => JSON.parse(fixture(rel)) as unknown;
const HOUR = 3_600_000;
const MiB = 1024 ** 2;

/** The mixed scenario captured from a real 20.10 overlay2 daemon (test/helpers/scenarios.ts). */
function model(edit: (df: Record<string, any>) => void = () => undefined) {
  const raw = json('docker/overlay2-20.10/system-df.json.txt') as Record<string, any>;
  edit(raw);
  return buildDockerStorage({
    source: 'api',
    endpoint: 'x',
    engine: parseInfo(
      json('docker/overlay2-20.10/info.json.txt'),
      parseVersion(json('docker/overlay2-20.10/version.json.txt')),
    ),
    df: parseSystemDf(raw),
    dfProblem: null,
    logs: parseContainerLogListing(fixture('docker/overlay2-20.10/logs-listing.txt')),
    logsReason: null,
    danglingRepository: {},
    nowSeconds: 0,
  });
}

const docker = model();
const df = docker.df!;
const stopped = df.containers.filter((c) => c.state !== 'running');
// Three days after the capture: everything in it is old enough for the default ages but the unused-image week.
const NOW = Date.parse('2026-11-26T06:00:00Z');

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    now: NOW,
    filesystem: { mountpoint: '/var/lib/docker', usedBytes: 900 * MiB, availBytes: 100 * MiB, usedPct: 90 },
    docker,
    exitedAt: new Map(stopped.map((c) => [c.id, NOW - 48 * HOUR])),
    imageLastUsed: new Map(),
    historySince: NOW - 30 * 24 * HOUR,
    btrfs: null,
    outsideDockerBytes: 400 * MiB,
    ...over,
  };
}

describe('the remediation plan (pure)', () => {
  it('orders safe, then moderate, then destructive steps, and wants the filesystem at the target', () => {
    const plan = planRemediation(input(), DEFAULT_POLICY);
    const tiers = plan.steps.map((s) => s.tier);
    expect(tiers).toEqual(
      [...tiers].sort(
        (a, b) => ['safe', 'moderate', 'destructive'].indexOf(a) - ['safe', 'moderate', 'destructive'].indexOf(b),
      ),
    );
    expect(plan.wantBytes).toBe(900 * MiB - Math.floor(1000 * MiB * 0.75));
    expect(
      plan.steps.map((s) => s.kind),
      plan.steps.map((s) => s.title).join('; '),
    ).toEqual([
      // The build cache (29 MiB) is within the default reserve (10% of 1000 MiB): only the moderate step takes it.
      'remove-containers',
      'remove-dangling-images',
      'prune-all-build-cache',
      'remove-volumes',
      'bound-logs',
    ]);
  });

  it('removes exited containers by exit time, never a running one, and counts their logs', () => {
    const plan = planRemediation(input(), DEFAULT_POLICY);
    const step = plan.steps.find((s) => s.kind === 'remove-containers')!;
    expect(step.objects.map((o) => o.name).sort()).toEqual(['pf-chatty', 'pf-stopped50']);
    const stopped50 = step.objects.find((o) => o.name === 'pf-stopped50')!;
    expect(stopped50.bytes).toBeGreaterThanOrEqual(52_428_800);
    // Exited an hour ago: within the 24 h grace, kept, and said so in figures.
    const recent = planRemediation(
      input({ exitedAt: new Map(stopped.map((c) => [c.id, NOW - HOUR])) }),
      DEFAULT_POLICY,
    );
    expect(recent.steps.some((s) => s.kind === 'remove-containers')).toBe(false);
    expect(recent.cannotFree.find((c) => c.reason === 'younger than the minimum ages')!.bytes).toBeGreaterThanOrEqual(
      52_428_800,
    );
    // Unknown exit time (inspect did not answer): kept, with a note.
    const unknown = planRemediation(input({ exitedAt: new Map() }), DEFAULT_POLICY);
    expect(unknown.steps.some((s) => s.kind === 'remove-containers')).toBe(false);
    expect(unknown.notes.join(' ')).toMatch(/2 stopped containers have no known exit time/);
  });

  it('plans an image used only by stopped containers only once they go: pf-base is used by the running one', () => {
    const plan = planRemediation(input(), DEFAULT_POLICY);
    const all = plan.steps.flatMap((s) => s.objects.map((o) => o.name));
    expect(all.join(' ')).not.toContain('pf-base');
    expect(plan.cannotFree.find((c) => c.reason === 'in use by containers (their images)')!.bytes).toBeGreaterThan(0);
  });

  it('dangling images are safe, unused tagged ones moderate, least recently used first', () => {
    const seen = df.images.find((i) => i.repoTags.includes('pf-app:latest'))!.id;
    const plan = planRemediation(
      input({ now: NOW + 14 * 24 * HOUR, imageLastUsed: new Map([[seen, NOW + 2 * 24 * HOUR]]), exitedAt: new Map() }),
      DEFAULT_POLICY,
    );
    expect(plan.steps.find((s) => s.kind === 'remove-dangling-images')!.objects).toHaveLength(3);
    const unused = plan.steps.find((s) => s.kind === 'remove-unused-images')!;
    expect(unused.tier).toBe('moderate');
    // pf-unused:1 was never seen in use in a 44-day history; pf-app was, 12 days ago: it goes last.
    expect(unused.objects.map((o) => o.name)).toEqual(['pf-unused:1', 'pf-app:latest']);
  });

  it("says when the history is too short to know an image's last use", () => {
    const plan = planRemediation(
      input({ now: NOW + 14 * 24 * HOUR, historySince: NOW + 13 * 24 * HOUR }),
      DEFAULT_POLICY,
    );
    expect(plan.steps.some((s) => s.kind === 'remove-unused-images')).toBe(false);
    expect(plan.cannotFree.map((c) => c.reason)).toContain(
      'unused image pf-unused:1: history too short (24 h) to know its last use',
    );
  });

  it('build cache: temporary types first, nothing in use or shared, down to the reserve', () => {
    const plan = planRemediation(input(), { ...DEFAULT_POLICY, buildCacheReserveBytes: 0 });
    const step = plan.steps.find((s) => s.kind === 'prune-build-cache')!;
    const records = df.buildCache.filter((r) => step.objects.some((o) => o.id === r.id));
    expect(records.every((r) => !r.inUse && !r.shared)).toBe(true);
    // Empty records free nothing: left to the moderate step.
    expect(records.length).toBe(df.buildCache.filter((r) => !r.inUse && !r.shared && r.size > 0).length);
    expect(records[0]!.type).not.toBe('regular');
    const reserved = planRemediation(input(), { ...DEFAULT_POLICY, buildCacheReserveBytes: 40 * MiB });
    const own = df.buildCache.filter((r) => !r.shared).reduce((a, r) => a + r.size, 0);
    expect(own).toBeLessThan(40 * MiB);
    expect(reserved.steps.some((s) => s.kind === 'prune-build-cache')).toBe(false);
  });

  it('never plans what a keep label or pattern protects', () => {
    const labelled = model((raw) => {
      raw.Containers.find((c: any) => c.Names[0] === '/pf-stopped50').Labels = { 'storage-preflight.keep': 'true' };
    });
    const plan = planRemediation(input({ docker: labelled }), DEFAULT_POLICY);
    expect(plan.steps.flatMap((s) => s.objects.map((o) => o.name))).not.toContain('pf-stopped50');
    const patterned = planRemediation(input({ now: NOW + 14 * 24 * HOUR, exitedAt: new Map() }), {
      ...DEFAULT_POLICY,
      keepImagePatterns: ['^pf-unused:'],
    });
    expect(patterned.steps.flatMap((s) => s.objects.map((o) => o.name))).not.toContain('pf-unused:1');
    expect(protectedByLabel({ keep: 'no' }, ['keep=yes'])).toBeNull();
    expect(protectedByLabel({ keep: 'no' }, ['keep'])).toBe('keep');
  });

  it('volumes, orphaned layer directories and unbounded logs of running containers are destructive: a person decides', () => {
    const withOrphan = {
      ...docker,
      overlayOrphans: {
        dirs: [{ name: 'a'.repeat(64), bytes: 5 * MiB }],
        bytes: 5 * MiB,
        unmeasured: 0,
        recent: 0,
        problem: null,
      },
    };
    const orphaned = planRemediation(input({ docker: withOrphan }), DEFAULT_POLICY);
    expect(orphaned.steps.find((s) => s.kind === 'remove-overlay2-orphans')).toMatchObject({
      tier: 'destructive',
      expectedBytes: 5 * MiB,
      title: 'delete 1 orphaned overlay2 layer directory, with the daemon stopped',
    });
    const plan = planRemediation(input(), DEFAULT_POLICY);
    expect(plan.steps.find((s) => s.kind === 'remove-volumes')).toMatchObject({
      tier: 'destructive',
      expectedBytes: 31_457_280,
    });
    expect(plan.steps.filter((s) => s.tier === 'destructive').every((s) => s.kind !== 'remove-containers')).toBe(true);
  });

  it('--min-age 0s plans everything old enough at once, and with nothing reclaimable says why in figures', () => {
    const all = planRemediation(
      input({ exitedAt: new Map(stopped.map((c) => [c.id, NOW])) }),
      withMinAge(DEFAULT_POLICY, 0),
    );
    expect(all.steps.find((s) => s.kind === 'remove-containers')!.objects).toHaveLength(2);
    const bare = model((raw) => {
      raw.Images = raw.Images.filter((i: any) => i.Containers > 0);
      raw.Containers = raw.Containers.filter((c: any) => c.State === 'running');
      raw.Volumes = [];
      raw.BuildCache = [];
    });
    const none = planRemediation(input({ docker: bare }), DEFAULT_POLICY);
    expect(none.steps.filter((s) => s.tier !== 'destructive')).toEqual([]);
    expect(none.byTier.safe + none.byTier.moderate).toBe(0);
    expect(none.cannotFree.map((c) => c.reason)).toEqual(
      expect.arrayContaining(['in use by containers (their images)', "outside Docker (not this tool's to delete)"]),
    );
  });

  // zfs, vfs, devicemapper and the containerd store cannot run here: their branches are checked on the driver names /info reports.
  it.each([
    ['overlay2', 'graphdriver', null],
    ['zfs', 'graphdriver', /freeing/],
    ['vfs', 'graphdriver', /full copy/],
    ['devicemapper', 'graphdriver', /removed in Engine 25/],
    ['overlayfs', 'containerd', /containerd .*compressed layers with BuildKit's cache/],
  ] as const)('driver %s (%s) gets its own note', (driver, store, note) => {
    const out = driverNotes(driver, store);
    if (note === null) expect(out).toBeNull();
    else expect(out).toMatch(note);
  });
  it('image steps list the BuildKit records shared with images (they hold BuildKit-built layers), to prune after the images', () => {
    const plan = planRemediation(
      input({ now: NOW + 14 * 24 * HOUR, imageLastUsed: new Map(), historySince: NOW - 30 * 24 * HOUR }),
      DEFAULT_POLICY,
    );
    const held = df.buildCache
      .filter((r) => r.shared && !r.inUse)
      .map((r) => r.id)
      .sort();
    expect(held.length).toBeGreaterThan(0);
    for (const kind of ['remove-dangling-images', 'remove-unused-images'] as const) {
      const step = plan.steps.find((s) => s.kind === kind)!;
      expect(step.cacheRecords!.map((o) => o.id).sort()).toEqual(held);
      // They add nothing to what is expected: the images' unique bytes are what those records held.
      expect(step.cacheRecords!.every((o) => o.bytes === 0)).toBe(true);
      expect(step.action).toContain('POST /build/prune');
    }
  });

  it("leaves out what the apply could not free: BuildKit's own records, images with more than one tag", () => {
    const edited = model((raw) => {
      raw.BuildCache.push({
        ID: 'internalrecord0000000000a',
        Type: 'internal',
        InUse: false,
        Shared: false,
        Size: 5 * MiB,
        LastUsedAt: '2026-11-20T00:00:00Z',
        UsageCount: 1,
      });
      raw.Images.find((i: any) => i.RepoTags.includes('pf-unused:1')).RepoTags.push('registry:5000/mirror/pf-unused:1');
    });
    const plan = planRemediation(
      input({ docker: edited, now: NOW + 14 * 24 * HOUR, exitedAt: new Map() }),
      withMinAge(DEFAULT_POLICY, 0),
    );
    const planned = plan.steps.flatMap((s) => s.objects.map((o) => o.id));
    expect(planned).not.toContain('internalrecord0000000000a');
    expect(plan.steps.flatMap((s) => s.objects.map((o) => o.name)).join(' ')).not.toContain('pf-unused');
    expect(plan.cannotFree.map((c) => c.reason)).toContain(
      'unused image pf-unused:1, registry:5000/mirror/pf-unused:1: more than one tag (remove its tags one by one)',
    );
    // The daemon refuses a delete by id even for two tags of one repository (checked on 20.10): so are they.
    const sameRepo = model((raw) => {
      raw.Images.find((i: any) => i.RepoTags.includes('pf-unused:1')).RepoTags.push('pf-unused:2');
    });
    const also = planRemediation(
      input({ docker: sameRepo, now: NOW + 14 * 24 * HOUR, exitedAt: new Map() }),
      withMinAge(DEFAULT_POLICY, 0),
    );
    expect(also.steps.flatMap((s) => s.objects.map((o) => o.name)).join(' ')).not.toContain('pf-unused');
  });

  it('prunes a build-cache record only with all its children, children first (BuildKit frees a parent after them)', () => {
    // A chain the captured 20.10 daemon could hold: a local source, an unshared layer on it, and a
    // layer built on that one which stays (in use); plus a free-standing chain of two that can go.
    const at = '2026-11-20T00:00:00Z';
    const rec = (ID: string, Parent: string, InUse = false) => ({
      ID,
      Parent,
      Type: 'regular',
      Description: ID,
      InUse,
      Shared: false,
      Size: 3 * MiB,
      LastUsedAt: at,
      UsageCount: 1,
    });
    const edited = model((raw) => {
      raw.BuildCache = [
        rec('keptbase', ''),
        rec('keptmid', 'keptbase'),
        rec('inusechild', 'keptmid', true),
        rec('aparent', ''),
        rec('zchild', 'aparent'),
      ];
    });
    const plan = planRemediation(input({ docker: edited }), {
      ...withMinAge(DEFAULT_POLICY, 0),
      buildCacheReserveBytes: 0,
    });
    const step = plan.steps.find((s) => s.kind === 'prune-build-cache')!;
    expect(step.objects.map((o) => o.id)).toEqual(['zchild', 'aparent']);
    expect(step.expectedBytes).toBe(6 * MiB);
    expect(plan.steps.flatMap((s) => s.objects.map((o) => o.id))).not.toContain('keptbase');
    // API 1.42+ lists parents as an array.
    expect(
      parseSystemDf({ BuildCache: [{ ID: 'a', Parents: ['p1', 'p2'], Parent: 'p1' }] }).buildCache[0]!.parents,
    ).toEqual(['p1', 'p2']);
    expect(parseSystemDf({ BuildCache: [{ ID: 'a', Parent: '' }] }).buildCache[0]!.parents).toEqual([]);
  });
});
