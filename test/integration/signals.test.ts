import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPreflight } from '../helpers/live-run.js';

/**
 * `remediate --apply` cut by a signal while it waits on a Docker daemon that
 * accepts and never answers: it ends at once with 143 or 130 and one line,
 * as a report run does (run-lock.test.ts).
 */
describe('remediate --apply cut by a signal', () => {
  let dir = '';
  let server: net.Server;
  const sockets: net.Socket[] = [];
  const waiting: (() => void)[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-signals-'));
    server = net.createServer((s) => {
      sockets.push(s);
      waiting.splice(0).forEach((w) => w());
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'docker.sock'), resolve));
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s: exits %i within a second, one line on stderr', async (signal, code) => {
    const temp = await mkdtemp(path.join(dir, 'tmp-'));
    const connected = new Promise<void>((resolve) => waiting.push(resolve));
    const run = startPreflight(['remediate', '--apply', '--no-journal', '--budget', '30'], {
      DOCKER_HOST: `unix://${dir}/docker.sock`,
      TMPDIR: temp,
    });
    await connected;
    const stopped = await run.stop(signal);
    expect(stopped.ms).toBeLessThan(1000);
    expect(stopped.code).toBe(code);
    expect(run.stdout()).toBe('');
    expect(run.stderr()).toMatch(
      new RegExp(`^preflight: stopped by ${signal} before the report was printed[^\\n]*\\n$`),
    );
  });
});
