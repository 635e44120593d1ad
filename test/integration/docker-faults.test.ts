import { execa } from 'execa';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { parseReport, REPO, runPreflight } from '../helpers/preflight.js';
import { hasTool } from '../helpers/tools.js';

const section = (doc: Record<string, any>) => doc.sections.find((s: { id: string }) => s.id === 'docker');

describeWith(['python3'], 'a Docker socket nobody listens on (daemon stopped)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-refused-'));
    // A bound, never-listening unix socket: what a crashed daemon leaves behind.
    await execa('python3', [
      '-c',
      'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])',
      path.join(dir, 'docker.sock'),
    ]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('says connection refused in one line and reports the rest', async () => {
    const run = await runPreflight(['--format', 'json'], { DOCKER_HOST: `unix://${dir}/docker.sock` });
    expect(run.exitCode).toBe(0);
    const doc = parseReport(run.stdout);
    expect(section(doc)).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^docker: connection refused at .*docker\.sock \(daemon not running\?\)/),
    });
    expect(doc.filesystems.length).toBeGreaterThan(0);
  });
});

describeWith(
  [...ENGINE_TOOLS, 'runuser', '/usr/local/bin/docker'],
  'Docker faults and fallbacks against a real daemon',
  () => {
    let s: DockerSandbox;
    let config = '';
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
      config = await mkdtemp(path.join(tmpdir(), 'pf-dockercfg-'));
    });
    afterAll(async () => {
      await s?.stop();
      if (config) await rm(config, { recursive: true, force: true });
    });

    it('permission denied on the socket is one clear line (run as nobody)', async () => {
      await chmod(s.socket, 0o660);
      // The socket's directory must be searchable for the error to be about the socket itself.
      await chmod(path.dirname(s.socket), 0o755);
      await chmod(path.dirname(path.dirname(s.socket)), 0o755);
      const res = await execa('runuser', ['-u', 'nobody', '--', path.join(REPO, 'preflight'), '--format', 'json'], {
        reject: false,
        env: { DOCKER_HOST: s.host, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      });
      expect(res.exitCode).toBe(0);
      const doc = parseReport(String(res.stdout));
      expect(section(doc)).toMatchObject({
        status: 'skipped',
        reason: expect.stringMatching(/^docker: permission denied on .*d\.sock/),
      });
    });

    it.runIf(hasTool('/usr/local/bin/docker'))(
      'falls back to `docker system df -v --format json` through a CLI context, marked approximate',
      async () => {
        const env = { DOCKER_CONFIG: config, PATH: `/usr/local/bin:${process.env.PATH}` };
        await execa('/usr/local/bin/docker', ['context', 'create', 'pf-sandbox', '--docker', `host=${s.host}`], {
          env,
        });
        const run = await runPreflight(['--format', 'json'], { ...env, DOCKER_HOST: '', DOCKER_CONTEXT: 'pf-sandbox' });
        const doc = parseReport(run.stdout);
        expect(section(doc)).toMatchObject({
          status: 'degraded',
          reason: expect.stringMatching(/figures from `docker system df`, rounded/),
        });
        expect(doc.docker).toMatchObject({ source: 'cli', approximate: true, engine: null });
        const w = doc.docker.containers.items.find((c: { name: string }) => c.name === 'pf-w');
        // 5 MiB = 5,242,880 B; the CLI prints 5.24MB.
        expect(Math.abs(w.sizeRw - 5 * 1024 * 1024)).toBeLessThan(10_000);
        const md = (await runPreflight([], { ...env, DOCKER_HOST: '', DOCKER_CONTEXT: 'pf-sandbox' })).stdout;
        expect(md).toContain('Figures are approximate: from `docker system df`');
      },
    );
  },
);
