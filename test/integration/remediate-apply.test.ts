import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { parse as parseToml } from 'smol-toml';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { acquireApplyLock } from '../../src/host/lock.js';
import { removeImage } from '../../src/actuators/docker.js';
import { parseDockerHost } from '../../src/parse/docker-host.js';
import { execRunner } from '../../src/host/exec.js';
import { applyPlan, shellDeps } from '../../src/run/apply/apply.js';
import type { RemediationPlan } from '../../src/model/remediation/plan.js';
import { noAgesConfig } from '../helpers/apply-scene.js';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { daemonObjects, engineGet } from '../helpers/engine-api.js';
import { fillTo, statfsOf } from '../helpers/statfs.js';
import { parseReport, REPO, runPreflight } from '../helpers/preflight.js';

const MiB = 1024 * 1024;

const api = engineGet;

/** statfs used bytes of the loop filesystem, as df counts them. */
/** Every object the daemon knows, with its figures, and the filesystem's used bytes. */
async function snapshot(s: DockerSandbox) {
  return { ...(await daemonObjects(s.socket)), usedBytes: (await statfsOf(s.fs.mountpoint)).used };
}

const within = (measured: number, expected: number, share = 0.1) => Math.abs(measured - expected) <= expected * share;

describeWith([...ENGINE_TOOLS, 'fallocate'], 'remediate --apply on a real overlay2 dockerd', () => {
  let s: DockerSandbox;
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  let anonymousVolume: string;
  beforeAll(async () => {
    s = await startDockerd('overlay2', 1024);
    // The lock lives in the temporary directory: a private one keeps this file's applies apart from any other run on the host.
    scratch = await mkdtemp(path.join(tmpdir(), 'pf-apply-'));
    env = { DOCKER_HOST: s.host, TMPDIR: scratch };
    await s.buildImage('pf-base:1');
    await s.buildImage('pf-old:1', ['COPY old /old'], { old: randomBytes(MiB).toString('base64') });
    // A BuildKit cache mount (exec.cachemount), as apt and npm caches are: 8 MB.
    await s.buildImage('pf-cache:1', [
      'RUN --mount=type=cache,target=/cache head -c 8000000 /dev/urandom > /cache/big',
    ]);
    // Three builds of one tag: two dangling versions of 8 MiB each (6 MiB of random bytes, base64).
    for (let v = 0; v < 3; v += 1)
      await s.buildImage('pf-app:latest', ['COPY stamp /stamp'], { stamp: randomBytes(6 * MiB).toString('base64') });
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
      'count=200',
    ]);
    // An image only a stopped container uses.
    await s.docker(['run', '--network', 'none', '--name', 'pf-old-user', 'pf-old:1', 'true']);
    // ~118 bytes of json-file per 41-byte line: 360k lines is a little over 40 MB of log.
    await s.docker([
      'run',
      '--network',
      'none',
      '--name',
      'pf-chatty',
      'pf-base:1',
      'sh',
      '-c',
      'yes 0123456789012345678901234567890123456789 | head -n 360000',
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
    // An anonymous volume, kept by its stopped container: removing the container (v=0) must leave it.
    await s.docker([
      'run',
      '--network',
      'none',
      '--name',
      'pf-anon',
      '-v',
      '/data',
      'pf-base:1',
      'dd',
      'if=/dev/urandom',
      'of=/data/fill',
      'bs=1M',
      'count=10',
    ]);
    anonymousVolume = JSON.parse(await s.docker(['inspect', 'pf-anon']))[0].Mounts[0].Name;
    // Outside Docker, on the same filesystem: fill it to 85% used.
    await fillTo(s.fs.mountpoint, 0.85);
  });
  afterAll(async () => {
    await s?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('the dry run plans and changes nothing: same objects, same figures, same statfs bytes', async () => {
    // The first /system/df after a build releases BuildKit's cache-mount ref (its LastUsedAt and UsageCount move,
    // seen on 20.10 with no preflight involved): read once so the snapshots compare the dry run alone.
    await api(s.socket, '/v1.41/system/df');
    const before = await snapshot(s);
    expect(before.usedBytes).toBeGreaterThan(0);
    const run = await runPreflight(['remediate', '--min-age', '0s', '--format', 'json', '--no-journal'], env);
    expect(run.exitCode, run.stderr).toBe(0);
    const plan = parseReport(run.stdout).remediation.plan;
    expect(plan.usedPct).toBeGreaterThanOrEqual(85);
    expect(plan.steps.map((x: any) => x.kind)).toEqual(
      expect.arrayContaining(['remove-containers', 'remove-dangling-images']),
    );
    // The recipe gate: what the safe apply can fix is `direct`, naming our script as the host will run it.
    // Under the default ages nothing here is old enough: the gate leaves it to the LLM.
    const young = await runPreflight(['--format', 'fired'], env);
    expect(JSON.parse(young.stdout).fired.find((f: any) => f.name === 'disk-high')).toMatchObject({
      action: 'llm',
      action_script: '',
    });
    // With the ages a config sets (the action script's own run reads the same config), it is direct.
    const config = await noAgesConfig(scratch);
    const factoryRoot = path.dirname(REPO);
    const gate = await runPreflight(['--format', 'fired'], {
      ...env,
      FACTORY_ROOT: factoryRoot,
      PREFLIGHT_CONFIG: config,
    });
    const disk = JSON.parse(gate.stdout).fired.find((f: any) => f.name.startsWith('disk-'));
    expect(disk).toMatchObject({
      name: 'disk-high',
      action: 'direct',
      action_script: `${path.basename(REPO)}/integrations/actions/storage-cleanup.sh`,
    });
    expect(existsSync(path.join(factoryRoot, disk.action_script))).toBe(true);
    expect(await snapshot(s)).toEqual(before);
  });

  it('applies the safe steps in order, frees what the plan expected, and stops at the target', async () => {
    const journal = path.join(scratch, 'journal');
    const run = await runPreflight(['remediate', '--apply', '--min-age', '0s', '--format', 'json'], {
      ...env,
      OPS_JOURNAL_ROOT: journal,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const doc = parseReport(run.stdout);
    const r = doc.remediationApplied;
    console.log(
      JSON.stringify({
        wanted: r.wantedBytes,
        freed: r.freedBytes,
        steps: r.steps.map((x: any) => [x.kind, x.expectedBytes, x.measuredBytes, x.daemonReclaimedBytes]),
      }),
    );
    expect(r).toMatchObject({ stopped: 'target-reached', targetReached: true, maxTier: 'safe', targetPct: 75 });
    expect(r.steps.map((x: any) => x.kind)).toEqual(['remove-containers']);
    const step = r.steps[0];
    expect(step.objects.map((o: any) => o.name).sort()).toEqual(['pf-anon', 'pf-chatty', 'pf-old-user', 'pf-stopped']);
    expect(step.objects.every((o: any) => o.result === 'removed')).toBe(true);
    expect(within(step.measuredBytes, step.expectedBytes), `${step.measuredBytes} vs ${step.expectedBytes}`).toBe(true);
    expect(r.freedBytes).toBeGreaterThanOrEqual(r.wantedBytes);
    expect(r.usedAfterBytes).toBeLessThanOrEqual(Math.floor((r.capacityBytes * 75) / 100));
    // The next safe step was not needed.
    expect(r.notRun.find((x: any) => x.kind === 'remove-dangling-images')).toMatchObject({ reason: 'target-reached' });
    expect((await api(s.socket, '/v1.41/images/json?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D')).length).toBe(2);
    // What runs still runs; every image a container uses and every volume stays.
    const containers = await api(s.socket, '/v1.41/containers/json?all=1');
    expect(containers.map((c: any) => [c.Names[0], c.State])).toEqual([['/pf-running', 'running']]);
    const tags = (await api(s.socket, '/v1.41/images/json')).flatMap((i: any) => i.RepoTags ?? []);
    expect(tags).toEqual(expect.arrayContaining(['pf-base:1', 'pf-old:1', 'pf-app:latest']));
    const volumes = (await api(s.socket, '/v1.41/volumes')).Volumes.map((v: any) => v.Name);
    expect(volumes).toEqual(expect.arrayContaining(['pf-named', anonymousVolume]));
    // The run's history record carries the applied step with its measured reclaim.
    const dir = path.join(journal, '.storage-preflight');
    const lines = (await readFile(path.join(dir, (await readdir(dir))[0]!), 'utf8')).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!).remediation).toEqual([
      { action: 'remove-containers', reclaimedBytes: step.measuredBytes },
    ]);
    // And the trend shows it.
    const trend = await runPreflight(['trend'], { ...env, OPS_JOURNAL_ROOT: journal });
    expect(trend.stdout).toMatch(
      /\nClean-up applied in 7 d: [\d.]+ MiB freed \(statfs\): \d{4}-\d\d-\d\d \d\d:\d\d UTC remove-containers [\d.]+ MiB\.\n/,
    );
  });

  it('a second apply while one holds the lock waits about 5 s, then refuses with one line and exit code 4, changing nothing', async () => {
    const lock = await acquireApplyLock(path.join(scratch, 'storage-preflight-apply.lock'));
    try {
      const before = await snapshot(s);
      const run = await runPreflight(
        ['remediate', '--apply', '--min-age', '0s', '--target-pct', '1', '--no-journal'],
        env,
      );
      expect(run.exitCode).toBe(4);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(
        /^preflight: another remediate --apply \(pid \d+\) holds .*storage-preflight-apply\.lock; gave up after 5(\.\d)? s, nothing was applied$/,
      );
      expect(await snapshot(s)).toEqual(before);
    } finally {
      await lock.release();
    }
  });

  it('--max-tier moderate: each step frees what the plan expected (statfs), and the Applied section gives the three figures', async () => {
    const json = await runPreflight(
      ['remediate', '--min-age', '0s', '--target-pct', '1', '--format', 'json', '--no-journal'],
      env,
    );
    const planned = parseReport(json.stdout).remediation.plan.steps;
    const dangling = planned.find((x: any) => x.kind === 'remove-dangling-images');
    // The plan lists the BuildKit records that hold the dangling images' layers (shared with images when planned).
    expect(dangling.cacheRecords.length).toBeGreaterThan(0);
    const run = await runPreflight(
      [
        'remediate',
        '--apply',
        '--min-age',
        '0s',
        '--max-tier',
        'moderate',
        '--target-pct',
        '1',
        '--format',
        'json',
        '--no-journal',
      ],
      env,
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const r = parseReport(run.stdout).remediationApplied;
    console.log(
      JSON.stringify(
        r.steps.map((x: any) => [x.kind, x.expectedBytes, x.daemonReclaimedBytes, x.measuredBytes, x.cacheRecords]),
      ),
    );
    expect(r.steps.map((x: any) => x.kind)).toEqual(['remove-dangling-images', 'prune-all-build-cache']);
    for (const x of r.steps) {
      expect(
        x.objects.every((o: any) => o.result === 'removed'),
        JSON.stringify(x.objects),
      ).toBe(true);
      expect(
        within(x.measuredBytes, x.expectedBytes),
        `${x.kind}: measured ${x.measuredBytes}, expected ${x.expectedBytes}`,
      ).toBe(true);
      expect(
        within(x.daemonReclaimedBytes, x.expectedBytes),
        `${x.kind}: daemon ${x.daemonReclaimedBytes}, expected ${x.expectedBytes}`,
      ).toBe(true);
    }
    expect(r).toMatchObject({ stopped: 'steps-exhausted', targetReached: false });
    expect(r.short.map((x: any) => x.kind)).toEqual(['steps-exhausted', 'destructive']);
    expect((await api(s.socket, '/v1.41/images/json?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D')).length).toBe(0);
    const md = await runPreflight(
      ['remediate', '--apply', '--min-age', '0s', '--max-tier', 'moderate', '--target-pct', '1', '--no-journal'],
      env,
    );
    expect(md.exitCode, md.stderr).toBe(0);
    expect(md.stdout).toMatch(
      /\n## Remediation Applied\nWanted to free [\d.]+ [KMG]iB on .*, (freed [\d.]+ [KMG]?i?B|another writer added [\d.]+ [KMG]?i?B meanwhile) \(statfs\); now \d+% used, no step left to run after 0 steps \(--max-tier moderate\)\.\n/,
    );
    expect(md.stdout).toMatch(
      /Short of the target by [\d.]+ [KMG]iB: the plan has no step up to --max-tier moderate; 2 destructive steps left to a person \([\d.]+ [KMG]iB expected\)\./,
    );
  });

  it("an image a container started using after the plan is refused by the daemon (409); the apply's re-check keeps it first, reported per object, and it survives", async () => {
    const old = (await api(s.socket, '/v1.41/images/json')).find((i: any) => (i.RepoTags ?? []).includes('pf-old:1'));
    await s.docker(['run', '-d', '--network', 'none', '--name', 'pf-late-user', 'pf-old:1', 'sleep', '3600']);
    // The apply re-plans from a fresh measurement, so the stale plan is driven here, through the real actuators.
    const docker = parseDockerHost(s.host);
    const direct = await removeImage(docker, '1.41', old.Id, 10_000);
    expect(direct).toMatchObject({ result: 'refused' });
    expect(direct.detail).toMatch(/image is being used by running container/);
    const stale: RemediationPlan = {
      mountpoint: s.fs.mountpoint,
      usedBytes: 1,
      capacityBytes: 2,
      usedPct: 50,
      targetPct: 1,
      wantBytes: 1,
      byTier: { safe: 0, moderate: old.Size, destructive: 0 },
      cannotFree: [],
      historyHours: null,
      notes: [],
      steps: [
        {
          kind: 'remove-unused-images',
          tier: 'moderate',
          title: 'remove 1 unused image',
          action: '',
          cli: '',
          why: '',
          expectedBytes: old.Size,
          objects: [{ id: old.Id, name: 'pf-old:1', bytes: old.Size }],
          recheck: {
            what: 'unused-image',
            plannedAt: new Date(Date.now() - 1000).toISOString(),
            minAgeMs: 0,
            dangling: false,
          },
        },
      ],
    };
    const deps = shellDeps({
      run: execRunner,
      docker,
      apiVersion: '1.41',
      mountpoint: s.fs.mountpoint,
      fstype: 'ext4',
      lock: () => acquireApplyLock(path.join(scratch, 'storage-preflight-apply.lock')),
    });
    const r = await applyPlan(stale, 'moderate', Date.now() + 30_000, deps);
    expect(r.steps[0]!.objects).toEqual([
      {
        id: old.Id,
        name: 'pf-old:1',
        plannedBytes: old.Size,
        result: 'kept',
        changed: true,
        detail: 'changed since the plan: used by container pf-late-user',
      },
    ]);
    expect(r.short.find((x) => x.kind === 'changed')).toMatchObject({ bytes: old.Size });
    expect((await api(s.socket, `/v1.41/images/${old.Id}/json`)).Id).toBe(old.Id);
  });

  it('two applies at once never run steps at the same time: the second waits for the lock, and nothing is removed twice', async () => {
    for (let v = 0; v < 2; v += 1)
      await s.buildImage('pf-app:latest', ['COPY stamp /stamp'], { stamp: randomBytes(3 * MiB).toString('base64') });
    await s.docker([
      'run',
      '--network',
      'none',
      '--name',
      'pf-stopped-2',
      'pf-base:1',
      'dd',
      'if=/dev/urandom',
      'of=/fill',
      'bs=1M',
      'count=30',
    ]);
    const args = [
      'remediate',
      '--apply',
      '--min-age',
      '0s',
      '--max-tier',
      'moderate',
      '--target-pct',
      '1',
      '--format',
      'json',
      '--no-journal',
    ];
    const runs = await Promise.all([runPreflight(args, env), runPreflight(args, env)]);
    const done = runs.filter((x) => x.exitCode === 0).map((x) => parseReport(x.stdout).remediationApplied);
    console.log(
      JSON.stringify(runs.map((x) => x.exitCode)),
      JSON.stringify(
        done.map((x: any) => [
          x.startedAt,
          x.finishedAt,
          x.lockWaitedMs,
          x.steps.map((st: any) => [st.kind, st.objects.map((o: any) => o.result).join(',')]),
        ]),
      ),
    );
    // The second waited for the first run (the run lock: exit 0) or gave up (exit 5; 4 for the apply lock behind it): never both inside.
    for (const x of runs) expect([0, 4, 5], x.stderr).toContain(x.exitCode);
    expect(done.length).toBeGreaterThanOrEqual(1);
    if (done.length === 2) {
      const [a, b] = done.sort((x: any, y: any) => Date.parse(x.startedAt) - Date.parse(y.startedAt));
      expect(Date.parse(a.finishedAt)).toBeLessThanOrEqual(Date.parse(b.startedAt));
    }
    const removed = done.flatMap((x: any) =>
      x.steps.flatMap((st: any) => st.objects.filter((o: any) => o.result === 'removed').map((o: any) => o.id)),
    );
    expect(new Set(removed).size).toBe(removed.length);
    expect(removed.length).toBeGreaterThanOrEqual(2);
    const containers = await api(s.socket, '/v1.41/containers/json?all=1');
    expect(containers.map((c: any) => [c.Names[0], c.State]).sort()).toEqual([
      ['/pf-late-user', 'running'],
      ['/pf-running', 'running'],
    ]);
  });

  it('a stopped container that exited less than the grace period ago is kept, and still starts', async () => {
    await s.docker(['run', '--network', 'none', '--name', 'pf-exited-early', 'pf-base:1', 'true']);
    await new Promise((r) => setTimeout(r, 9000));
    await s.docker([
      'run',
      '--network',
      'none',
      '--name',
      'pf-exited-late',
      'pf-base:1',
      'sh',
      '-c',
      'echo started >> /runs',
    ]);
    // A grace of 8 s: the first exited 9 s ago, the second a moment ago.
    const run = await runPreflight(
      ['remediate', '--apply', '--min-age', '8s', '--target-pct', '1', '--format', 'json', '--no-journal'],
      env,
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const removed = parseReport(run.stdout).remediationApplied.steps.flatMap((x: any) =>
      x.objects.filter((o: any) => o.result === 'removed').map((o: any) => o.name),
    );
    expect(removed).toContain('pf-exited-early');
    expect(removed).not.toContain('pf-exited-late');
    await s.docker(['start', '-a', 'pf-exited-late']);
    expect(await s.docker(['cp', 'pf-exited-late:/runs', '-'])).toContain('started\nstarted');
    await s.docker(['rm', 'pf-exited-late']);
  });

  it('with nothing reclaimable, the plan says why in figures', async () => {
    const run = await runPreflight(['remediate', '--min-age', '0s', '--target-pct', '1', '--no-journal'], env);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Planned: safe 0 B, moderate 0 B, destructive \(a person decides\) [\d.]+ MiB\./);
    expect(run.stdout).toMatch(/Short of the target by [\d.]+ MiB with safe and moderate steps\./);
    expect(run.stdout).toMatch(
      /Cannot free: outside Docker \(not this tool's to delete\) [\d.]+ MiB; .*in use by containers \(their images\) [\d.]+ MiB/,
    );
  });

  it('what the safe apply cannot fix goes to a person: one vault item, and an action TOML per approvable destructive step', async () => {
    const vault = path.join(scratch, 'vault');
    const actions = path.join(scratch, 'actions');
    await mkdir(path.join(vault, 'pending'), { recursive: true });
    await mkdir(actions);
    // A threshold of 50%: the filler outside Docker keeps the disk above it whatever the safe steps free.
    const run = await runPreflight(
      [
        'remediate',
        '--apply',
        '--escalate',
        '--disk-threshold',
        '50',
        '--vault',
        path.join(vault, 'pending'),
        '--vault-actions',
        actions,
        '--format',
        'json',
        '--no-journal',
      ],
      env,
    );
    expect(run.exitCode, run.stderr).toBe(0);
    const e = parseReport(run.stdout).escalation;
    expect(e.items.map((i: any) => [i.state, i.kind])).toEqual([['filed', 'disk-space']]);
    const item = await readFile(e.items[0].file, 'utf8');
    expect(item).toMatch(/^# Free space on .*: \d+% used, beyond what the safe clean-up can free\n/);
    expect(item).toMatch(/- Still \d+% used after the safe clean-up( freed |: another writer added )/);
    expect(item).toContain('docker volume rm ');
    const [toml] = e.items[0].actions;
    expect(toml.problem).toBeNull();
    const doc = parseToml(await readFile(toml.file, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(['blast_radius', 'context', 'formula', 'id', 'secrets', 'timeout_minutes']);
    expect(doc).toMatchObject({
      id: expect.stringMatching(/^storage-disk-space-.*-remove-volumes-\d{8}t\d{6}z-[0-9a-f]{6}$/),
      formula: 'storage-remediation',
      blast_radius: 'high',
    });
    expect(doc.context).toContain('pf-named');
    // The item names the action that goes with this filing, and how it reaches the host.
    expect(item).toContain(`submit vault action ${String(doc.id)} (file ${toml.file})`);
    expect(toml.submit).toContain(`vault_request "$1" "$(cat "$2")"' _ ${String(doc.id)} `);
    // Filed, never done: the volumes are all still there.
    const volumes = (await api(s.socket, '/v1.41/volumes')).Volumes.map((v: any) => v.Name);
    expect(volumes).toEqual(expect.arrayContaining(['pf-named', anonymousVolume]));
  });

  it("the supervisor's action script prints the Applied section only, exits 0, and writes nothing on stderr", async () => {
    const script = path.join(REPO, 'integrations/actions/storage-cleanup.sh');
    const res = await execa('bash', [script, '/nonexistent/project.toml', 'disk-high@/x: 85% used'], {
      cwd: '/',
      reject: false,
      env: { ...env, OPS_JOURNAL_ROOT: path.join(scratch, 'journal-action') },
    });
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/^## Remediation Applied\nWanted to free /);
    // And what it could not fix goes to a person (no vault folder here: said in the section).
    expect(res.stdout.match(/^## .*/gm)).toEqual(['## Remediation Applied', expect.stringMatching(/^## Escalation/)]);
    // Without preflight beside it, it says so on stdout and fails.
    const lone = path.join(scratch, 'lone', 'integrations', 'actions');
    await execa('mkdir', ['-p', lone]);
    await execa('cp', [script, lone]);
    const missing = await execa('bash', [path.join(lone, 'storage-cleanup.sh'), 'p.toml', 'e'], { reject: false });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe('');
    expect(missing.stdout).toMatch(/^storage-cleanup: no executable preflight in .*lone; nothing was applied\.$/);
  });
});
