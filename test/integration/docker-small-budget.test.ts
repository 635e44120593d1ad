import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';

const section = (doc: Record<string, any>, id: string) => doc.sections.find((s: { id: string }) => s.id === id);

describeWith(ENGINE_TOOLS, '--budget 1 against a small real daemon', () => {
  let s: DockerSandbox;
  beforeAll(async () => {
    s = await startDockerd('overlay2', 1024);
    await s.buildImage('pf-base:1');
    await s.docker([
      'run',
      '--network',
      'none',
      '--name',
      'pf-w',
      'pf-base:1',
      'dd',
      'if=/dev/zero',
      'of=/f',
      'bs=1M',
      'count=5',
    ]);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('gives /system/df most of the budget: the sizes arrive, within the budget', async () => {
    const elapsed: number[] = [];
    for (const budget of ['1', '2']) {
      const run = await runPreflight(['--format', 'json', '--budget', budget], { DOCKER_HOST: s.host });
      expect(run.exitCode).toBe(0);
      const doc = parseReport(run.stdout);
      expect(section(doc, 'docker')).toMatchObject({ status: 'ok' });
      expect(doc.docker.containers).toMatchObject({ count: 1, stoppedWritableBytes: 5 * 1024 * 1024 });
      expect(doc.docker.images.count).toBe(1);
      expect(section(doc, 'pressure').status).toBe('ok');
      expect(section(doc, 'filesystem').status).toBe('ok');
      elapsed.push(run.elapsedMs);
    }
    process.stderr.write(`--budget 1 / 2 against a small daemon: ${elapsed.join(' / ')} ms\n`);
    // Measured ~410 ms (Node's start included); the budget itself plus start-up is the bound.
    expect(elapsed[0]).toBeLessThan(1200);
  });
});
