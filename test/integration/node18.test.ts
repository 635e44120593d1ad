import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { describeWithNode18, NODE18_VERSION, obtainNode18, pathWithNode } from '../helpers/node18.js';
import { parseReport, runPreflight, type PreflightRun } from '../helpers/preflight.js';
import { sh } from '../helpers/tools.js';

/*
 * The host's agents container runs the supervisor on Debian 12's Node.js
 * 18.19: the same bundle must run there as under Node 20+. Each command runs
 * through `./preflight` (`#!/usr/bin/env node`) with a PATH whose node is
 * 18.19, then under this Node (20+), and the two must agree: exit 0, nothing
 * on stderr, the same sections and key figures.
 */

const node18 = await obtainNode18();

interface MountFiller {
  cleanup(): Promise<void>;
}

/** Small tmpfs mounts whose lines in /proc/self/mountinfo add up to more than `bytes`: a mount made after them lands past the first page. */
async function fillMountTable(bytes: number): Promise<MountFiller> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pf-n18-mounts-'));
  const cleanup = async () => {
    await execa('sh', ['-c', 'for m in "$0"/m*; do umount -l "$m"; done', dir], { reject: false });
    rmSync(dir, { recursive: true, force: true });
  };
  // A line is `ID PARENT 0:N / <mountpoint> rw,relatime shared:N - tmpfs pf-n18-filler rw,size=64k`: about 60 bytes
  // besides the path. Long names keep the mounts few (mount(8) is slow on a loaded machine).
  const name = 'm'.padEnd(240, 'x');
  const count = Math.ceil(bytes / (dir.length + name.length + 50)) + 3;
  try {
    await sh('sh', [
      '-c',
      'i=0; while [ $i -lt "$1" ]; do mkdir "$0/m$i$2" && mount -t tmpfs -o size=64k pf-n18-filler "$0/m$i$2" || exit 1; i=$((i + 1)); done',
      dir,
      String(count),
      name,
    ]);
    const ours = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .filter((l) => l.includes(dir))
      .join('\n');
    if (ours.length <= bytes)
      throw new Error(`the filler mounts take ${ours.length} bytes of the mount table, not over ${bytes}`);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { cleanup };
}
const MiB = 1024 * 1024;

/** Every verb the supervisor or a person runs, as [label, args]. */
const COMMANDS: [string, string[]][] = [
  ['report --format json', ['--format', 'json']],
  ['report (markdown)', []],
  ['report --format fired', ['--format', 'fired']],
  ['trend --format json', ['trend', '--format', 'json']],
  ['remediate --format json', ['remediate', '--format', 'json']],
  ['guard', ['guard', '--path', tmpdir(), '--need', '1M']],
];

/** Exit codes 2 and 3 and --version: once, without Docker. */
const EXTRAS: [string, string[]][] = [
  ['version', ['--version']],
  ['bad flag', ['--bogus']],
  ['guard that does not fit', ['guard', '--path', tmpdir(), '--need', '1000T']],
];

type Runs = Record<string, PreflightRun>;

/** `commands` in order under the node on `PATH`, sharing one journal (so trend has the reports' entries). */
async function runAll(nodePath: string, env: NodeJS.ProcessEnv, commands: [string, string[]][]): Promise<Runs> {
  const journal = mkdtempSync(path.join(tmpdir(), 'pf-n18-journal-'));
  try {
    const out: Runs = {};
    for (const [label, args] of commands)
      out[label] = await runPreflight(args, { ...env, PATH: nodePath, OPS_JOURNAL_ROOT: journal });
    return out;
  } finally {
    rmSync(journal, { recursive: true, force: true });
  }
}

/** Node 18.19 and this Node side by side (each its own journal): the 60 s bound holds on a loaded 2-core machine. */
async function runBoth(binary: string, env: NodeJS.ProcessEnv, commands: [string, string[]][]) {
  const [runs18, runs20] = await Promise.all([
    runAll(pathWithNode(binary), env, commands),
    runAll(pathWithNode(process.execPath), env, commands),
  ]);
  return { runs18, runs20 };
}

const headings = (md: string) => md.split('\n').filter((l) => l.startsWith('## '));

