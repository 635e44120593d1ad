import { execa } from 'execa';
import { accessSync, constants } from 'node:fs';
import { describe } from 'vitest';

/** Is an executable on PATH (or at this absolute path)? */
export function hasTool(name: string): boolean {
  const dirs = name.startsWith('/') ? [''] : (process.env.PATH ?? '').split(':').filter(Boolean);
  return dirs.some((dir) => {
    try {
      accessSync(dir ? `${dir}/${name}` : name, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What a real-engine test needs that this machine lacks, or [] when it has it all. */
export function missingFor(tools: readonly string[], needRoot = true): string[] {
  const missing = tools.filter((t) => !hasTool(t));
  if (needRoot && process.getuid?.() !== 0) missing.push('root');
  return missing;
}

/**
 * describe() for tests that need real tools (dockerd, bindfs, mkfs.btrfs, root).
 * Where they are missing the block is skipped with a loud reason; under CI
 * (CI set) it fails instead, so a CI that cannot run the engines is red.
 */
export function describeWith(tools: readonly string[], name: string, body: () => void): void {
  const missing = missingFor(tools);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = `needs ${missing.join(', ')} (run .ci/run, or apt-get install docker.io btrfs-progs busybox-static bindfs as root)`;
  if (process.env.CI) {
    describe(name, () => {
      throw new Error(`CI must run real-engine tests, but this machine lacks: ${reason}`);
    });
    return;
  }
  process.stderr.write(`\n*** SKIPPING "${name}": ${reason} ***\n`);
  describe.skip(`${name} [SKIPPED: ${reason}]`, body);
}

/** Run a command; throw with its stderr if it fails. */
export async function sh(file: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  const res = await execa(file, args, { reject: false, env: opts.env, timeout: opts.timeoutMs ?? 120_000, stdin: 'ignore' });
  if (res.exitCode !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${res.exitCode}: ${String(res.stderr).slice(-2000)}`);
  }
  return { stdout: String(res.stdout), stderr: String(res.stderr) };
}
