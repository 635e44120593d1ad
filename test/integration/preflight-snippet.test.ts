import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RECIPES_FILE } from '../../integrations/recipes.js';
import { evaluate, wakesLlm, type HostRecipe } from '../helpers/recipe-evaluator.js';
import { REPO, runPreflight } from '../helpers/preflight.js';

const SNIPPET = path.join(REPO, 'integrations', 'preflight-snippet.sh');
const shipped = (parse(readFileSync(RECIPES_FILE, 'utf8')) as { recipes: HostRecipe[] }).recipes;
/** What a failing preflight says on stderr: a header and a Disk: figure, were it to reach the prompt. */
const STDERR_TEXT = '## Leaked stderr\nDisk: 99% used';

describe('the supervisor snippet, pasted into a host script that runs under set -euo pipefail', () => {
  let dir = '';
  let host = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-snippet-'));
    host = path.join(dir, 'preflight.sh');
    // The host's own sections before, one after: the snippet must let the script go on.
    await writeFile(
      host,
      [
        '#!/usr/bin/env bash',
        'set -euo pipefail',
        'echo "## System Resources"',
        'echo "Disk: 23% used (5.0G/22G on /)"',
        'echo ""',
        readFileSync(SNIPPET, 'utf8'),
        'echo "## Host After"',
        'echo "host continued"',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** As the supervisor runs it: `OUT=$(bash supervisor/preflight.sh … 2>&1)`, stderr folded into what the prompt gets. */
  async function runHost(env: NodeJS.ProcessEnv) {
    const res = await execa('bash', [host], {
      all: true,
      reject: false,
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock', ...env },
      timeout: 60_000,
    });
    const out = String(res.all);
    return { out, exitCode: res.exitCode, fired: evaluate(shipped, out) };
  }

  /** A stand-in checkout whose ./preflight is this shell script. */
  async function fakeCheckout(name: string, body: string): Promise<string> {
    const checkout = path.join(dir, name);
    await mkdir(checkout);
    await writeFile(path.join(checkout, 'preflight'), `#!/bin/sh\n${body}\n`);
    await chmod(path.join(checkout, 'preflight'), 0o755);
    return checkout;
  }

  function expectHostWentOn(r: { out: string; exitCode?: number }) {
    expect(r.exitCode, r.out).toBe(0);
    expect(r.out).toMatch(/^## System Resources\n[\s\S]*^## Storage Pressure$[\s\S]*^## Host After\nhost continued$/m);
    expect(r.out).not.toContain('Leaked stderr');
  }

  it('no preflight at the configured path: the host goes on, and the stand-in section wakes the LLM once (P3)', async () => {
    const r = await runHost({ STORAGE_PREFLIGHT_DIR: path.join(dir, 'nowhere') });
    expectHostWentOn(r);
    expect(r.out).toContain('exit 127');
    expect(r.fired.map((f) => [f.name, f.severity, f.action])).toEqual([['storage-preflight-incomplete', 'P3', 'llm']]);
  });

  it('a preflight that exits non-zero: its stdout is dropped, its stderr goes to the log, never to the prompt', async () => {
    // It claims a healthy disk on stdout before failing: a half report must not be believed.
    const checkout = await fakeCheckout(
      'fails',
      `echo '## Storage Pressure'; echo 'Disk pressure: ok'; printf '%s\\n' ${STDERR_TEXT.split('\n')
        .map((l) => `'${l}'`)
        .join(' ')} >&2; exit 3`,
    );
    const log = path.join(dir, 'fails.log');
    const r = await runHost({ STORAGE_PREFLIGHT_DIR: checkout, STORAGE_PREFLIGHT_LOG: log });
    expectHostWentOn(r);
    expect(r.out).not.toContain('Disk pressure: ok');
    expect(r.out).not.toContain('Disk: 99%');
    expect(await readFile(log, 'utf8')).toBe(`${STDERR_TEXT}\n`);
    expect(r.fired.map((f) => f.name)).toEqual(['storage-preflight-incomplete']);
  });

  it('a preflight that hangs is stopped at its budget plus 10 s, children included', async () => {
    const checkout = await fakeCheckout('hangs', 'sleep 40 & sleep 40');
    const started = Date.now();
    const r = await runHost({ STORAGE_PREFLIGHT_DIR: checkout, STORAGE_PREFLIGHT_BUDGET: '1' });
    expect(Date.now() - started).toBeLessThan(20_000);
    expectHostWentOn(r);
    expect(r.out).toContain('exit 124');
  });

  it('the real preflight refusing its config (exit 2): its one stderr line stays out of the prompt', async () => {
    const log = path.join(dir, 'real.log');
    const r = await runHost({
      STORAGE_PREFLIGHT_DIR: REPO,
      STORAGE_PREFLIGHT_LOG: log,
      PREFLIGHT_CONFIG: path.join(dir, 'missing.toml'),
    });
    expectHostWentOn(r);
    expect(r.out).toContain('exit 2');
    const line = (await readFile(log, 'utf8')).trim();
    expect(line).toMatch(/^preflight: --config .*missing\.toml/);
    expect(r.out).not.toContain(line);
  });

  it("the real preflight: our sections and field lines between the host's, and the recipes wake the LLM as our gate does", async () => {
    const journal = path.join(dir, 'journal');
    const r = await runHost({ STORAGE_PREFLIGHT_DIR: REPO, OPS_JOURNAL_ROOT: journal });
    expectHostWentOn(r);
    for (const title of ['Storage Pressure', 'Remediation Plan', 'Filesystem', 'Docker Storage', 'Storage Trend'])
      expect(r.out).toMatch(new RegExp(`^## ${title}$`, 'm'));
    expect(r.out).toMatch(/^Top source: [a-z-]+$/m);
    expect(r.out).toMatch(/^Disk pressure: [a-z-]+$/m);
    expect(r.out).toMatch(/^Safe clean-up: (available|none)$/m);
    const gate = JSON.parse((await runPreflight(['--format', 'fired', '--no-journal'])).stdout).fired;
    expect(wakesLlm(r.fired)).toBe(wakesLlm(gate));
  });
});