/** What must not differ between two runtimes on the same host a moment apart (used bytes may move; sizes may not). */
function keyFigures(doc: Record<string, any>) {
  const d = doc.docker;
  return {
    sections: doc.sections.map((s: any) => [s.id, s.title, s.status, s.reason ?? null]),
    filesystems: doc.filesystems?.map((f: any) => [f.mountpoint, f.fstype, f.sizeBytes, f.roles]),
    dockerDataRoot: doc.dockerDataRoot,
    docker: d && {
      source: d.source,
      storageDriver: d.storageDriver,
      imageStore: d.imageStore,
      dfProblem: d.dfProblem,
      images: [d.images.count, d.images.totalBytes, d.images.reclaimableBytes],
      containers: [d.containers.count, d.containers.writableBytes, d.containers.reclaimableBytes],
      volumes: [d.volumes.count, d.volumes.totalBytes, d.volumes.reclaimableBytes],
      buildCache: [d.buildCache.count, d.buildCache.totalBytes],
      logs: [d.logs.visible, d.logs.totalBytes, d.logs.unboundedContainers],
      overlayOrphans: d.overlayOrphans,
    },
    attribution: doc.attribution && {
      mountpoint: doc.attribution.mountpoint,
      kinds: doc.attribution.sources.map((s: any) => s.kind).sort(),
    },
    findings: doc.findings?.map((f: any) => f.name),
    fired: doc.fired?.map((f: any) => f.name),
    remediation: doc.remediation && {
      shown: doc.remediation.shown,
      reason: doc.remediation.reason,
      mountpoint: doc.remediation.plan?.mountpoint,
      steps: doc.remediation.plan?.steps.map((x: any) => [x.kind, x.expectedBytes]) ?? null,
    },
  };
}

/** The shared assertions: `runs18` under Node 18.19, `runs20` under this Node. */
function agreeing(get: () => { runs18: Runs; runs20: Runs }, docker: boolean): void {
  if (!docker) {
    it('ran under Node 18.19 there and under 20+ here: --version, a bad flag (exit 2) and a guard that does not fit (exit 3) read the same', () => {
      const { runs18, runs20 } = get();
      expect(runs18.version!.stdout).toBe(runs20.version!.stdout);
      for (const label of ['bad flag', 'guard that does not fit']) {
        expect([runs18[label]!.exitCode, runs18[label]!.stderr.split('\n').length]).toEqual([
          label === 'bad flag' ? 2 : 3,
          1,
        ]);
        expect(runs18[label]!.stderr.replace(/\d+%/, 'N%')).toBe(runs20[label]!.stderr.replace(/\d+%/, 'N%'));
      }
    });
  }

  it.each(COMMANDS.map(([label]) => label))(
    '%s: exit 0 and nothing on stderr under Node 18.19 and under this Node',
    (label) => {
      const { runs18, runs20 } = get();
      for (const run of [runs18[label]!, runs20[label]!]) {
        expect(run.stderr, label).toBe('');
        expect(run.exitCode, label).toBe(0);
        expect(run.stdout.length, label).toBeGreaterThan(0);
      }
    },
  );

  it('report --format json: the same sections and key figures', () => {
    const { runs18, runs20 } = get();
    const [a, b] = [
      parseReport(runs18['report --format json']!.stdout),
      parseReport(runs20['report --format json']!.stdout),
    ];
    expect(keyFigures(a)).toEqual(keyFigures(b));
    expect(a.sections.map((s: any) => s.id)).toEqual([
      'pressure',
      'remediation',
      'filesystem',
      'docker',
      'btrfs',
      'trend',
    ]);
    expect(a.docker === null).toBe(!docker);
    expect(a.journal.written).toBe(true);
  });

  it('markdown report: the same ## sections, and a Disk: line', () => {
    const { runs18, runs20 } = get();
    expect(headings(runs18['report (markdown)']!.stdout)).toEqual(headings(runs20['report (markdown)']!.stdout));
    expect(headings(runs18['report (markdown)']!.stdout)).toEqual([
      '## Storage Pressure',
      '## Remediation Plan',
      '## Filesystem',
      '## Docker Storage',
      '## Storage Trend',
    ]);
    expect(runs18['report (markdown)']!.stdout).toMatch(/^Disk: \d+% used/m);
  });

  it('--format fired: the same gate answer', () => {
    const { runs18, runs20 } = get();
    const [a, b] = [
      JSON.parse(runs18['report --format fired']!.stdout),
      JSON.parse(runs20['report --format fired']!.stdout),
    ];
    expect(Object.keys(a)).toEqual(['fired']);
    expect(a.fired.map((f: any) => [f.name, f.severity, f.action, f.action_script])).toEqual(
      b.fired.map((f: any) => [f.name, f.severity, f.action, f.action_script]),
    );
  });

  it('trend --format json reads the entries the runs before it appended, as under Node 20', () => {
    const { runs18, runs20 } = get();
    const [a, b] = [
      parseReport(runs18['trend --format json']!.stdout),
      parseReport(runs20['trend --format json']!.stdout),
    ];
    expect(a.trend.entries).toBeGreaterThanOrEqual(3);
    expect(a.trend.entries).toBe(b.trend.entries);
    expect(a.trend.unreadable).toBe(0);
    expect(a.trend.filesystems.map((f: any) => f.mountpoint)).toEqual(
      b.trend.filesystems.map((f: any) => f.mountpoint),
    );
  });

  it('remediate --format json and guard: the same plan and the same verdict', () => {
    const { runs18, runs20 } = get();
    const [a, b] = [
      parseReport(runs18['remediate --format json']!.stdout),
      parseReport(runs20['remediate --format json']!.stdout),
    ];
    expect(keyFigures(a)).toEqual(keyFigures(b));
    expect(a.remediation.shown).toBe(true);
    const [g18, g20] = [JSON.parse(runs18.guard!.stdout), JSON.parse(runs20.guard!.stdout)];
    expect(g18).toMatchObject({
      ok: true,
      mountpoint: g20.mountpoint,
      capacityBytes: g20.capacityBytes,
      needBytes: MiB,
    });
  });
}

