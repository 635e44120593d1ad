import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runPreflight } from '../helpers/preflight.js';

/** The disk findings a JSON run raised on / (the one filesystem measured here). */
const diskFindings = (stdout: string) =>
  parseReport(stdout)
    .findings.filter((f: { name: string; mountpoint: string }) => f.name.startsWith('disk-') && f.mountpoint === '/')
    .map((f: { name: string }) => f.name);

describe('./preflight --config', () => {
  let dir = '';
  let rootPct = 0;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-config-'));
    const root = parseReport((await runPreflight(['--format', 'json', '--no-journal'])).stdout).filesystems.find(
      (f: { mountpoint: string }) => f.mountpoint === '/',
    );
    rootPct = root.usedPct;
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [
      '--config',
      'remediation:\n  target_pct: high\n',
      /^preflight: .*bad\.yaml: remediation\.target_pct: expected a percentage in \(0, 100\], got "high"$/,
    ],
    [
      'PREFLIGHT_CONFIG',
      'disk_threshold: 80\ndisk_treshold: 85\n',
      /^preflight: .*bad\.yaml: unknown key 'disk_treshold' \(did you mean 'disk_threshold'\?\)$/,
    ],
  ])('a bad YAML config (%s) exits 2 with one line on stderr and nothing on stdout', async (how, text, message) => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, text);
    const run =
      how === '--config' ? await runPreflight(['--config', file]) : await runPreflight([], { PREFLIGHT_CONFIG: file });
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });

  it('a good one takes effect, and a flag overrides it', async () => {
    // A threshold just under what / uses now raises disk-high; 100 (warning at 90) raises nothing.
    expect(rootPct, 'this test needs / between 2% and 89% used').toBeGreaterThanOrEqual(2);
    expect(rootPct).toBeLessThan(90);
    const file = path.join(dir, 'good.yaml');
    await writeFile(file, `# a low threshold\ndisk_threshold: ${rootPct - 1}\n`);
    const configured = await runPreflight(['--format', 'json', '--no-journal', '--config', file]);
    expect(configured.exitCode).toBe(0);
    expect(diskFindings(configured.stdout)).toEqual(['disk-high']);
    const flagged = await runPreflight([
      '--format',
      'json',
      '--no-journal',
      '--config',
      file,
      '--disk-threshold',
      '100',
    ]);
    expect(diskFindings(flagged.stdout)).toEqual([]);
  });

  it('an old TOML config (named by content here) still takes effect', async () => {
    const file = path.join(dir, 'preflight.conf');
    await writeFile(file, `# TOML\ndisk_threshold = ${rootPct - 1}\n`);
    const run = await runPreflight(['--format', 'json', '--no-journal'], { PREFLIGHT_CONFIG: file });
    expect(diskFindings(run.stdout)).toEqual(['disk-high']);
  });

  it('DOCKER_HOST and OPS_JOURNAL_ROOT beat the file; the file beats the defaults', async () => {
    const journal = path.join(dir, 'cfg-journal');
    const file = path.join(dir, 'hosts.yaml');
    await writeFile(file, `docker_host: unix://${dir}/cfg.sock\njournal:\n  root: ${journal}\n`);
    const fromFile = await runPreflight(['--format', 'json', '--config', file], {
      DOCKER_HOST: undefined,
      OPS_JOURNAL_ROOT: undefined,
      OPS_REPO_ROOT: undefined,
    });
    expect(parseReport(fromFile.stdout).sections.find((s: { id: string }) => s.id === 'docker').reason).toBe(
      `docker: no socket at ${dir}/cfg.sock`,
    );
    expect(parseReport(fromFile.stdout).journal).toMatchObject({
      written: true,
      file: expect.stringMatching(`^${journal}/`),
    });

    const envJournal = await mkdtemp(path.join(dir, 'env-journal-'));
    const fromEnv = await runPreflight(['--format', 'json', '--config', file], { OPS_JOURNAL_ROOT: envJournal });
    expect(parseReport(fromEnv.stdout).sections.find((s: { id: string }) => s.id === 'docker').reason).toMatch(
      /^docker: no socket at \/nonexistent\/docker\.sock/,
    );
    expect(parseReport(fromEnv.stdout).journal).toMatchObject({
      written: true,
      file: expect.stringMatching(`^${envJournal}/`),
    });
  });
});
