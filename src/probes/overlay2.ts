import { TimeoutError, UnavailableError, UnreadableError, errorMessage, formatSeconds } from '../model/errors.js';
import {
  MAX_MEASURED_DIRS,
  orphanOverlayDirs,
  overlayCandidates,
  overlayOrphansProblem,
  parseOverlayDirSizes,
  type OverlayDirSizes,
  type OverlayOrphans,
} from '../parse/overlay2-dirs.js';
import type { LayerListing } from '../parse/layer-dirs.js';
import { remainingMs } from '../host/deadline.js';
import type { Runner } from '../host/exec.js';
import { layerListingScript, listLayerDirs } from './layer-dirs.js';
import { lastReason } from './statfs.js';

/** Listing script, run in the data root: overlay2's directories and every name layerdb references (shared with btrfs). */
export const OVERLAY_LISTING_SCRIPT = layerListingScript('overlay2');

/*
 * Run in `<root>/overlay2` on candidates only (validated 64-hex names):
 * the child's clock, then size and newest change of each tree. -x: a
 * leftover overlay mount inside a directory is another filesystem, not its
 * bytes. du exits 1 when a directory vanished meanwhile; the rest is used.
 */
export const OVERLAY_DU_SCRIPT = `cd -- "$1" || exit 3
shift
printf 'N\\t%s\\n' "$(date +%s)"
exec du -x -s -B1 --time --time-style=+%s -- "$@"`;

/** UnreadableError: the data root (or its overlay2 folder) is not readable from here. */
export async function listOverlayDirs(run: Runner, dataRoot: string, timeoutMs: number): Promise<LayerListing> {
  const res = await listLayerDirs(run, dataRoot, 'overlay2', timeoutMs);
  if (res.kind === 'unreadable') throw res.error;
  return res.listing;
}

export async function measureOverlayDirs(
  run: Runner,
  dataRoot: string,
  names: readonly string[],
  timeoutMs: number,
): Promise<OverlayDirSizes & { now: number }> {
  const dir = `${dataRoot.replace(/\/+$/, '')}/overlay2`;
  let res;
  try {
    res = await run('sh', ['-c', OVERLAY_DU_SCRIPT, 'preflight-overlay2-du', dir, ...names], timeoutMs);
  } catch (err) {
    if (err instanceof TimeoutError)
      throw new UnavailableError(
        `du over ${names.length} overlay2 directories gave no answer in ${formatSeconds(err.afterMs)}`,
      );
    throw err;
  }
  const sizes = parseOverlayDirSizes(res.stdout);
  // A du that measured nothing and failed (not GNU du, say) must not read as "every candidate vanished".
  if (res.exitCode === 3 || sizes.now === null || (res.exitCode !== 0 && sizes.sizes.length === 0)) {
    throw new UnavailableError(`du over overlay2 directories: ${lastReason(res.stderr)}`);
  }
  return { ...sizes, now: sizes.now };
}

/**
 * Orphaned overlay2 layer directories, under one deadline for both
 * children. UnreadableError when the data root is not readable from here
 * (the caller says so once, with the logs); a listing or du that fails
 * gives a result with its problem and nothing listed.
 */
export async function getOverlayOrphans(run: Runner, dataRoot: string, deadline: number): Promise<OverlayOrphans> {
  const left = () => Math.max(1, remainingMs(deadline));
  let listing: LayerListing;
  try {
    listing = await listOverlayDirs(run, dataRoot, left());
  } catch (err) {
    if (err instanceof UnreadableError) throw err;
    return overlayOrphansProblem(errorMessage(err));
  }
  const candidates = overlayCandidates(listing);
  if (candidates.length === 0) return orphanOverlayDirs(listing, { now: 0, sizes: [] });
  try {
    const measured = await measureOverlayDirs(run, dataRoot, candidates.slice(0, MAX_MEASURED_DIRS), left());
    return orphanOverlayDirs(listing, measured);
  } catch (err) {
    return overlayOrphansProblem(errorMessage(err), candidates.length);
  }
}
