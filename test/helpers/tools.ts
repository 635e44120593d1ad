import { execa } from 'execa';
import { accessSync, constants } from 'node:fs';

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

/** Run a command; throw with its stderr if it fails. */
export async function sh(
  file: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
) {
  const res = await execa(file, args, {
    reject: false,
    env: opts.env,
    timeout: opts.timeoutMs ?? 120_000,
    stdin: 'ignore',
  });
  if (res.exitCode !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${res.exitCode}: ${String(res.stderr).slice(-2000)}`);
  }
  return { stdout: String(res.stdout), stderr: String(res.stderr) };
}
