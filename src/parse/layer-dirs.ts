/**
 * Docker's graph drivers keep one directory per layer (btrfs:
 * `<root>/btrfs/subvolumes/<id>`, overlay2: `<root>/overlay2/<id>`); layerdb
 * files name the ones in use (`image/<driver>/layerdb/sha256/<chain>/cache-id`,
 * `tmp/write-set-*\/cache-id` while a layer is being committed,
 * `mounts/<ctr>/mount-id` and `init-id`). Output of the listing script
 * (probes/layer-dirs.ts), run in the data root:
 *   `S\t08b29dd8…a9-init`   a directory in the driver's layer folder
 *   `R\t68d9uftsycaqyp4crwj3vcqqx`   a name some layerdb file references
 *   `U`   a layerdb entry this user may not search: references may be missing
 */
export interface LayerListing {
  names: string[];
  referenced: Set<string>;
  /** A U line was seen: the references are incomplete, so nothing may be called unreferenced. */
  unsearchable: boolean;
}

// Sample: `S\t444a30fa95d259a47b79963077cf7a87e4ec0ac3bc5ef28239b828bc56d809fa-init`
const LISTING_LINE = /^([SR])\t(.+)$/;

export function parseLayerListing(text: string): LayerListing {
  const names: string[] = [];
  const referenced = new Set<string>();
  let unsearchable = false;
  for (const line of text.split('\n')) {
    if (line === 'U') unsearchable = true;
    const m = LISTING_LINE.exec(line);
    if (!m) continue;
    if (m[1] === 'S') names.push(m[2]!);
    else referenced.add(m[2]!.trim());
  }
  return { names, referenced, unsearchable };
}

/**
 * Only the layer store's own names can be orphans: 64 hex digits, or that
 * plus `-init` (moby's stringid.GenerateRandomID; initMount appends `-init`).
 * Sample: `2503a6bd011789a2929df5885999717ff58960d09ae95e9c605d3eaafb64c07b-init`
 */
export const LAYER_NAME = /^[0-9a-f]{64}(-init)?$/;

/**
 * Layer directories no layerdb file references. Anything else is never a
 * candidate: BuildKit's 25-character base-36 names (some are referenced only
 * from buildkit/snapshots.db), overlay2's `l/` symlink folder, driver files.
 */
export function unreferencedLayerNames(listing: LayerListing): string[] {
  return listing.names.filter((n) => LAYER_NAME.test(n) && !listing.referenced.has(n));
}
