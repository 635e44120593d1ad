import { execa } from 'execa';
import { ToolMissingError } from '../errors.js';
import { withTimeout } from '../run/deadline.js';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * The one way this tool runs external programs. Injected into sections so
 * tests can run the real thing or a recorded one without module mocking.
 */
export type Runner = (file: string, args: readonly string[], timeoutMs: number) => Promise<ExecResult>;

/**
 * Real runner. The deadline is ours, not execa's: execa waits for the child to
 * exit after killing it, and a child stuck in an uninterruptible syscall
 * (statfs on a hard NFS mount) never exits. We kill, unref and walk away.
 */
export const execRunner: Runner = async (file, args, timeoutMs) => {
  const child = execa(file, args, {
    reject: false,
    stdin: 'ignore',
    stripFinalNewline: false,
    env: { LC_ALL: 'C' },
    extendEnv: true,
    // Own process group, so a timeout kills grandchildren too (sh → stat).
    detached: true,
  });
  const abandon = () => {
    killGroup(child.pid);
    child.unref();
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  const result = await withTimeout(child, timeoutMs, file, abandon);
  if (result.failed && isEnoent(result.cause)) throw new ToolMissingError(file);
  if (result.failed && result.exitCode === undefined) {
    throw new Error(`${file}: ${result.shortMessage}`);
  }
  return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? -1 };
};

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function isEnoent(cause: unknown): boolean {
  return typeof cause === 'object' && cause !== null && (cause as NodeJS.ErrnoException).code === 'ENOENT';
}

