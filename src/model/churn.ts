import type { DfImage } from '../parse/docker-df.js';
import { byText } from '../text/order.js';

/** One repository's rebuild churn: `pf-app: 4 builds in 24 h, 3 dangling versions, 12.0 MiB`. */
export interface RepositoryChurn {
  repository: string;
  builds24h: number;
  danglingVersions: number;
  danglingBytes: number;
}

export const UNKNOWN_REPOSITORY = '(unattributed)';

/** `registry:5000/team/app:1.2` → `registry:5000/team/app`; `app@sha256:…` → `app`. */
export function repositoryOf(ref: string): string {
  const at = ref.indexOf('@');
  if (at >= 0) return ref.slice(0, at);
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(0, colon) : ref;
}

/**
 * A build's recipe, comparable across rebuilds: the image history's
 * `CreatedBy` lines, oldest first, with content hashes removed. Samples:
 * `COPY stamp /stamp # buildkit`, `/bin/sh -c #(nop) COPY file:3b1e…c9 in /stamp`.
 */
export function recipeOf(history: readonly { CreatedBy?: unknown }[]): string[] {
  return [...history].reverse().map((h) =>
    String(h.CreatedBy ?? '')
      .replace(/\b(sha256:)?[0-9a-f]{64}\b/g, '#')
      .trim(),
  );
}

function commonPrefix(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n += 1;
  return n;
}

/**
 * Attribute a dangling image (no tag left) to the repository it was a
 * version of: by its digest's repository when pulled, else by the tagged
 * image built from the same recipe (longest shared history; ties broken
 * by the newest tagged image; a tie across repositories stays unattributed).
 */
export function attributeDangling(
  dangling: DfImage,
  recipe: readonly string[] | undefined,
  tagged: readonly { image: DfImage; recipe: readonly string[] }[],
): string {
  const fromDigest = dangling.repoDigests[0];
  if (fromDigest) return repositoryOf(fromDigest);
  if (!recipe || recipe.length === 0) return UNKNOWN_REPOSITORY;
  let best = 0;
  let repos = new Set<string>();
  for (const t of tagged) {
    const shared = commonPrefix(recipe, t.recipe);
    // Sharing only the base (the first step) says nothing about which app it was.
    if (shared < Math.min(2, recipe.length)) continue;
    const repo = repositoryOf(t.image.repoTags[0] ?? '');
    if (shared > best) {
      best = shared;
      repos = new Set([repo]);
    } else if (shared === best) repos.add(repo);
  }
  return repos.size === 1 ? [...repos][0]! : UNKNOWN_REPOSITORY;
}

/** Churn per repository, busiest first; `unique` gives an image's reclaimable bytes. */
export function summarizeChurn(
  images: readonly DfImage[],
  danglingRepo: ReadonlyMap<string, string>,
  unique: (i: DfImage) => number,
  nowSeconds: number,
): RepositoryChurn[] {
  const byRepo = new Map<string, RepositoryChurn>();
  const get = (repository: string) => {
    let c = byRepo.get(repository);
    if (!c) {
      c = { repository, builds24h: 0, danglingVersions: 0, danglingBytes: 0 };
      byRepo.set(repository, c);
    }
    return c;
  };
  for (const image of images) {
    const dangling = image.repoTags.length === 0;
    const repos = dangling
      ? [danglingRepo.get(image.id) ?? UNKNOWN_REPOSITORY]
      : [...new Set(image.repoTags.map(repositoryOf))];
    for (const repo of repos) {
      const c = get(repo);
      if (nowSeconds - image.created <= 86_400) c.builds24h += 1;
      if (dangling) {
        c.danglingVersions += 1;
        c.danglingBytes += unique(image);
      }
    }
  }
  return [...byRepo.values()]
    .filter((c) => c.danglingVersions > 0 || c.builds24h > 1)
    .sort(
      (a, b) => b.danglingBytes - a.danglingBytes || b.builds24h - a.builds24h || byText(a.repository, b.repository),
    );
}
