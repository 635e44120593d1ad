import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/fixtures.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';

/**
 * A daemon whose cheap calls answer (with responses recorded from the real
 * 20.10 daemon) and whose GET /system/df never does: what a big host looks
 * like to a run with a short budget (moby#31719).
 */
describe('GET /system/df that never answers', () => {
  let dir = '';
  let server: http.Server;
  const recorded: Record<string, string> = {
    '/info': fixture('docker/overlay2-20.10/info.json.txt'),
    '/v1.41/images/json': fixture('docker/overlay2-20.10/images.json.txt'),
    '/v1.41/containers/json?all=1': fixture('docker/overlay2-20.10/containers.json.txt'),
  };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-slowdf-'));
    server = http.createServer((req, res) => {
      const body = recorded[req.url ?? ''];
      if (body === undefined) return; // /system/df (and anything else): never answer
      res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.41' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'docker.sock'), resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('renders what the cheap calls told, says the expensive part timed out, and keeps the verdict, within the budget', async () => {
    const run = await runPreflight(['--budget', '8', '--format', 'json'], { DOCKER_HOST: `unix://${dir}/docker.sock` });
    expect(run.exitCode).toBe(0);
    expect(run.elapsedMs).toBeLessThan(8000);
    const doc = parseReport(run.stdout);
    const docker = doc.sections.find((s: { id: string }) => s.id === 'docker');
    expect(docker.status).toBe('timeout');
    expect(docker.reason).toMatch(
      /^GET \/system\/df gave no answer in [\d.]+ s; sizes of images, containers, volumes and build cache are unknown this run$/,
    );
    expect(doc.docker.engine).toMatchObject({ version: '20.10.24+dfsg1', driver: 'overlay2' });
    expect(doc.docker.images).toBeNull();
    expect(doc.sections.find((s: { id: string }) => s.id === 'pressure').status).toBe('ok');
    // The recorded data root does not exist on this machine: the split says so.
    expect(doc.attribution.notes.join(' ')).toMatch(
      /^Docker's data root \(.*\/mnt\/docker\) is not on \/ or not visible from here/,
    );
    const md = (await runPreflight(['--budget', '8'], { DOCKER_HOST: `unix://${dir}/docker.sock` })).stdout;
    expect(md).toMatch(/^## Docker Storage\n\(timeout: GET \/system\/df gave no answer/m);
    expect(md).toMatch(/^\| Images \| 6 \| \? \| \? \| sizes unknown this run \|$/m);
    expect(md).toMatch(/^\| Containers \| 3: 1 running \|/m);
    expect(md).toMatch(/^Verdict: /m);
  });
});
