import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { engineGet } from '../helpers/engine-api.js';
import { REPO, parseReport, type PreflightRun } from '../helpers/preflight.js';

/*
 * The supervisor runs as uid 1000 in the docker group: the socket answers,
 * the data root (0710 root:root, or not mounted at all in the agents
 * container) does not. Every size the Engine API gives must still be
 * reported, exit 0 with nothing on stderr, and what cannot be read said in
 * one line each. The user is made with setpriv (no passwd entry needed);
 * HOME, TMPDIR and the journal are folders it owns.
 */

const UID = 1000;
const MiB = 1024 * 1024;

function sectionLines(md: string, title: string): string[] {
  const start = md.indexOf(`## ${title}`);
  const end = md.indexOf('\n## ', start + 1);
  return md.slice(start, end < 0 ? undefined : end).split('\n');
}

/** The docker group's gid where it exists (Debian's docker.io makes it), else one of our own. */
function dockerGid(): number {
  const res = spawnSync('getent', ['group', 'docker'], { encoding: 'utf8' });
  const gid = Number(res.stdout.split(':')[2]);
  return res.status === 0 && Number.isInteger(gid) ? gid : 4242;
}

interface UserRun {
  sandbox: DockerSandbox;
  /** A checkout uid 1000 can read, and a HOME it owns. */
  stage: string;
  home: string;
}

/** Run the staged ./preflight as uid 1000 in the socket's group; `hideDataRoot` unmounts the sandbox's filesystem in a mount namespace of its own first. */
async function runAsUser(
  u: UserRun,
  args: readonly string[],
  opts: { env?: Record<string, string>; hideDataRoot?: boolean } = {},
): Promise<PreflightRun> {
  const started = Date.now();
  const user = [
    'setpriv',
    '--reuid',
    String(UID),
    '--regid',
    String(UID),
    '--groups',
    String(dockerGid()),
    './preflight',
    ...args,
  ];
  const [file, argv] = opts.hideDataRoot
    ? [
        'unshare',
        ['-m', '--propagation', 'private', 'sh', '-c', 'umount -l "$0" && exec "$@"', u.sandbox.fs.mountpoint, ...user],
      ]
    : [user[0]!, user.slice(1)];
  const res = await execa(file, argv, {
    cwd: u.stage,
    reject: false,
    stdin: 'ignore',
    timeout: 60_000,
    extendEnv: false,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: u.home,
      TMPDIR: path.join(u.home, 'tmp'),
      OPS_JOURNAL_ROOT: path.join(u.home, 'journal'),
      DOCKER_HOST: u.sandbox.host,
      ...opts.env,
    },
  });
  return {
    stdout: String(res.stdout),
    stderr: String(res.stderr),
    exitCode: res.exitCode ?? -1,
    elapsedMs: Date.now() - started,
  };
}

/**
 * Open the sandbox's socket to the docker group (through its folder, which
 * mkdtemp made 0700), copy the code where uid 1000 can read it (this
 * checkout may sit under a root-only folder), and make a HOME it owns.
 */
function prepareUser(sandbox: DockerSandbox): UserRun {
  chmodSync(sandbox.fs.dir, 0o711);
  chownSync(sandbox.socket, 0, dockerGid());
  chmodSync(sandbox.socket, 0o660);
  const stage = mkdtempSync(path.join(tmpdir(), 'pf-nonroot-code-'));
  chmodSync(stage, 0o755);
  for (const part of ['preflight', 'package.json', 'dist', 'node_modules/smol-toml', 'node_modules/yaml']) {
    cpSync(path.join(REPO, part), path.join(stage, part), { recursive: true, dereference: true });
  }
  const home = mkdtempSync(path.join(tmpdir(), 'pf-nonroot-home-'));
  mkdirSync(path.join(home, 'tmp'));
  for (const dir of [home, path.join(home, 'tmp')]) chownSync(dir, UID, UID);
  return { sandbox, stage, home };
}

function readlinkOr(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return '';
  }
}

function cleanupUser(u: UserRun | undefined): void {
  if (!u) return;
  rmSync(u.stage, { recursive: true, force: true });
  rmSync(u.home, { recursive: true, force: true });
}

