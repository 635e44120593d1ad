import { execa } from 'execa';
import { startDockerd } from './helpers/dockerd.js';
import { buildMixedScenario } from './helpers/scenarios.js';
import { runPreflight } from './helpers/preflight.js';
const store = (process.argv[2] ?? 'containerd') as 'containerd' | 'graphdriver';
const s = await startDockerd('overlay2', 2048, { engine: 'newest', store });
try {
  await buildMixedScenario(s);
  await execa('sync');
  const md = await runPreflight([], { DOCKER_HOST: s.host });
  console.log(md.stdout.slice(0, 9000), md.stderr);
  console.log((await execa('sh', ['-c', `df -B1 ${s.fs.mountpoint}; du -B1 -s ${s.fs.mountpoint}`])).stdout);
  if (process.argv[3] === 'hold') await new Promise((r) => setTimeout(r, 3600_000));
} finally {
  await s.stop();
}
