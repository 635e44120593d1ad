import { shellQuote } from '../../src/text/escape.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { main } from '../../src/cli/dispatch.js';
import { EXIT, type Io } from '../../src/commands/io.js';
import { hostCheck, hostInstall } from '../../src/commands/host/index.js';
import { execRunner } from '../../src/host/exec.js';
import { recipes } from '../../src/sections/recipes.js';
import {
  HOST_FORMULA,
  HOST_PREFLIGHT_SH,
  HOST_RECIPES_YAML,
  makeHostTree,
  snapshot,
  type HostTreePaths,
} from '../helpers/host-tree.js';

/*
 * `preflight host install` and `host check` on a stand-in of the supervisor's
 * checkout (test/helpers/host-tree.ts). The check's last point runs this
 * repository's ./preflight: `npm run build` first.
 */

function capture(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

const trees: HostTreePaths[] = [];
function tree(): HostTreePaths {
  const t = makeHostTree();
  trees.push(t);
  return t;
}
afterEach(() => {
  for (const t of trees.splice(0)) rmSync(t.factoryRoot, { recursive: true, force: true });
});

const read = (t: HostTreePaths, rel: string) => readFileSync(path.join(t.factoryRoot, rel), 'utf8');
/** `original`'s lines appear in `text` in the same order, each byte for byte. */
function keepsEveryLine(original: string, text: string): boolean {
  const lines = text.split('\n');
  let at = 0;
  for (const line of original.split('\n')) {
    at = lines.indexOf(line, at);
    if (at < 0) return false;
    at += 1;
  }
  return true;
}
const bash = (t: HostTreePaths, script: string) =>
  execFileSync('bash', ['-c', script], { cwd: t.factoryRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('preflight host install', () => {
  it('merges, places and extends once, however often it runs, keeping every host line', async () => {
    const t = tree();
    const first = capture();
    expect(await hostInstall(t.factoryRoot, t.ourRoot, false, execRunner, first.io)).toBe(EXIT.ok);
    expect(first.err()).toBe('');
    const after = snapshot(t.factoryRoot);
    const second = capture();
    expect(await hostInstall(t.factoryRoot, t.ourRoot, false, execRunner, second.io)).toBe(EXIT.ok);
    expect(snapshot(t.factoryRoot)).toEqual(after);
    expect(second.out()).toMatch(/unchanged supervisor\/recipes\.yaml/);

    const yaml = read(t, 'supervisor/recipes.yaml');
    const list = (parseYaml(yaml) as { recipes: { name: string; action_script?: string }[] }).recipes;
    const hostNames = (parseYaml(HOST_RECIPES_YAML) as { recipes: { name: string }[] }).recipes.map((r) => r.name);
    for (const name of [...hostNames, ...recipes().map((r) => r.name)])
      expect(
        list.filter((r) => r.name === name),
        name,
      ).toHaveLength(1);
    expect(yaml.match(/^recipes:/gm)).toHaveLength(1);
    expect(keepsEveryLine(HOST_RECIPES_YAML, yaml)).toBe(true);
    expect(list.find((r) => r.name === 'storage-cleanup')?.action_script).toBe(
      'storage-preflight/integrations/actions/storage-cleanup.sh',
    );

    const script = read(t, 'supervisor/preflight.sh');
    expect(keepsEveryLine(HOST_PREFLIGHT_SH, script)).toBe(true);
    expect(statSync(path.join(t.factoryRoot, 'supervisor/preflight.sh')).mode & 0o777).toBe(0o755);
    bash(t, 'bash -n supervisor/preflight.sh');
    // Sourced, as the host's other script does: nothing of ours runs, nothing on stderr, set -e not left changed.
    const sourced = execFileSync(
      'bash',
      ['-c', 'source supervisor/preflight.sh; echo "opts=$-"; declare -p _sp_dir 2>&1 || true'],
      {
        cwd: t.factoryRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    expect(sourced).not.toContain('## Storage');
    bash(t, 'bash supervisor/cleanup-phase-files.sh');

    const formula = read(t, 'formulas/run-supervisor.toml');
    expect(keepsEveryLine(HOST_FORMULA, formula)).toBe(true);
    expect(read(t, 'formulas/storage-remediation.toml')).toBe(
      read(t, 'storage-preflight/formulas/storage-remediation.toml'),
    );
  });

  it("runs our block as a program: our sections after the host's, or the stand-in when our checkout cannot report; nothing on stderr", async () => {
    const t = tree();
    await hostInstall(t.factoryRoot, t.ourRoot, false, execRunner, capture().io);
    // As the host runs it: from a project's checkout elsewhere, with --no-journal's effect left to the config.
    const runIt = () =>
      spawnSync('bash', [path.join(t.factoryRoot, 'supervisor/preflight.sh'), 'project.toml'], {
        cwd: tmpdir(),
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: t.factoryRoot, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      });
    const live = runIt();
    expect([live.status, live.stderr]).toEqual([0, '']);
    expect(live.stdout).toMatch(/## System Resources[\s\S]*## Storage Pressure/);
    expect(live.stdout).not.toContain('gave no report');
    rmSync(path.join(t.ourRoot, 'preflight'));
    const blind = runIt();
    expect([blind.status, blind.stderr]).toEqual([0, '']);
    expect(blind.stdout).toContain('Disk pressure: unknown');
  });

  it('--dry-run prints a unified diff of every change and writes nothing', async () => {
    const t = tree();
    const before = snapshot(t.factoryRoot);
    const run = capture();
    expect(await hostInstall(t.factoryRoot, t.ourRoot, true, execRunner, run.io)).toBe(EXIT.ok);
    expect(snapshot(t.factoryRoot)).toEqual(before);
    for (const file of [
      'supervisor/recipes.yaml',
      'supervisor/preflight.sh',
      'formulas/run-supervisor.toml',
      'formulas/storage-remediation.toml',
    ])
      expect(run.out()).toContain(`+++ b/${file}`);
    expect(run.out()).toContain('+  - name: storage-cleanup');
  });

  it('refuses a tree it does not recognise, writing nothing', async () => {
    const t = tree();
    rmSync(path.join(t.factoryRoot, 'formulas/run-supervisor.toml'));
    const before = snapshot(t.factoryRoot);
    const run = capture();
    expect(await main(['host', 'install', '--factory-root', t.factoryRoot], run.io)).toBe(EXIT.usage);
    expect(run.err()).toMatch(/not the host's checkout \(no formulas\/run-supervisor\.toml\)/);
    expect(snapshot(t.factoryRoot)).toEqual(before);
  });

  it('installed outside the factory root (a package): the block names it by path, a script in the checkout runs its action', async () => {
    const u = tree();
    const repo = path.resolve(import.meta.dirname, '../..');
    // This repository is not inside the stand-in's root, as `npm install -g` puts a package elsewhere.
    const run = capture();
    expect(await main(['host', 'install', '--factory-root', u.factoryRoot], run.io), run.err()).toBe(EXIT.ok);
    expect(run.out()).toContain('action_script: supervisor/storage-preflight-cleanup.sh');
    const wrapper = read(u, 'supervisor/storage-preflight-cleanup.sh');
    expect(wrapper).toContain(`exec bash ${shellQuote(`${repo}/integrations/actions/storage-cleanup.sh`)} "$@"`);
    expect(read(u, 'supervisor/preflight.sh')).toContain(`_sp_dir="\${STORAGE_PREFLIGHT_DIR:-${repo}}"`);
    const direct = (parseYaml(read(u, 'supervisor/recipes.yaml')) as { recipes: any[] }).recipes.filter(
      (r) => r.action === 'direct' && String(r.name).startsWith('storage-'),
    );
    expect(direct.map((r) => r.action_script)).toEqual(direct.map(() => 'supervisor/storage-preflight-cleanup.sh'));
    // The script the host runs reaches ours: with no daemon it still ends cleanly and says what it did.
    const ran = spawnSync(
      'bash',
      [path.join(u.factoryRoot, 'supervisor/storage-preflight-cleanup.sh'), 'p.toml', 'ev'],
      {
        encoding: 'utf8',
        env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock' },
      },
    );
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^## /m);
    // Installing again changes nothing; the check finds every point of ours in place.
    const before = snapshot(u.factoryRoot);
    expect(await main(['host', 'install', '--factory-root', u.factoryRoot], capture().io)).toBe(EXIT.ok);
    expect(snapshot(u.factoryRoot)).toEqual(before);
    const check = capture();
    await main(['host', 'check', '--factory-root', u.factoryRoot], check.io);
    expect(check.out()).toMatch(/ok .*storage-preflight-cleanup\.sh runs this installation's clean-up action/);
    expect(check.out()).not.toMatch(/FAIL .*(action_script|storage-preflight-cleanup)/);
  });

  it('refuses a host file it may not read or replace safely (a symlink), exit 2', async () => {
    const t = tree();
    const script = path.join(t.factoryRoot, 'supervisor/preflight.sh');
    renameSync(script, `${script}.real`);
    symlinkSync(`${script}.real`, script);
    const before = snapshot(t.factoryRoot);
    const run = capture();
    expect(await main(['host', 'install', '--factory-root', t.factoryRoot], run.io)).toBe(EXIT.usage);
    expect(run.err()).toMatch(/^preflight: cannot read .*supervisor\/preflight\.sh: /);
    expect(snapshot(t.factoryRoot)).toEqual(before);
  });

  it('refuses a preflight.sh without a final if … fi, and names why', async () => {
    const t = tree();
    writeFileSync(path.join(t.factoryRoot, 'supervisor/preflight.sh'), '#!/bin/bash\necho hi\n');
    await expect(hostInstall(t.factoryRoot, t.ourRoot, false, execRunner, capture().io)).rejects.toThrow(
      /does not end with an `if … fi`/,
    );
  });
});

describe('preflight host check', () => {
  const env = { OPS_REPO_ROOT: '/srv/ops', DOCKER_HOST: 'unix:///nonexistent/docker.sock', PATH: process.env.PATH };

  it('passes the install points after an install, and names the fix when a recipe or the block is gone', async () => {
    const t = tree();
    await hostInstall(t.factoryRoot, t.ourRoot, false, execRunner, capture().io);
    const good = capture(env);
    const code = await hostCheck(t.factoryRoot, t.ourRoot, execRunner, good.io);
    const out = good.out();
    expect(out).toMatch(/^ok {3}our 6 recipes are in it, current$/m);
    expect(out).toMatch(/^ok {3}supervisor\/preflight\.sh holds our block inside its final if … fi$/m);
    expect(out).toMatch(/^ok {3}action_script resolves from FACTORY_ROOT=\/home\/agent\/disinto$/m);
    expect(out).toMatch(/^ok {3}our recipes on a live report agree/m);
    // The socket here is absent on purpose: that point fails with how to mount it.
    expect(out).toMatch(/^FAIL Docker answers on .*\n {5}fix: .*\/var\/run\/docker\.sock:\/var\/run\/docker\.sock/m);
    expect(code).toBe(EXIT.hostBroken);

    const yaml = read(t, 'supervisor/recipes.yaml');
    writeFileSync(
      path.join(t.factoryRoot, 'supervisor/recipes.yaml'),
      yaml.replace('- name: storage-disk-high', '- name: renamed'),
    );
    const script = read(t, 'supervisor/preflight.sh');
    writeFileSync(path.join(t.factoryRoot, 'supervisor/preflight.sh'), HOST_PREFLIGHT_SH);
    const broken = capture(env);
    expect(await hostCheck(t.factoryRoot, t.ourRoot, execRunner, broken.io)).toBe(EXIT.hostBroken);
    expect(broken.out()).toMatch(
      /^FAIL our 6 recipes are in it, current\n {5}fix: missing or outdated: storage-disk-high; run: preflight host install --factory-root /m,
    );
    expect(broken.out()).toMatch(
      /^FAIL supervisor\/preflight\.sh holds our block .*\n {5}fix: our block is missing; run: preflight host install/m,
    );
    expect(script).toContain('storage-preflight');

    // The block moved below the final fi: sourcing would run it.
    const block = script.slice(script.indexOf('  # >>> storage-preflight'), script.indexOf('<<<\n') + 4);
    writeFileSync(path.join(t.factoryRoot, 'supervisor/preflight.sh'), script.replace(block, '') + block);
    const moved = capture(env);
    await hostCheck(t.factoryRoot, t.ourRoot, execRunner, moved.io);
    expect(moved.out()).toMatch(
      /^FAIL supervisor\/preflight\.sh holds our block .*\n {5}fix: our block is not inside the script's final if … fi/m,
    );
  });
});
