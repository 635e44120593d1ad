import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEngine } from '../helpers/describe-engine.js';
import { startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import type { EngineChoice } from '../helpers/modern-engine.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { silentProxy } from '../helpers/silent-proxy.js';

/*
 * When the call that walks the disk does not answer in time (containers'
 * and volumes' sizes; all of /system/df before API 1.42), the report shows
 * the sizes the history last recorded, with their age, beside this run's
 * figures and never as them; with no earlier record, it says they are unknown.
 */
const CASES: { choice: EngineChoice; walking: RegExp }[] = [
  { choice: { engine: 'debian', store: 'graphdriver' }, walking: /\/system\/df/ },
  { choice: { engine: 'newest', store: 'graphdriver' }, walking: /\/system\/df\?.*type=container/ },
  { choice: { engine: 'newest', store: 'containerd' }, walking: /\/system\/df\?.*type=container/ },
];

/** The history's records, oldest first. */
async function records(journal: string): Promise<any[]> {
  const file = path.join(journal, '.storage-preflight', `${new Date().toISOString().slice(0, 10)}.jsonl`);
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe.each(CASES)('last measured sizes when the walk does not answer', ({ choice, walking }) => {
  describeEngine(choice, 'a full run, then a run whose walking call is held', () => {
    let s: DockerSandbox;
    let dir: string;
    let proxy: Awaited<ReturnType<typeof silentProxy>>;
    const held = () => ({ DOCKER_HOST: `unix://${dir}/d.sock` });
    beforeAll(async () => {
      s = await startDockerd('overlay2', 1024, choice);
      await s.buildImage('pf-base:1');
      await s.writeIn({ image: 'pf-base:1', name: 'pf-exited', file: '/f', mib: 5, zeros: true });
      await s.writeIn({ image: 'pf-base:1', volume: 'pf-vol:/v', file: '/v/data', mib: 3, zeros: true });
      dir = await mkdtemp(path.join(tmpdir(), 'pf-stale-'));
      proxy = await silentProxy(s.socket, path.join(dir, 'd.sock'), (req) => walking.test(req.url ?? ''));
    });
    afterAll(async () => {
      await proxy?.close();
      await s?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('shows the first run’s exact sizes with their age, never as fresh ones, within the budget', async () => {
      const journal = path.join(dir, 'journal');
      const first = await runPreflight(['--budget', '30', '--format', 'json', '--journal', journal], {
        DOCKER_HOST: s.host,
      });
      expect(first.exitCode, first.stderr).toBe(0);
      const full = parseReport(first.stdout);
      expect(full.docker.stale).toEqual([]);
      const [measured] = await records(journal);
      expect(measured.observed.dockerSizes).toBe(true);
      expect(measured.sources.volumes).toBe(full.docker.volumes.totalBytes);
      expect(full.docker.volumes.totalBytes).toBeGreaterThanOrEqual(3 * 1024 * 1024);

      const before = Date.now();
      const run = await runPreflight(['--budget', '6', '--format', 'json', '--journal', journal], held());
      const after = Date.now();
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      expect(run.elapsedMs).toBeLessThan(6000);
      const doc = parseReport(run.stdout);
      const age = (at: string) => [
        Math.floor((before - Date.parse(at)) / 1000),
        Math.ceil((after - Date.parse(at)) / 1000),
      ];
      const stale = Object.fromEntries(doc.docker.stale.map((x: any) => [x.kind, x]));
      const kinds =
        choice.engine === 'debian'
          ? ['images', 'dangling-images', 'containers', 'volumes', 'build-cache']
          : choice.store === 'containerd'
            ? ['volumes']
            : ['containers', 'volumes'];
      expect(Object.keys(stale).sort()).toEqual([...kinds].sort());
      for (const kind of kinds) {
        // The first run's figure to the byte, the time it was measured, and how long ago that was.
        expect(stale[kind]).toMatchObject({ bytes: measured.sources[kind], measuredAt: measured.at });
        const [low, high] = age(measured.at);
        expect(stale[kind].ageSeconds).toBeGreaterThanOrEqual(low!);
        expect(stale[kind].ageSeconds).toBeLessThanOrEqual(high!);
      }
      expect(stale.volumes.bytes).toBe(full.docker.volumes.totalBytes);
      if (stale.containers) expect(stale.containers.bytes).toBe(full.docker.containers.writableBytes);
      // Beside the split, never in it; the run that kept them says it did not look.
      expect(doc.attribution.stale).toEqual(doc.docker.stale);
      expect(doc.attribution.sources.map((x: any) => x.kind)).not.toContain('volumes');
      expect(doc.docker.volumes).toBeNull();
      const [, kept] = await records(journal);
      expect(kept.observed.dockerSizes).toBe(false);
      expect(kept.sources.volumes).toBeUndefined();
      // Its remainder holds the unmeasured bytes: it is no figure of what lies outside Docker.
      expect(kept.sources['outside-docker']).toBeUndefined();

      // A third run still finds the first one's sizes (the second recorded none).
      const md = await runPreflight(['--budget', '6', '--journal', journal], held());
      expect(md.exitCode, md.stderr).toBe(0);
      expect(md.stdout).toMatch(
        /^Last measured, not this run's figures: (.*, )?volumes 3\.\d MiB(, .*)?, \d+(\.\d)? s ago \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)\.$/m,
      );
      expect(md.stdout).toMatch(
        /^\| Volumes \| 1 \| \? \| \? \| sizes unknown this run \(last measured 3\.\d MiB, [\d.]+ s ago\) \|$/m,
      );
      expect(md.stdout).toMatch(/^\| outside-docker \(with what Docker did not size this run\) \|/m);
    });

    it('says the sizes are unknown when no earlier run measured them', async () => {
      const run = await runPreflight(['--budget', '6', '--journal', path.join(dir, 'empty-journal')], held());
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout).toMatch(
        /^Last measured, not this run's figures: (.*, )?volumes(, .*)? unknown \(no earlier run in the history measured them\)\.$/m,
      );
      expect(run.stdout).toMatch(/^\| Volumes \| 1 \| \? \| \? \| sizes unknown this run \|$/m);
    });
  });
});
