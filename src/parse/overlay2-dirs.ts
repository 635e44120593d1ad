import { parseLayerListing, unreferencedLayerNames, type LayerListing } from './layer-dirs.js';

/*
 * overlay2 keeps each layer in `<root>/overlay2/<id>` (`diff/`, `link`,
 * `lower`, `work/`) and one short symlink per layer in `overlay2/l/`. Names
 * seen on Docker 20.10 here: layers BuildKit built, and BuildKit's own
 * snapshots (some referenced only by buildkit/snapshots.db), are
 * 25-character base-36 (`aymasim0rwnthypw47qqxhqkk`); layers committed or
 * built by the classic builder (and pulled or loaded) are 64 hex; a
 * container has `<64 hex>` and `<64 hex>-init`; a BuildKit step that mounts
 * an image gets a 64-hex layer named by `layerdb/mounts/<BuildKit id>/mount-id`.
 * The listing and the candidate rule are shared with btrfs
 * (parse/layer-dirs.ts): 64-hex and `-init` names no layerdb file references.
 */
export const parseOverlayDirListing: (text: string) => LayerListing = parseLayerListing;

/** du is bounded: the first 50 candidates by name are measured, the rest counted. */
export const MAX_MEASURED_DIRS = 50;

/**
 * The daemon creates a layer's directory before any file references it (a
 * pull or load extracts the whole layer first; a container's layers exist a
 * moment before its mount-id). Extraction keeps changing the tree, so a
 * candidate with anything changed in the last hour may be a layer still
 * being written: held back, not listed.
 */
export const RECENT_SECONDS = 3600;

/** Unreferenced 64-hex / `-init` directories, by name: what du measures, in this order. */
export function overlayCandidates(listing: LayerListing): string[] {
  return unreferencedLayerNames(listing).sort();
}

export interface OverlayDirSize {
  name: string;
  /** `du -x -s -B1`: bytes of the blocks the tree holds. */
  bytes: number;
  /** `du --time`: newest modification time anywhere in the tree (epoch seconds). */
  newestChange: number;
}

export interface OverlayDirSizes {
  /** The child's clock when du started (epoch seconds); null when it printed none. */
  now: number | null;
  sizes: OverlayDirSize[];
}

// Sample: `N\t1795584471`
const NOW_LINE = /^N\t(\d+)$/;
// Sample: `5251072\t1795577271\tb88c19ede66acc87ebcfd95e6a4a63d9f0ea07cd44c8cb66e6a0b38b0c9b3ddc`
const DU_LINE = /^(\d+)\t(\d+)\t([0-9a-f]{64}(?:-init)?)$/;

/** Output of the du script (probes/overlay2.ts): `N\t<now>`, then `du -x -s -B1 --time --time-style=+%s` rows. */
export function parseOverlayDirSizes(text: string): OverlayDirSizes {
  let now: number | null = null;
  const sizes: OverlayDirSize[] = [];
  for (const line of text.split('\n')) {
    const n = NOW_LINE.exec(line);
    if (n) {
      now = Number(n[1]);
      continue;
    }
    const m = DU_LINE.exec(line);
    if (m) sizes.push({ name: m[3]!, bytes: Number(m[1]), newestChange: Number(m[2]) });
  }
  return { now, sizes };
}

export interface OverlayOrphans {
  /** Largest first. */
  dirs: { name: string; bytes: number }[];
  bytes: number;
  /** Candidates past the du bound: not measured this run, so not listed. */
  unmeasured: number;
  /** Candidates changed within RECENT_SECONDS: possibly a layer being written, so not listed. */
  recent: number;
  /** Why the check could not finish this run, or null. */
  problem: string | null;
}

/**
 * Orphans: candidates du measured whose trees have not changed for an hour.
 * A candidate du did not find was removed since the listing: not an orphan.
 */
export function orphanOverlayDirs(
  listing: LayerListing,
  measured: OverlayDirSizes & { now: number },
  max = MAX_MEASURED_DIRS,
): OverlayOrphans {
  const candidates = overlayCandidates(listing);
  const byName = new Map(measured.sizes.map((s) => [s.name, s]));
  const dirs: OverlayOrphans['dirs'] = [];
  let recent = 0;
  for (const name of candidates.slice(0, max)) {
    const size = byName.get(name);
    if (!size) continue;
    if (size.newestChange > measured.now - RECENT_SECONDS) recent += 1;
    else dirs.push({ name, bytes: size.bytes });
  }
  dirs.sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
  return {
    dirs,
    bytes: dirs.reduce((a, d) => a + d.bytes, 0),
    unmeasured: Math.max(0, candidates.length - max),
    recent,
    problem: null,
  };
}

/** The check could not finish: nothing is listed, the reason is. */
export function overlayOrphansProblem(problem: string, unmeasured = 0): OverlayOrphans {
  return { dirs: [], bytes: 0, unmeasured, recent: 0, problem };
}
