#!/usr/bin/env node
// Times ./preflight against the raw probes it stands in for, and prints ratios.
// Usage: npm run bench [-- --runs N] (environment: DOCKER_HOST as for preflight).
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;

function timeMs(file, args, opts = {}) {
  const started = process.hrtime.bigint();
  const res = spawnSync(file, args, { encoding: 'utf8', cwd: repo, ...opts });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (res.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  return { ms, stdout: res.stdout };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function bench(label, file, args) {
  timeMs(file, args); // warm the page cache
  const samples = Array.from({ length: RUNS }, () => timeMs(file, args).ms);
  return { label, median: median(samples), min: Math.min(...samples) };
}

/** The daemon's own cost for GET /system/df, timed in-process (no client start-up). */
function dockerDf(socket) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    http
      .get({ socketPath: socket, path: '/system/df', headers: { Host: 'docker' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
      })
      .on('error', reject);
  });
}

async function benchDockerDf(socket) {
  await dockerDf(socket);
  const samples = [];
  for (let i = 0; i < RUNS; i += 1) samples.push(await dockerDf(socket));
  return { label: 'GET /system/df (in-process)', median: median(samples), min: Math.min(...samples) };
}

const report = JSON.parse(timeMs(path.join(repo, 'preflight'), ['--format', 'json']).stdout);
const mounts = report.filesystems.filter((f) => f.sizeBytes !== null).map((f) => f.mountpoint);

const node = bench('node -e 0', process.execPath, ['-e', '0']);
const df = bench(`df -B1 ${mounts.join(' ')}`, 'df', ['-B1', ...mounts]);
const preflight = bench('./preflight', path.join(repo, 'preflight'), []);
const guard = bench('./preflight guard --path / --need 1', path.join(repo, 'preflight'), [
  'guard',
  '--path',
  '/',
  '--need',
  '1',
]);
const markdown = timeMs(path.join(repo, 'preflight'), []).stdout;

const socket = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
const systemDf = report.docker && report.docker.source === 'api' ? await benchDockerDf(socket).catch(() => null) : null;

const raw = node.median + df.median + (systemDf ? systemDf.median : 0);
const rows = [node, df, ...(systemDf ? [systemDf] : []), preflight, guard].map(
  (r) => `${r.label.padEnd(48)} median ${r.median.toFixed(1).padStart(7)} ms   min ${r.min.toFixed(1).padStart(7)} ms`,
);
console.log(`storage-preflight bench, ${RUNS} runs each, ${new Date().toISOString()}`);
console.log(rows.join('\n'));
console.log(
  `docker: ${systemDf ? `${report.docker.images.count} images, ${report.docker.containers.count} containers, ${report.docker.volumes.count} volumes, ${report.docker.buildCache.count} cache records` : 'not reachable (raw probes are node + df only)'}`,
);
console.log(
  `ratio ./preflight / (node -e 0 + df${systemDf ? ' + GET /system/df' : ''}): ${(preflight.median / raw).toFixed(2)}   (target <= 1.15)`,
);
console.log(`ratio ./preflight / node -e 0:        ${(preflight.median / node.median).toFixed(2)}`);
console.log(`ratio guard / node -e 0:             ${(guard.median / node.median).toFixed(2)}   (target <= 1.2)`);
console.log(`markdown report size: ${Buffer.byteLength(markdown)} bytes (target < 8192)`);
