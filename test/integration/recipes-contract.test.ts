import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RECIPES_FILE } from '../../integrations/recipes.js';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { makeLoopFs, unmountUnder, type LoopFs } from '../helpers/loopfs.js';
import { parseReport, REPO, runPreflight } from '../helpers/preflight.js';
import { cutSection, diskPct, evaluate, fieldValue, wakesLlm, type HostRecipe } from '../helpers/recipe-evaluator.js';
import { statfsOf } from '../helpers/statfs.js';

/*
 * The contract with the host: its evaluator's semantics (test/helpers/recipe-evaluator.ts)
 * applied with the recipes we ship to real reports of ours, and checked against our own gate.
 */
const shipped = (parse(readFileSync(RECIPES_FILE, 'utf8')) as { recipes: HostRecipe[] }).recipes;
const MiB = 1024 * 1024;

/** Bring `mount` to about `pct`% used with one filler file (replaced on each call). */
async function fillTo(mount: string, pct: number): Promise<void> {
  const filler = path.join(mount, 'filler');
  await rm(filler, { force: true });
  await execa('sync');
  const { used, capacity } = await statfsOf(mount);
  const bytes = Math.floor((capacity * pct) / 100) - used;
  if (bytes > MiB) await execa('fallocate', ['-l', String(bytes - (bytes % MiB)), filler]);
  await execa('sync');
}

/** The history record a run appended to the journal in `dir` (its only one). */
async function journalRecord(dir: string): Promise<Record<string, any>> {
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.jsonl'));
  expect(files).toHaveLength(1);
  const lines = (await readFile(path.join(dir, files[0]!), 'utf8')).trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, any>;
}

/**
 * One state of the host, three ways: the markdown the host reads, our gate, and JSON for the figures.
 * The markdown's run keeps its journal: the record it appends holds that same run's figures, the only
 * ones its Disk: line may be compared with (a live / moves between runs).
 */
async function observe(args: string[], env: NodeJS.ProcessEnv = {}) {
  const journal = await mkdtemp(path.join(tmpdir(), 'pf-rc-journal-'));
  const md = await runPreflight(args, { ...env, OPS_JOURNAL_ROOT: journal });
  const gate = await runPreflight(['--format', 'fired', ...args], env);
  const json = await runPreflight(['--format', 'json', ...args], env);
  for (const r of [md, gate, json]) expect(r.exitCode, r.stderr).toBe(0);
  const record = await journalRecord(journal);
  await rm(journal, { recursive: true, force: true });
  const fired = evaluate(shipped, md.stdout);
  const field = (section: string, name: string) => fieldValue(cutSection(md.stdout, section) ?? [], name);
  return {
    md: md.stdout,
    record,
    fired,
    names: fired.map((f) => f.name),
    gate: JSON.parse(gate.stdout).fired,
    doc: parseReport(json.stdout),
    field,
  };
}
type Observed = Awaited<ReturnType<typeof observe>>;

/** What every state must satisfy: the recipes wake the LLM when our gate does, and each script they name exists. */
function expectContract(o: Observed) {
  expect(wakesLlm(o.fired), `recipes ${JSON.stringify(o.fired)} vs gate ${JSON.stringify(o.gate)}`).toBe(
    wakesLlm(o.gate),
  );
  for (const f of o.fired.filter((x) => x.action === 'direct'))
    expect(existsSync(path.join(REPO, f.action_script)), f.action_script).toBe(true);
  // disk_pct_gt on our Filesystem section reads our summary figure, whatever the mounts are called: the
  // filesystem's roles (they stay) from the JSON run, its figure from the markdown's own run.
  const summary =
    o.doc.filesystems.find((r: any) => r.roles.includes('docker-data-root')) ??
    o.doc.filesystems.find((r: any) => r.roles.includes('root'));
  const measured = o.record.filesystems.find((f: any) => f.mountpoint === summary.mountpoint);
  expect(measured, `${summary.mountpoint} in the markdown run's record`).toBeDefined();
  expect(diskPct(cutSection(o.md, 'Filesystem') ?? [])).toBe(measured.usedPct);
}

