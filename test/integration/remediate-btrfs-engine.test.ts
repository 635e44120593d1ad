import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assessBtrfs } from '../../src/model/btrfs.js';
import { parseBtrfsUsage } from '../../src/parse/btrfs-usage.js';
import { createOrphanSubvolumes } from '../helpers/btrfs.js';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { daemonObjects, engineGet as api } from '../helpers/engine-api.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { statfsOf } from '../helpers/statfs.js';

const MiB = 1024 * 1024;
const within = (measured: number, expected: number, share = 0.1) => Math.abs(measured - expected) <= expected * share;

/** statfs used bytes once deleted subvolumes are cleaned and the transaction that freed them is committed (as the apply measures). */
async function settledUsed(mount: string): Promise<number> {
  // The first commit wakes the cleaner: without it `subvolume sync` waits for the 30 s commit interval.
  for (const args of [
    ['filesystem', 'sync'],
    ['subvolume', 'sync'],
    ['filesystem', 'sync'],
  ])
    await execa('btrfs', [...args, mount]);
  return (await statfsOf(mount)).used;
}

async function assessment(mount: string) {
  await execa('btrfs', ['filesystem', 'sync', mount]);
  return assessBtrfs(parseBtrfsUsage((await execa('btrfs', ['filesystem', 'usage', '-b', mount])).stdout), String);
}

