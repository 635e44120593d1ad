// The issue 14 benchmark: a big host on a sandboxed real dockerd, and what a
// full report costs there against the one expensive call underneath.
// Root needed (Debian: docker.io, busybox-static, bindfs, btrfs-progs, curl, time).
// It never touches the host's own daemon.
//
//   npx tsx bench/big-host.ts [--runs N] [--driver overlay2|btrfs] [--small] [--rebuild] [--no-apply]
//
// - builds (or reuses, see bench/README.md) the host: overlay2 by default;
//   --driver btrfs a smaller one; --small the small mixed test scenario;
// - times, over interleaved runs: node -e 0, GET /system/df (curl and
//   in-process), docker system df -v, `df -h /; docker system df -v`,
//   ./preflight with a journal, as deployed (wall time and peak RSS), without
//   one, with a year of history, `preflight remediate` (the plan), guard on
//   /, guard while a stuck FUSE mount exists elsewhere, and guard on another
//   disk (a statfs child);
// - then applies the safe tier once on a copy of the host (it deletes);
// - prints the figures and the targets, each met or missed.
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus, tmpdir } from 'node:os';
import { DOCKER_CLI, type DockerSandbox } from '../test/helpers/dockerd.js';
import { buildMixedScenario } from '../test/helpers/scenarios.js';
import { openCachedHost, openCopy, type Driver } from './lib/cached-host.js';
import { interleave, loadAverage, systemDfInProcess, timeProcess, type Probe, type Stats } from './lib/measure.js';
import { populateBigHost, restartRunning, type HostSpec } from './lib/populate.js';
import { makeStuckMount } from './lib/stuck-mount.js';
import { writeYearOfHistory } from './lib/year-journal.js';
import { printReport, type Figures } from './lib/report.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const preflight = path.join(repo, 'preflight');
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const value = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
const RUNS = Number(value('--runs', '11'));
const driver = value('--driver', 'overlay2') as Driver;
if (driver !== 'overlay2' && driver !== 'btrfs') throw new Error(`--driver overlay2|btrfs, not ${driver}`);
const small = flag('--small');

const SPECS: Record<Driver, HostSpec> = {
  // 40 x 4 builds + 250 imports + a base = 411 images, 120 of them dangling
  // rebuilds; 160 builds x (context, stamp, RUN, 5 COPY) ≈ 1,600 cache records.
  overlay2: {
    repositories: 40,
    builds: 4,
    copySteps: 5,
    imported: 250,
    volumes: 100,
    volumeFiles: 20_000,
    running: 10,
    stopped: 40,
    chatty: 12,
    logMiB: 20,
  },
  btrfs: {
    repositories: 12,
    builds: 4,
    copySteps: 5,
    imported: 60,
    volumes: 30,
    volumeFiles: 5_000,
    running: 5,
    stopped: 15,
    chatty: 4,
    logMiB: 10,
  },
};
const spec = SPECS[driver];
const name = small ? `small-${driver}` : driver;
const sizeMiB = small ? 4096 : driver === 'btrfs' ? 6144 : 8192;
// The cache is reused only when built from the same recipe.
const recipe = JSON.stringify({ v: 1, small, spec: small ? null : spec });

