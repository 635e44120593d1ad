import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { parseReport, PREFLIGHT, runPreflight } from '../helpers/preflight.js';
import { useScratchDir } from '../helpers/scratch.js';

const section = (doc: Record<string, any>, id: string) => doc.sections.find((s: { id: string }) => s.id === id);
/** The markdown of one `## Title` section. */
const mdSection = (md: string, title: string) => md.slice(md.indexOf(`## ${title}\n`)).split(/\n(?=## )/)[0]!;

describeWith(['mount', 'umount'], '1,000 --path arguments at --budget 2', () => {
  let dir = '';
  let args: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-paths-'));
    const paths = Array.from({ length: 1000 }, (_, i) => path.join(dir, `p${i}`));
    await Promise.all(paths.map((p) => mkdir(p)));
    // A mount of its own (a bind mount): paths on / or tmpfs are measured in-process, all 1,000 in time;
    // these need statfs children, as on a separate disk.
    await execa('mount', ['--bind', dir, dir]);
    // The same path twice is measured once.
    args = [...paths, paths[0]!, paths[1]!].flatMap((p) => ['--path', p]);
  });
  afterAll(async () => {
    await execa('umount', ['-l', dir], { reject: false });
    await rm(dir, { recursive: true, force: true });
  });

  it('ends within the budget with a bounded report, and accounts for every path', async () => {
    const run = await runPreflight(['--budget', '2', ...args]);
    expect(run.exitCode).toBe(0);
    process.stderr.write(`1,000 --path at --budget 2: ${run.elapsedMs} ms, markdown ${run.stdout.length} bytes\n`);
    // Measured 1.7 s on 2 cores (Node's start included; it was 19 s, spawning all 1,000 statfs children at once).
    expect(run.elapsedMs).toBeLessThan(2500);
    expect(Buffer.byteLength(run.stdout)).toBeLessThan(8 * 1024);
    expect(run.stdout).toMatch(/^## Filesystem\n/m);
    expect(run.stdout).toMatch(/^Disk:\s+([0-9]+)% used/m);
    expect(run.stdout).toMatch(/^## Storage Pressure\nVerdict: /m);
    const fs = mdSection(run.stdout, 'Filesystem');
    expect(fs.split('\n').filter((l) => l.startsWith('Not measured: ')).length).toBeLessThanOrEqual(5);
    expect(fs).toMatch(/^… and \d+ more not measured$/m);

    const doc = parseReport((await runPreflight(['--budget', '2', '--format', 'json', ...args])).stdout);
    const measured = doc.filesystems
      .flatMap((f: { paths: string[] }) => f.paths)
      .filter((p: string) => p.startsWith(dir));
    const unmeasured = doc.unmeasuredPaths as { path: string; reason: string }[];
    // None vanished: each distinct path is measured or says why not.
    expect(new Set([...measured, ...unmeasured.map((u) => u.path)]).size).toBe(1000);
    expect(measured.length + unmeasured.length).toBe(1000);
    expect(measured.length).toBeGreaterThan(0);
    for (const u of unmeasured) expect(u.reason).toBe('run budget spent before it could be measured');
    expect(section(doc, 'filesystem')).toMatchObject({
      status: 'degraded',
      reason: `${unmeasured.length} paths not measured`,
    });
  });
});

describe('1,000 --path arguments on / at --budget 2', () => {
  let dir = '';
  useScratchDir(
    'pf-paths-root-',
    (d) => {
      dir = d;
    },
    'all',
  );

  it('are all measured (in-process: nothing on / can hang), within the budget', async () => {
    const paths = Array.from({ length: 1000 }, (_, i) => path.join(dir, `p${i}`));
    await Promise.all(paths.map((p) => mkdir(p)));
    const run = await runPreflight([
      '--budget',
      '2',
      '--format',
      'json',
      '--no-journal',
      ...paths.flatMap((p) => ['--path', p]),
    ]);
    expect(run.exitCode).toBe(0);
    expect(run.elapsedMs).toBeLessThan(2500);
    const doc = parseReport(run.stdout);
    expect(doc.unmeasuredPaths).toEqual([]);
    const root = doc.filesystems.find((f: { mountpoint: string }) => f.mountpoint === '/');
    expect(root.paths.filter((p: string) => p.startsWith(dir))).toHaveLength(1000);
  });
});

describeWith(['unshare', 'mount'], '--all-mounts with 200 mounts', () => {
  let dir = '';
  let script = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-mounts-'));
    script = path.join(dir, 'run.sh');
    // In a mount namespace of its own: the tmpfs vanish with it, and no other test sees them.
    // (400 mounts once printed 92 KB; 200 are ten times the cap and measure in half the time.)
    await writeFile(
      script,
      [
        'set -e',
        `for i in $(seq 1 200); do mkdir -p "${dir}/m$i"; mount -t tmpfs -o size=$((i * 4))k "pf-m$i" "${dir}/m$i"; done`,
        `"${PREFLIGHT}" --all-mounts --no-journal > "${dir}/report.md"`,
        `"${PREFLIGHT}" --all-mounts --no-journal --format json > "${dir}/report.json"`,
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps Filesystem and Storage Pressure short; JSON lists every filesystem', async () => {
    const res = await execa('unshare', ['--mount', '--propagation', 'private', 'sh', script], {
      reject: false,
      timeout: 90_000,
      stdin: 'ignore',
      env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    expect(res.exitCode, String(res.stderr)).toBe(0);
    const md = await readFile(path.join(dir, 'report.md'), 'utf8');
    const fs = mdSection(md, 'Filesystem');
    const pressure = mdSection(md, 'Storage Pressure');
    process.stderr.write(
      `--all-mounts, 200 mounts: Filesystem ${fs.length} bytes, Storage Pressure ${pressure.length} bytes, whole report ${md.length} bytes\n`,
    );
    expect(
      fs.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Mount') && !l.startsWith('| ---')),
    ).toHaveLength(20);
    expect(fs).toMatch(/^… and \d{3} more filesystems \(see --format json\)$/m);
    expect(Buffer.byteLength(fs)).toBeLessThan(4096);
    expect(pressure).toMatch(/^Pressure \(used \/ capacity\): (?:[^,]+, ){10}… and \d{3} more\.$/m);
    expect(Buffer.byteLength(pressure)).toBeLessThan(3072);

    const doc = parseReport(await readFile(path.join(dir, 'report.json'), 'utf8'));
    const ours = doc.filesystems.filter((f: { mountpoint: string }) => f.mountpoint.startsWith(`${dir}/m`));
    expect(ours).toHaveLength(200);
    expect(ours.every((f: { sizeBytes: number | null }) => f.sizeBytes !== null)).toBe(true);
  });
});
