/**
 * Docker's btrfs driver keeps layers as subvolumes in `<root>/btrfs/subvolumes/<id>`;
 * layerdb files name the ones in use (`sha256/<chain>/cache-id`,
 * `mounts/<ctr>/mount-id`, `init-id`). Output of the listing script
 * (probes/btrfs.ts), run in the data root:
 *   `S\t08b29dd8…a9-init`   a subvolume directory
 *   `R\t68d9uftsycaqyp4crwj3vcqqx`   a name some layerdb file references
 */
export interface DockerSubvolumes {
  names: string[];
  referenced: Set<string>;
}

// Sample: `S\t444a30fa95d259a47b79963077cf7a87e4ec0ac3bc5ef28239b828bc56d809fa-init`
const LISTING_LINE = /^([SR])\t(.+)$/;

export function parseDockerSubvolumeListing(text: string): DockerSubvolumes {
  const names: string[] = [];
  const referenced = new Set<string>();
  for (const line of text.split('\n')) {
    const m = LISTING_LINE.exec(line);
    if (!m) continue;
    if (m[1] === 'S') names.push(m[2]!);
    else referenced.add(m[2]!.trim());
  }
  return { names, referenced };
}

/** Only the layer store's own names can be orphans: 64 hex digits, or that plus `-init`. */
const LAYER_NAME = /^[0-9a-f]{64}(-init)?$/;

/**
 * Subvolumes no layerdb file references. BuildKit's 25-character names are
 * never candidates: some are referenced only from buildkit/snapshots.db.
 */
export function orphanSubvolumes(listing: DockerSubvolumes): string[] {
  return listing.names.filter((n) => LAYER_NAME.test(n) && !listing.referenced.has(n));
}

/**
 * `btrfs subvolume list -d PATH`: subvolumes deleted but not yet cleaned.
 * Sample: `ID 258 gen 7 top level 0 path DELETED`
 */
export function parseDeletedSubvolumes(text: string): number[] {
  const ids: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^ID (\d+) gen \d+ top level \d+ path /.exec(line);
    if (m) ids.push(Number(m[1]));
  }
  return ids;
}

/**
 * `btrfs subvolume list PATH` → id by path. Sample: `ID 256 gen 7 top level 5 path docker/btrfs/subvolumes/08b2…`
 */
export function parseSubvolumeList(text: string): Map<string, number> {
  const byPath = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^ID (\d+) gen \d+ (?:cgen \d+ )?top level \d+ (?:otime .+? )?path (.+)$/.exec(line);
    if (m) byPath.set(m[2]!, Number(m[1]));
  }
  return byPath;
}
