import { execa } from 'execa';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEngine } from '../helpers/describe-engine.js';
import { startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { buildMixedScenario } from '../helpers/scenarios.js';
import { engineGet } from '../helpers/engine-api.js';
import { apiAtLeast } from '../../src/parse/docker-engine.js';

const byId = <T extends { id: string }>(items: T[]) => Object.fromEntries(items.map((i) => [i.id, i]));

const CASES = [
  { driver: 'overlay2', engine: 'debian' },
  { driver: 'btrfs', engine: 'debian' },
  { driver: 'overlay2', engine: 'newest' },
  { driver: 'btrfs', engine: 'newest' },
] as const;

describe.each(CASES)('Docker Storage against a real $driver dockerd', ({ driver, engine }) => {
  describeEngine({ engine, store: 'graphdriver' }, `mixed scenario on --storage-driver ${driver}`, () => {
    let s: DockerSandbox;
    let doc: Record<string, any>;
    let md = '';
    beforeAll(async () => {
      s = await startDockerd(driver, 3072, { engine });
      await buildMixedScenario(s);
      const [jsonRun, mdRun] = [
        await runPreflight(['--format', 'json'], { DOCKER_HOST: s.host }),
        await runPreflight([], { DOCKER_HOST: s.host }),
      ];
      doc = parseReport(jsonRun.stdout);
      md = mdRun.stdout;
    });
    afterAll(async () => {
      await s?.stop();
    });

    it('reports the section ok, with the driver identified', () => {
      expect(doc.sections.find((x: any) => x.id === 'docker')).toMatchObject({ status: 'ok' });
      expect(doc.docker).toMatchObject({
        source: 'api',
        approximate: false,
        storageDriver: driver,
        imageStore: 'graphdriver',
      });
      expect(doc.docker.engine.rootDir).toBe(s.dataRoot);
    });

    it('every byte figure equals what the Engine API reports', async () => {
      const raw = await engineGet(s.socket, '/v1.41/system/df');
      const d = doc.docker;
      expect(d.images.totalBytes).toBe(raw.LayersSize);
      const images = byId(d.images.items);
      expect(Object.keys(images).sort()).toEqual(raw.Images.map((i: any) => i.Id).sort());
      for (const i of raw.Images)
        expect(images[i.Id]).toMatchObject({ size: i.Size, sharedSize: i.SharedSize, containers: i.Containers });
      const containers = byId(d.containers.items);
      for (const c of raw.Containers)
        expect(containers[c.Id]).toMatchObject({ sizeRw: c.SizeRw ?? 0, sizeRootFs: c.SizeRootFs, state: c.State });
      expect(d.containers.writableBytes).toBe(raw.Containers.reduce((a: number, c: any) => a + (c.SizeRw ?? 0), 0));
      const volume = d.volumes.items.find((v: any) => v.name === 'pf-data30');
      const rawVolume = raw.Volumes.find((v: any) => v.Name === 'pf-data30');
      expect(volume).toMatchObject({ size: rawVolume.UsageData.Size, refCount: 0 });
      expect(d.buildCache.items.map((b: any) => [b.id, b.size]).sort()).toEqual(
        raw.BuildCache.map((b: any) => [b.ID, b.Size]).sort(),
      );
      expect(d.buildCache.count).toBeGreaterThan(0);
    });

    it('counts the scenario: 50 MB stopped writable layer, 30 MB unused volume, 3 dangling versions', () => {
      const d = doc.docker;
      expect(d.containers).toMatchObject({
        running: 1,
        stoppedWritableBytes: 50 * 1024 * 1024,
        reclaimableBytes: 50 * 1024 * 1024,
      });
      // From API 1.42 `docker volume prune` removes anonymous volumes only: a named one is not reclaimable by it.
      const pruned = apiAtLeast(s.apiVersion, '1.42') ? 0 : 30 * 1024 * 1024;
      expect(d.volumes).toMatchObject({ unused: 1, unusedBytes: 30 * 1024 * 1024, reclaimableBytes: pruned });
      expect(d.images.dangling.count).toBe(3);
      expect(d.images.inUse.count).toBe(1);
      expect(d.churn[0]).toMatchObject({ repository: 'pf-app', builds24h: 4, danglingVersions: 3 });
      expect(Object.values(d.danglingRepository)).toEqual(['pf-app', 'pf-app', 'pf-app']);
    });

    it("log sizes equal the files' sizes", async () => {
      const logs = doc.docker.logs;
      expect(logs.visible).toBe(true);
      const chatty = logs.entries.find((e: any) => e.name === 'pf-chatty');
      const file = `${s.dataRoot}/containers/${chatty.id}/${chatty.id}-json.log`;
      expect(chatty.bytes).toBe((await stat(file)).size);
      expect(chatty.bytes).toBeGreaterThan(39_000_000);
      expect(chatty).toMatchObject({ driver: 'json-file', maxSize: null, unbounded: true });
      for (const e of logs.entries) {
        expect(e.bytes).toBe((await stat(`${s.dataRoot}/containers/${e.id}/${e.id}-json.log`)).size);
      }
    });

    it('the markdown names each culprit', () => {
      const section = md.slice(md.indexOf('## Docker Storage'));
      expect(section).toContain(`storage driver ${driver}`);
      expect(section).toMatch(/^\| Images \| 6: 1 in use, 3 dangling \|/m);
      expect(section).toMatch(/^\| Containers \| 3: 1 running, 2 stopped \| 50\.0 MiB \| 50\.0 MiB \|/m);
      const pruned = apiAtLeast(s.apiVersion, '1.42') ? '0 B' : '30\\.0 MiB';
      expect(section).toMatch(
        new RegExp(`^\\| Volumes \\| 1: 0 in use, 1 unused \\| 30\\.0 MiB \\| ${pruned} \\|`, 'm'),
      );
      expect(section).toMatch(/^\| Build cache \| \d+ records \|/m);
      expect(section).toMatch(/^\| Container logs \| 3 containers, 3 files \| 38\.\d MiB \|/m);
      expect(section).toContain('Rebuild churn: pf-app: 4 builds in 24 h, 3 dangling versions');
      expect(section).toContain('pf-unused:1');
      expect(section).toContain('pf-base:1');
      expect(section).toContain('pf-stopped50 50.0 MiB (exited)');
      expect(section).toContain('pf-data30 30.0 MiB (unused)');
      expect(section).toMatch(/Largest logs: pf-chatty 38\.\d MiB \(json-file, no max-size\)/);
      expect(section).toContain('pf-running');
    });

    it('escapes hostile build-cache descriptions', () => {
      expect(md).not.toContain('\u001b');
      const headers = [
        '## Storage Pressure',
        '## Remediation Plan',
        '## Filesystem',
        '## Docker Storage',
        ...(driver === 'btrfs' ? ['## Btrfs'] : []),
        '## Storage Trend',
      ];
      expect(md.split('\n').filter((l) => l.startsWith('#'))).toEqual(headers);
      // Each table keeps its header's column count on every row.
      let columns = 0;
      for (const line of md.split('\n')) {
        if (!line.startsWith('|')) {
          columns = 0;
          continue;
        }
        const cells = line.split(/(?<!\\)\|/).length - 2;
        if (columns === 0) columns = cells;
        expect(cells).toBe(columns);
      }
      expect(md).toContain('\\#\\# Fake \\| \\`tick\\` \\u{1b}\\[31m red');
    });

    it('looks each image history up once: later runs take the recipes from the cache beside the history', async () => {
      const journal = await mkdtemp(path.join(tmpdir(), 'pf-recipes-'));
      const cacheFile = path.join(journal, '.storage-preflight', 'image-recipes.json');
      const run = async () =>
        parseReport(
          (await runPreflight(['--format', 'json'], { DOCKER_HOST: s.host, OPS_JOURNAL_ROOT: journal })).stdout,
        ).docker;
      try {
        const first = await run();
        const cache = JSON.parse(await readFile(cacheFile, 'utf8'));
        const ids = first.images.items.map((i: any) => i.id).sort();
        expect(Object.keys(cache.recipes).sort()).toEqual(ids);
        // A recipe the daemon would never give: the next run can only have it from the cache.
        const unused = first.images.items.find((i: any) => i.repoTags.includes('pf-unused:1')).id;
        for (const id of Object.keys(first.danglingRepository)) cache.recipes[id] = cache.recipes[unused];
        await writeFile(cacheFile, JSON.stringify(cache));
        expect(Object.values((await run()).danglingRepository)).toEqual(['pf-unused', 'pf-unused', 'pf-unused']);
        // A cache this tool did not write is dropped whole, looked up again, and rewritten.
        await writeFile(cacheFile, JSON.stringify({ ...cache, extra: 1 }));
        const third = await run();
        expect(Object.values(third.danglingRepository)).toEqual(['pf-app', 'pf-app', 'pf-app']);
        expect(Object.keys(JSON.parse(await readFile(cacheFile, 'utf8')).recipes).sort()).toEqual(ids);
      } finally {
        await rm(journal, { recursive: true, force: true });
      }
    });

    it('stays within the budget with a daemon that answers', async () => {
      const run = await runPreflight(['--budget', '20'], { DOCKER_HOST: s.host });
      expect(run.exitCode).toBe(0);
      expect(run.elapsedMs).toBeLessThan(20_000);
    });
  });
});
