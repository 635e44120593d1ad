// Starts a sandboxed dockerd (overlay2 on a loop ext4), fills it with the
// mixed scenario (images, dangling rebuilds, containers, volumes, BuildKit
// cache, logs) plus N extra volumes and containers, then runs bench/run.mjs
// against it. Root needed. Usage: npx tsx bench/scenario.ts [--objects N] [--files N] [--runs N]
import { spawnSync } from 'node:child_process';
import { startDockerd } from '../test/helpers/dockerd.js';
import { buildMixedScenario } from '../test/helpers/scenarios.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const extra = flag('--objects', 300);
// Files in one volume: /system/df walks them all, as on a big host (moby#31719).
const files = flag('--files', 0);
const s = await startDockerd('overlay2', 8192);
try {
  await buildMixedScenario(s);
  for (let i = 0; i < extra; i += 1) {
    if (i % 2 === 0) await s.docker(['volume', 'create', `bench-vol-${i}`]);
    else await s.docker(['create', '--network', 'none', '--name', `bench-ctr-${i}`, 'pf-base:1', 'true']);
  }
  if (files > 0) {
    await s.docker([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'bench-files:/v',
      'pf-base:1',
      'sh',
      '-c',
      `mkdir -p /v/d && cd /v/d && seq 1 ${files} | xargs touch`,
    ]);
  }
  const passOn = process.argv
    .slice(2)
    .filter(
      (a, i, all) => !['--objects', '--files'].includes(a) && !['--objects', '--files'].includes(all[i - 1] ?? ''),
    );
  spawnSync(process.execPath, ['bench/run.mjs', ...passOn], {
    stdio: 'inherit',
    env: { ...process.env, DOCKER_HOST: s.host },
  });
} finally {
  await s.stop();
}
