/**
 * GET /events with `until`: one JSON object a line, then the stream ends.
 * Sample line (20.10, API 1.41; the same shape on 28.5):
 * `{"status":"start","id":"d194…","from":"pf-job:1","Type":"container","Action":"start","Actor":{"ID":"d194…","Attributes":{"image":"pf-job:1","name":"awesome_mendeleev"}},"scope":"local","time":1796583397,"timeNano":1796583397273127356}`
 */

export interface ContainerStart {
  /** Unix seconds. */
  time: number;
  /** The image as the container was started from it: a reference (`pf-job:1`) or an id (`sha256:…`). */
  image: string;
  container: string;
}

/** Containers' start events; a line that is not one (or not JSON) is skipped. */
export function parseContainerStarts(ndjson: string): ContainerStart[] {
  const out: ContainerStart[] = [];
  for (const line of ndjson.split('\n')) {
    if (!line.trim()) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (e?.Type !== 'container' || e.Action !== 'start') continue;
    const actor = (e.Actor ?? {}) as { ID?: unknown; Attributes?: { image?: unknown } };
    const image = typeof actor.Attributes?.image === 'string' ? actor.Attributes.image : e.from;
    if (typeof image !== 'string' || typeof e.time !== 'number') continue;
    out.push({ time: e.time, image, container: typeof actor.ID === 'string' ? actor.ID : '' });
  }
  return out;
}

/**
 * The image reference as the daemon lists it in RepoTags: `docker.io/library/app`
 * → `app:latest`, `registry:5000/team/app:1` kept; null for a digest reference.
 */
export function normalizeReference(ref: string): string | null {
  if (ref.includes('@')) return null;
  let name = ref.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
  const slash = name.lastIndexOf('/');
  if (name.lastIndexOf(':') <= slash) name = `${name}:latest`;
  return name;
}
