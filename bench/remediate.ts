// What planning and applying cost, on a sandboxed dockerd (overlay2 on a loop
// ext4) holding the mixed scenario. Root needed; it never touches the host's
// own daemon. Usage: npx tsx bench/remediate.ts [--runs N] [--rounds N]
//  - plan cost: `./preflight` (the plan only when the disk is under pressure:
//    here it is not) against `./preflight remediate` (always plans: the same
//    measuring run plus the container inspects and the planner), and the
//    Remediation Plan section's own duration from the JSON;
//  - apply time: `remediate --apply --min-age 0s --max-tier moderate
//    --target-pct 1` on fresh garbage each round (stopped containers, dangling
//    rebuilds, BuildKit cache), as the whole process and as the locked window.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDockerd, type DockerSandbox } from '../test/helpers/dockerd.js';
import { buildMixedScenario } from '../test/helpers/scenarios.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const preflight = path.join(repo, 'preflight');
function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const RUNS = flag('--runs', 9);
const ROUNDS = flag('--rounds', 3);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function time(args: string[], env: NodeJS.ProcessEnv, file = preflight): { ms: number; stdout: string } {
  const started = process.hrtime.bigint();
  const res = spawnSync(file, args, { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 0) throw new Error(`preflight ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  return { ms, stdout: res.stdout };
}

function bench(label: string, args: string[], env: NodeJS.ProcessEnv, file = preflight) {
  time(args, env, file);
  const samples = Array.from({ length: RUNS }, () => time(args, env, file).ms);
  return { label, median: median(samples), min: Math.min(...samples) };
}

async function garbage(s: DockerSandbox, round: number): Promise<void> {
  for (let v = 0; v < 2; v += 1)
    await s.buildImage('bench-app:latest', ['COPY stamp /stamp'], {
      stamp: randomBytes(2 * 1024 * 1024).toString('base64'),
    });
  for (let i = 0; i < 5; i += 1)
    await s.docker([
      'run',
      '--network',
      'none',
      '--name',
      `bench-stopped-${round}-${i}`,
      'pf-base:1',
      'dd',
      'if=/dev/zero',
      'of=/fill',
      'bs=1M',
      'count=10',
    ]);
}

const s = await startDockerd('overlay2', 4096);
try {
  await buildMixedScenario(s);
  const env = { DOCKER_HOST: s.host };
  const node = bench('node -e 0', ['-e', '0'], {}, process.execPath);
  const report = bench('./preflight --no-journal', ['--no-journal'], env);
  const dry = bench('./preflight remediate --no-journal', ['remediate', '--no-journal'], env);
  const section = median(
    Array.from({ length: RUNS }, () => {
      const doc = JSON.parse(time(['remediate', '--no-journal', '--format', 'json'], env).stdout) as {
        sections: { id: string; durationMs: number }[];
      };
      return doc.sections.find((x) => x.id === 'remediation')!.durationMs;
    }),
  );
  const applies: { ms: number; window: number; steps: string }[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    await garbage(s, round);
    const run = time(
      [
        'remediate',
        '--apply',
        '--min-age',
        '0s',
        '--max-tier',
        'moderate',
        '--target-pct',
        '1',
        '--no-journal',
        '--format',
        'json',
      ],
      env,
    );
    const r = (
      JSON.parse(run.stdout) as {
        remediationApplied: {
          startedAt: string;
          finishedAt: string;
          steps: { kind: string; durationMs: number; objects: unknown[] }[];
        };
      }
    ).remediationApplied;
    applies.push({
      ms: run.ms,
      window: Date.parse(r.finishedAt) - Date.parse(r.startedAt),
      steps: r.steps.map((x) => `${x.kind} ${x.objects.length} objects ${x.durationMs} ms`).join(', '),
    });
  }
  console.log(`storage-preflight remediate bench, ${RUNS} runs each, ${new Date().toISOString()}`);
  for (const r of [node, report, dry])
    console.log(
      `${r.label.padEnd(40)} median ${r.median.toFixed(1).padStart(7)} ms   min ${r.min.toFixed(1).padStart(7)} ms`,
    );
  console.log(
    `plan cost: remediate / report ${(dry.median / report.median).toFixed(2)} (+${(dry.median - report.median).toFixed(1)} ms); Remediation Plan section median ${section} ms`,
  );
  for (const [i, a] of applies.entries())
    console.log(`apply round ${i + 1}: process ${a.ms.toFixed(0)} ms, locked window ${a.window} ms: ${a.steps}`);
} finally {
  await s.stop();
}
