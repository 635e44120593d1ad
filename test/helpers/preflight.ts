import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PREFLIGHT = path.join(REPO, 'preflight');

export interface PreflightRun {
  stdout: string;
  stderr: string;
  exitCode: number;
  elapsedMs: number;
}

/** Run the real ./preflight (compiled dist/) as the supervisor would. */
export async function runPreflight(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 90_000,
): Promise<PreflightRun> {
  const started = Date.now();
  // Each run gets a journal of its own unless the test names one: runs stay independent.
  // (A test that names the key with the value undefined runs with it unset: the host's other defaults apply.)
  const journal =
    !('OPS_JOURNAL_ROOT' in env) && !args.includes('--no-journal')
      ? mkdtempSync(path.join(tmpdir(), 'pf-journal-'))
      : null;
  // And a temporary directory of its own, so its run lock is its own: runs started together (or by another test suite) still run at once.
  const temp = 'TMPDIR' in env ? null : mkdtempSync(path.join(tmpdir(), 'pf-tmp-'));
  const merged: NodeJS.ProcessEnv = {
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    ...(journal ? { OPS_JOURNAL_ROOT: journal } : {}),
    ...(temp ? { TMPDIR: temp } : {}),
    ...env,
  };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const res = await execa(PREFLIGHT, args, {
    reject: false,
    cwd: REPO,
    extendEnv: false,
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in env))), ...merged },
    timeout: timeoutMs,
    stdin: 'ignore',
  });
  for (const dir of [journal, temp]) if (dir) rmSync(dir, { recursive: true, force: true });
  return {
    stdout: String(res.stdout),
    stderr: String(res.stderr),
    exitCode: res.exitCode ?? -1,
    elapsedMs: Date.now() - started,
  };
}

/** Parse `--format json` output and return it loosely typed for assertions. */
export function parseReport(stdout: string): Record<string, any> {
  return JSON.parse(stdout) as Record<string, any>;
}
