import { execa } from 'execa';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport, runPreflight } from '../helpers/preflight.js';

/** `df -B1` figures for one path: the reference every size must equal. */
async function df(target: string) {
  const res = await execa('df', ['-B1', '--output=size,used,avail', target]);
  const [size, used, avail] = String(res.stdout).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
  return { sizeBytes: size, usedBytes: used, availBytes: avail };
}

describe('./preflight on this machine (no Docker daemon reachable)', () => {
  it('prints the Filesystem section, exits 0, and says Docker is absent in one line', async () => {
    const run = await runPreflight([]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^## Storage Pressure\nVerdict: \/ is \d+% used .*; top source outside-docker/);
    expect(run.stdout).toMatch(/^## Filesystem\n/m);
    expect(run.stdout).toMatch(/^Disk: \d+% used \(.+ on \/\)$/m);
    const dockerLines = run.stdout.split('\n').filter((l) => l.startsWith('Docker'));
    expect(dockerLines).toEqual([
      'Docker: not reachable (docker: no socket at /nonexistent/docker.sock); no data root found, so Disk is for /.',
    ]);
  });

  it('reports / to the byte as df -B1 does (retried until the disk holds still)', async () => {
    // Its temporary directory (where the run lock goes) made before the first df: making it takes a block of /.
    const temp = await mkdtemp(path.join(tmpdir(), 'pf-df-'));
    try {
      for (let attempt = 0; attempt < 8; attempt += 1) {
        const before = await df('/');
        // No journal: its append would change / between the two df runs.
        const doc = parseReport((await runPreflight(['--format', 'json', '--no-journal'], { TMPDIR: temp })).stdout);
        const after = await df('/');
        if (JSON.stringify(before) !== JSON.stringify(after)) continue; // someone wrote meanwhile
        const root = doc.filesystems.find((f: { mountpoint: string }) => f.mountpoint === '/');
        expect(root).toMatchObject(before);
        return;
      }
      throw new Error('/ never held still long enough to compare with df');
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  });

  it('follows the JSON contract', async () => {
    const run = await runPreflight(['--format', 'json', '--path', '/does/not/exist']);
    expect(run.exitCode).toBe(0);
    const doc = parseReport(run.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(typeof doc.host).toBe('string');
    expect(new Date(doc.generatedAt).toISOString()).toBe(doc.generatedAt);
    expect(Number.isInteger(doc.durationMs)).toBe(true);
    expect(doc.sections).toEqual([
      { id: 'pressure', title: 'Storage Pressure', status: 'ok', durationMs: expect.any(Number) },
      { id: 'remediation', title: 'Remediation Plan', status: 'ok', durationMs: expect.any(Number) },
      {
        id: 'filesystem',
        title: 'Filesystem',
        status: 'degraded',
        reason: '1 path not measured',
        durationMs: expect.any(Number),
      },
      {
        id: 'docker',
        title: 'Docker Storage',
        status: 'skipped',
        reason: expect.stringMatching(/^docker: no socket at \/nonexistent\/docker.sock/),
        durationMs: expect.any(Number),
      },
      {
        id: 'btrfs',
        title: 'Btrfs',
        status: 'skipped',
        reason: 'no measured filesystem is btrfs',
        durationMs: expect.any(Number),
      },
      { id: 'trend', title: 'Storage Trend', status: 'ok', durationMs: expect.any(Number) },
    ]);
    expect(doc.journal).toMatchObject({ written: true, reason: null });
    expect(doc.trend).toMatchObject({ entries: 1, unreadable: 0 });
    expect(doc.btrfs).toBeNull();
    expect(doc.attribution).toMatchObject({ mountpoint: '/', unattributedBytes: 0 });
    // Without Docker, all of it is outside Docker, but for deleted files this machine's processes still hold.
    const sources: { kind: string; bytes: number }[] = doc.attribution.sources;
    expect(sources.map((s) => s.kind)).toContain('outside-docker');
    expect(sources.filter((s) => s.kind !== 'outside-docker' && s.kind !== 'deleted-open')).toEqual([]);
    expect(sources.reduce((a, s) => a + s.bytes, 0)).toBe(doc.attribution.usedBytes);
    // No Docker installed here: that is no finding.
    expect(doc.findings.filter((f: { name: string }) => f.name === 'docker-unreachable')).toEqual([]);
    // Not applicable here (no btrfs): left out of the markdown entirely.
    expect((await runPreflight([])).stdout).not.toContain('## Btrfs');
    expect(doc.docker).toBeNull();
    for (const fs of doc.filesystems) {
      expect(Object.keys(fs)).toEqual(
        expect.arrayContaining([
          'mountpoint',
          'device',
          'fstype',
          'sizeBytes',
          'usedBytes',
          'availBytes',
          'reservedBytes',
          'usedPct',
          'inodesUsedPct',
          'readonly',
          'stuck',
        ]),
      );
      expect(Number.isInteger(fs.sizeBytes) && Number.isInteger(fs.usedBytes) && Number.isInteger(fs.availBytes)).toBe(
        true,
      );
      expect(fs.usedBytes + fs.availBytes + fs.reservedBytes).toBe(fs.sizeBytes);
      expect(typeof fs.readonly).toBe('boolean');
      expect(fs.stuck).toBe(false);
    }
    expect(doc.unmeasuredPaths).toEqual([
      { path: '/does/not/exist', role: 'path', reason: 'No such file or directory' },
    ]);
  });

  it('measures the other paths when one --path is missing', async () => {
    const run = await runPreflight(['--path', '/does/not/exist', '--path', '/proc']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Not measured: /does/not/exist (--path): No such file or directory');
    expect(run.stdout).toMatch(/^\| \/proc \| proc \| proc \|/m);
  });

  it.each([
    [['--budget', 'abc'], /^preflight: --budget must be a number/],
    [['--bogus'], /^preflight: unknown option '--bogus'/],
    [['--format', 'xml'], /^preflight: --format must be one of/],
    [['--config', '/does/not/exist.toml'], /^preflight: --config \/does\/not\/exist.toml: ENOENT/],
  ])('exits 2 with one line on %j', async (argv, message) => {
    const run = await runPreflight(argv);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });
});

describe('a Docker socket that accepts and never answers', () => {
  let dir = '';
  let server: net.Server;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-silent-'));
    server = net.createServer((s) => sockets.push(s)); // accept, read nothing, answer nothing
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'docker.sock'), resolve));
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('still reports the filesystems, promptly, and says the daemon did not answer', async () => {
    const run = await runPreflight(['--budget', '10'], { DOCKER_HOST: `unix://${dir}/docker.sock` });
    expect(run.exitCode).toBe(0);
    expect(run.elapsedMs).toBeLessThan(10_000);
    expect(sockets.length).toBeGreaterThan(0);
    expect(run.stdout).toContain('Docker: not reachable (docker /info gave no answer in 3 s)');
    expect(run.stdout).toMatch(/^Disk: \d+% used/m);
    expect(run.stdout).toContain('## Docker Storage\n(docker /info gave no answer in 3 s)');
    const doc = parseReport(
      (await runPreflight(['--budget', '10', '--format', 'json'], { DOCKER_HOST: `unix://${dir}/docker.sock` })).stdout,
    );
    expect(doc.sections.find((s: { id: string }) => s.id === 'docker')).toMatchObject({
      status: 'timeout',
      reason: 'docker /info gave no answer in 3 s',
    });
  });
});
