import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRunner } from '../../src/host/exec.js';
import { measurePaths, parseBatchOutput } from '../../src/probes/statfs-batch.js';

describe('measurePaths: many paths, one child', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-batch-'));
    await mkdir(path.join(dir, 'a\nnewline x0'));
    await mkdir(Buffer.from(`${dir}/caf\xe9`, 'latin1'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers each path in order: measured, missing, odd names and non-UTF-8 bytes', async () => {
    const odd = path.join(dir, 'a\nnewline x0');
    const latin1 = `${dir}/caf\xe9`;
    const [root, missing, oddName, raw] = await measurePaths(
      execRunner,
      [{ path: '/' }, { path: path.join(dir, 'nope') }, { path: odd }, { path: latin1, raw: true }],
      5000,
    );
    expect(root).toMatchObject({ kind: 'ok', path: '/', realpath: '/' });
    expect(missing).toEqual({ kind: 'missing', path: path.join(dir, 'nope'), reason: 'No such file or directory' });
    expect(oddName).toMatchObject({ kind: 'ok', realpath: odd });
    expect(raw).toMatchObject({ kind: 'ok', path: latin1 });
    if (oddName?.kind === 'ok') expect(oddName.statfs.frsize).toBeGreaterThan(0);
  });

  it('marks only the paths that never answered as stuck, from what the child printed before its deadline', () => {
    const b = '\x1e0123';
    const partial = `${b}>1 O${b}|/srv\n${b}|4096 100 50 40 1000 900\n${b}>0 M${b}|realpath: /x: No such file or directory\n${b}>2 O${b}|/cu`;
    const out = parseBatchOutput([{ path: '/x' }, { path: '/srv' }, { path: '/cut' }, { path: '/hung' }], partial, b);
    expect(out[0]).toEqual({ kind: 'missing', path: '/x', reason: 'No such file or directory' });
    expect(out[1]).toMatchObject({ kind: 'ok', path: '/srv', realpath: '/srv' });
    expect(out[2]).toEqual({ kind: 'error', path: '/cut', reason: 'stat -f printed nothing usable' });
    expect(out[3]).toBeUndefined();
  });
});
