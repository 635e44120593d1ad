import { describe, expect, it } from 'vitest';
import { attribute } from '../../src/model/attribution.js';
import type { FilesystemRow } from '../../src/model/filesystems.js';
import { parseInfo, parseVersion } from '../../src/parse/docker-engine.js';
import { LAYER_NAME, parseLayerListing, unreferencedLayerNames } from '../../src/parse/layer-dirs.js';
import { orphanSubvolumes, parseDockerSubvolumeListing } from '../../src/parse/btrfs-subvolumes.js';
import {
  RECENT_SECONDS,
  orphanOverlayDirs,
  overlayCandidates,
  parseOverlayDirListing,
  parseOverlayDirSizes,
} from '../../src/parse/overlay2-dirs.js';
import { TimeoutError, UnreadableError } from '../../src/model/errors.js';
import type { ExecResult, Runner } from '../../src/host/exec.js';
import { getOverlayOrphans } from '../../src/probes/overlay2.js';
import { buildDockerStorage } from '../../src/model/docker-storage.js';
import { dockerMarkdown } from '../../src/sections/docker/markdown.js';
import { dockerJson } from '../../src/sections/docker/json.js';
import { fixture, fixtureHeader } from '../helpers/fixtures.js';

const MiB = 1024 * 1024;
const LISTING = 'docker/overlay2-20.10/overlay2-layer-listing.txt';
const DU = 'docker/overlay2-20.10/overlay2-orphan-du.txt';

/** The names the capture planted, read from its header. */
function planted() {
  const header = fixtureHeader(LISTING);
  const old = /old \(mtimes 2 h back\): ([^;]+);/.exec(header)![1]!.trim().split(' ');
  const fresh = /fresh: ([0-9a-f]{64});/.exec(header)![1]!;
  const buildkitShaped = /BuildKit-shaped: ([0-9a-z]{25})/.exec(header)![1]!;
  return { old, fresh, buildkitShaped };
}

describe('overlay2 layer listing captured from a real 20.10 daemon', () => {
  const listing = parseOverlayDirListing(fixture(LISTING));
  const { old, fresh, buildkitShaped } = planted();

  it('shows the names overlay2 uses: 25-char BuildKit, 64-hex layers, <64-hex>-init, and l/', () => {
    const names = new Set(listing.names);
    expect(names.has('l')).toBe(true);
    const buildkit = listing.names.filter((n) => /^[0-9a-z]{25}$/.test(n));
    const hex = listing.names.filter((n) => /^[0-9a-f]{64}$/.test(n));
    const init = listing.names.filter((n) => /^[0-9a-f]{64}-init$/.test(n));
    expect(buildkit.length).toBeGreaterThan(20);
    // BuildKit snapshots only buildkit/snapshots.db knows: unreferenced here, yet never candidates.
    expect(buildkit.filter((n) => !listing.referenced.has(n)).length).toBeGreaterThan(5);
    // Classic build and commit: 64-hex image layers referenced by a cache-id.
    expect(hex.filter((n) => listing.referenced.has(n) && !names.has(`${n}-init`)).length).toBeGreaterThanOrEqual(2);
    // Four containers: each a 64-hex layer and its -init, both referenced.
    expect(init.filter((n) => listing.referenced.has(n))).toHaveLength(4);
    for (const n of init.filter((x) => listing.referenced.has(x)))
      expect(listing.referenced.has(n.replace(/-init$/, ''))).toBe(true);
  });

  it('makes candidates of exactly the unreferenced 64-hex and -init directories', () => {
    expect(overlayCandidates(listing)).toEqual([...old, fresh].sort());
    const candidates = new Set(overlayCandidates(listing));
    for (const n of listing.referenced) expect(candidates.has(n)).toBe(false);
    expect(candidates.has(buildkitShaped)).toBe(false);
    expect(candidates.has('l')).toBe(false);
    for (const n of candidates) expect(n).toMatch(LAYER_NAME);
  });

  it('lists the old ones with du sizes and holds back the one changed within the hour', () => {
    const du = parseOverlayDirSizes(fixture(DU));
    expect(du.now).toEqual(expect.any(Number));
    const o = orphanOverlayDirs(listing, { ...du, now: du.now! });
    expect(o.dirs.map((d) => d.name).sort()).toEqual([...old].sort());
    expect(o.dirs[0]).toEqual({ name: old[0], bytes: 5 * MiB + 2 * 4096 });
    expect(o.bytes).toBe(o.dirs.reduce((a, d) => a + d.bytes, 0));
    expect(o).toMatchObject({ recent: 1, unmeasured: 0, problem: null });
    // An hour later the fresh one counts too.
    expect(orphanOverlayDirs(listing, { ...du, now: du.now! + RECENT_SECONDS }).dirs).toHaveLength(3);
  });

  it('bounds du, and drops a candidate removed since the listing', () => {
    const du = parseOverlayDirSizes(fixture(DU));
    const capped = orphanOverlayDirs(listing, { ...du, now: du.now! }, 1);
    expect(capped.unmeasured).toBe(2);
    expect(capped.dirs.length + capped.recent).toBeLessThanOrEqual(1);
    const gone = orphanOverlayDirs(listing, { now: du.now!, sizes: du.sizes.filter((s) => s.name !== old[0]) });
    expect(gone.dirs.map((d) => d.name)).toEqual([old[1]]);
  });

  it('is the same code as the btrfs orphan rule', () => {
    expect(parseDockerSubvolumeListing).toBe(parseLayerListing);
    expect(orphanSubvolumes).toBe(unreferencedLayerNames);
    const btrfs = parseDockerSubvolumeListing(fixture('btrfs/v6.2/docker-subvolume-listing.txt'));
    expect(orphanSubvolumes(btrfs)).toHaveLength(3);
  });
});

