// Timing whole processes as the supervisor sees them: wall time from spawn to
// exit, and peak RSS from /usr/bin/time -f %M (every command goes through it,
// so they all carry the same small overhead).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';

export interface Sample {
  ms: number;
  rssKiB: number;
  stdout: string;
}

export interface Probe {
  label: string;
  /** Run once; throws when the command fails (unless it may). */
  run(): Promise<Sample> | Sample;
  /** Around each sample (e.g. stop a FUSE daemon, then let it go). */
  before?(): void;
  after?(): void;
}

export function timeProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Sample {
  const started = process.hrtime.bigint();
  const res = spawnSync('/usr/bin/time', ['-f', '%M', file, ...args], {
    encoding: 'utf8',
    cwd,
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const lines = res.stderr.trim().split('\n');
  if (res.status !== 0)
    throw new Error(`${file} ${args.join(' ')} exited ${res.status}: ${lines.slice(-5).join('\n')}`);
  return { ms, rssKiB: Number(lines.at(-1)), stdout: res.stdout };
}

/** GET /system/df from this process: the daemon's own cost, no client start-up. */
export function systemDfInProcess(socket: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    http
      .get({ socketPath: socket, path: '/system/df', headers: { Host: 'docker' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, rssKiB: 0, stdout: '' }));
      })
      .on('error', reject);
  });
}

export interface Stats {
  label: string;
  median: number;
  min: number;
  max: number;
  peakRssKiB: number;
  first: Sample;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/**
 * Interleaved runs: one warm-up of each probe, then `runs` rounds in which
 * every probe runs once, starting one probe later each round, so drift in
 * the machine's load spreads over all of them alike.
 */
export async function interleave(probes: readonly Probe[], runs: number): Promise<Map<string, Stats>> {
  const samples = new Map<string, Sample[]>(probes.map((p) => [p.label, []]));
  const once = async (p: Probe) => {
    p.before?.();
    try {
      return await p.run();
    } finally {
      p.after?.();
    }
  };
  const first = new Map<string, Sample>();
  for (const p of probes) first.set(p.label, await once(p));
  for (let round = 0; round < runs; round += 1) {
    for (let k = 0; k < probes.length; k += 1) {
      const p = probes[(round + k) % probes.length]!;
      samples.get(p.label)!.push(await once(p));
    }
    process.stderr.write(`\r[big-host] round ${round + 1}/${runs}, load ${loadAverage()}   `);
  }
  process.stderr.write('\n');
  return new Map(
    probes.map((p) => {
      const xs = samples.get(p.label)!;
      const ms = xs.map((x) => x.ms);
      return [
        p.label,
        {
          label: p.label,
          median: median(ms),
          min: Math.min(...ms),
          max: Math.max(...ms),
          peakRssKiB: Math.max(...xs.map((x) => x.rssKiB)),
          first: first.get(p.label)!,
        },
      ];
    }),
  );
}
