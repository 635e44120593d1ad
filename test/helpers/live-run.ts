import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PREFLIGHT, REPO } from './preflight.js';

/** A ./preflight process left running (watch, or a one-shot to be signalled), its output as it comes. */
export interface LiveRun {
  pid: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal's name) and when it exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Send `signal`; resolves with how long the process took to exit after it. */
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export function startPreflight(args: readonly string[], env: NodeJS.ProcessEnv): LiveRun {
  const child = spawn(PREFLIGHT, args, {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
  return {
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal) {
      const sent = Date.now();
      child.kill(signal);
      const end = await exited;
      return { code: end.code, signal: end.signal, ms: end.at - sent };
    },
  };
}

/** Poll `check` every 50 ms until it holds; throw after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** JSON reports printed one after another (`JSON.stringify(doc, null, 2)`: each opens with a lone `{` line). */
export function jsonReports(stdout: string): Record<string, any>[] {
  return stdout
    .split(/\n(?=\{\n)/)
    .filter((t) => t.trim())
    .map((t) => JSON.parse(t) as Record<string, any>);
}

/** When a report's run measured: from its start to its rendering (inside the run lock). */
export function windowOf(doc: Record<string, any>): { start: number; end: number } {
  const start = Date.parse(doc.generatedAt as string);
  return { start, end: start + (doc.durationMs as number) };
}

/** The pid holding a lock (the link's target is `pid start`), or null when there is none. */
export function lockHolder(lockPath: string): number | null {
  try {
    return Number(readlinkSync(lockPath).split(' ')[0]);
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A Docker socket that accepts and never answers: each run then waits out
 * the client's 3 s timeout on /version, a run long enough to be caught mid-way.
 */
export async function silentDocker(): Promise<{ host: string; close(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pf-silent-'));
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => sockets.push(s));
  await new Promise<void>((resolve) => server.listen(path.join(dir, 'docker.sock'), resolve));
  return {
    host: `unix://${dir}/docker.sock`,
    async close() {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
