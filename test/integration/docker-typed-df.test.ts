import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEngine } from '../helpers/describe-engine.js';
import { startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { engineGet } from '../helpers/engine-api.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { silentProxy } from '../helpers/silent-proxy.js';

/*
 * From API 1.42 the report asks /system/df for images and build cache apart
 * from containers and volumes, whose sizes walk the disk (minutes on a big
 * host). A walk that never answers must not take the cheap figures with it.
 */
describe.each(['graphdriver', 'containerd'] as const)('/system/df by type on the newest engine', (store) => {
  describeEngine({ engine: 'newest', store }, 'the walking call never answers', () => {
    let s: DockerSandbox;
    let dir: string;
    let proxy: Awaited<ReturnType<typeof silentProxy>>;
    beforeAll(async () => {
      s = await startDockerd('overlay2', 1024, { engine: 'newest', store });
      await s.buildImage('pf-base:1');
      await s.writeIn({ image: 'pf-base:1', name: 'pf-exited', file: '/f', mib: 5, zeros: true });
      await s.docker(['volume', 'create', 'pf-vol']);
      dir = await mkdtemp(path.join(tmpdir(), 'pf-typed-'));
      proxy = await silentProxy(s.socket, path.join(dir, 'd.sock'), (req) =>
        /[?&]type=container\b/.test(req.url ?? ''),
      );
    });
    afterAll(async () => {
      await proxy?.close();
      await s?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('images and build cache stay exact; containers and volumes are listed without sizes, within the budget', async () => {
      const run = await runPreflight(['--budget', '6', '--format', 'json', '--no-journal'], {
        DOCKER_HOST: `unix://${dir}/d.sock`,
      });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.elapsedMs).toBeLessThan(6000);
      expect(proxy.silenced.some((c) => c.includes('type=volume'))).toBe(true);
      const doc = parseReport(run.stdout);
      const section = doc.sections.find((x: any) => x.id === 'docker');
      expect(section.status).toBe('degraded');
      expect(section.reason).toMatch(
        /container and volume sizes: GET \/system\/df\?type=container&type=volume gave no answer in [\d.]+ s/,
      );
      // The cheap half, straight from the daemon: the same figures it gives on its own.
      const cheap = await engineGet(s.socket, '/system/df?type=image&type=build-cache');
      expect(doc.docker.images.items.map((i: any) => i.id).sort()).toEqual(cheap.Images.map((i: any) => i.Id).sort());
      expect(doc.docker.buildCache.count).toBe(cheap.BuildCache.length);
      if (store === 'graphdriver') expect(doc.docker.images.totalBytes).toBe(cheap.LayersSize);
      expect(doc.docker.containers).toBeNull();
      expect(doc.docker.volumes).toBeNull();
      const md = (await runPreflight(['--budget', '6', '--no-journal'], { DOCKER_HOST: `unix://${dir}/d.sock` }))
        .stdout;
      expect(md).toMatch(
        /^Sizes unknown this run: container and volume sizes: .*; images and build cache are exact\.$/m,
      );
      expect(md).toMatch(/^\| Containers \| 1: 0 running \| \? \| \? \| sizes unknown this run \|$/m);
      expect(md).toMatch(/^\| Volumes \| 1 \| \? \| \? \| sizes unknown this run \|$/m);
      expect(md).toMatch(/^\| Images \| 1: 1 in use, 0 dangling \| [\d.]+ [KM]iB \|/m);
      expect(doc.attribution.notes.join('\n')).toMatch(/sizes unknown this run \(container and volume sizes/);
    });
  });
});
