// A year of history (365 day files of our own, 72 records a day = 26,280,
// beside a shared day journal full of the LLM's prose) and what it costs a
// run: ./preflight with that journal vs --no-journal, `preflight trend`, and
// peak memory.
// Usage: npx tsx bench/journal.ts [--runs N]
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { HISTORY_DIR } from '../src/model/history.js';
import { writeYearOfHistory } from './lib/year-journal.js';

const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 11;
const { root, entries } = writeYearOfHistory();

function time(args: string[], env: NodeJS.ProcessEnv = {}): { ms: number; maxRssKiB: number } {
  const started = process.hrtime.bigint();
  const res = spawnSync('/usr/bin/time', ['-f', '%M', path.resolve('preflight'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, maxRssKiB: Number(res.stderr.trim().split('\n').pop()) };
}
function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function bench(label: string, args: string[]) {
  time(args);
  const samples = Array.from({ length: RUNS }, () => time(args));
  const r = { label, ms: median(samples.map((s) => s.ms)), rss: Math.max(...samples.map((s) => s.maxRssKiB)) };
  console.log(
    `${label.padEnd(44)} median ${r.ms.toFixed(1).padStart(7)} ms   peak RSS ${(r.rss / 1024).toFixed(1)} MiB`,
  );
  return r;
}

console.log(
  `history: ${entries} records in 366 day files under ${root}/${HISTORY_DIR}, beside 366 day journals of prose`,
);
const without = bench('./preflight --no-journal', ['--no-journal']);
const withYear = bench('./preflight --journal <a year>', ['--journal', root]);
bench('./preflight trend --journal <a year>', ['trend', '--journal', root]);
console.log(
  `a year of journal adds ${(withYear.ms - without.ms).toFixed(1)} ms (target < 100 ms); peak RSS ${(withYear.rss / 1024).toFixed(1)} MiB (target < 150 MiB)`,
);
rmSync(root, { recursive: true, force: true });
