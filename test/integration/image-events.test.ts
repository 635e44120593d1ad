import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEngine } from '../helpers/describe-engine.js';
import { startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { engineGet } from '../helpers/engine-api.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';

/*
 * A short `docker run --rm` job between two runs leaves no container for
 * /system/df to count: only the daemon's start event says its image was used.
 */
describe.each(['debian', 'newest'] as const)('images used by short jobs between runs', (engine) => {
  describeEngine({ engine, store: 'graphdriver' }, 'a --rm job between two runs', () => {
    let s: DockerSandbox;
    let scratch: string;
    let env: NodeJS.ProcessEnv;
    beforeAll(async () => {
      s = await startDockerd('overlay2', 1024, { engine });
      await s.buildImage('pf-job:1', ['COPY job /job'], { job: 'job\n' });
      await s.buildImage('pf-idle:1', ['COPY idle /idle'], { idle: 'idle\n' });
      scratch = await mkdtemp(path.join(tmpdir(), 'pf-events-'));
      const config = path.join(scratch, 'ages.toml');
      // An image unused for a second is old enough: only its last use can keep it out of the plan.
      await writeFile(config, '[remediation]\nunused_image_min_age = "1s"\n');
      env = { DOCKER_HOST: s.host, TMPDIR: scratch, OPS_JOURNAL_ROOT: scratch, PREFLIGHT_CONFIG: config };
    });
    afterAll(async () => {
      await s?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('is never planned as unused, and the history keeps it as used; an image no job started is planned', async () => {
      const first = await runPreflight(['--format', 'json'], env);
      expect(first.exitCode, first.stderr).toBe(0);
      const ids = Object.fromEntries(
        parseReport(first.stdout).docker.images.items.map((i: any) => [i.repoTags[0], i.id] as const),
      ) as Record<string, string>;
      await sleep(2100);
      await s.docker(['run', '--rm', '--network', 'none', 'pf-job:1', 'true']);
      // The job left nothing behind: /system/df counts no container of it.
      expect((await engineGet(s.socket, '/containers/json?all=1')).length).toBe(0);
      await sleep(1100);
      const run = await runPreflight(['remediate', '--format', 'json'], env);
      expect(run.exitCode, run.stderr).toBe(0);
      const planned = parseReport(run.stdout)
        .remediation.plan.steps.filter((x: any) => x.kind === 'remove-unused-images')
        .flatMap((x: any) => x.objects.map((o: any) => o.id));
      expect(planned).toContain(ids['pf-idle:1']);
      expect(planned).not.toContain(ids['pf-job:1']);
      // The run's history record keeps the job's image as used: later runs know it too.
      const dir = path.join(scratch, '.storage-preflight');
      const files = (await readdir(dir)).filter((f) => /^\d{4}-\d\d-\d\d/.test(f)).sort();
      const lines = (await readFile(path.join(dir, files.at(-1)!), 'utf8')).trim().split('\n');
      expect(JSON.parse(lines.at(-1)!).imagesInUse).toEqual([ids['pf-job:1']]);
    });
  });
});
