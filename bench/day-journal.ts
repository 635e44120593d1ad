// What a day of runs costs the LLM in the shared day journal. The supervisor
// reads the whole day file every run (72 a day), so every byte we append is
// paid again on every later run. This runs 72 real `./preflight --escalate`
// runs against a sandboxed dockerd (the mixed scenario plus N volumes and
// containers) while the disk's fill follows a hard day: steady at 60%, a
// climb through the warning and P1 tiers, a clean-up, then hovering at the
// threshold. It prints the bytes we appended, and what re-reading them cost
// over the day (≈ 4 bytes a token). Root needed.
// Usage: npx tsx bench/day-journal.ts [--objects N]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDockerd } from '../test/helpers/dockerd.js';
import { buildMixedScenario } from '../test/helpers/scenarios.js';

const objects = Number(process.argv[process.argv.indexOf('--objects') + 1]) || 100;
const MiB = 1024 * 1024;
const s = await startDockerd('overlay2', 2048);
const root = mkdtempSync(path.join(tmpdir(), 'pf-bench-day-'));
try {
  await buildMixedScenario(s);
  for (let i = 0; i < objects; i += 1) {
    if (i % 2 === 0) await s.docker(['volume', 'create', `bench-vol-${i}`]);
    else await s.docker(['create', '--network', 'none', '--name', `bench-ctr-${i}`, 'pf-base:1', 'true']);
  }
  mkdirSync(path.join(root, 'vault', 'pending'), { recursive: true });
  const filler = path.join(s.fs.mountpoint, 'filler');
  const statfs = () =>
    execFileSync('stat', ['-f', '-c', '%S %b %f %a', s.fs.mountpoint], { encoding: 'utf8' })
      .trim()
      .split(' ')
      .map(Number) as [number, number, number, number];
  /** Set the filler so the filesystem is at `pct`% used (df's rounding up). */
  const fillTo = (pct: number) => {
    rmSync(filler, { force: true });
    const [bs, blocks, bfree, bavail] = statfs();
    const used = (blocks - bfree) * bs;
    const want = Math.floor(((used + bavail * bs) * pct) / 100) - used;
    if (want > MiB) execFileSync('fallocate', ['-l', String(Math.floor(want / MiB) * MiB), filler]);
  };
  // 72 runs: 24 steady, 24 climbing 65 → 88, a clean-up, then 23 hovering 78–82.
  const profile = [
    ...Array(24).fill(60),
    ...Array.from({ length: 24 }, (_, i) => 65 + i),
    55,
    ...Array.from({ length: 23 }, (_, i) => 78 + (i % 5)),
  ];
  const day = path.join(root, 'journal', `${new Date().toISOString().slice(0, 10)}.md`);
  let appended = 0;
  let reread = 0;
  let changes = 0;
  for (const pct of profile) {
    fillTo(pct);
    const before = sizeOf(day);
    const r = spawnSync(
      path.resolve('preflight'),
      ['--escalate', '--journal', path.join(root, 'journal'), '--vault', path.join(root, 'vault', 'pending')],
      {
        encoding: 'utf8',
        env: { ...process.env, DOCKER_HOST: s.host },
      },
    );
    if (r.status !== 0 || r.stderr) throw new Error(`run failed: ${r.status} ${r.stderr}`);
    const after = sizeOf(day);
    if (after > before) changes += 1;
    appended += after - before;
    // The LLM reads the whole file on the next run: what we wrote so far is paid again.
    reread += after;
  }
  console.log(
    `72 runs on a sandboxed dockerd (mixed scenario + ${objects} objects), fill profile 60% → 88% → 55% → 78–82%`,
  );
  console.log(
    `day journal: ${appended} bytes appended by us in ${changes} of 72 runs (${Math.round(appended / 4)} tokens at ~4 bytes/token)`,
  );
  console.log(
    `re-read over the day: ${reread} bytes (${Math.round(reread / 4)} tokens), ${Math.round(reread / 72)} bytes per run on average`,
  );
  console.log('what we wrote:');
  console.log(readFileSync(day, 'utf8'));
} finally {
  await s.stop();
  rmSync(root, { recursive: true, force: true });
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