async function buildOrReuse() {
  if (flag('--rebuild')) rmSync(`/var/tmp/pf-bench-bighost-${name}.img.built`, { force: true });
  const host = await openCachedHost(name, driver, sizeMiB, recipe);
  try {
    if (host.reused) {
      process.stderr.write(`[big-host] reusing ${host.image}\n`);
      await restartRunning(host.sandbox);
    } else {
      const started = Date.now();
      if (small) await buildMixedScenario(host.sandbox);
      else await populateBigHost(host.sandbox, spec);
      await host.markBuilt();
      process.stderr.write(`[big-host] built ${host.image} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
  } catch (err) {
    await host.stop();
    throw err;
  }
  return host;
}

function probes(
  s: DockerSandbox,
  journal: string,
  year: string,
  stuck: { mountpoint: string; stick(): void; release(): void },
): Probe[] {
  const env = { DOCKER_HOST: s.host };
  const proc = (label: string, file: string, args: string[], extra: Partial<Probe> = {}): Probe => ({
    label,
    run: () => timeProcess(file, args, env, repo),
    ...extra,
  });
  const guardArgs = ['guard', '--path', '/', '--need', '1'];
  return [
    proc('node -e 0', process.execPath, ['-e', '0']),
    proc('curl GET /system/df', 'curl', [
      '-sf',
      '-o',
      '/dev/null',
      '--unix-socket',
      s.socket,
      'http://docker/system/df',
    ]),
    { label: 'GET /system/df in-process', run: () => systemDfInProcess(s.socket) },
    proc('docker system df -v', DOCKER_CLI, ['system', 'df', '-v']),
    proc('df -h /; docker system df -v', 'sh', ['-c', `df -h / && ${DOCKER_CLI} system df -v`]),
    // As deployed: a journal (the history, and the image recipe cache its first run filled).
    proc('./preflight', preflight, ['--journal', journal]),
    proc('./preflight --no-journal', preflight, ['--no-journal']),
    proc('./preflight, a year of history', preflight, ['--journal', year]),
    proc('./preflight remediate (plan)', preflight, ['remediate', '--journal', journal]),
    proc('guard', preflight, guardArgs),
    proc('guard, stuck mount elsewhere', preflight, guardArgs, { before: stuck.stick, after: stuck.release }),
    // The data root's own loop filesystem: not `/`, so realpath and statfs run in a child.
    proc('guard, a path on another disk', preflight, ['guard', '--path', s.dataRoot, '--need', '1']),
  ];
}

async function safeApply(): Promise<Figures['apply']> {
  const copy = await openCopy(name, driver, sizeMiB);
  try {
    const run = timeProcess(
      preflight,
      [
        'remediate',
        '--apply',
        '--max-tier',
        'safe',
        '--min-age',
        '0s',
        '--target-pct',
        '1',
        '--no-journal',
        '--format',
        'json',
      ],
      { DOCKER_HOST: copy.sandbox.host },
      repo,
    );
    type Step = {
      kind: string;
      durationMs: number;
      objects: { result: string; detail: string | null }[];
      cacheRecords?: { pruned: number; kept: number; failed: number };
    };
    const r = (
      JSON.parse(run.stdout) as { remediationApplied: { startedAt: string; finishedAt: string; steps: Step[] } }
    ).remediationApplied;
    // How many objects each step removed, and how many it left (refused, failed, or not tried once the budget was spent).
    const results = (x: Step) => {
      const by = new Map<string, number>();
      for (const o of x.objects) {
        const key = o.detail?.startsWith('not tried') ? 'not tried (budget spent)' : o.result;
        by.set(key, (by.get(key) ?? 0) + 1);
      }
      return [...by].map(([k, n]) => `${n} ${k}`).join(', ');
    };
    const records = (x: Step) =>
      x.cacheRecords
        ? `; cache records ${x.cacheRecords.pruned} pruned, ${x.cacheRecords.kept} kept, ${x.cacheRecords.failed} failed`
        : '';
    return {
      ms: run.ms,
      lockMs: Date.parse(r.finishedAt) - Date.parse(r.startedAt),
      steps: r.steps.map(
        (x) => `${x.kind}: ${x.objects.length} objects (${results(x)}${records(x)}), ${x.durationMs} ms`,
      ),
    };
  } finally {
    await copy.stop();
  }
}

const host = await buildOrReuse();
let stats: Map<string, Stats>;
let counts: Figures['counts'];
let dockerd = '';
let loadStart = '';
const year = writeYearOfHistory();
const journal = mkdtempSync(path.join(tmpdir(), 'pf-bench-journal-'));
let stuck: Awaited<ReturnType<typeof makeStuckMount>> | null = null;
try {
  stuck = await makeStuckMount();
  const df = JSON.parse(
    timeProcess(preflight, ['--no-journal', '--format', 'json'], { DOCKER_HOST: host.sandbox.host }, repo).stdout,
  ) as {
    docker: {
      images: { count: number };
      containers: { count: number };
      volumes: { count: number };
      buildCache: { count: number };
    };
  };
  dockerd = (await host.sandbox.docker(['version', '--format', '{{.Server.Version}}'])).trim();
  counts = {
    images: df.docker.images.count,
    containers: df.docker.containers.count,
    volumes: df.docker.volumes.count,
    buildCache: df.docker.buildCache.count,
  };
  loadStart = loadAverage();
  process.stderr.write(`[big-host] measuring: ${RUNS} interleaved rounds, load ${loadStart}\n`);
  stats = await interleave(probes(host.sandbox, journal, year.root, stuck), RUNS);
} finally {
  await stuck?.close();
  rmSync(year.root, { recursive: true, force: true });
  rmSync(journal, { recursive: true, force: true });
  await host.stop();
}
const loadMeasured = loadAverage();
const apply = flag('--no-apply') ? null : await safeApply();
printReport({
  host: small ? `small (mixed scenario), ${driver}` : `big, ${driver}`,
  small,
  runs: RUNS,
  cpus: cpus().length,
  node: process.version,
  dockerd,
  loadStart,
  loadEnd: loadMeasured,
  counts,
  stats,
  apply,
});
