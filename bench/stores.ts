// What a full report costs on each image store of Debian's newest engine,
// against the raw probes it stands in for: `node -e 0` plus the daemon's own
// GET /system/df, and the CLI's `docker system df -v`. On the containerd
// store the report also reads containerd's records and walks its root (the
// daemon's own figures are not what the disk holds there): this is its price.
// Root needed, and Debian's newest engine (bash test/helpers/fetch-modern-engine.sh).
// It never touches the host's own daemon.
//
//   npx tsx bench/stores.ts [--runs N]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { startDockerd } from '../test/helpers/dockerd.js';
import { buildMixedScenario } from '../test/helpers/scenarios.js';
import { interleave, loadAverage, systemDfInProcess, timeProcess } from './lib/measure.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const preflight = path.join(repo, 'preflight');
const runs = Number(process.argv.includes('--runs') ? process.argv[process.argv.indexOf('--runs') + 1] : '9');
const ms = (x: number) => `${x.toFixed(1)} ms`;

console.log(
  `# bench/stores.ts: ${new Date().toISOString()}, ${cpus().length} CPUs, Node ${process.version}, ${runs} interleaved rounds, medians`,
);
for (const store of ['graphdriver', 'containerd'] as const) {
  const s = await startDockerd('overlay2', 4096, { engine: 'newest', store });
  try {
    await buildMixedScenario(s);
    const stats = await interleave(
      [
        { label: 'node -e 0', run: () => timeProcess(process.execPath, ['-e', '0']) },
        { label: 'GET /system/df (in-process)', run: () => systemDfInProcess(s.socket) },
        {
          label: 'docker system df -v',
          run: async () => {
            const started = process.hrtime.bigint();
            await s.docker(['system', 'df', '-v']);
            return { ms: Number(process.hrtime.bigint() - started) / 1e6, rssKiB: 0, stdout: '' };
          },
        },
        {
          label: './preflight --no-journal',
          run: () => timeProcess(preflight, ['--no-journal'], { DOCKER_HOST: s.host }),
        },
      ],
      runs,
    );
    const get = (l: string) => stats.get(l)!.median;
    const floor = get('node -e 0') + get('GET /system/df (in-process)');
    console.log(`\n## ${s.label} (mixed scenario), load ${loadAverage()}`);
    for (const st of stats.values())
      console.log(`- ${st.label}: ${ms(st.median)} (min ${ms(st.min)}, max ${ms(st.max)})`);
    console.log(
      `- full report against node -e 0 + GET /system/df: ${(get('./preflight --no-journal') / floor).toFixed(2)}× (+${ms(get('./preflight --no-journal') - floor)})`,
    );
    console.log(`- peak RSS of a report: ${(stats.get('./preflight --no-journal')!.peakRssKiB / 1024).toFixed(1)} MiB`);
  } finally {
    await s.stop();
  }
}
