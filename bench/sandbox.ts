// Starts a sandboxed dockerd with the mixed scenario plus churn (rebuilt
// repositories leave dangling images, so the report looks up histories),
// containers (some with logs) and volumes, prints its DOCKER_HOST and keeps
// it running until SIGINT/SIGTERM, for interleaved timings (hyperfine).
// Root needed. Usage: npx tsx bench/sandbox.ts [--repos N] [--objects N]
import { randomBytes } from 'node:crypto';
import { startDockerd, type DockerSandbox } from '../test/helpers/dockerd.js';
import { buildMixedScenario } from '../test/helpers/scenarios.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const repos = flag('--repos', 10);
const objects = flag('--objects', 50);
/** Fill a fresh daemon; runc start-ups fail now and then on a loaded machine. */
async function filled(): Promise<DockerSandbox> {
  for (let attempt = 1; ; attempt += 1) {
    const s = await startDockerd('overlay2', 4096);
    try {
      await buildMixedScenario(s);
      // Three builds per repository: two dangling versions each.
      for (let r = 0; r < repos; r += 1) {
        for (let v = 0; v < 3; v += 1) {
          await s.buildImage(`bench-app${r}:latest`, ['COPY stamp /stamp'], { stamp: randomBytes(64).toString('hex') });
        }
      }
      for (let i = 0; i < objects; i += 1) {
        if (i % 2 === 0) await s.docker(['volume', 'create', `bench-vol-${i}`]);
        else if (i % 10 === 1)
          await s.docker([
            'run',
            '--network',
            'none',
            '--name',
            `bench-ctr-${i}`,
            'pf-base:1',
            'sh',
            '-c',
            'seq 1 2000',
          ]);
        else await s.docker(['create', '--network', 'none', '--name', `bench-ctr-${i}`, 'pf-base:1', 'true']);
      }
      return s;
    } catch (err) {
      await s.stop();
      if (attempt === 3) throw err;
      console.error(`attempt ${attempt} failed, again: ${String(err).slice(0, 300)}`);
    }
  }
}

const s = await filled();
process.on('SIGINT', () => void s.stop().then(() => process.exit(0)));
process.on('SIGTERM', () => void s.stop().then(() => process.exit(0)));
console.log(`DOCKER_HOST=${s.host}`);
setInterval(() => undefined, 1 << 30);
