import { execa } from 'execa';
import { chmod, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { REPO } from '../helpers/preflight.js';
import { useScratchDir } from '../helpers/scratch.js';

/*
 * dist/start.cjs, the report's entry: it compiles the bundle with V8's code
 * cache kept beside it. Run on copies of the built bundle, as root, with no
 * Docker: the cache is made once, used after, remade for a changed bundle
 * or a cache V8 refuses, and never read or written in a folder others may
 * write to. A full disk costs the cache, not the run.
 */
describeWith(['mount'], 'the report bundle started with its V8 code cache', () => {
  let scratch = '';
  useScratchDir('pf-code-cache-', (d) => (scratch = d));
  const mounts: string[] = [];
  afterEach(async () => {
    for (const m of mounts.splice(0)) await execa('umount', ['-l', m], { reject: false });
  });

  /** dist/preflight.cjs and dist/start.cjs copied into `dir` (made with `mode`). */
  async function install(dir: string, mode = 0o755): Promise<{ bundle: string; cache: string }> {
    await mkdir(dir, { recursive: true });
    await chmod(dir, mode);
    for (const f of ['preflight.cjs', 'start.cjs']) await copyFile(path.join(REPO, 'dist', f), path.join(dir, f));
    return { bundle: path.join(dir, 'preflight.cjs'), cache: path.join(dir, 'preflight.cjs.v8cache') };
  }

  /** A report with no Docker and no journal, through start.cjs; its config (YAML or TOML) loads a lazy parser. */
  const report = async (dir: string, config?: string) => {
    const res = await execa(
      process.execPath,
      [
        path.join(dir, 'start.cjs'),
        path.join(dir, 'preflight.cjs'),
        '--no-journal',
        '--format',
        'json',
        ...(config ? ['--config', config] : []),
      ],
      { reject: false, env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, timeout: 60_000 },
    );
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
    return JSON.parse(res.stdout) as { schemaVersion: number; sections: { id: string }[] };
  };
  const header = async (cache: string) => (await readFile(cache)).subarray(0, 120).toString('latin1').split('\n')[0];

  it('makes the cache on the first run, naming the bundle, and uses it unchanged after', async () => {
    const dir = path.join(scratch, 'dist');
    const { bundle, cache } = await install(dir);
    const first = await report(dir);
    const st = await stat(bundle);
    expect(await header(cache)).toBe(`${st.size} ${st.mtimeMs} ${st.ino} ${process.version}`);
    const made = await stat(cache);
    expect(made.size).toBeGreaterThan(100_000);
    const second = await report(dir);
    expect(second.sections.map((s) => s.id)).toEqual(first.sections.map((s) => s.id));
    // Not rewritten: a new cache would be a new file renamed over it.
    const after = await stat(cache);
    expect([after.ino, after.mtimeMs]).toEqual([made.ino, made.mtimeMs]);
    expect((await readdir(dir)).sort()).toEqual(['preflight.cjs', 'preflight.cjs.v8cache', 'start.cjs']);
  });

  it('remakes the cache for a rebuilt bundle and for a cache V8 refuses', async () => {
    const dir = path.join(scratch, 'dist');
    const { bundle, cache } = await install(dir);
    await report(dir);
    // The same length, other bytes (V8 itself checks only the length): the stamp's mtime tells them apart.
    const source = await readFile(bundle, 'utf8');
    await writeFile(bundle, source.replace("'use strict';", '"use strict";'));
    const rebuilt = await stat(bundle);
    expect(rebuilt.size).toBe(Buffer.byteLength(source));
    await report(dir);
    expect(await header(cache)).toBe(`${rebuilt.size} ${rebuilt.mtimeMs} ${rebuilt.ino} ${process.version}`);
    // The right first line over bytes V8 refuses: the run goes on, and a good cache replaces them.
    const garbage = Buffer.concat([Buffer.from(`${await header(cache)}\n`), Buffer.alloc(4096, 7)]);
    await writeFile(cache, garbage);
    await report(dir);
    expect((await stat(cache)).size).toBeGreaterThan(100_000);
  });

  it('loads the lazily required YAML and TOML parsers (the bundle has no import() for vm to refuse)', async () => {
    const dir = path.join(scratch, 'dist');
    await install(dir);
    await mkdir(path.join(dir, 'node_modules'));
    for (const dep of ['yaml', 'smol-toml'])
      await execa('cp', ['-a', path.join(REPO, 'node_modules', dep), path.join(dir, 'node_modules', dep)]);
    const yaml = path.join(scratch, 'c.yaml');
    const toml = path.join(scratch, 'c.toml');
    await writeFile(yaml, 'disk_threshold: 91\n');
    await writeFile(toml, 'disk_threshold = 92\n');
    for (const config of [yaml, toml]) expect((await report(dir, config)).schemaVersion).toBeGreaterThan(0);
    expect(await readFile(path.join(REPO, 'dist', 'preflight.cjs'), 'utf8')).not.toMatch(/\bimport\(/);
  });

  it('neither reads nor writes a cache in a folder others may write to', async () => {
    const dir = path.join(scratch, 'shared');
    const { cache } = await install(dir, 0o777);
    await chmod(dir, 0o777);
    await report(dir);
    expect((await readdir(dir)).sort()).toEqual(['preflight.cjs', 'start.cjs']);
    // A planted cache stays as planted: a refused one read would have been rewritten.
    const st = await stat(path.join(dir, 'preflight.cjs'));
    const planted = Buffer.concat([
      Buffer.from(`${st.size} ${st.mtimeMs} ${st.ino} ${process.version}\n`),
      Buffer.alloc(64, 1),
    ]);
    await writeFile(cache, planted);
    await report(dir);
    expect(await readFile(cache)).toEqual(planted);
  });

  it('on a full disk: the run ends as always, with no cache and no temporary file left', async () => {
    const dir = path.join(scratch, 'full');
    await mkdir(dir);
    // Room for the two bundles, not for the cache beside them.
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=700k,mode=0755', 'tmpfs', dir]);
    mounts.push(dir);
    await install(dir);
    await report(dir);
    expect((await readdir(dir)).sort()).toEqual(['preflight.cjs', 'start.cjs']);
  });
});
