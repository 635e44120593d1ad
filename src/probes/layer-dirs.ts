import { TimeoutError, UnavailableError, formatSeconds, type UnreadableError } from '../model/errors.js';
import { parseLayerListing, type LayerListing } from '../parse/layer-dirs.js';
import { BLOCKED_FN, unreadable } from './blocked.js';
import type { Runner } from '../host/exec.js';
import { lastReason } from './statfs.js';

/** Where a graph driver keeps its layer directories, relative to the data root. */
export const LAYER_DIRS = { btrfs: 'btrfs/subvolumes', overlay2: 'overlay2' } as const;
export type LayerDriver = keyof typeof LAYER_DIRS;

/**
 * Listing script, run in the data root (`sh -c SCRIPT name DATA_ROOT`): the
 * layer directories, then every name a layerdb file references, one awk for
 * all of them (a shell `read` per file cost 65 ms per 300 layers here). The
 * files are found by the shell's globs, not `find`, which opened every layer's
 * folder to list it: the listing of 1,372 layers and 1,956 directories took
 * 140 ms, now 80 (issue 14); xargs keeps each awk within the kernel's
 * argument limit.
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
for sub in sha256 tmp mounts; do [ ! -e "$db/$sub" ] || { [ -r "$db/$sub" ] && [ -x "$db/$sub" ]; } || exit 4; done
# One find: the layer directories (S), and a U for any layerdb entry this user
# may not search (its files would drop out of the globs below unseen).
find "$layers" "$db" -mindepth 1 -maxdepth 2 \\( -path "$layers/*" -prune -type d -printf 'S\\t%f\\n' \\) \\
  -o \\( -path "$db/*/*" -type d ! -executable -printf 'U\\n' \\) || exit 3
# A glob that matches nothing stays as its own pattern: printed only when that names a file.
each() { [ $# -eq 1 ] && [ ! -f "$1" ] && return 0; printf '%s\\0' "$@"; }
{ each "$db"/sha256/*/cache-id; each "$db"/tmp/*/cache-id; each "$db"/mounts/*/mount-id; each "$db"/mounts/*/init-id; } |
  xargs -0 -r awk '{ print "R\\t" $0 }' || exit 4`;
}

export type LayerListingResult =
  | { kind: 'ok'; listing: LayerListing }
  /** The data root or the driver's folder is not readable from here (not root, not mounted). */
  | { kind: 'unreadable'; error: UnreadableError };

/** One `sh` child under the deadline; a layerdb it could not read is an UnavailableError. */
export async function listLayerDirs(
  run: Runner,
  dataRoot: string,
  driver: LayerDriver,
  timeoutMs: number,
): Promise<LayerListingResult> {
  let res;
  try {
    res = await run('sh', ['-c', layerListingScript(driver), `preflight-${driver}-layers`, dataRoot], timeoutMs);
  } catch (err) {
    if (err instanceof TimeoutError)
      throw new UnavailableError(`listing ${driver} layer directories gave no answer in ${formatSeconds(err.afterMs)}`);
    throw err;
  }
  if (res.exitCode === 3) return { kind: 'unreadable', error: unreadable(res.stdout, dataRoot) };
  const listing = res.exitCode === 0 ? parseLayerListing(res.stdout) : null;
  if (res.exitCode === 4 || listing?.unsearchable) {
    const why = res.stderr.trim()
      ? `: ${lastReason(res.stderr)}`
      : listing?.unsearchable
        ? ' (a folder in it may not be searched)'
        : ' (missing or unreadable)';
    throw new UnavailableError(
      `image/${driver}/layerdb could not be read completely${why}, so no layer can be called an orphan`,
    );
  }
  // A listing cut short could miss references: only a complete one counts.
  if (!listing) throw new UnavailableError(`listing ${driver} layer directories failed (exit ${res.exitCode})`);
  return { kind: 'ok', listing };
}