describeWith(
  [...ENGINE_TOOLS, 'fallocate', 'mount'],
  "the shipped recipes, evaluated the host's way on real reports",
  () => {
    let scratch = '';
    let loop: LoopFs | undefined;
    let s: DockerSandbox | undefined;
    let hostile = '';
    let ages: NodeJS.ProcessEnv = {};
    beforeAll(async () => {
      scratch = await mkdtemp('/tmp/pf-rc-');
      // The action script's run reads the same config (PREFLIGHT_CONFIG): objects of any age are safe to remove.
      const config = path.join(scratch, 'ages.toml');
      await writeFile(
        config,
        `[remediation]\n${['dangling_image_min_age', 'exited_container_grace', 'build_cache_min_age', 'unused_image_min_age'].map((k) => `${k} = "0s"`).join('\n')}\n`,
      );
      // A mount point that spells a header and each field line, would a newline in it survive.
      hostile = `${scratch}/h\nDisk: 99% used\n## Storage Pressure\nTop source: volumes\nDisk pressure: critical\n## Remediation Plan\nSafe clean-up: available\nMetadata risk: critical`;
      await mkdir(hostile, { recursive: true });
      await execa('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', hostile]);
      loop = await makeLoopFs({ fstype: 'ext4', sizeMiB: 64 });
      s = await startDockerd('overlay2', 1024);
      ages = { DOCKER_HOST: s.host, PREFLIGHT_CONFIG: config };
      await s.buildImage('pf-rc-base:1');
      // What the safe apply can remove: a stopped container with a 200 MiB writable layer.
      await s.docker([
        'run',
        '--network',
        'none',
        '--name',
        'pf-rc-stopped',
        'pf-rc-base:1',
        'dd',
        'if=/dev/urandom',
        'of=/fill',
        'bs=1M',
        'count=200',
      ]);
    });
    afterAll(async () => {
      await s?.stop();
      await loop?.cleanup();
      if (scratch) {
        await unmountUnder(scratch);
        await rm(scratch, { recursive: true, force: true });
      }
    });

    it('a --path filesystem past 80%: storage-disk-high (llm), which the Disk: line of / alone would never show', async () => {
      await fillTo(loop!.mountpoint, 86);
      const o = await observe(['--path', loop!.mountpoint]);
      expect(o.doc.filesystems.find((r: any) => r.mountpoint === loop!.mountpoint).usedPct).toBeGreaterThan(80);
      expect(o.names).toEqual(['storage-disk-high']);
      expect(o.fired[0]).toMatchObject({ severity: 'P1', action: 'llm', evidence: 'Disk pressure: high' });
      expect(
        evaluate(
          [
            {
              name: 'root-disk',
              severity: 'P1',
              detect: { source: 'preflight', section: 'Filesystem', rule: 'disk_pct_gt', threshold: 80 },
              action: 'llm',
            },
          ],
          o.md,
        ),
      ).toEqual([]);
      expectContract(o);
    });

    it('below the warning tier nothing fires, and the hostile mount point adds nothing: no header, no field, no Disk: figure', async () => {
      await fillTo(loop!.mountpoint, 0);
      const o = await observe(['--path', loop!.mountpoint, '--path', hostile]);
      expect(o.doc.filesystems.map((r: any) => r.mountpoint)).toContain(hostile);
      // The hostile text is in the report, escaped onto one line: else this proves nothing.
      expect(o.md).toContain('\\nTop source: volumes\\nDisk pressure: critical');
      expect(o.names).toEqual([]);
      expect(o.field('Storage Pressure', 'Top source')).toBe(o.doc.attribution.sources[0].kind);
      expect(o.field('Storage Pressure', 'Disk pressure')).toBe('ok');
      expect(o.field('Remediation Plan', 'Safe clean-up')).toBe('none');
      expect(o.md.split('\n').filter((l) => l.startsWith('## '))).toEqual([
        '## Storage Pressure',
        '## Remediation Plan',
        '## Filesystem',
        '## Docker Storage',
        '## Storage Trend',
      ]);
      expectContract(o);
    });

    it('a Docker data root past 80% that the safe apply can clean: storage-cleanup alone (direct, our script), the LLM sleeps', async () => {
      await fillTo(s!.fs.mountpoint, 86);
      const o = await observe([], ages);
      expect(o.doc.remediation.plan.usedPct).toBeGreaterThan(80);
      expect(o.names).toEqual(['storage-cleanup']);
      expect(o.fired[0]).toMatchObject({
        severity: 'P1',
        action: 'direct',
        action_script: 'integrations/actions/storage-cleanup.sh',
        evidence: 'Safe clean-up: available',
      });
      expect(o.field('Storage Pressure', 'Disk pressure')).toBe('clean-up');
      expect(wakesLlm(o.fired)).toBe(false);
      expectContract(o);
      // The same host with a hostile --path beside it fires the same.
      expect(evaluate(shipped, (await runPreflight(['--path', hostile], ages)).stdout).map((f) => f.name)).toEqual([
        'storage-cleanup',
      ]);
    });

    it('the same disk with only young objects (default ages): nothing is safe, storage-disk-high asks the LLM', async () => {
      const o = await observe([], { DOCKER_HOST: s!.host });
      expect(o.names).toEqual(['storage-disk-high']);
      expect(o.field('Remediation Plan', 'Safe clean-up')).toBe('none');
      expectContract(o);
    });

    it('at about 72% (warning tier, below the 75% target): nothing fires; well below it, nothing either', async () => {
      await fillTo(s!.fs.mountpoint, 72);
      const warning = await observe([], ages);
      expect(warning.doc.remediation.plan.usedPct).toBeGreaterThanOrEqual(70);
      expect(warning.doc.remediation.plan.usedPct).toBeLessThan(75);
      expect(warning.names).toEqual([]);
      expect(warning.field('Storage Pressure', 'Disk pressure')).toBe('warning');
      expectContract(warning);
      await fillTo(s!.fs.mountpoint, 0);
      const calm = await observe([], ages);
      expect(calm.names).toEqual([]);
      expect(calm.field('Storage Pressure', 'Disk pressure')).toBe('ok');
      expectContract(calm);
    });
  },
);
