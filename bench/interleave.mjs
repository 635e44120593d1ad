// Interleaved timings: each round runs every command once, in turn, so load that comes and goes hits all alike.
// Usage: node bench/interleave.mjs RUNS label=cmd ... ; prints wall median and min (hrtime), and median CPU (user+sys, children included, 10 ms resolution).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
const [runs, ...specs] = process.argv.slice(2);
const cmds = specs.map((s) => {
  const i = s.indexOf('=');
  return { label: s.slice(0, i), cmd: s.slice(i + 1), ms: [], cpu: [] };
});
const load0 = os.loadavg()[0];
// Wall from hrtime (time(1)'s %e has 10 ms steps); CPU from time(1).
const once = (c) => {
  const started = process.hrtime.bigint();
  const res = spawnSync('/usr/bin/time', ['-f', 'T %e %U %S', 'sh', '-c', `${c.cmd} >/dev/null`], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  const m = /T ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(res.stderr);
  if (res.status !== 0 || !m) {
    console.error(`${c.label}: ${res.status} ${res.stderr.slice(-200)}`);
    return null;
  }
  return [wall, (Number(m[2]) + Number(m[3])) * 1000];
};
for (const c of cmds) once(c);
for (let r = 0; r < Number(runs); r += 1)
  for (const c of cmds) {
    const x = once(c);
    if (x) {
      c.ms.push(x[0]);
      c.cpu.push(x[1]);
    }
  }
const med = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
console.log(`runs ${runs}, load ${load0.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}`);
console.log('| command | wall median | wall min | CPU median (user+sys) |');
for (const c of cmds)
  console.log(
    `| ${c.label} | ${med(c.ms).toFixed(0)} ms | ${Math.min(...c.ms).toFixed(0)} ms | ${med(c.cpu).toFixed(0)} ms |`,
  );
