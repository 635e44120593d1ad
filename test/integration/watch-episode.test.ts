import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { noAgesConfig, rebuildsAndRunning } from '../helpers/apply-scene.js';
import { describeEngine } from '../helpers/describe-engine.js';
import { startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { engineGet } from '../helpers/engine-api.js';
import { isAlive, jsonReports, startPreflight, until, type LiveRun } from '../helpers/live-run.js';
import { makeLoopFs, type LoopFs } from '../helpers/loopfs.js';
import { fillTo, statfsOf } from '../helpers/statfs.js';

/*
 * Issue 23's acceptance episode, as a host without a supervisor lives it:
 * `preflight watch --apply-safe --notify` on a real overlay2 daemon whose
 * loop filesystem exited containers and dangling rebuilds pushed past the
 * threshold, and a webhook on loopback counting what it is told. Then a
 * condition the safe tier cannot clear (a small filesystem full of files
 * outside Docker, watched with --path) holds while the watch is stopped
 * and started again, until the test removes the files by hand.
 */

const MiB = 1024 * 1024;
/** The run's interval: short, yet long enough that a run on this loaded machine ends well within it. */
const INTERVAL = '10s';
const WAIT_MS = 150_000;

/** One webhook call (generic JSON: the URL is neither Slack, Discord, Telegram nor ntfy). */
interface Told {
  alerts: { kind: string; name: string; mountpoint?: string }[];
  freedBytes: number | null;
  text: string;
}

/** What the daemon holds that the safe tier must leave: running containers, tags, volumes with their bytes. */
async function kept(s: DockerSandbox) {
  const df = await engineGet(s.socket, '/v1.41/system/df');
  return {
    running: df.Containers.filter((c: any) => c.State === 'running').map((c: any) => c.Names[0]),
    tags: df.Images.flatMap((i: any) => i.RepoTags ?? []).sort(),
    volumes: df.Volumes.map((v: any) => [v.Name, v.UsageData.Size]),
  };
}

describe.each(['debian', 'newest'] as const)('watch --apply-safe --notify over a whole episode', (engine) => {
  describeEngine({ engine, store: 'graphdriver' }, 'one raise, one clean-up, one recovery', () => {
    let s: DockerSandbox;
    let small: LoopFs;
    let scratch: string;
    let config: string;
    let server: Server;
    let base = '';
    const told: Told[] = [];
    const started: LiveRun[] = [];
    const SECRET = 'EPISODESECRET0token';

    const watch = () => {
      const run = startPreflight(
        [
          'watch',
          '--interval',
          INTERVAL,
          '--apply-safe',
          '--format',
          'json',
          '--config',
          config,
          '--path',
          small.mountpoint,
          '--notify',
          `${base}/episode/${SECRET}`,
        ],
        { DOCKER_HOST: s.host, TMPDIR: scratch, OPS_JOURNAL_ROOT: path.join(scratch, 'journal') },
      );
      started.push(run);
      return run;
    };
    /** Wait for report number `n` (1-based) of a watch, and return it. */
    const report = async (w: LiveRun, n: number) => {
      await until(() => jsonReports(w.stdout()).length >= n, WAIT_MS, `report ${n}`);
      return jsonReports(w.stdout())[n - 1]!;
    };
    /** The number (1-based) of a watch's first report that told something after report `from`: the message is sent before the report prints. */
    const toldIn = async (w: LiveRun, from: number) => {
      const at = () => jsonReports(w.stdout()).findIndex((r, i) => i >= from && r.notify?.message);
      await until(() => at() >= 0, WAIT_MS, `a report after ${from} that told something`);
      return at() + 1;
    };
    const records = async () => {
      const dir = path.join(scratch, 'journal', '.storage-preflight');
      const files = (await readdir(dir)).sort();
      const text = (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8')))).join('');
      return text
        .split('\n')
        .filter((l) => l)
        .map((l) => JSON.parse(l));
    };

    beforeAll(async () => {
      s = await startDockerd('overlay2', 1024, { engine });
      small = await makeLoopFs({ fstype: 'ext4', sizeMiB: 64 });
      scratch = await mkdtemp(path.join(tmpdir(), 'pf-episode-'));
      // Objects made a minute ago are old enough: the policy's ages are not what this test is about.
      config = await noAgesConfig(scratch);
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          if (req.url === `/episode/${SECRET}`) told.push(JSON.parse(body) as Told);
          res.writeHead(200).end('ok');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

      await rebuildsAndRunning(s);
      await s.docker(['volume', 'create', 'pf-keep']);
      await s.writeIn({ image: 'pf-base:1', volume: 'pf-keep:/v', file: '/v/data', mib: 20 });
      // Two exited containers with 100 MiB written in their layers: what the safe tier frees.
      for (const name of ['pf-exited-1', 'pf-exited-2'])
        await s.writeIn({ image: 'pf-base:1', name, file: '/fill', mib: 100 });
      // The rest outside Docker: 86% used, past the 80% threshold; the clean-up leaves it near 66%, under the 70% warning.
      await fillTo(s.fs.mountpoint, 0.86);
    });
    afterEach(async () => {
      for (const run of started.splice(0)) if (isAlive(run.pid)) await run.stop('SIGKILL');
    });
    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      await s?.stop();
      await small?.cleanup();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('cleans up once and tells it once; a state held across a restart is neither repeated nor lost', async () => {
      const dataFs = s.fs.mountpoint;
      const before = await kept(s);
      const { used, capacity } = await statfsOf(dataFs);
      expect(used / capacity).toBeGreaterThan(0.8);

      // The episode: the first run applies and raises, the next recovers, the one after is quiet.
      const w1 = watch();
      const applied = await report(w1, 1);
      const recovered = await report(w1, 2);
      const quiet = await report(w1, 3);
      expect(applied.remediationApplied).toMatchObject({ targetReached: true, maxTier: 'safe' });
      expect(applied.remediationApplied.steps.map((x: any) => x.kind)).toEqual(['remove-containers']);
      expect((await statfsOf(dataFs)).used / capacity).toBeLessThan(0.7);
      expect(recovered.remediationApplied).toBeUndefined();
      expect(told.map((t) => t.alerts.map((a) => `${a.kind} ${a.name}@${a.mountpoint}`))).toEqual([
        [`raise disk-high@${dataFs}`],
        [`recovered disk-high@${dataFs}`],
      ]);
      expect(quiet.notify).toMatchObject({ message: null });
      // The clean-up is told once, with what the history recorded it freed.
      const history = await records();
      const freed = history[0].remediation.reduce((a: number, r: any) => a + r.reclaimedBytes, 0);
      expect(freed).toBeGreaterThan(150 * MiB);
      const pct = (r: any) => Math.round((r.usedBytes * 1000) / r.capacityBytes) / 10;
      const r = applied.remediationApplied;
      console.log(
        JSON.stringify({
          engine: s.label,
          freedMiB: freed / MiB,
          usedPct: [pct({ ...r, usedBytes: r.usedBeforeBytes }), pct({ ...r, usedBytes: r.usedAfterBytes })],
          runMs: [applied, recovered, quiet].map((x) => x.durationMs),
        }),
      );
      expect(told.map((t) => t.freedBytes)).toEqual([freed, null]);
      expect(told[0]!.text).toMatch(/^Done: clean-up freed \d/m);
      expect(history.slice(0, 3).map((r: any) => r.notified ?? [])).toEqual([
        [{ key: `disk-high@${dataFs}`, kind: 'raise' }],
        [{ key: `disk-high@${dataFs}`, kind: 'recovered' }],
        [],
      ]);
      // What runs, what is tagged and the volumes' bytes are as they were.
      expect(await kept(s)).toEqual(before);

      // A condition the safe tier cannot clear: files outside Docker fill the small filesystem.
      await fillTo(small.mountpoint, 0.85);
      const raisedIn = await toldIn(w1, 3);
      expect(told).toHaveLength(3);
      // One run more while it holds, within the cooldown: nothing told. Then the watch stops, between runs.
      const held = await report(w1, raisedIn + 1);
      expect(held.notify).toMatchObject({ message: null });
      expect((await w1.stop('SIGTERM')).code).toBe(0);

      // Started again: its first run sees the same state, already told.
      const w2 = watch();
      const again = await report(w2, 1);
      expect(again.findings.map((f: any) => `${f.name}@${f.mountpoint}`)).toContain(`disk-high@${small.mountpoint}`);
      expect(again.notify).toMatchObject({ message: null });
      expect(told).toHaveLength(3);
      // The test clears it by hand: one recovery, then quiet.
      await rm(path.join(small.mountpoint, 'filler'));
      const after = await toldIn(w2, 1);
      expect(told).toHaveLength(4);
      expect((await report(w2, after + 1)).notify).toMatchObject({ message: null });
      expect((await w2.stop('SIGTERM')).code).toBe(0);

      expect(told.slice(2).map((t) => t.alerts.map((a) => `${a.kind} ${a.name}@${a.mountpoint}`))).toEqual([
        [`raise disk-high@${small.mountpoint}`],
        [`recovered disk-high@${small.mountpoint}`],
      ]);
      expect(told.slice(2).map((t) => t.freedBytes)).toEqual([null, null]);
      // Over it all: one apply, nothing deleted that was in use, no URL anywhere, nothing on stderr but stops.
      const reports = [...jsonReports(w1.stdout()), ...jsonReports(w2.stdout())];
      expect(reports.filter((r) => r.remediationApplied !== undefined)).toHaveLength(1);
      expect(await kept(s)).toEqual(before);
      for (const w of [w1, w2]) {
        expect(w.stdout()).not.toContain(SECRET);
        expect(
          w
            .stderr()
            .split('\n')
            .filter((l) => l && !/was cut by SIGTERM; stopped$/.test(l)),
        ).toEqual([]);
      }
    });
  });
});
