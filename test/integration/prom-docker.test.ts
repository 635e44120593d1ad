import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { parseExposition, promtoolCheckMetrics, seriesOf, type PromFamily } from '../helpers/prom.js';
import { buildMixedScenario } from '../helpers/scenarios.js';

/*
 * The metrics of a real overlay2 dockerd holding the mixed scenario (images
 * in use and not, dangling rebuilds, stopped and running containers, a
 * volume, BuildKit cache, 40 MB of logs): every Docker category and source
 * as the JSON report counts it, then what remediate --apply expected and
 * measured, in the file it writes.
 */

async function textfile(file: string): Promise<Map<string, PromFamily>> {
  const text = await readFile(file, 'utf8');
  expect(await promtoolCheckMetrics(text)).toEqual({ exitCode: 0, output: '' });
  return parseExposition(text);
}

const valueOf = (doc: Map<string, PromFamily>, family: string, labels: Record<string, string>) =>
  seriesOf(doc, `storage_preflight_${family}`, labels).map((s) => s.value);

describeWith([...ENGINE_TOOLS, 'promtool'], 'Prometheus metrics from a real overlay2 dockerd (mixed scenario)', () => {
  let s: DockerSandbox;
  let scratch = '';
  let env: NodeJS.ProcessEnv;
  let file = '';
  let json: Record<string, any>;
  let doc: Map<string, PromFamily>;

  beforeAll(async () => {
    s = await startDockerd('overlay2', 1024);
    await buildMixedScenario(s);
    // A private TMPDIR keeps this file's apply lock apart from other runs on the host.
    scratch = await mkdtemp(path.join(tmpdir(), 'pf-prom-docker-'));
    file = path.join(scratch, 'storage-preflight.prom');
    env = { DOCKER_HOST: s.host, TMPDIR: scratch, OPS_JOURNAL_ROOT: path.join(scratch, 'journal') };
    // One run writes both: the JSON on stdout and the metrics of the same measurements in the file.
    const run = await runPreflight(['--format', 'json', '--prom-file', file], env);
    expect([run.exitCode, run.stderr]).toEqual([0, '']);
    json = parseReport(run.stdout);
    doc = await textfile(file);
  }, 600_000);

  afterAll(async () => {
    await s?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('every Docker category has its count and bytes, as the JSON report has them', () => {
    const d = json.docker;
    const expected = {
      images: [d.images.count, d.images.totalBytes, d.images.reclaimableBytes],
      containers: [d.containers.count, d.containers.writableBytes, d.containers.reclaimableBytes],
      volumes: [d.volumes.count, d.volumes.totalBytes, d.volumes.reclaimableBytes],
      'build-cache': [d.buildCache.count, d.buildCache.totalBytes, d.buildCache.reclaimableBytes],
      logs: [d.logs.files, d.logs.totalBytes, undefined],
    };
    const got = Object.fromEntries(
      Object.keys(expected).map((category) => [
        category,
        ['docker_objects', 'docker_bytes', 'docker_reclaimable_bytes'].map((f) => valueOf(doc, f, { category })[0]),
      ]),
    );
    expect(got).toEqual(expected);
    expect(d.logs.totalBytes).toBeGreaterThan(30 * 1024 * 1024);
  });

  it('sources, findings and the data root filesystem match the JSON report of the same run', () => {
    const a = json.attribution;
    expect(a.mountpoint).toBe(s.fs.mountpoint);
    const sources = seriesOf(doc, 'storage_preflight_source_bytes', { mountpoint: a.mountpoint })
      .map((x) => [x.labels.source, x.value])
      .sort();
    expect(sources).toEqual(a.sources.map((x: { kind: string; bytes: number }) => [x.kind, x.bytes]).sort());
    const reclaimable = seriesOf(doc, 'storage_preflight_source_reclaimable_bytes')
      .map((x) => [x.labels.source, x.value])
      .sort();
    expect(reclaimable).toEqual(
      a.sources.map((x: { kind: string; reclaimableBytes: number }) => [x.kind, x.reclaimableBytes]).sort(),
    );
    expect(sources.map(([k]) => k)).toEqual(
      expect.arrayContaining(['images', 'dangling-images', 'containers', 'container-logs', 'volumes', 'build-cache']),
    );
    const row = json.filesystems.find((f: { mountpoint: string }) => f.mountpoint === s.fs.mountpoint);
    expect(valueOf(doc, 'filesystem_used_bytes', { mountpoint: row.mountpoint, fstype: 'ext4' })).toEqual([
      row.usedBytes,
    ]);
    expect(seriesOf(doc, 'storage_preflight_section_status', { section: 'docker', status: 'ok' })[0]!.value).toBe(1);
  });

  it('remediate --apply writes what each tier expected and what statfs measured it freed', async () => {
    const run = await runPreflight(
      ['remediate', '--apply', '--min-age', '0s', '--target-pct', '1', '--format', 'json', '--prom-file', file],
      env,
    );
    expect([run.exitCode, run.stderr]).toEqual([0, '']);
    const applied = parseReport(run.stdout).remediationApplied;
    expect(applied.steps.length).toBeGreaterThan(0);
    const after = await textfile(file);
    const tiers = [...new Set<string>(applied.steps.map((st: { tier: string }) => st.tier))];
    for (const tier of tiers) {
      const steps = applied.steps.filter((st: { tier: string }) => st.tier === tier);
      const labels = { mountpoint: applied.mountpoint, tier };
      expect(valueOf(after, 'remediation_expected_bytes', labels)).toEqual([
        steps.reduce((n: number, st: { expectedBytes: number }) => n + st.expectedBytes, 0),
      ]);
      expect(valueOf(after, 'remediation_reclaimed_bytes', labels)).toEqual([
        steps.reduce((n: number, st: { measuredBytes: number }) => n + st.measuredBytes, 0),
      ]);
    }
    expect(valueOf(after, 'remediation_reclaimed_bytes', { tier: 'safe' })[0]).toBeGreaterThan(40 * 1024 * 1024);
    // The apply's run measured everything: the file still has the whole picture, not only the clean-up.
    expect(
      seriesOf(after, 'storage_preflight_section_status', { section: 'remediation-applied', status: 'ok' })[0]!.value,
    ).toBe(1);
    expect(valueOf(after, 'docker_objects', { category: 'images' })).toHaveLength(1);
  });
});
