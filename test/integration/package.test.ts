import { shellQuote } from '../../src/text/escape.js';
import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHostTree } from '../helpers/host-tree.js';
import { REPO } from '../helpers/preflight.js';

/*
 * The package route operators take into an image: `npm pack`, then
 * `npm install -g` of the tarball into a clean prefix, with no dev
 * dependencies and no build step, and the installed `preflight` run from
 * elsewhere through npm's bin symlink. Needs `npm run build` first (as
 * `npm test` does): dist/ must hold the bundle this packs.
 */

const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
};

/** npm with none of the npm_* settings an outer `npm test` exports: only the flags given here apply. */
function npm(args: readonly string[], cwd: string) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return execa('npm', ['--no-audit', '--no-fund', '--no-update-notifier', ...args], {
    cwd,
    env,
    extendEnv: false,
    stdin: 'ignore',
  });
}

describe('npm pack, then npm install -g of the tarball into a clean prefix: the installed preflight runs from any folder', () => {
  let scratch = '';
  let tarball = '';
  let entries: string[] = [];
  let bin = '';
  let elsewhere = '';

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'pf-pack-'));
    // --ignore-scripts: prepack would rebuild dist/ under the other test files' runs; the suite built it already.
    // Offline, from the lockfile's copies: the runtime dependencies package.json names are packed from
    // node_modules/ and installed beside the tarball with an empty cache, so no registry is asked (npm's own
    // cache holds tarballs but not the metadata a range needs). A dependency left out of `dependencies` is
    // not installed, as from the registry.
    const packed = await npm(
      [
        'pack',
        '--ignore-scripts',
        '--json',
        '--pack-destination',
        scratch,
        '.',
        ...Object.keys(pkg.dependencies).map((d) => `./node_modules/${d}`),
      ],
      REPO,
    );
    const [ours, ...depTarballs] = (JSON.parse(packed.stdout) as { filename: string }[]).map((t) =>
      path.join(scratch, t.filename),
    );
    tarball = ours!;
    entries = (await execa('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
    const prefix = path.join(scratch, 'prefix');
    await mkdir(prefix);
    await npm(
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--cache',
        path.join(scratch, 'cache'),
        '--offline',
        '--omit=dev',
        ...depTarballs,
        tarball,
      ],
      scratch,
    );
    bin = path.join(prefix, 'bin', 'preflight');
    // Another folder, with a package.json of its own: what the installed tool reads must be its own.
    elsewhere = path.join(scratch, 'elsewhere');
    await mkdir(path.join(elsewhere, 'integrations'), { recursive: true });
    writeFileSync(path.join(elsewhere, 'package.json'), '{"name":"decoy","version":"9.9.9"}\n');
  });
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const run = (args: readonly string[]) =>
    execa(bin, args, {
      cwd: elsewhere,
      reject: false,
      stdin: 'ignore',
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock', TMPDIR: scratch },
      timeout: 90_000,
    });

  it('the tarball holds the bundle, the launcher, the kit, README and LICENSE, and no sources, tests or benchmarks', () => {
    const files = entries.map((e) => e.replace(/^package\//, ''));
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'preflight',
      'dist/preflight.cjs',
      'dist/guard.cjs',
      'dist/start.cjs',
      'integrations/preflight-snippet.sh',
      'integrations/recipes.yaml',
      'integrations/actions/storage-cleanup.sh',
      'integrations/preflight.example.yaml',
      'integrations/prometheus/storage-preflight.rules.yaml',
      'formulas/README.md',
      'formulas/run-supervisor.toml',
      'formulas/storage-remediation.toml',
    ])
      expect(files, f).toContain(f);
    const stray = files.filter((f) => /^(src|test|bench|docs|journal|node_modules|\.cache|\.ci)\/|\.ts$/.test(f));
    expect(stray).toEqual([]);
    expect(files.length).toBeLessThan(30);
  });

  it('the installed package has no dev dependencies, and its bin is npm’s symlink to the launcher', () => {
    const root = path.join(path.dirname(path.dirname(bin)), 'lib', 'node_modules');
    expect(readdirSync(root).sort()).toEqual([pkg.name, ...Object.keys(pkg.dependencies)].sort());
    expect(readlinkSync(bin)).toBe(`../lib/node_modules/${pkg.name}/preflight`);
  });

  it('--version from another folder reads the installed package.json, not the one in the cwd', async () => {
    const r = await run(['--version']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('a report from another folder (--no-journal): exit 0, nothing on stderr, every section header', async () => {
    const r = await run(['--no-journal']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('## '))).toEqual([
      '## Storage Pressure',
      '## Remediation Plan',
      '## Filesystem',
      '## Docker Storage',
      '## Storage Trend',
    ]);
    const json = await run(['--no-journal', '--format', 'json']);
    expect(json.exitCode, json.stderr).toBe(0);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout).schemaVersion).toBe(1);
  });

  it('preflight guard --path / --need 1 (the CommonJS bundle): exit 0', async () => {
    const r = await run(['guard', '--path', '/', '--need', '1']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, mountpoint: '/' });
  });

  it("preflight host install from another folder: into a host's checkout, naming the installed package", async () => {
    const host = makeHostTree();
    try {
      const r = await run(['host', 'install', '--factory-root', host.factoryRoot]);
      expect(r.exitCode, r.stderr).toBe(0);
      const installed = realpathSync(path.join(path.dirname(realpathSync(bin))));
      const wrapper = readFileSync(path.join(host.factoryRoot, 'supervisor/storage-preflight-cleanup.sh'), 'utf8');
      expect(wrapper).toContain(`exec bash ${shellQuote(`${installed}/integrations/actions/storage-cleanup.sh`)} "$@"`);
      expect(readFileSync(path.join(host.factoryRoot, 'formulas/storage-remediation.toml'), 'utf8')).toBe(
        readFileSync(path.join(installed, 'formulas/storage-remediation.toml'), 'utf8'),
      );
    } finally {
      rmSync(host.factoryRoot, { recursive: true, force: true });
    }
  });
});
