#!/usr/bin/env node
// Times ./preflight against the raw probes it stands in for, and prints ratios.
// Usage: npm run bench [-- --runs N] (environment: DOCKER_HOST as for preflight).
import { spawnSync } from 'node:child_process';
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

const report = JSON.parse(timeMs(path.join(repo, 'preflight'), ['--format', 'json']).stdout);
const mounts = report.filesystems.filter((f) => f.sizeBytes !== null).map((f) => f.mountpoint);

const node = bench('node -e 0', process.execPath, ['-e', '0']);
const df = bench(`df -B1 ${mounts.join(' ')}`, 'df', ['-B1', ...mounts]);
const preflight = bench('./preflight', path.join(repo, 'preflight'), []);
const markdown = timeMs(path.join(repo, 'preflight'), []).stdout;

const raw = node.median + df.median;
const rows = [node, df, preflight].map((r) => `${r.label.padEnd(48)} median ${r.median.toFixed(1).padStart(7)} ms   min ${r.min.toFixed(1).padStart(7)} ms`);
console.log(`storage-preflight bench, ${RUNS} runs each, ${new Date().toISOString()}`);
console.log(rows.join('\n'));
console.log(`ratio ./preflight / (node -e 0 + df): ${(preflight.median / raw).toFixed(2)}`);
console.log(`ratio ./preflight / node -e 0:        ${(preflight.median / node.median).toFixed(2)}`);
console.log(`markdown report size: ${Buffer.byteLength(markdown)} bytes (target < 8192)`);
