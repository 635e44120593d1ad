import { execa } from 'execa';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrphanSubvolumes } from '../helpers/btrfs.js';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { makeLoopFs, type LoopFs } from '../helpers/loopfs.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';

const MiB = 1024 * 1024;

async function culprit(s: DockerSandbox) {
  // The sandbox disk is far from full: --scan-outside asks for the du listing anyway.
  const doc = parseReport((await runPreflight(['--format', 'json', '--scan-outside'], { DOCKER_HOST: s.host })).stdout);
  const md = (await runPreflight(['--scan-outside'], { DOCKER_HOST: s.host })).stdout;
  const verdict = md.split('\n').find((l) => l.startsWith('Verdict: ')) ?? '';
  return { kind: doc.attribution.sources[0].kind as string, verdict, doc, md };
}

describeWith(ENGINE_TOOLS, 'Storage Pressure names the one culprit of each scenario (real overlay2 dockerd)', () => {
  let s: DockerSandbox;
  beforeAll(async () => {
    s = await startDockerd('overlay2', 3072);
    await s.buildImage('pf-base:1');
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('files outside Docker, with the biggest directory named', async () => {
    const dir = `${s.fs.mountpoint}/outside/models`;
    await mkdir(dir, { recursive: true });
    await execa('dd', ['if=/dev/urandom', `of=${dir}/weights.bin`, 'bs=1M', 'count=300', 'status=none']);
    await execa('sync');
    const c = await culprit(s);
    expect(c.kind).toBe('outside-docker');
    expect(c.verdict).toMatch(/top source outside-docker 30\d\.\d MiB/);
    expect(c.doc.outsideDocker[0]).toMatchObject({ path: `${s.fs.mountpoint}/outside` });
    expect(c.md).toContain(`Outside Docker, biggest directories: ${s.fs.mountpoint}/outside 300.`);
    const quiet = (await runPreflight([], { DOCKER_HOST: s.host })).stdout;
    expect(quiet).toMatch(/Outside Docker: not scanned: \d+% used is below the 70% warning tier/);
    await rm(`${s.fs.mountpoint}/outside`, { recursive: true, force: true });
  });

  it('BuildKit build cache', async () => {
    await s.buildImage('pf-cachey:1', [
      'RUN --mount=type=cache,target=/cache head -c 314572800 /dev/urandom > /cache/big',
    ]);
    const c = await culprit(s);
    expect(c.kind).toBe('build-cache');
    expect(c.verdict).toMatch(/top source build-cache 30\d\.\d MiB/);
    await s.docker(['builder', 'prune', '-af']);
    await s.docker(['rmi', 'pf-cachey:1']);
  });

  it('container logs', async () => {
    // Detached: the log goes to the json-file, not through the CLI's stdout.
    await s.docker([
      'run',
      '-d',
      '--network',
      'none',
      '--name',
      'pf-chatty',
      'pf-base:1',
      'sh',
      '-c',
      'yes 0123456789012345678901234567890123456789 | head -n 2800000',
    ]);
    await s.docker(['wait', 'pf-chatty']);
    const c = await culprit(s);
    expect(c.kind).toBe('container-logs');
    expect(c.verdict).toMatch(/top source container-logs/);
    const logs = c.doc.attribution.sources[0];
    expect(logs.bytes).toBe(c.doc.docker.logs.totalBytes);
    expect(logs.reclaimableBytes).toBe(logs.bytes); // stopped: container prune removes its log
    expect(logs.bytes).toBeGreaterThan(290 * MiB);
    await s.docker(['rm', '-f', 'pf-chatty']);
  });

  it('dangling images from repeated rebuilds', async () => {
    for (let i = 0; i < 4; i += 1) {
      await s.buildImage('pf-app:latest', ['COPY stamp /stamp', 'RUN head -c 104857600 /dev/urandom > /big'], {
        stamp: randomBytes(16).toString('hex'),
      });
    }
    const c = await culprit(s);
    expect(c.kind).toBe('dangling-images');
    expect(c.verdict).toMatch(/top source dangling-images 300\.\d MiB/);
    expect(c.doc.docker.churn[0]).toMatchObject({ repository: 'pf-app', danglingVersions: 3 });
    await s.docker(['rmi', 'pf-app:latest']);
    await s.docker(['image', 'prune', '-f']);
    await s.docker(['builder', 'prune', '-af']);
  });

  it('an unused volume', async () => {
    await s.docker(['volume', 'create', 'pf-big']);
    await s.docker([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'pf-big:/v',
      'pf-base:1',
      'dd',
      'if=/dev/urandom',
      'of=/v/fill',
      'bs=1M',
      'count=300',
    ]);
    const c = await culprit(s);
    expect(c.kind).toBe('volumes');
    expect(c.verdict).toMatch(/top source volumes 300\.0 MiB \(\d+% of used, 300\.0 MiB reclaimable\)/);
    await s.docker(['volume', 'rm', 'pf-big']);
  });
});

describeWith([...ENGINE_TOOLS, 'btrfs'], 'Storage Pressure on a real btrfs dockerd', () => {
  let s: DockerSandbox;
  beforeAll(async () => {
    s = await startDockerd('btrfs', 3072);
    await s.buildImage('pf-base:1');
    await createOrphanSubvolumes(s.dataRoot, 3, 100);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('names orphaned btrfs subvolumes, and says how CoW bends the numbers', async () => {
    const c = await culprit(s);
    expect(c.kind).toBe('btrfs-orphans');
    expect(c.verdict).toMatch(/top source btrfs-orphans 300\.0 MiB/);
    expect(c.md).toContain('On btrfs, layers share extents (copy-on-write)');
  });
});

describeWith(['mkfs.ext4', 'losetup'], 'guard and the recipe gate on a real loop filesystem', () => {
  let fs: LoopFs;
  beforeAll(async () => {
    fs = await makeLoopFs({ fstype: 'ext4', sizeMiB: 64 });
    await execa('dd', ['if=/dev/urandom', `of=${fs.mountpoint}/fill`, 'bs=1M', 'count=43', 'status=none']);
    await execa('sync');
  });
  afterAll(async () => {
    await fs?.cleanup();
  });

  async function statfs() {
    const { stdout } = await execa('stat', ['-f', '-c', '%S %b %f %a', fs.mountpoint]);
    const [frsize, blocks, bfree, bavail] = String(stdout).trim().split(' ').map(Number) as [
      number,
      number,
      number,
      number,
    ];
    return { used: (blocks - bfree) * frsize, avail: bavail * frsize };
  }

  it('refuses exactly past the threshold computed from statfs', async () => {
    const { used, avail } = await statfs();
    const limit = Math.floor((95 * (used + avail)) / 100) - used;
    const ok = await runPreflight(['guard', '--path', `${fs.mountpoint}/fill`, '--need', String(limit)]);
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      mountpoint: fs.mountpoint,
      usedBytes: used,
      capacityBytes: used + avail,
    });
    const refused = await runPreflight(['guard', '--path', fs.mountpoint, '--need', String(limit + 1)]);
    expect(refused.exitCode).toBe(3);
    const err = JSON.parse(refused.stdout);
    expect(Object.keys(err)).toEqual([
      'error',
      'mountpoint',
      'usedBytes',
      'capacityBytes',
      'needBytes',
      'projectedPct',
      'maxPct',
    ]);
    expect(err).toMatchObject({
      error: 'DiskCapacity',
      mountpoint: fs.mountpoint,
      usedBytes: used,
      capacityBytes: used + avail,
      needBytes: limit + 1,
      maxPct: 95,
    });
    expect(refused.stderr).toMatch(
      new RegExp(`^Can't write .+ to ${fs.mountpoint}: it would reach \\d+% \\(max 95%\\)\\. Prune first\\.$`),
    );
  });

  it('takes --max-pct and rejects bad input with exit 2', async () => {
    expect((await runPreflight(['guard', '--path', fs.mountpoint, '--need', '1M', '--max-pct', '10'])).exitCode).toBe(
      3,
    );
    for (const argv of [
      ['guard', '--path', fs.mountpoint, '--need', '12X'],
      ['guard', '--path', '/does/not/exist', '--need', '1M'],
      ['guard', '--path', fs.mountpoint, '--need', '1M', '--max-pct', '0'],
    ]) {
      const run = await runPreflight(argv);
      expect(run.exitCode).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('a pseudo filesystem with no capacity is no answer: exit 2, never "Infinity%"', async () => {
    const run = await runPreflight(['guard', '--path', '/proc', '--need', '1M']);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('preflight: /proc: /proc reports no capacity (a pseudo filesystem?): nothing to guard');
  });

  it('--format fired carries the P1 disk finding for a filesystem over 80%', async () => {
    const run = await runPreflight(['--format', 'fired', '--path', fs.mountpoint]);
    expect(run.exitCode).toBe(0);
    const gate = JSON.parse(run.stdout);
    expect(Object.keys(gate)).toEqual(['fired']);
    const disk = gate.fired.find((f: { evidence: string }) => f.evidence.startsWith(`${fs.mountpoint} `));
    expect(disk).toMatchObject({ name: 'disk-high', severity: 'P1', action: 'llm' });
    expect(Object.keys(disk)).toEqual(['name', 'severity', 'evidence', 'action', 'action_script']);
    // Lowering the threshold past the usage turns it critical; raising it clears it.
    const relaxed = JSON.parse(
      (await runPreflight(['--format', 'fired', '--path', fs.mountpoint, '--disk-threshold', '99'])).stdout,
    );
    expect(relaxed.fired.filter((f: { evidence: string }) => f.evidence.startsWith(`${fs.mountpoint} `))).toEqual([]);
  });
});
