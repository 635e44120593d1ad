import { TimeoutError, UnavailableError, errorMessage, formatSeconds } from '../model/errors.js';
import { parseBtrfsDf, parseBtrfsDfJson } from '../parse/btrfs-df.js';
import { parseBtrfsUsage, type BlockGroup, type BtrfsUsage } from '../parse/btrfs-usage.js';
import {
  parseCompsize,
  parseFilesystemDu,
  parseQgroupShow,
  quotasDisabled,
  type QgroupRow,
} from '../parse/btrfs-qgroup.js';
import { parseDeletedSubvolumes, parseSubvolumeList, type DockerSubvolumes } from '../parse/btrfs-subvolumes.js';
import type { Runner } from '../host/exec.js';
import { layerListingScript, listLayerDirs } from './layer-dirs.js';

/** Run btrfs-progs; a non-zero exit becomes UnavailableError with its last stderr line. */
async function btrfs(run: Runner, args: readonly string[], timeoutMs: number): Promise<string> {
  try {
    const res = await run('btrfs', args, timeoutMs);
    if (res.exitCode !== 0) {
      throw new UnavailableError(
        `btrfs ${args.filter((a) => !a.startsWith('/')).join(' ')}: ${lastLine(res.stderr) || `exit ${res.exitCode}`}`,
      );
    }
    return res.stdout;
  } catch (err) {
    if (err instanceof TimeoutError)
      throw new UnavailableError(`btrfs ${args[0]} ${args[1]} gave no answer in ${formatSeconds(err.afterMs)}`);
    throw err;
  }
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter(Boolean)
      .pop()
      ?.replace(/^ERROR: /, '') ?? ''
  );
}

export function getBtrfsUsage(run: Runner, path: string, timeoutMs: number): Promise<BtrfsUsage> {
  return btrfs(run, ['filesystem', 'usage', '-b', path], timeoutMs).then(parseBtrfsUsage);
}

/** The JSON format where btrfs-progs has it (≥ 6.1), else the text. */
export async function getBtrfsDf(run: Runner, path: string, timeoutMs: number): Promise<BlockGroup[]> {
  try {
    return parseBtrfsDfJson(await btrfs(run, ['--format', 'json', 'filesystem', 'df', path], timeoutMs));
  } catch (err) {
    if (!(err instanceof UnavailableError) && !(err instanceof SyntaxError)) throw err;
    return parseBtrfsDf(await btrfs(run, ['filesystem', 'df', '-b', path], timeoutMs));
  }
}

/** null when quotas are off (this tool never turns them on: it is costly). */
export async function getQgroups(run: Runner, path: string, timeoutMs: number): Promise<QgroupRow[] | null> {
  const res = await run('btrfs', ['qgroup', 'show', '-re', '--raw', path], timeoutMs);
  if (res.exitCode !== 0) {
    if (quotasDisabled(res.stderr)) return null;
    throw new UnavailableError(`btrfs qgroup show: ${lastLine(res.stderr)}`);
  }
  return parseQgroupShow(res.stdout);
}

export async function getSubvolumeIds(run: Runner, path: string, timeoutMs: number): Promise<Map<string, number>> {
  return parseSubvolumeList(await btrfs(run, ['subvolume', 'list', path], timeoutMs));
}

export async function getDeletedSubvolumes(run: Runner, path: string, timeoutMs: number): Promise<number[]> {
  return parseDeletedSubvolumes(await btrfs(run, ['subvolume', 'list', '-d', path], timeoutMs));
}

/** Exclusive bytes per path, in argument order (`btrfs filesystem du -s --raw`). */
export async function getExclusiveBytes(run: Runner, paths: readonly string[], timeoutMs: number): Promise<number[]> {
  if (paths.length === 0) return [];
  const rows = parseFilesystemDu(await btrfs(run, ['filesystem', 'du', '-s', '--raw', ...paths], timeoutMs));
  return rows.map((r) => r.exclusive);
}

/** Listing script, run in the data root: subvolume names and every name layerdb references (shared with overlay2). */
export const SUBVOLUME_LISTING_SCRIPT = layerListingScript('btrfs');

export async function getDockerSubvolumes(run: Runner, dataRoot: string, timeoutMs: number): Promise<DockerSubvolumes> {
  const res = await listLayerDirs(run, dataRoot, 'btrfs', timeoutMs);
  if (res.kind === 'unreadable') throw res.error;
  return res.listing;
}

/** compsize walks every extent: bounded, and optional (it may not be installed). */
export async function getCompsize(run: Runner, path: string, timeoutMs: number) {
  try {
    const res = await run('compsize', ['-b', path], timeoutMs);
    if (res.exitCode !== 0)
      return { figures: null, reason: `compsize: ${lastLine(res.stderr) || `exit ${res.exitCode}`}` };
    return { figures: parseCompsize(res.stdout), reason: null };
  } catch (err) {
    return {
      figures: null,
      reason:
        err instanceof TimeoutError ? `compsize gave no answer in ${formatSeconds(err.afterMs)}` : errorMessage(err),
    };
  }
}
