import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_DIR } from '../../src/model/history.js';
import { describeEngine } from '../helpers/describe-engine.js';
import { startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { ENGINE_MATRIX } from '../helpers/modern-engine.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { parseExposition, promtoolCheckMetrics, seriesOf } from '../helpers/prom.js';
import { useScratchDir } from '../helpers/scratch.js';

/*
 * A volume filled at a steady rate, over an hour of runs 10 minutes apart:
 * the real tool runs 7 times against a real daemon, a container adds a fixed
 * number of bytes to the volume between runs, and before each run the
 * records already in the history are moved back in time so that the runs
 * lie exactly 10 minutes apart. The trend, the verdict, the JSON and the
 * metrics name that volume at its true rate, and never the one that stays.
 */

const MiB = 1024 * 1024;
const RUNS = 7;
const STEP_MS = 10 * 60_000;
const STEP_MIB = 20;
/** 20 MiB every 10 minutes. */
const TRUE_RATE = (STEP_MIB * MiB * 3_600_000) / STEP_MS;

/** Our history's day files (the test owns this journal): each record's `at` set to `now − k steps`, k counted from the newest. */
async function spaceRunsApart(journal: string, now: number): Promise<number> {
  const dir = path.join(journal, HISTORY_DIR);
  const files = (await readdir(dir)).filter((f) => /^\d{4}-\d\d-\d\d\.jsonl$/.test(f)).sort();
  const lines = (await Promise.all(files.map((f) => readFile(path.join(dir, f), 'utf8'))))
    .flatMap((text) => text.split('\n'))
    .filter((l) => l.trim() !== '');
  const moved = lines.map((line, i) => {
    const record = JSON.parse(line) as { at: string };
    return JSON.stringify({ ...record, at: new Date(now - (lines.length - i) * STEP_MS).toISOString() });
  });
  // One file, as the day it is now: the reader finds every record whatever its day.
  for (const f of files) await writeFile(path.join(dir, f), '');
  await writeFile(
    path.join(dir, `${new Date(now).toISOString().slice(0, 10)}.jsonl`),
    moved.map((l) => `${l}\n`).join(''),
  );
  return moved.length;
}

describe.each(ENGINE_MATRIX)('growth named down to the object', (choice) => {
  describeEngine(choice, 'a volume filled at a steady rate over an hour of runs', () => {
    let s: DockerSandbox;
    let dir = '';
    useScratchDir('pf-object-growth-', (d) => (dir = d), 'all');
    beforeAll(async () => {
      s = await startDockerd('overlay2', 1024, { engine: choice.engine, store: choice.store });
      await s.buildImage('pf-base:1');
      for (const v of ['pgdata', 'static']) await s.docker(['volume', 'create', v]);
      await s.writeIn({ image: 'pf-base:1', volume: 'static:/v', file: '/v/base', mib: 30 });
    });
    afterAll(async () => {
      await s?.stop();
    });

    it('is named with a rate within 10% of the true one, in the trend, the verdict, JSON and metrics; the static one never', async () => {
      const env = () => ({ DOCKER_HOST: s.host, OPS_JOURNAL_ROOT: path.join(dir, 'journal'), TMPDIR: dir });
      const prom = path.join(dir, 'metrics.prom');
      let last = { stdout: '', stderr: '', exitCode: -1 };
      for (let i = 0; i < RUNS; i += 1) {
        if (i > 0) {
          await s.writeIn({ image: 'pf-base:1', volume: 'pgdata:/v', file: `/v/part${i}`, mib: STEP_MIB });
          expect(await spaceRunsApart(path.join(dir, 'journal'), Date.now())).toBe(i);
        }
        last = await runPreflight(i === RUNS - 1 ? ['--prom-file', prom] : ['--format', 'json'], env());
        expect(last.exitCode, last.stderr).toBe(0);
        expect(last.stderr).toBe('');
      }
      const within10 = (rate: number) => Math.abs(rate - TRUE_RATE) <= TRUE_RATE * 0.1;
      const perHour = (text: string) => {
        // `volume pgdata +120.0 MiB/h over 1 h`
        const m = /volume pgdata \+([\d.]+) MiB\/h over 1 h/.exec(text);
        return m ? Number(m[1]) * MiB : NaN;
      };

      // The trend section and the verdict of the last run's markdown.
      const trendLine = last.stdout.split('\n').find((l) => l.startsWith('Growing objects: ')) ?? '';
      expect(within10(perHour(trendLine)), trendLine).toBe(true);
      const verdict = last.stdout.split('\n').find((l) => l.startsWith('Verdict: ')) ?? '';
      expect(verdict).toMatch(/; growing: volume pgdata \+[\d.]+ MiB\/h over 1 h\.$/);
      expect(within10(perHour(verdict)), verdict).toBe(true);
      expect(last.stdout).not.toMatch(/volume static \+/);

      // JSON, from the same history: every run of the hour counted, the static volume flat and not named.
      const trend = parseReport((await runPreflight(['trend', '--format', 'json'], env())).stdout).trend;
      expect(trend.entries).toBe(RUNS);
      expect(trend.growingObjects).toHaveLength(1);
      expect(trend.growingObjects[0]).toMatchObject({ kind: 'volume', name: 'pgdata', window: '1h' });
      expect(within10(trend.growingObjects[0].bytesPerHour)).toBe(true);
      const pg = trend.objects.find((o: any) => o.kind === 'volume' && o.name === 'pgdata');
      // The oldest run lies an hour and the last run's start-up back: just outside the 1 h window.
      expect(pg.points['1h']).toBeGreaterThanOrEqual(RUNS - 1);
      const flat = trend.objects.find((o: any) => o.kind === 'volume' && o.name === 'static');
      expect(Math.abs(flat.bytesPerHour['1h'])).toBeLessThan(MiB);
      console.log(
        s.label,
        `true ${(TRUE_RATE / MiB).toFixed(1)} MiB/h, measured ${(trend.growingObjects[0].bytesPerHour / MiB).toFixed(2)} MiB/h`,
      );

      // Metrics: one series, for the volume that grows, in a file promtool and the strict reader accept.
      const text = await readFile(prom, 'utf8');
      expect(await promtoolCheckMetrics(text)).toEqual({ exitCode: 0, output: '' });
      const series = seriesOf(parseExposition(text), 'storage_preflight_object_growth_bytes_per_second');
      expect(series.map((x) => x.labels)).toEqual([{ kind: 'volume', name: 'pgdata', window: '1h' }]);
      expect(within10(series[0]!.value * 3600)).toBe(true);
    });
  });
});