describeWithNode18(node18, `the bundle under Node.js ${NODE18_VERSION}`, (binary) => {
  it("really runs Node 18.19 through the launcher's `#!/usr/bin/env node`", async () => {
    const res = await execa('node', ['--version'], { env: { PATH: pathWithNode(binary) } });
    expect(res.stdout).toMatch(
      process.env.PREFLIGHT_NODE18
        ? /^v18\.(19|[2-9]\d)\.\d+$/
        : new RegExp(`^v${NODE18_VERSION.replaceAll('.', '\\.')}$`),
    );
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
  });

  describe('without Docker (no socket, no data root)', () => {
    let runs18: Runs;
    let runs20: Runs;
    beforeAll(async () => {
      const t0 = Date.now();
      ({ runs18, runs20 } = await runBoth(binary, {}, [...COMMANDS, ...EXTRAS]));
      process.stderr.write(`node18 without Docker: both runtimes ${Date.now() - t0} ms\n`);
    });
    agreeing(() => ({ runs18, runs20 }), false);
  });

  describeWith(
    ENGINE_TOOLS,
    'against a sandboxed overlay2 dockerd, its mount past the first 4 KiB of the mount table',
    () => {
      let s: DockerSandbox;
      let runs18: Runs;
      let runs20: Runs;
      let filler: MountFiller | undefined;
      beforeAll(async () => {
        // A Docker host has dozens of mounts; Node 18's fs.promises.readFile returned only the first page of /proc/self/mountinfo.
        const t0 = Date.now();
        filler = await fillMountTable(8192);
        const t1 = Date.now();
        s = await startDockerd('overlay2', 1024);
        await s.buildImage('pf-n18:1');
        await s.docker([
          'run',
          '--network',
          'none',
          '--name',
          'pf-n18-stopped',
          'pf-n18:1',
          'sh',
          '-c',
          'dd if=/dev/urandom of=/fill bs=1M count=5 2>/dev/null; yes 0123456789 | head -n 20000',
        ]);
        await s.docker(['volume', 'create', 'pf-n18-data']);
        const t2 = Date.now();
        ({ runs18, runs20 } = await runBoth(binary, { DOCKER_HOST: s.host }, COMMANDS));
        process.stderr.write(
          `node18 with dockerd: filling the mount table ${t1 - t0} ms, sandbox ${t2 - t1} ms, both runtimes ${Date.now() - t2} ms\n`,
        );
      });
      afterAll(async () => {
        await s?.stop();
        await filler?.cleanup();
      });
      agreeing(() => ({ runs18, runs20 }), true);

      it("measures the data root's own filesystem and guards the right mount under Node 18.19, though the table is longer than a page", async () => {
        const table = await readFile('/proc/self/mountinfo', 'utf8');
        expect(table.indexOf(` ${s.fs.mountpoint} `)).toBeGreaterThan(4096);
        const doc = parseReport(runs18['report --format json']!.stdout);
        expect(doc.filesystems.find((f: any) => f.roles.includes('docker-data-root'))).toMatchObject({
          mountpoint: s.fs.mountpoint,
          fstype: 'ext4',
        });
        expect(doc.attribution.mountpoint).toBe(s.fs.mountpoint);
        const guard = await runPreflight(['guard', '--path', s.dataRoot, '--need', '1M'], {
          PATH: pathWithNode(binary),
        });
        expect(guard.stderr).toBe('');
        // dockerd bind-mounts its data root onto itself: that mount, or the loop filesystem's, never `/`.
        expect([s.dataRoot, s.fs.mountpoint]).toContain(JSON.parse(guard.stdout).mountpoint);
      });

      it("reports the daemon's exact bytes under Node 18.19: 5 MiB writable layer, the volume, the container's log", () => {
        const d = parseReport(runs18['report --format json']!.stdout).docker;
        expect(d).toMatchObject({ source: 'api', storageDriver: 'overlay2' });
        expect(d.containers).toMatchObject({ count: 1, writableBytes: 5 * MiB });
        expect(d.volumes).toMatchObject({ count: 1, unused: 1 });
        expect(d.logs).toMatchObject({ visible: true, containers: 1 });
        expect(d.logs.totalBytes).toBeGreaterThan(20000 * 11);
      });
    },
  );
});
