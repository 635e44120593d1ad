import { normalizeReference, type ContainerStart } from '../parse/docker-events.js';
import type { DfImage } from '../parse/docker-df.js';

/**
 * Which images containers were started from, by id, from the daemon's start
 * events: a short `docker run --rm` job between two runs leaves no container
 * for /system/df to count, but its start event names the image. A reference
 * resolves to the image that holds it now (a tag moved since names the newer
 * image: the safe side); a digest reference (`app@sha256:…`) through RepoDigests.
 */
export function imagesStarted(starts: readonly ContainerStart[], images: readonly DfImage[]): string[] {
  const byRef = new Map<string, string>();
  for (const i of images) {
    for (const tag of i.repoTags) byRef.set(normalizeReference(tag) ?? tag, i.id);
    for (const digest of i.repoDigests) byRef.set(digest, i.id);
  }
  const ids = new Set<string>();
  const known = new Set(images.map((i) => i.id));
  for (const s of starts) {
    // Sample: `sha256:2ca969a1…` (a container started by the image's id).
    const id = /^sha256:[0-9a-f]{64}$/.test(s.image)
      ? s.image
      : (byRef.get(normalizeReference(s.image) ?? s.image) ?? byRef.get(s.image));
    if (id && known.has(id)) ids.add(id);
  }
  return [...ids].sort();
}
