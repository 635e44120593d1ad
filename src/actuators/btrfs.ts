import { errorMessage, TimeoutError, formatSeconds } from '../model/errors.js';
import type { Runner } from '../host/exec.js';

export interface CommandOutcome {
  ok: boolean;
  /** The tool's last line (`Done, had to relocate 2 out of 9 chunks`) or why it failed. */
  detail: string;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

async function runTool(run: Runner, args: readonly string[], timeoutMs: number): Promise<CommandOutcome> {
  try {
    const res = await run('btrfs', args, timeoutMs);
    const detail = lastLine(res.exitCode === 0 ? res.stdout || res.stderr : res.stderr || res.stdout);
    return { ok: res.exitCode === 0, detail: detail || `btrfs ${args[0]} ${args[1]} exited ${res.exitCode}` };
  } catch (err) {
    // The child is killed at the deadline; a balance in the kernel may still be running: `btrfs balance status` says.
    if (err instanceof TimeoutError)
      return { ok: false, detail: `btrfs ${args.slice(0, 2).join(' ')} gave no answer in ${formatSeconds(timeoutMs)}` };
    return { ok: false, detail: errorMessage(err) };
  }
}

/**
 * `btrfs balance start -dusage=N <mount>`: rewrites data chunks at most N%
 * full. N = 0 returns empty chunks to unallocated space and needs no
 * working space. Sample stdout: `Done, had to relocate 0 out of 5 chunks`.
 */
export function balanceData(run: Runner, mount: string, usagePct: number, timeoutMs: number): Promise<CommandOutcome> {
  return runTool(run, ['balance', 'start', `-dusage=${usagePct}`, '--', mount], timeoutMs);
}

/**
 * `btrfs subvolume sync <mount>`: waits until deleted subvolumes are cleaned.
 * Their extents are freed in the running transaction: statfs shows them only
 * after a commit (`filesystemSync`).
 */
export function subvolumeSync(run: Runner, mount: string, timeoutMs: number): Promise<CommandOutcome> {
  return runTool(run, ['subvolume', 'sync', '--', mount], timeoutMs);
}

/**
 * `btrfs filesystem sync <mount>` (BTRFS_IOC_SYNC): commits the running
 * transaction and wakes the cleaner. Measured here (kernel 6.18,
 * btrfs-progs 6.2): 50 MiB in a deleted subvolume left statfs used
 * unchanged after `subvolume sync`, and 1 s later; it dropped by 50 MiB at
 * this commit (otherwise at the next periodic one, 30 s by default). Run
 * before `subvolume sync`, it cut that wait from 9–24 s to ~30 ms.
 */
export function filesystemSync(run: Runner, mount: string, timeoutMs: number): Promise<CommandOutcome> {
  return runTool(run, ['filesystem', 'sync', '--', mount], timeoutMs);
}