describe('overlay2 orphans in the Docker section and attribution', () => {
  const info = JSON.parse(fixture('docker/overlay2-20.10/info.json.txt'));
  const version = parseVersion(JSON.parse(fixture('docker/overlay2-20.10/version.json.txt')));
  const listing = parseOverlayDirListing(fixture(LISTING));
  const du = parseOverlayDirSizes(fixture(DU));
  const orphans = orphanOverlayDirs(listing, { ...du, now: du.now! });
  const model = (rootDir: string) =>
    buildDockerStorage({
      source: 'api',
      endpoint: 'x',
      engine: parseInfo({ ...info, DockerRootDir: rootDir }, version),
      df: null,
      dfProblem: null,
      logs: null,
      logsReason: 'not measured',
      danglingRepository: {},
      nowSeconds: 0,
      overlayOrphans: orphans,
    });

  it('prints one escaped line and the JSON key', () => {
    const lines = dockerMarkdown(model('/srv/do|cker\n## Fake `x`'));
    const line = lines.filter((l) => l.startsWith('Orphaned overlay2 layer directories:'));
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(
      /^Orphaned overlay2 layer directories: 2, 6\.0 MiB \(no image or container references them; remove only with the daemon stopped\): [0-9a-f]{12} 5\.0 MiB; [0-9a-f]{12}-init 1\.0 MiB; 1 changed within the hour not counted/,
    );
    expect(line[0]).toContain('(in /srv/do\\|cker\\n\\#\\# Fake \\`x\\`/overlay2).');
    expect(lines.join('\n')).not.toMatch(/^## Fake/m);
    expect((dockerJson(model('/var/lib/docker')).docker as Record<string, unknown>).overlayOrphans).toEqual(orphans);
  });

  it('prints nothing when there are none', () => {
    const none = buildDockerStorage({
      source: 'api',
      endpoint: 'x',
      engine: parseInfo(info, version),
      df: null,
      dfProblem: null,
      logs: null,
      logsReason: 'x',
      danglingRepository: {},
      nowSeconds: 0,
      overlayOrphans: { dirs: [], bytes: 0, unmeasured: 0, recent: 2, problem: null },
    });
    expect(dockerMarkdown(none).join('\n')).not.toContain('Orphaned overlay2');
  });

  it('attributes them as overlay2-orphans, all reclaimable, counted in used', () => {
    const fs: FilesystemRow = {
      mountpoint: '/var/lib/docker',
      device: '/dev/sda1',
      fstype: 'ext4',
      deviceNumber: '8:1',
      readonly: false,
      stuck: false,
      roles: ['docker-data-root'],
      paths: ['/var/lib/docker'],
      sizeBytes: 100 * MiB,
      usedBytes: 50 * MiB,
      availBytes: 50 * MiB,
      reservedBytes: 0,
      usedPct: 50,
      inodesUsedPct: 1,
    };
    const a = attribute(fs, model('/var/lib/docker'), null, { dataRoot: true, containerdRoot: false }, null);
    const s = a.sources.find((x) => x.kind === 'overlay2-orphans');
    expect(s).toEqual({
      kind: 'overlay2-orphans',
      label: 'orphaned overlay2 layer directories',
      bytes: orphans.bytes,
      reclaimableBytes: orphans.bytes,
      countsInUsed: true,
    });
    expect(a.sources.find((x) => x.kind === 'outside-docker')!.bytes).toBe(
      50 * MiB - orphans.bytes - model('/').logs.totalBytes,
    );
  });
});

describe('getOverlayOrphans with a recorded runner', () => {
  const ok = (stdout: string): ExecResult => ({ stdout, stderr: '', exitCode: 0 });
  /** Answers the listing child, then the du child, as the real daemon's host did. */
  const recorded = (listing: ExecResult | Error, du: ExecResult | Error): { run: Runner; calls: string[][] } => {
    const calls: string[][] = [];
    const run: Runner = async (_file, args) => {
      calls.push([...args]);
      const answer = calls.length === 1 ? listing : du;
      if (answer instanceof Error) throw answer;
      return answer;
    };
    return { run, calls };
  };
  const deadline = () => Date.now() + 5000;

  it('lists, then measures only the candidates, in one more child', async () => {
    const { run, calls } = recorded(ok(fixture(LISTING)), ok(fixture(DU)));
    const o = await getOverlayOrphans(run, '/var/lib/docker/', deadline());
    expect(o!.dirs.map((d) => d.name).sort()).toEqual([...planted().old].sort());
    expect(calls).toHaveLength(2);
    expect(calls[1]!.slice(4)).toEqual([...planted().old, planted().fresh].sort());
    expect(calls[1]![3]).toBe('/var/lib/docker/overlay2');
  });

  it('throws UnreadableError (with the folder that stopped it) when the data root is not readable, and is a problem when layerdb or du fails', async () => {
    const root = getOverlayOrphans(
      recorded(
        { stdout: fixture('docker/non-root/overlay2-layer-listing-root-only.txt'), stderr: '', exitCode: 3 },
        ok(''),
      ).run,
      '/r',
      deadline(),
    );
    await expect(root).rejects.toBeInstanceOf(UnreadableError);
    await expect(root).rejects.toMatchObject({ blocked: { path: 'DATA_ROOT', cause: 'denied' } });
    const db = await getOverlayOrphans(
      recorded(
        { stdout: 'S\tx\n', stderr: "find: 'image/overlay2/layerdb/mounts/1': Permission denied", exitCode: 4 },
        ok(''),
      ).run,
      '/r',
      deadline(),
    );
    expect(db).toMatchObject({
      dirs: [],
      problem: expect.stringMatching(
        /layerdb could not be read completely: Permission denied, so no layer can be called an orphan/,
      ),
    });
    const du = await getOverlayOrphans(
      recorded(ok(fixture(LISTING)), { stdout: 'N\t1\n', stderr: "du: unrecognized option '--time'", exitCode: 1 }).run,
      '/r',
      deadline(),
    );
    expect(du).toMatchObject({
      dirs: [],
      unmeasured: 3,
      problem: expect.stringMatching(/^du over overlay2 directories: /),
    });
    const slow = await getOverlayOrphans(
      recorded(ok(fixture(LISTING)), new TimeoutError('sh', 2000)).run,
      '/r',
      deadline(),
    );
    expect(slow!.problem).toBe('du over 3 overlay2 directories gave no answer in 2 s');
    const hung = await getOverlayOrphans(recorded(new TimeoutError('sh', 2000), ok('')).run, '/r', deadline());
    expect(hung!.problem).toBe('listing overlay2 layer directories gave no answer in 2 s');
  });
});
