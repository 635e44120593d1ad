import { readdirSync, readFileSync } from 'node:fs';
import { TimeoutError, ToolMissingError } from '../model/errors.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * The one way this tool runs external programs. Injected into sections so
 * tests can run the real thing or a recorded one without module mocking.
 */
export type Runner = (file: string, args: readonly string[], timeoutMs: number, input?: string) => Promise<ExecResult>;

/** Output past this is a runaway tool, not a report: stop reading. */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/*
 * The parent waits in spawn() until the child has exec'd, and a PATH entry on
 * a hung mount blocks that exec: every program is started through /bin/sh by
 * absolute path, which then looks the program up where a deadline can kill it.
 * Sample of a missing tool: `sh: 1: exec: compsize: not found`, exit 127.
 */
const SHELL = '/bin/sh';
const EXEC_BY_NAME = 'exec "$0" "$@"';

/**
 * Real runner on node:child_process (execa costs ~100 ms of import on every
 * run; this is a hot path). The deadline kills the child's whole process
 * group (sh → stat) and walks away without waiting for it to exit: a child
 * stuck in an uninterruptible syscall (statfs on a hard NFS mount) never
 * exits, and must not hold the run.
 */
export const execRunner: Runner = async (file, args, timeoutMs, input) => {
  // Loaded on first use: guard, when it measures in-process, never pays for child_process (and net) at start-up.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const [command, argv] =
      file === 'sh' ? [SHELL, args] : file.includes('/') ? [file, args] : [SHELL, ['-c', EXEC_BY_NAME, file, ...args]];
    const child = spawn(command, argv, {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const keep = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT_BYTES) into.push(chunk);
    };
    // A child that exits before reading all of its input must not crash the run (EPIPE).
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
    child.stdout!.on('data', keep(out));
    child.stderr!.on('data', keep(err));
    const timer = setTimeout(() => {
      killGroup(child.pid);
      child.unref();
      child.stdout!.destroy();
      child.stderr!.destroy();
      reject(new TimeoutError(file, timeoutMs, Buffer.concat(out).toString('utf8')));
    }, timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new ToolMissingError(file) : e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (
        command === SHELL &&
        file !== 'sh' &&
        code === 127 &&
        /: not found\n?$/.test(Buffer.concat(err).toString('utf8'))
      ) {
        reject(new ToolMissingError(file));
        return;
      }
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: code ?? (signal ? 128 : -1),
      });
    });
  });
};

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Sample of /proc/<pid>/task/<tid>/children: `3396 3401 ` (one file per thread). */
export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * Kill the children of `pid` (this process by default) and their process
 * groups: a run cut by a signal must not leave its probes (du, find, a
 * statfs child) behind. Children are group leaders (spawned detached); one
 * that is not is killed alone.
 */
export function killChildTrees(pid = process.pid): void {
  for (const child of childrenOf(pid)) {
    try {
      process.kill(-child, 'SIGKILL');
    } catch {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}
