import { TimeoutError, UnavailableError, formatSeconds, type UnreadableError } from '../errors.js';
import { parseLayerListing, type LayerListing } from '../parse/layer-dirs.js';
import { BLOCKED_FN, unreadable } from './blocked.js';
import type { Runner } from './exec.js';
import { lastReason } from './statfs.js';

/** Where a graph driver keeps its layer directories, relative to the data root. */
export const LAYER_DIRS = { btrfs: 'btrfs/subvolumes', overlay2: 'overlay2' } as const;
export type LayerDriver = keyof typeof LAYER_DIRS;

/**
 * Listing script, run in the data root (`sh -c SCRIPT name DATA_ROOT`): the
 * layer directories, then every name a layerdb file references, one awk for
 * all of them (a shell `read` per file cost 65 ms per 300 layers here).
 * A data root (or layer folder) this user may not enter is one `E` line
 * and exit 3 (probes/blocked.ts).
 * Directories are listed first: the daemon removes a layer's directory
 * before its layerdb entry (renamed `<chain>-<rand>-removing` meanwhile,
 * which find still reads), so a layer cannot look unreferenced by being
 * removed while we read. A layerdb not read completely gives no verdict at
 * all (exit 4): every layer it hides would look unreferenced.
 */
export function layerListingScript(driver: LayerDriver): string {
  return `${BLOCKED_FN}
cd -- "$1" 2>/dev/null || blocked "$1"
layers=${LAYER_DIRS[driver]} db=image/${driver}/layerdb
[ -d "$layers" ] || exit 0
[ -r "$layers" ] && [ -x "$layers" ] || blocked "$1/$layers" 'Permission denied'
[ -d "$db" ] && [ -r "$db" ] && [ -x "$db" ] || exit 4
find "$layers" -mindepth 1 -maxdepth 1 -type d -printf 'S\\t%f\\n' || exit 3
set --
for sub in sha256 tmp mounts; do [ -d "$db/$sub" ] && set -- "$@" "$db/$sub"; done
[ $# -eq 0 ] || find "$@" -mindepth 2 -maxdepth 2 -type f \\( -name cache-id -o -name mount-id -o -name init-id \\) \\
  -exec awk '{ print "R\\t" $0 }' {} + || exit 4`;
}

export type LayerListingResult =
  | { kind: 'ok'; listing: LayerListing }
  /** The data root or the driver's folder is not readable from here (not root, not mounted). */
  | { kind: 'unreadable'; error: UnreadableError };

/** One `sh` child under the deadline; a layerdb it could not read is an UnavailableError. */
export async function listLayerDirs(run: Runner, dataRoot: string, driver: LayerDriver, timeoutMs: number): Promise<LayerListingResult> {
  let res;
  try {
    res = await run('sh', ['-c', layerListingScript(driver), `preflight-${driver}-layers`, dataRoot], timeoutMs);
  } catch (err) {
    if (err instanceof TimeoutError) throw new UnavailableError(`listing ${driver} layer directories gave no answer in ${formatSeconds(err.afterMs)}`);
    throw err;
  }
  if (res.exitCode === 3) return { kind: 'unreadable', error: unreadable(res.stdout, dataRoot) };
  if (res.exitCode === 4) {
    const why = res.stderr.trim() ? `: ${lastReason(res.stderr)}` : ' (missing or unreadable)';
    throw new UnavailableError(`image/${driver}/layerdb could not be read completely${why}, so no layer can be called an orphan`);
  }
  // A listing cut short could miss references: only a complete one counts.
  if (res.exitCode !== 0) throw new UnavailableError(`listing ${driver} layer directories failed (exit ${res.exitCode})`);
  return { kind: 'ok', listing: parseLayerListing(res.stdout) };
}
