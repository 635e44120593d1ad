import { spawn } from 'node:child_process';
import { killChildTrees } from './exec.js';

/** How a supervised child ended. `cut`: the abort signal stopped it; `overran`: its time was up. */
export type ChildEnd =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stderr: string }
  | { kind: 'overran' | 'cut'; stderr: string }
  | { kind: 'spawn-failed'; message: string };

/** Enough of a failed run's stderr to quote its first line. */
const MAX_STDERR_BYTES = 64 * 1024;

/**
 * Run `argv` as a child that writes straight to our stdout; its stderr is
 * kept for the caller to summarise. It is killed (with its own children)
 * `timeoutMs` after it started. On `abort` it gets SIGTERM, to cut its run
 * and release what it holds, and SIGKILL `stopGraceMs` later if still there.
 * It stays in our process group, so a terminal's Ctrl-C reaches it too.
 */
export function runChild(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  stopGraceMs: number,
  abort: AbortSignal,
): Promise<ChildEnd> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    const child = spawn(file!, args, { stdio: ['ignore', 'inherit', 'pipe'], env });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_STDERR_BYTES) chunks.push(chunk);
    });
    let ending: 'overran' | 'cut' | null = null;
    let grace: NodeJS.Timeout | undefined;
    const kill = () => {
      if (child.pid !== undefined) killChildTrees(child.pid);
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      ending = 'overran';
      kill();
    }, timeoutMs);
    const onAbort = () => {
      ending ??= 'cut';
      child.kill('SIGTERM');
      grace = setTimeout(kill, stopGraceMs);
    };
    abort.addEventListener('abort', onAbort, { once: true });
    const settle = (end: ChildEnd) => {
      clearTimeout(timer);
      clearTimeout(grace);
      abort.removeEventListener('abort', onAbort);
      resolve(end);
    };
    child.on('error', (err) => settle({ kind: 'spawn-failed', message: err.message }));
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(chunks).toString('utf8');
      settle(ending ? { kind: ending, stderr } : { kind: 'exited', code, signal, stderr });
    });
  });
}
