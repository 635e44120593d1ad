/*
 * Docker's btrfs driver keeps layers as subvolumes in `<root>/btrfs/subvolumes/<id>`.
 * Listing them against layerdb, and which names can be orphans (64-hex and
 * `-init` only; BuildKit's 25-character names never), is the graph drivers'
 * shared logic: parse/layer-dirs.ts, which overlay2 uses too.
 */
export type { LayerListing as DockerSubvolumes } from './layer-dirs.js';
export {
  parseLayerListing as parseDockerSubvolumeListing,
  unreferencedLayerNames as orphanSubvolumes,
} from './layer-dirs.js';

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
