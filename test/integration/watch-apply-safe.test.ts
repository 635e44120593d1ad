import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { noAgesConfig, rebuildsAndRunning } from '../helpers/apply-scene.js';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { daemonObjects, engineGet } from '../helpers/engine-api.js';
import { isAlive, jsonReports, startPreflight, until, type LiveRun } from '../helpers/live-run.js';
import { fillTo, statfsOf } from '../helpers/statfs.js';

/*
 * `preflight watch --apply-safe` as a host without a supervisor runs it: a
 * real overlay2 daemon on a 1 GiB loop filesystem pushed past the threshold,
 * the real run and apply locks in a temporary directory of the test's own.
 */

/** The report's own figures, as the gate decides on them: the used % of the data root's filesystem. */
const usedPct = async (s: DockerSandbox) => {
  const { used, capacity } = await statfsOf(s.fs.mountpoint);
  return (used / capacity) * 100;
};

describeWith([...ENGINE_TOOLS, 'fallocate'], 'watch --apply-safe on a real overlay2 dockerd', () => {
  let s: DockerSandbox;
  let scratch: string;
  let config: string;
  let env: NodeJS.ProcessEnv;
  const started: LiveRun[] = [];

  const watch = (args: readonly string[], journal: string, interval = '2s') => {
    const run = startPreflight(['watch', '--interval', interval, '--format', 'json', '--config', config, ...args], {
      ...env,
      OPS_JOURNAL_ROOT: journal,
    });
    started.push(run);
    return run;
  };

  beforeAll(async () => {
    s = await startDockerd('overlay2', 1024);
    scratch = await mkdtemp(path.join(tmpdir(), 'pf-watch-apply-'));
    env = { DOCKER_HOST: s.host, TMPDIR: scratch };
    // The gate decides with the configured ages (the host's clean-up reads the same file): none here.
    config = await noAgesConfig(scratch);
    // Two dangling rebuilds of pf-app:latest, and a container running from it.
    await rebuildsAndRunning(s);
    // Two exited containers, 80 MB of writable layer each.
    for (const name of ['pf-exited-1', 'pf-exited-2'])
      await s.writeIn({ image: 'pf-base:1', name, file: '/fill', mib: 80 });
    // Outside Docker, on the same filesystem: fill it to 85% used.
    await fillTo(s.fs.mountpoint, 0.85);
  });
  afterEach(async () => {
    for (const run of started.splice(0)) if (isAlive(run.pid)) await run.stop('SIGKILL');
  });
  afterAll(async () => {
    await s?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('without --apply-safe, a watch on a full disk deletes nothing', async () => {
    // The first /system/df after a build moves BuildKit's figures: read once, so the snapshots compare the watch alone.
    await engineGet(s.socket, '/v1.41/system/df');
    const before = await daemonObjects(s.socket);
    expect(await usedPct(s)).toBeGreaterThan(80);
    const w = watch([], path.join(scratch, 'journal-plain'));
    await until(() => jsonReports(w.stdout()).length >= 2, 90_000, 'two reports');
    expect((await w.stop('SIGTERM')).code).toBe(0);
    const reports = jsonReports(w.stdout());
    // The gate would fire the clean-up: only --apply-safe acts on it.
    expect(reports[0]!.fired.find((f: any) => f.name === 'disk-high')).toMatchObject({ action: 'direct' });
    expect(reports.every((d) => d.remediationApplied === undefined)).toBe(true);
    expect(await daemonObjects(s.socket)).toEqual(before);
    expect(await usedPct(s)).toBeGreaterThan(80);
  });

  it('with --apply-safe, the first run brings the disk below the target, the next finds nothing to do; SIGTERM ends it with exit 0', async () => {
    const journal = path.join(scratch, 'journal-apply');
    const t0 = Date.now();
    // A long interval: the first run must come long before it, whatever the machine's load.
    const w = watch(['--apply-safe'], journal, '15s');
    await until(() => jsonReports(w.stdout()).length >= 2, 90_000, 'two reports');
    const stopped = await w.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    const [first, second] = jsonReports(w.stdout());
    // On a full disk the first run acts at once: it starts long before a first interval (15 s) has passed.
    expect(Date.parse(first!.generatedAt) - t0).toBeLessThan(7500);
    const r = first!.remediationApplied;
    console.log(
      JSON.stringify({
        wanted: r.wantedBytes,
        freed: r.freedBytes,
        steps: r.steps.map((x: any) => [x.kind, x.tier, x.measuredBytes]),
      }),
    );
    expect(r).toMatchObject({ targetReached: true, maxTier: 'safe', targetPct: 75 });
    expect(r.steps.length).toBeGreaterThan(0);
    expect(r.steps.every((x: any) => x.tier === 'safe')).toBe(true);
    expect(r.usedAfterBytes).toBeLessThanOrEqual(Math.floor((r.capacityBytes * 75) / 100));
    expect(await usedPct(s)).toBeLessThanOrEqual(75);
    // The next run: below the target, the gate fires nothing direct, and nothing is applied.
    expect(second!.remediationApplied).toBeUndefined();
    expect(second!.fired.filter((f: any) => f.action === 'direct')).toEqual([]);
    // What runs still runs; the images containers use stay.
    const containers = await engineGet(s.socket, '/v1.41/containers/json?all=1');
    expect(containers.map((c: any) => [c.Names[0], c.State])).toEqual([['/pf-running', 'running']]);
    const tags = (await engineGet(s.socket, '/v1.41/images/json')).flatMap((i: any) => i.RepoTags ?? []);
    expect(tags).toEqual(expect.arrayContaining(['pf-base:1', 'pf-app:latest']));
    // The history records the apply with each step's measured reclaim, as remediate --apply does; the next run none.
    const dir = path.join(journal, '.storage-preflight');
    const records = (await readFile(path.join(dir, (await readdir(dir))[0]!), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records[0].remediation).toEqual(
      r.steps.map((x: any) => ({ action: x.kind, reclaimedBytes: x.measuredBytes })),
    );
    expect(records[1].remediation).toEqual([]);
    // Nothing on stderr but, perhaps, the run SIGTERM cut.
    expect(
      w
        .stderr()
        .split('\n')
        .filter((l) => l && !/was cut by SIGTERM; stopped$/.test(l)),
    ).toEqual([]);
  });
});