describeWith([...ENGINE_TOOLS, 'setpriv', 'unshare'], `./preflight as uid ${UID} in the docker group`, () => {
  let s: DockerSandbox;
  let u: UserRun;
  let home: string;
  let logFile: string;
  const run = (args: readonly string[], opts?: { env?: Record<string, string>; hideDataRoot?: boolean }) =>
    runAsUser(u, args, opts);

  beforeAll(async () => {
    s = await startDockerd('overlay2', 1024);
    await s.buildImage('pf-nr:1');
    await s.docker([
      'run',
      '--network',
      'none',
      '--name',
      'pf-nr-stopped',
      'pf-nr:1',
      'sh',
      '-c',
      'dd if=/dev/urandom of=/fill bs=1M count=5 2>/dev/null; yes 0123456789 | head -n 20000',
    ]);
    await s.docker(['volume', 'create', 'pf-nr-data']);
    await s.docker([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'pf-nr-data:/v',
      'pf-nr:1',
      'dd',
      'if=/dev/urandom',
      'of=/v/fill',
      'bs=1M',
      'count=3',
    ]);
    const id = (await s.docker(['inspect', '-f', '{{.Id}}', 'pf-nr-stopped'])).trim();
    logFile = path.join(s.dataRoot, 'containers', id, `${id}-json.log`);
    u = prepareUser(s);
    home = u.home;
  });
  afterAll(async () => {
    await s?.stop();
    cleanupUser(u);
  });

  it('the data root as the daemon made it (0710 root:root): exit 0, nothing on stderr, every API size, and the data root said once per section', async () => {
    expect(statSync(s.dataRoot).mode & 0o777).toBe(0o710);
    const [json, md] = [await run(['--format', 'json']), await run([])];
    for (const run of [json, md]) {
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
    }
    const doc = parseReport(json.stdout);
    const raw = await engineGet(s.socket, '/v1.41/system/df');
    expect(doc.docker).toMatchObject({ source: 'api', storageDriver: 'overlay2' });
    expect(doc.docker.images.totalBytes).toBe(raw.LayersSize);
    expect(doc.docker.containers).toMatchObject({ count: 1, writableBytes: 5 * MiB });
    expect(doc.docker.volumes).toMatchObject({ count: 1, totalBytes: 3 * MiB });
    expect(doc.docker.buildCache.totalBytes).toBe(
      raw.BuildCache.filter((b: any) => !b.Shared).reduce((a: number, b: any) => a + b.Size, 0),
    );
    const why = `${s.dataRoot} is not readable by uid ${UID} (needs root)`;
    expect(doc.docker.logs).toMatchObject({ visible: false, reason: why });
    expect(doc.docker.overlayOrphans).toMatchObject({ dirs: [], problem: why });
    expect(doc.sections.map((x: any) => [x.id, x.status, x.reason ?? null])).toEqual([
      ['pressure', 'ok', null],
      ['remediation', 'ok', null],
      ['filesystem', 'ok', null],
      ['docker', 'degraded', `${why}: container logs and orphaned overlay2 layers not measured`],
      ['btrfs', 'skipped', 'no measured filesystem is btrfs'],
      ['trend', 'ok', null],
    ]);
    expect(doc.filesystems.find((f: any) => f.roles.includes('docker-data-root'))).toMatchObject({
      mountpoint: s.fs.mountpoint,
    });
    // Besides the one line about the data root: what BuildKit's records share with the images built here.
    expect(doc.attribution.notes.filter((n: string) => !n.startsWith("BuildKit's records share"))).toEqual([
      `Container logs and orphaned overlay2 layers not measured (${why}): their bytes count as outside Docker.`,
    ]);
    // Docker's own files could not be walked either: no figure stands for them.
    expect(doc.docker.dataRootMetadataBytes).toBeNull();
    expect(doc.journal).toMatchObject({ written: true, file: expect.stringContaining(path.join(home, 'journal')) });

    // One line in Storage Pressure, the section's status line and the logs row in Docker Storage; no errno wall.
    const out = md.stdout;
    expect(out.split('\n').filter((l) => l.includes(s.dataRoot) && /not readable|not measured/.test(l))).toEqual([
      `Container logs and orphaned overlay2 layers not measured (${why}): their bytes count as outside Docker.`,
      `(degraded: ${why}: container logs and orphaned overlay2 layers not measured)`,
      `| Container logs | ? | ? | ? | not measured: ${why} |`,
    ]);
    expect(out).not.toMatch(/Permission denied|can't cd|cannot open|find: /);
    const docker = sectionLines(out, 'Docker Storage');
    expect(docker.find((l) => l.startsWith('| Containers |'))).toMatch(/\| 1: 0 running, 1 stopped \| 5\.0 MiB \|/);
    expect(docker.find((l) => l.startsWith('| Volumes |'))).toMatch(/\| 3\.0 MiB \|/);
    expect(out).toMatch(/^Disk: \d+% used \(.* on .*\/mnt\)$/m);
  });

  it("deleted files root's processes hold: not seen, and said in one line", async () => {
    const file = path.join(s.fs.mountpoint, 'held-by-root.log');
    await execa('dd', ['if=/dev/urandom', `of=${file}`, 'bs=1M', 'count=20', 'status=none']);
    const holder = execa('sh', ['-c', 'exec 3<"$0"; exec sleep 600', file], { reject: false, stdin: 'ignore' });
    try {
      for (let i = 0; i < 50 && !readlinkOr(`/proc/${holder.pid}/fd/3`).endsWith('held-by-root.log'); i += 1)
        await new Promise((r) => setTimeout(r, 100));
      rmSync(file);
      const [json, md] = [await run(['--format', 'json']), await run([])];
      expect(json.stderr).toBe('');
      const scan = parseReport(json.stdout).deletedOpen;
      expect(scan.processesHidden).toBeGreaterThan(0);
      expect(scan.processesHidden).toBeLessThan(scan.processesScanned);
      expect(scan.files.filter((f: any) => f.holders.some((h: any) => h.pid === holder.pid))).toEqual([]);
      expect(parseReport(json.stdout).attribution.sources.map((x: any) => x.kind)).not.toContain('deleted-open');
      const lines = md.stdout.split('\n').filter((l) => l.startsWith('Deleted'));
      // Counted in the run that printed it (processes come and go between runs).
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^Deleted files still held open: the open files of \d+ of \d+ processes are not visible to this user \(run as root to see them\)\.$/,
      );
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('the data root not mounted at all (the agents container): the same sizes, and "does not exist here" once per section', async () => {
    const hidden = await run(['--format', 'json'], { hideDataRoot: true });
    expect(hidden.stderr).toBe('');
    expect(hidden.exitCode).toBe(0);
    const doc = parseReport(hidden.stdout);
    const why = `${s.dataRoot} does not exist here (not mounted into this container)`;
    expect(doc.docker.containers).toMatchObject({ writableBytes: 5 * MiB });
    expect(doc.docker.volumes).toMatchObject({ totalBytes: 3 * MiB });
    expect(doc.sections.find((x: any) => x.id === 'docker').reason).toBe(
      `${why}: container logs and orphaned overlay2 layers not measured`,
    );
    expect(doc.unmeasuredPaths).toEqual([
      { path: s.dataRoot, role: 'docker-data-root', reason: 'No such file or directory' },
    ]);
    expect(doc.filesystems.map((f: any) => f.mountpoint)).toEqual(['/']);
    expect(doc.attribution.notes.join(' ')).toMatch(/^Docker's data root \(.*\) is not on \/ or not visible from here/);
  });

  it('container folders left root-only (data root opened to others), then one hostconfig.json unreadable: said in one clause, never a false "no max-size"', async () => {
    const containers = path.join(s.dataRoot, 'containers');
    const folder = path.dirname(logFile);
    try {
      chmodSync(s.dataRoot, 0o711);
      chmodSync(containers, 0o755);
      const folders = await run(['--format', 'json']);
      expect([folders.exitCode, folders.stderr]).toEqual([0, '']);
      const reason = `1 folder in ${containers} is not readable by uid ${UID} (needs root)`;
      expect(parseReport(folders.stdout).docker.logs).toMatchObject({ visible: false, reason });

      chmodSync(folder, 0o755);
      chmodSync(path.join(folder, 'hostconfig.json'), 0o600);
      const [json, md] = [await run(['--format', 'json']), await run([])];
      expect([json.exitCode, json.stderr, md.exitCode, md.stderr]).toEqual([0, '', 0, '']);
      const logs = parseReport(json.stdout).docker.logs;
      expect(logs).toMatchObject({
        visible: true,
        containers: 1,
        totalBytes: statSync(logFile).size,
        unboundedContainers: 0,
      });
      expect(logs.reason).toBe(
        'hostconfig.json of 1 container is not readable here: its log driver and max-size are unknown',
      );
      expect(md.stdout).toMatch(/^Largest logs: pf-nr-stopped [\d.]+ [KM]iB \(settings not readable\)$/m);
      expect(md.stdout).not.toMatch(/no max-size/);
    } finally {
      chmodSync(path.join(folder, 'hostconfig.json'), 0o644);
      chmodSync(folder, 0o710);
      chmodSync(containers, 0o710);
      chmodSync(s.dataRoot, 0o710);
    }
  });

  it('the journal and the trend work from folders the user owns; --format fired and remediate answer with nothing on stderr', async () => {
    const [fired, trend, plan] = [
      await run(['--format', 'fired']),
      await run(['trend', '--format', 'json']),
      await run(['remediate', '--format', 'json']),
    ];
    for (const run of [fired, trend, plan]) expect([run.exitCode, run.stderr]).toEqual([0, '']);
    expect(JSON.parse(fired.stdout)).toEqual({ fired: [] });
    const t = parseReport(trend.stdout).trend;
    expect(t.entries).toBeGreaterThanOrEqual(5);
    expect([t.unreadable, t.journalProblem]).toEqual([0, null]);
    expect(t.filesystems.map((f: any) => f.mountpoint)).toContain(s.fs.mountpoint);
    const history = path.join(home, 'journal', '.storage-preflight');
    expect(lstatSync(history)).toMatchObject({ uid: UID, mode: expect.any(Number) });
    expect(lstatSync(history).mode & 0o777).toBe(0o700);
    expect(parseReport(plan.stdout).remediation).toMatchObject({ shown: expect.any(Boolean) });
  });

  it("remediate --apply takes the lock in its own TMPDIR and releases it; a lock root left in a shared /tmp is not this user's: passed over", async () => {
    const apply = await run([
      'remediate',
      '--apply',
      '--min-age',
      '0s',
      '--target-pct',
      '1',
      '--format',
      'json',
      '--no-journal',
    ]);
    expect([apply.exitCode, apply.stderr]).toEqual([0, '']);
    const applied = parseReport(apply.stdout).remediationApplied;
    expect(applied.steps.map((x: any) => x.kind)).toContain('remove-containers');
    expect(applied.steps.flatMap((x: any) => x.objects.map((o: any) => [o.name, o.result]))).toContainEqual([
      'pf-nr-stopped',
      'removed',
    ]);
    expect(readdirSync(path.join(home, 'tmp')).filter((f) => f.startsWith('storage-preflight-apply'))).toEqual([]);

    // A sticky, world-writable TMPDIR (as /tmp is) holding a lock that a root apply left behind when it died.
    const shared = mkdtempSync(path.join(tmpdir(), 'pf-nonroot-sharedtmp-'));
    try {
      chmodSync(shared, 0o1777);
      const gone = spawnSync('true');
      const rootLock = path.join(shared, 'storage-preflight-apply.lock');
      symlinkSync(`${gone.pid} 1`, rootLock);
      // The user's runtime folder (systemd's XDG_RUNTIME_DIR): the locks go there.
      const runtime = path.join(home, 'runtime');
      mkdirSync(runtime, { mode: 0o700 });
      chownSync(runtime, UID, UID);
      const applied2 = await run(['remediate', '--apply', '--min-age', '0s', '--no-journal'], {
        env: { TMPDIR: shared, XDG_RUNTIME_DIR: runtime },
      });
      expect([applied2.exitCode, applied2.stderr]).toEqual([0, '']);
      expect(readlinkSync(rootLock)).toBe(`${gone.pid} 1`);
      expect(statSync(path.join(runtime, 'storage-preflight')).uid).toBe(UID);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });
});

describeWith([...ENGINE_TOOLS, 'setpriv', 'btrfs'], `./preflight as uid ${UID} on the btrfs driver`, () => {
  let s: DockerSandbox;
  let u: UserRun;
  beforeAll(async () => {
    s = await startDockerd('btrfs', 1024);
    await s.buildImage('pf-nr-b:1');
    await s.docker([
      'run',
      '--network',
      'none',
      '--name',
      'pf-nr-b',
      'pf-nr-b:1',
      'dd',
      'if=/dev/urandom',
      'of=/fill',
      'bs=1M',
      'count=4',
    ]);
    u = prepareUser(s);
  });
  afterAll(async () => {
    await s?.stop();
    cleanupUser(u);
  });

  it('reports the API sizes; the subvolume listing it cannot read is one line of the Btrfs section', async () => {
    const [json, md] = [await runAsUser(u, ['--format', 'json']), await runAsUser(u, [])];
    for (const r of [json, md]) expect([r.exitCode, r.stderr]).toEqual([0, '']);
    const doc = parseReport(json.stdout);
    expect(doc.docker.containers).toMatchObject({ count: 1, writableBytes: 4 * MiB });
    const why = `${s.dataRoot} is not readable by uid ${UID} (needs root)`;
    expect(doc.sections.find((x: any) => x.id === 'btrfs')).toMatchObject({
      status: 'degraded',
      reason: `docker subvolumes: ${why}`,
    });
    expect(doc.btrfs.filesystems[0]).toMatchObject({
      mountpoint: s.fs.mountpoint,
      docker: null,
      problems: [`docker subvolumes: ${why}`],
    });
    const btrfs = sectionLines(md.stdout, 'Btrfs');
    expect(btrfs.filter((l) => l.includes(s.dataRoot))).toEqual([
      `(degraded: docker subvolumes: ${why})`,
      `Not measured: docker subvolumes: ${why}.`,
    ]);
    expect(md.stdout).not.toMatch(/Permission denied|can't cd/);
  });
});
