import { execa } from 'execa';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBtrfsUsage } from '../../src/parse/btrfs-usage.js';
import { parseFilesystemDu } from '../../src/parse/btrfs-qgroup.js';
import { createOrphanSubvolumes } from '../helpers/btrfs.js';
import { describeWith } from '../helpers/describe-with.js';
import { hasTool } from '../helpers/tools.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { makeLoopFs, type LoopFs } from '../helpers/loopfs.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { buildMixedScenario } from '../helpers/scenarios.js';

const btrfsOf = (doc: Record<string, any>, mountpoint: string) =>
  doc.btrfs.filesystems.find((f: { mountpoint: string }) => f.mountpoint === mountpoint);
/** dockerd bind-mounts its data root onto itself: the btrfs entry is that mount. */
const dockerFs = (doc: Record<string, any>) =>
  doc.btrfs.filesystems.find((f: { roles: string[] }) => f.roles.includes('docker-data-root'));

async function duExclusive(paths: string[]): Promise<number[]> {
  const res = await execa('btrfs', ['filesystem', 'du', '-s', '--raw', ...paths]);
  return parseFilesystemDu(String(res.stdout)).map((r) => r.exclusive);
}

describeWith([...ENGINE_TOOLS, 'btrfs'], 'Btrfs section against a real btrfs-driver dockerd', () => {
  let s: DockerSandbox;
  let orphans: string[] = [];
  beforeAll(async () => {
    s = await startDockerd('btrfs', 3072);
    await buildMixedScenario(s);
    orphans = await createOrphanSubvolumes(s.dataRoot, 3, 40);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('allocation figures equal btrfs filesystem usage -b to the byte', async () => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const before = (await execa('btrfs', ['filesystem', 'usage', '-b', s.fs.mountpoint])).stdout;
      const doc = parseReport((await runPreflight(['--format', 'json'], { DOCKER_HOST: s.host })).stdout);
      const after = (await execa('btrfs', ['filesystem', 'usage', '-b', s.fs.mountpoint])).stdout;
      if (before !== after) continue;
      const fs = dockerFs(doc);
      expect(fs.mountpoint).toBe(s.fs.mountpoint);
      expect(fs.usage).toEqual(parseBtrfsUsage(String(before)));
      expect(fs.usage.deviceSize).toBe(3072 * 1024 * 1024);
      expect(fs.roles).toContain('docker-data-root');
      return;
    }
    throw new Error('the filesystem never held still');
  });

  it('lists exactly the three orphans (no real layer, no BuildKit subvolume), sized within 5% of du exclusive', async () => {
    const doc = parseReport((await runPreflight(['--format', 'json'], { DOCKER_HOST: s.host })).stdout);
    const d = dockerFs(doc).docker;
    expect(d.quotas).toBe('disabled');
    expect(d.orphans.map((o: { name: string }) => o.name).sort()).toEqual([...orphans].sort());
    expect(d.buildkitSubvolumes).toBeGreaterThan(0);
    const du = await duExclusive(d.orphans.map((o: { name: string }) => `${s.dataRoot}/btrfs/subvolumes/${o.name}`));
    d.orphans.forEach((o: { exclusiveBytes: number; sizeSource: string }, i: number) => {
      expect(o.sizeSource).toBe('du');
      expect(Math.abs(o.exclusiveBytes - du[i]!) / du[i]!).toBeLessThanOrEqual(0.05);
      expect(o.exclusiveBytes).toBeGreaterThan(38 * 1024 * 1024);
    });
    if (hasTool('compsize')) {
      const c = dockerFs(doc).compsize;
      expect(c.diskUsage).toBeGreaterThan(120 * 1024 * 1024); // at least the three orphans' data
      expect(c.referenced).toBeGreaterThanOrEqual(c.diskUsage);
    }
    const md = (await runPreflight([], { DOCKER_HOST: s.host })).stdout;
    expect(md).toContain('## Btrfs');
    expect(md).toMatch(/Orphaned Docker subvolumes \(no layerdb reference\): 3, 120\.0 MiB/);
    for (const o of orphans) expect(md).toContain(o.slice(0, 12));
  });

  it('uses qgroup exclusive sizes when quotas are already on (enabled here by the test, never by preflight)', async () => {
    await execa('btrfs', ['quota', 'enable', s.fs.mountpoint]);
    await execa('btrfs', ['quota', 'rescan', '-w', s.fs.mountpoint]);
    try {
      const doc = parseReport((await runPreflight(['--format', 'json'], { DOCKER_HOST: s.host })).stdout);
      const d = dockerFs(doc).docker;
      expect(d.quotas).toBe('enabled');
      expect(d.qgroups.length).toBe(d.subvolumes);
      const du = await duExclusive(orphans.map((o) => `${s.dataRoot}/btrfs/subvolumes/${o}`));
      for (const [i, name] of orphans.entries()) {
        const o = d.orphans.find((x: { name: string }) => x.name === name);
        expect(o.sizeSource).toBe('qgroup');
        expect(Math.abs(o.exclusiveBytes - du[i]!) / du[i]!).toBeLessThanOrEqual(0.05);
      }
    } finally {
      await execa('btrfs', ['quota', 'disable', s.fs.mountpoint]);
    }
  });

  it('degrades to one line when btrfs-progs is missing from PATH', async () => {
    const bin = await mkdtemp(path.join(tmpdir(), 'pf-nobtrfs-'));
    try {
      for (const tool of ['sh', 'stat', 'realpath', 'find', 'node']) {
        const { stdout } = await execa('sh', ['-c', `command -v ${tool}`]);
        await symlink(String(stdout).trim(), path.join(bin, tool));
      }
      const run = await runPreflight([], { DOCKER_HOST: s.host, PATH: bin });
      expect(run.exitCode).toBe(0);
      const section = run.stdout.slice(run.stdout.indexOf('## Btrfs'));
      expect(section).toMatch(/^## Btrfs\n\(degraded: btrfs-progs is not installed: \\`apt-get install btrfs-progs\\`/);
      expect(section).not.toMatch(/^Allocation:/m);
      expect(run.stdout).toMatch(/^Disk: \d+% used/m);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});

describeWith(['btrfs', 'mkfs.btrfs'], 'a small btrfs filled until metadata runs out', () => {
  let fs: LoopFs;
  beforeAll(async () => {
    fs = await makeLoopFs({ fstype: 'btrfs', sizeMiB: 256 });
  });
  afterAll(async () => {
    await fs?.cleanup();
  });

  it('gets the ENOSPC-risk verdict before writes start failing', async () => {
    const m = fs.mountpoint;
    // Take all unallocated space with data, then give 24 MiB of it back inside the data chunks,
    // so small files still get a data reservation but metadata can no longer grow.
    await execa('dd', ['if=/dev/zero', `of=${m}/big`, 'bs=1M', 'count=400', 'status=none'], { reject: false });
    await execa('truncate', ['-s', '-24M', `${m}/big`]);
    await execa('sync');
    const verdicts: string[] = [];
    let failedAt = -1;
    const blob = Buffer.alloc(1500, 7); // inline: lives in metadata
    for (let batch = 0; batch < 60 && failedAt < 0; batch += 1) {
      for (let i = 0; i < 1000; i += 1) {
        try {
          await writeFile(`${m}/f${batch}_${i}`, blob);
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
          failedAt = batch;
          break;
        }
      }
      if (failedAt >= 0) break;
      await execa('sync');
      const doc = parseReport((await runPreflight(['--format', 'json', '--path', m])).stdout);
      verdicts.push(btrfsOf(doc, m).assessment.verdict);
    }
    expect(failedAt).toBeGreaterThan(0);
    const firstRisk = verdicts.findIndex((v) => v !== 'ok');
    expect(firstRisk).toBeGreaterThanOrEqual(0);
    expect(firstRisk).toBeLessThan(failedAt);
    const md = (await runPreflight(['--path', m])).stdout;
    expect(md).toMatch(/Verdict: (RISK|CRITICAL): ENOSPC (possible|now likely) while df shows/);
  });
});
