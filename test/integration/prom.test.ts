import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROM_FAMILIES, PROM_PREFIX } from '../../src/render/prom.js';
import { describeWith } from '../helpers/describe-with.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import {
  asInputSeries,
  parseExposition,
  promtoolCheckMetrics,
  promtoolTestRules,
  RULES,
  seriesOf,
  type PromFamily,
} from '../helpers/prom.js';

/*
 * --format prom and --prom-file on real runs without Docker: a tmpfs at a
 * mount point holding a newline, double quotes and a backslash (the three
 * characters the format escapes), checked by promtool and by a strict parse;
 * the textfile written atomically, and failures that stay one report line.
 */

const mount = async (dir: string, size: string) => {
  await mkdir(dir, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
};

async function df(dir: string): Promise<number[]> {
  const { stdout } = await execa('df', ['-B1', '--output=size,used,avail', dir]);
  return String(stdout).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
}

/** runPreflight strips the final newline that the format needs (the file tests keep it). */
const printed = (r: { stdout: string }) => `${r.stdout}\n`;

/** The problems of a metrics text: promtool's verdict, then the strict reader's. */
async function checked(text: string): Promise<Map<string, PromFamily>> {
  expect(await promtoolCheckMetrics(text)).toEqual({ exitCode: 0, output: '' });
  return parseExposition(text);
}

describeWith(
  ['promtool', 'mount', 'umount'],
  'Prometheus metrics on real runs (no Docker; a hostile tmpfs mount point)',
  () => {
    let base = '';
    let hostile = '';
    let journal = '';
    let textDir = '';
    const mounts: string[] = [];
    const env = () => ({ OPS_JOURNAL_ROOT: journal });

    beforeAll(async () => {
      base = await mkdtemp('/tmp/pf-prom-');
      journal = await mkdtemp(path.join(tmpdir(), 'pf-prom-journal-'));
      hostile = `${base}/m "q" \\back\nslash\n## HELP fake 1\nx{a="b"} 2 \u001b[31m`;
      await mount(hostile, '4m');
      mounts.push(hostile);
      // 3800 KiB of 4 MiB: 93% used, so disk-critical fires on it.
      await execa('dd', ['if=/dev/urandom', `of=${hostile}/fill`, 'bs=1K', 'count=3800', 'status=none']);
      textDir = `${base}/textfile "dir"\n`;
      await mkdir(textDir);
    });

    afterAll(async () => {
      for (const m of mounts.reverse()) await execa('umount', ['-l', m], { reject: false });
      if (base) await rm(base, { recursive: true, force: true });
      if (journal) await rm(journal, { recursive: true, force: true });
    });

    it('--format prom passes promtool check metrics and the strict parse: every family ours, a gauge with HELP, no NaN', async () => {
      const run = await runPreflight(['--format', 'prom', '--path', hostile], env());
      expect([run.exitCode, run.stderr]).toEqual([0, '']);
      const doc = await checked(printed(run));
      const known = new Set(Object.keys(PROM_FAMILIES).map((f) => `${PROM_PREFIX}${f}`));
      expect([...doc.keys()].filter((f) => !known.has(f))).toEqual([]);
      for (const [name, f] of doc) {
        expect([f.type, f.help.length > 10, f.series.length > 0], name).toEqual(['gauge', true, true]);
        expect(
          f.series.filter((s) => Number.isNaN(s.value)),
          name,
        ).toEqual([]);
      }
      for (const family of [
        'last_success_timestamp_seconds',
        'run_duration_seconds',
        'section_status',
        'filesystem_size_bytes',
        'source_bytes',
        'finding',
      ]) {
        expect(doc.has(`${PROM_PREFIX}${family}`), family).toBe(true);
      }
    });

    it('the hostile mount point is one label value, byte-exact, with df -B1 figures and its findings', async () => {
      const run = await runPreflight(['--format', 'prom', '--path', hostile], env());
      const doc = await checked(printed(run));
      const labels = { mountpoint: hostile, fstype: 'tmpfs' };
      const figures = ['size', 'used', 'avail'].map((f) =>
        seriesOf(doc, `storage_preflight_filesystem_${f}_bytes`, labels).map((s) => s.value),
      );
      expect(figures).toEqual((await df(hostile)).map((n) => [n]));
      expect(
        seriesOf(doc, 'storage_preflight_finding', { mountpoint: hostile })
          .map((s) => [s.labels.name, s.labels.severity, s.value])
          .sort(),
      ).toEqual([['disk-critical', 'P1', 1]]);
      // The escapes as written: no raw line break, no fake HELP line, no fake sample.
      expect(run.stdout).toContain('m \\"q\\" \\\\back\\nslash\\n## HELP fake 1\\nx{a=\\"b\\"} 2 \u001b[31m"');
      expect(run.stdout.split('\n').filter((l) => l.startsWith('## ') || l.startsWith('x{'))).toEqual([]);
    });

    it('agrees with --format json of the same state', async () => {
      const [prom, json] = [
        await runPreflight(['--format', 'prom', '--path', hostile], env()),
        await runPreflight(['--format', 'json', '--path', hostile], env()),
      ];
      const doc = await checked(printed(prom));
      const report = parseReport(json.stdout);
      const ids = (f: string) => [...new Set(seriesOf(doc, f).map((s) => s.labels.section))].sort();
      expect(ids('storage_preflight_section_status')).toEqual(report.sections.map((s: { id: string }) => s.id).sort());
      expect(
        seriesOf(doc, 'storage_preflight_section_status')
          .filter((s) => s.value === 1)
          .map((s) => `${s.labels.section} ${s.labels.status}`)
          .sort(),
      ).toEqual(report.sections.map((s: { id: string; status: string }) => `${s.id} ${s.status}`).sort());
      expect(
        seriesOf(doc, 'storage_preflight_source_bytes')
          .map((s) => s.labels.source)
          .sort(),
      ).toEqual(report.attribution.sources.map((s: { kind: string }) => s.kind).sort());
      expect(
        seriesOf(doc, 'storage_preflight_finding')
          .map((s) => `${s.labels.name}@${s.labels.mountpoint}`)
          .sort(),
      ).toEqual(
        report.findings.map((f: { name: string; mountpoint?: string }) => `${f.name}@${f.mountpoint ?? ''}`).sort(),
      );
      // Four runs seconds apart by now: too little history for a 1 h rate, so no series (never a blip as a rate).
      expect(
        seriesOf(doc, 'storage_preflight_filesystem_growth_bytes_per_second', { mountpoint: hostile, window: '1h' }),
      ).toHaveLength(0);
      const last = seriesOf(doc, 'storage_preflight_last_success_timestamp_seconds')[0]!.value;
      expect(Math.abs(last * 1000 - Date.now())).toBeLessThan(60_000);
    });

    it("the shipped rules run on a real run's metrics: the hostile mount's P1 finding alerts with its label intact, nothing else does", async () => {
      const run = await runPreflight(['--format', 'prom', '--path', hostile], env());
      const expected = {
        exp_labels: {
          instance: 'host:9100',
          job: 'node',
          name: 'disk-critical',
          priority: 'P1',
          severity: 'warning',
          mountpoint: hostile,
        },
        exp_annotations: {
          summary: 'storage-preflight raises a P1 finding.',
          description: `disk-critical on ${hostile} (host:9100) for two runs in a row; the report's Storage Pressure section has the evidence.`,
        },
      };
      const quiet = [
        'StoragePreflightFilesystemSpaceFillingUp',
        'StoragePreflightSourceFillingUp',
        'StoragePreflightStale',
        'StoragePreflightSectionFailing',
        'StoragePreflightRemediationUnderDelivered',
      ].map((alertname) => ({ eval_time: '50m', alertname, exp_alerts: [] }));
      const res = await promtoolTestRules(
        RULES,
        [
          {
            interval: '1m',
            input_series: asInputSeries(printed(run), 60, 'instance="host:9100",job="node"'),
            alert_rule_test: [
              { eval_time: '50m', alertname: 'StoragePreflightP1Finding', exp_alerts: [expected] },
              ...quiet,
            ],
          },
        ],
        base,
      );
      expect(res.output).toMatch(/SUCCESS/);
    });

    it('--prom-file goes with any format: stdout keeps the report, the file holds the metrics (mode 644), nothing on stderr, no temporary left', async () => {
      const file = `${textDir}/storage-preflight.prom`;
      const md = await runPreflight(['--prom-file', file, '--path', hostile], env());
      expect([md.exitCode, md.stderr]).toEqual([0, '']);
      expect(md.stdout).toMatch(/^## Storage Pressure\n/);
      expect(md.stdout).not.toContain('Metrics:');
      const doc = await checked(await readFile(file, 'utf8'));
      expect(seriesOf(doc, 'storage_preflight_filesystem_size_bytes', { mountpoint: hostile })).toHaveLength(1);
      expect((await stat(file)).mode & 0o777).toBe(0o644);
      const fired = await runPreflight(['--format', 'fired', '--prom-file', file], env());
      expect(Object.keys(JSON.parse(fired.stdout))).toEqual(['fired']);
      const json = parseReport((await runPreflight(['--format', 'json', '--prom-file', file], env())).stdout);
      expect(json.promFile).toEqual({ written: true, file, reason: null });
      expect(await readdir(textDir)).toEqual(['storage-preflight.prom']);
    });

    it('a failed write is one line in the report, exit 0, nothing on stderr: missing folder, a symlink, a full disk', async () => {
      const missing = `${base}/no such dir/x.prom`;
      const md = await runPreflight(['--prom-file', missing], env());
      expect([md.exitCode, md.stderr]).toEqual([0, '']);
      expect(md.stdout.split('\n').filter((l) => l.startsWith('Metrics:'))).toEqual([
        `Metrics: writing ${base}/no such dir/x.prom failed (ENOENT: no such folder (the textfile collector's folder must exist)); node_exporter keeps serving the previous file, if there is one.`,
      ]);
      const prom = await runPreflight(['--format', 'prom', '--prom-file', missing], env());
      expect(prom.stdout.trimEnd().split('\n').pop()).toMatch(/^# Metrics: writing .*x\.prom failed \(ENOENT/);
      expect(await promtoolCheckMetrics(printed(prom))).toEqual({ exitCode: 0, output: '' });
      parseExposition(printed(prom), { comments: true });

      const target = `${base}/target.txt`;
      await writeFile(target, 'keep me\n');
      await symlink(target, `${base}/link.prom`);
      const linked = parseReport(
        (await runPreflight(['--format', 'json', '--prom-file', `${base}/link.prom`], env())).stdout,
      );
      expect(linked.promFile).toMatchObject({
        written: false,
        reason: expect.stringMatching(/^ELOOP: is a symbolic link/),
      });
      expect(await readFile(target, 'utf8')).toBe('keep me\n');

      // A full disk (the case this tool is for): the old file stays whole, no temporary is left.
      const small = `${base}/small`;
      await mount(small, '64k');
      mounts.push(small);
      const file = `${small}/storage-preflight.prom`;
      expect((await runPreflight(['--prom-file', file, '--no-journal'], env())).exitCode).toBe(0);
      const before = await readFile(file, 'utf8');
      parseExposition(before);
      await execa('dd', ['if=/dev/zero', `of=${small}/fill`, 'bs=1K', 'count=128', 'status=none'], { reject: false });
      const full = parseReport(
        (await runPreflight(['--format', 'json', '--prom-file', file, '--path', hostile, '--no-journal'], env()))
          .stdout,
      );
      expect(full.promFile).toMatchObject({ written: false, reason: expect.stringMatching(/^ENOSPC/) });
      expect(await readFile(file, 'utf8')).toBe(before);
      expect((await readdir(small)).sort()).toEqual(['fill', 'storage-preflight.prom']);
    });

    it('a reader polling the textfile during 20 writes never sees a partial file', async () => {
      const file = `${textDir}/atomic.prom`;
      // --all-mounts and the hostile path: a bigger file, more time inside a non-atomic write.
      const args = ['--prom-file', file, '--all-mounts', '--path', hostile, '--no-journal', '--budget', '30'];
      expect((await runPreflight(args, env())).exitCode).toBe(0);
      let writing = true;
      const reads = { count: 0, problems: [] as string[] };
      const reader = (async () => {
        while (writing) {
          const text = await readFile(file, 'utf8');
          reads.count += 1;
          try {
            if (!parseExposition(text).has('storage_preflight_run_duration_seconds'))
              reads.problems.push('a read without the run duration');
          } catch (err) {
            reads.problems.push(`read ${reads.count}: ${(err as Error).message}`);
          }
          await new Promise((r) => setImmediate(r));
        }
      })();
      // Four writers at a time: writes also race each other.
      const runs = [];
      for (let batch = 0; batch < 5; batch += 1)
        runs.push(...(await Promise.all([0, 1, 2, 3].map(() => runPreflight(args, env())))));
      writing = false;
      await reader;
      expect(runs.map((r) => [r.exitCode, r.stderr])).toEqual(Array(20).fill([0, '']));
      expect(reads.problems.slice(0, 5)).toEqual([]);
      expect(reads.count).toBeGreaterThan(100);
      expect((await readdir(textDir)).filter((f) => f.startsWith('.'))).toEqual([]);
    }, 240_000);
  },
);
