import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { childrenOf } from '../../src/host/exec.js';
import {
  isAlive,
  jsonReports,
  lockHolder,
  silentDocker,
  startPreflight,
  until,
  windowOf,
  type LiveRun,
} from '../helpers/live-run.js';

/*
 * `preflight watch` as a host runs it: real processes, real signals, the
 * real run lock in a temporary directory of the test's own.
 */

let temp: string;
let docker: { host: string; close(): Promise<void> };
const started: LiveRun[] = [];
const lockPath = () => path.join(temp, 'storage-preflight-run.lock');

function watch(args: readonly string[], env: NodeJS.ProcessEnv = {}): LiveRun {
  const run = startPreflight(['watch', '--no-journal', '--format', 'json', ...args], {
    TMPDIR: temp,
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    ...env,
  });
  started.push(run);
  return run;
}

beforeAll(async () => {
  docker = await silentDocker();
});
afterAll(async () => {
  await docker.close();
});
beforeEach(async () => {
  temp = await mkdtemp(path.join(tmpdir(), 'pf-watch-'));
});
afterEach(async () => {
  for (const run of started.splice(0)) if (isAlive(run.pid)) await run.stop('SIGKILL');
  await rm(temp, { recursive: true, force: true });
});

describe('preflight watch', () => {
  it('survives a failing run: its config turns invalid, one line on stderr, and the next run reports again', async () => {
    const config = path.join(temp, 'preflight.toml');
    await writeFile(config, 'budget = 10\n');
    const w = watch(['--interval', '2s', '--config', config]);
    await until(() => jsonReports(w.stdout()).length >= 1, 20_000, 'the first report');
    // Now a real failure: the run rereads its config and refuses it (exit 2).
    await writeFile(config, 'budget = 10\nbogus = 1\n');
    await until(() => /failed/.test(w.stderr()), 20_000, 'a failed run');
    await writeFile(config, 'budget = 10\n');
    const before = jsonReports(w.stdout()).length;
    await until(() => jsonReports(w.stdout()).length > before, 20_000, 'a report after the failure');
    const stopped = await w.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    const lines = w.stderr().split('\n').filter(Boolean);
    const failed = lines.filter((l) => / failed /.test(l));
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const l of failed)
      expect(l).toMatch(
        /^preflight watch: the run started \S+Z failed \(exit 2\): \/.*\/preflight\.toml: unknown key 'bogus' \(integrations\/preflight\.example\.yaml lists every key\)$/,
      );
    // Nothing else on stderr but, perhaps, the run SIGTERM cut.
    expect(lines.filter((l) => !failed.includes(l) && !/was cut by SIGTERM; stopped$/.test(l))).toEqual([]);
    expect(jsonReports(w.stdout()).every((d) => d.schemaVersion === 1)).toBe(true);
  });

  it('never overlaps runs: two watchers and a one-shot run on the same lock take turns', async () => {
    // Each run waits out a silent daemon's 3 s: long enough that runs started together would overlap.
    const env = { DOCKER_HOST: docker.host };
    // Each waits for the lock up to half its budget: 30 s, a dozen turns of the others (the lock keeps no queue).
    const a = watch(['--interval', '2s', '--budget', '60'], env);
    const b = watch(['--interval', '2s', '--budget', '60'], env);
    await new Promise((r) => setTimeout(r, 3000));
    const once = startPreflight(['--no-journal', '--format', 'json', '--budget', '60'], { TMPDIR: temp, ...env });
    started.push(once);
    await until(
      () => jsonReports(a.stdout()).length >= 2 && jsonReports(b.stdout()).length >= 2,
      60_000,
      'two reports from each watcher',
    );
    const oneShot = await once.exited;
    expect(oneShot.code).toBe(0);
    for (const w of [a, b]) expect((await w.stop('SIGTERM')).code).toBe(0);
    const windows = [a, b, once]
      .flatMap((r) => jsonReports(r.stdout()).map(windowOf))
      .sort((x, y) => x.start - y.start);
    expect(windows.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < windows.length; i += 1) {
      expect(windows[i]!.start, `run ${i} started before run ${i - 1} ended`).toBeGreaterThanOrEqual(
        windows[i - 1]!.end,
      );
    }
    // Waiting for the lock is no failure: no run gave up.
    expect(
      [a, b, once].map((r) =>
        r
          .stderr()
          .split('\n')
          .filter((l) => l && !/was cut by SIGTERM; stopped$/.test(l)),
      ),
    ).toEqual([[], [], []]);
  });

  it('measures the interval start to start; a run longer than the interval is followed at once, with no burst after it', async () => {
    const fast = watch(['--interval', '3s']);
    await until(() => jsonReports(fast.stdout()).length >= 3, 30_000, 'three fast reports');
    await fast.stop('SIGTERM');
    const f = jsonReports(fast.stdout()).map(windowOf);
    for (let i = 1; i < f.length; i += 1)
      expect(Math.abs(f[i]!.start - f[i - 1]!.start - 3000), `start ${i}`).toBeLessThan(700);

    const slow = watch(['--interval', '1s'], { DOCKER_HOST: docker.host });
    await until(() => jsonReports(slow.stdout()).length >= 3, 40_000, 'three slow reports');
    await slow.stop('SIGTERM');
    const s = jsonReports(slow.stdout()).map(windowOf);
    for (let i = 1; i < s.length; i += 1) {
      expect(s[i - 1]!.end - s[i - 1]!.start, 'each run is longer than the interval').toBeGreaterThan(1000);
      // The next run starts as soon as the last one ended (Node's start-up aside), and only one: no catching up.
      expect(s[i]!.start - s[i - 1]!.end, `gap before run ${i}`).toBeLessThan(1500);
      expect(s[i]!.start - s[i - 1]!.end, `gap before run ${i}`).toBeGreaterThanOrEqual(0);
    }
  });

  it.each([['SIGTERM'], ['SIGINT']] as const)(
    'ends within a second of %s while a run holds the lock: the run is cut, its lock released, exit 0',
    async (signal) => {
      const w = watch(['--interval', '2s'], { DOCKER_HOST: docker.host });
      await until(() => lockHolder(lockPath()) !== null, 20_000, 'a run holding the lock');
      const runPid = lockHolder(lockPath())!;
      expect(runPid).not.toBe(w.pid);
      await new Promise((r) => setTimeout(r, 300));
      const stopped = await w.stop(signal);
      expect(stopped.ms).toBeLessThan(1000);
      expect(stopped.code).toBe(0);
      expect(existsSync(lockPath())).toBe(false);
      expect(isAlive(runPid)).toBe(false);
      expect(w.stdout()).toBe('');
      expect(w.stderr()).toMatch(
        new RegExp(`^preflight watch: the run started \\S+Z was cut by ${signal}; stopped\\n$`),
      );
    },
  );

  it('ends at once between runs, and refuses a bad flag before it starts', async () => {
    const w = watch(['--interval', '1h']);
    await until(() => jsonReports(w.stdout()).length >= 1, 20_000, 'the first report');
    await until(() => childrenOf(w.pid).length === 0, 10_000, 'the run to exit');
    const stopped = await w.stop('SIGTERM');
    expect(stopped).toMatchObject({ code: 0 });
    expect(stopped.ms).toBeLessThan(1000);
    expect(w.stderr()).toBe('');
    const bad = watch(['--interval', '0s']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toBe("preflight: --interval must be at least 1s (got '0s')\n");
  });
});