describeWith([...ENGINE_TOOLS, 'btrfs', 'fallocate'], 'remediate on a real btrfs-driver dockerd', () => {
  let s: DockerSandbox;
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  let orphans: string[];
  const subvolumes = async () => (await readdir(path.join(s.dataRoot, 'btrfs/subvolumes'))).sort();
  /** Every object the daemon lists, with its figures, and the orphan subvolumes still on disk. */
  const objects = async () => ({ ...(await daemonObjects(s.socket)), subvolumes: await subvolumes() });

  beforeAll(async () => {
    // 1 GiB: a small metadata chunk (51 MiB) fills quickly in the last test.
    s = await startDockerd('btrfs', 1024);
    // A private TMPDIR keeps this file's apply lock apart from any other run on the host.
    scratch = await mkdtemp(path.join(tmpdir(), 'pf-btrfs-apply-'));
    env = { DOCKER_HOST: s.host, TMPDIR: scratch };
    await s.buildImage('pf-base:1');
    // Three rebuilds of one tag leave two dangling versions of 6 MiB each, written by RUN: on btrfs a COPY from the
    // context reflinks BuildKit's source.local record, so removing such an image frees nothing until that record goes.
    for (let v = 0; v < 3; v += 1)
      await s.buildImage('pf-app:latest', [
        `RUN head -c ${6 * MiB} /dev/urandom > /blob # ${randomBytes(8).toString('hex')}`,
      ]);
    await s.docker(['run', '-d', '--network', 'none', '--name', 'pf-running', 'pf-base:1', 'sleep', '3600']);
    await s.docker([
      'run',
      '--network',
      'none',
      '--name',
      'pf-stopped',
      'pf-base:1',
      'dd',
      'if=/dev/urandom',
      'of=/fill',
      'bs=1M',
      'count=60',
    ]);
    await s.docker(['volume', 'create', 'pf-named']);
    await s.docker([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'pf-named:/v',
      'pf-base:1',
      'dd',
      'if=/dev/urandom',
      'of=/v/fill',
      'bs=1M',
      'count=20',
    ]);
    orphans = (await createOrphanSubvolumes(s.dataRoot, 3, 20)).sort();
    // The first /system/df after a build moves BuildKit's LastUsedAt (seen on 20.10): read once before comparing.
    await api(s.socket, '/v1.41/system/df');
  });
  afterAll(async () => {
    await s?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('the dry run escalates exactly the orphaned subvolumes, sized, and changes nothing', async () => {
    const before = { objects: await objects(), used: await settledUsed(s.fs.mountpoint) };
    const run = await runPreflight(['remediate', '--min-age', '0s', '--format', 'json', '--no-journal'], env);
    expect(run.exitCode, run.stderr).toBe(0);
    const plan = parseReport(run.stdout).remediation.plan;
    expect(plan.mountpoint).toBe(s.fs.mountpoint);
    const step = plan.steps.find((x: any) => x.kind === 'remove-btrfs-orphans');
    expect(step.tier).toBe('destructive');
    expect(step.objects.map((o: any) => o.name).sort()).toEqual(orphans);
    for (const o of step.objects) expect(within(o.bytes, 20 * MiB, 0.05), `${o.name}: ${o.bytes}`).toBe(true);
    expect(within(step.expectedBytes, 60 * MiB, 0.05)).toBe(true);
    expect(step.action).toMatch(/btrfs subvolume sync/);
    // Nothing in the plan deletes or balances without a reason: the metadata verdict is ok here.
    expect(plan.steps.map((x: any) => x.kind)).not.toContain('btrfs-balance-empty');
    const md = await runPreflight(['remediate', '--min-age', '0s', '--no-journal'], env);
    expect(md.exitCode, md.stderr).toBe(0);
    expect(md.stdout).toMatch(
      /\| destructive \| delete 3 orphaned Docker subvolumes, with the daemon stopped \| .* \| 60\.0 MiB \|/,
    );
    for (const o of orphans) expect(md.stdout).toContain(o.slice(0, 40));
    // Same objects, same subvolumes, and the same statfs bytes once both sides are committed.
    expect(await objects()).toEqual(before.objects);
    expect(await settledUsed(s.fs.mountpoint)).toBe(before.used);
  });

  it('a safe apply frees what the plan expected (statfs after subvolume sync), and keeps what runs, what is used, volumes and orphans', async () => {
    const planned = parseReport(
      (
        await runPreflight(
          ['remediate', '--min-age', '0s', '--target-pct', '1', '--format', 'json', '--no-journal'],
          env,
        )
      ).stdout,
    ).remediation.plan;
    const usedBefore = await settledUsed(s.fs.mountpoint);
    // --target-pct 1: the filesystem is far below 75%, and every safe step must run to be measured.
    const run = await runPreflight(
      ['remediate', '--apply', '--min-age', '0s', '--target-pct', '1', '--format', 'json', '--no-journal'],
      env,
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const r = parseReport(run.stdout).remediationApplied;
    const usedAfter = await settledUsed(s.fs.mountpoint);
    console.log(
      JSON.stringify({
        planned: planned.steps.map((x: any) => [x.kind, x.expectedBytes]),
        ran: r.steps.map((x: any) => [x.kind, x.expectedBytes, x.measuredBytes]),
        freed: r.freedBytes,
        ownStatfs: usedBefore - usedAfter,
      }),
    );
    expect(r.steps.map((x: any) => x.kind)).toEqual(['remove-containers', 'remove-dangling-images']);
    for (const x of r.steps) {
      expect(
        x.objects.every((o: any) => o.result === 'removed'),
        JSON.stringify(x.objects),
      ).toBe(true);
      expect(
        within(x.measuredBytes, x.expectedBytes),
        `${x.kind}: measured ${x.measuredBytes}, expected ${x.expectedBytes}`,
      ).toBe(true);
    }
    const expected = r.steps.reduce((a: number, x: any) => a + x.expectedBytes, 0);
    expect(within(r.freedBytes, expected), `apply freed ${r.freedBytes}, expected ${expected}`).toBe(true);
    expect(
      within(usedBefore - usedAfter, expected),
      `statfs freed ${usedBefore - usedAfter}, expected ${expected}`,
    ).toBe(true);
    // Destructive steps are left to a person: the orphans are all still there.
    expect(r.notRun.filter((x: any) => x.reason === 'destructive').map((x: any) => x.kind)).toEqual(
      expect.arrayContaining(['remove-volumes', 'remove-btrfs-orphans']),
    );
    expect(await subvolumes()).toEqual(expect.arrayContaining(orphans));
    const containers = await api(s.socket, '/v1.41/containers/json?all=1');
    expect(containers.map((c: any) => [c.Names[0], c.State])).toEqual([['/pf-running', 'running']]);
    const tags = (await api(s.socket, '/v1.41/images/json')).flatMap((i: any) => i.RepoTags ?? []);
    expect(tags).toEqual(expect.arrayContaining(['pf-base:1', 'pf-app:latest']));
    expect((await api(s.socket, '/v1.41/volumes')).Volumes.map((v: any) => v.Name)).toContain('pf-named');
  });

  it('low unallocated space with metadata filling up: the plan adds the balance steps, and the safe one runs', async () => {
    const m = s.fs.mountpoint;
    // Data chunks take all unallocated space, then 3 files of 4 go: no chunk is empty (the kernel would hand it back).
    await mkdir(`${m}/fill`);
    await execa('sh', [
      '-c',
      `i=0; while fallocate -l 8M "$0/$i" 2>/dev/null; do i=$((i+1)); done; cd "$0" && for f in *; do [ $((f % 4)) -eq 0 ] || rm -- "$f"; done`,
      `${m}/fill`,
    ]);
    // Metadata can no longer grow: fill it with inline files (2000 bytes live in metadata) until the verdict turns.
    const blob = Buffer.alloc(2000, 7);
    const write = (dir: string, from: number, count: number) =>
      mkdir(dir, { recursive: true }).then(async () => {
        for (let i = from; i < from + count; i += 1) await writeFile(`${dir}/${i}`, blob);
      });
    let a = await assessment(m);
    // About 2.5 KiB of metadata per file: up to 70% in one go, four writers (a directory's lock is its own)...
    const bulk = Math.floor(((0.7 - a.metadataFullness!) * a.metadata!.size) / 2600 / 4);
    await Promise.all([0, 1, 2, 3].map((d) => write(`${m}/meta${d}`, 0, bulk)));
    // ...then one writer, in small steps: concurrent reservations near the line ended in ENOSPC here.
    for (let batch = 0; (a = await assessment(m)).verdict === 'ok' && batch < 40; batch += 1)
      await write(`${m}/meta0`, bulk + batch * 200, 200);
    expect(a.verdict).toBe('risk');
    expect(a.unusedDataChunkBytes).toBeGreaterThan(300 * MiB);
    const plan = parseReport(
      (await runPreflight(['remediate', '--min-age', '0s', '--format', 'json', '--no-journal'], env)).stdout,
    ).remediation.plan;
    const kinds = plan.steps.map((x: any) => [x.kind, x.tier]);
    expect(kinds).toEqual(
      expect.arrayContaining([
        ['btrfs-balance-empty', 'safe'],
        ['btrfs-balance-stepped', 'moderate'],
        ['remove-btrfs-orphans', 'destructive'],
      ]),
    );
    const before = await objects();
    const run = await runPreflight(
      ['remediate', '--apply', '--min-age', '0s', '--target-pct', '1', '--format', 'json', '--no-journal'],
      env,
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const r = parseReport(run.stdout).remediationApplied;
    expect(r.steps.map((x: any) => [x.kind, x.problem])).toEqual([['btrfs-balance-empty', null]]);
    expect(r.steps[0].detail).toMatch(/^Done, had to relocate \d+ out of \d+ chunks$/);
    // A balance moves chunks, never objects.
    expect(await objects()).toEqual(before);
  });
});
