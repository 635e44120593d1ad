import type { DfBuildRecord, DfImage } from '../parse/docker-df.js';
import { byText } from '../text/order.js';

/** One repository's rebuild churn: `pf-app: 4 builds in 24 h, 3 dangling versions, 12.0 MiB`. */
export interface RepositoryChurn {
  repository: string;
  builds24h: number;
  /** Old versions kept: dangling images (graph-driver store) or superseded BuildKit records (containerd store, see `keptIn`). */
  danglingVersions: number;
  danglingBytes: number;
  /** Where the old versions stay: the containerd store leaves no dangling image, only BuildKit records. */
  keptIn?: 'build-cache';
}

export const UNKNOWN_REPOSITORY = '(unattributed)';

/** A tagged image with its build recipe (`recipeOf` its history). */
export interface TaggedRecipe {
  image: DfImage;
  recipe: readonly string[];
}

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

/**
 * A build step as BuildKit's record describes it, comparable with a history
 * line: `[stage-0 3/4] COPY stamp /stamp` → `COPY stamp /stamp`;
 * `mount / from exec /bin/sh -c cat /stamp` → `/bin/sh -c cat /stamp`.
 */
export function recordStep(description: string): string {
  return description
    .replace(/^\[[^\]]*\] /, '')
    .replace(/^mount \/ from exec /, '')
    .trim();
}

/**
 * The same step in an image's history (`recipeOf`): `COPY stamp /stamp # buildkit`
 * → `COPY stamp /stamp`; `RUN |1 V=2 /bin/sh -c make # buildkit` → `/bin/sh -c make`.
 */
export function historyStep(line: string): string {
  return line
    .replace(/ # buildkit$/, '')
    .replace(/^RUN (\|\d+ (\S+=\S* )*)?/, '')
    .trim();
}

const epochSeconds = (iso: string | null) => (iso ? Date.parse(iso) / 1000 : NaN);

/**
 * Churn on the containerd image store, where a rebuilt tag leaves no
 * dangling image: each rebuild leaves a new BuildKit record for every step
 * whose input changed. Records of one step are versions of it; the step is
 * tied to the repository whose tagged image's history holds it (a step in
 * several repositories' histories, such as a shared base, says nothing).
 * Old versions = all but the newest record of a step; their bytes are what
 * pruning them frees (records in use or shared with images excluded).
 */
export function summarizeRecordChurn(
  records: readonly DfBuildRecord[],
  tagged: readonly TaggedRecipe[],
  nowSeconds: number,
): RepositoryChurn[] {
  const reposOfStep = new Map<string, Set<string>>();
  for (const { image, recipe } of tagged)
    for (const line of recipe) {
      const step = historyStep(line);
      const repos = reposOfStep.get(step) ?? new Set<string>();
      for (const tag of image.repoTags) repos.add(repositoryOf(tag));
      reposOfStep.set(step, repos);
    }
  const versions = new Map<string, DfBuildRecord[]>();
  for (const r of records) {
    if (r.type !== 'regular' || !r.description) continue;
    const step = recordStep(r.description);
    versions.set(step, [...(versions.get(step) ?? []), r]);
  }
  const byRepo = new Map<string, RepositoryChurn>();
  for (const [step, recs] of versions) {
    if (recs.length < 2) continue;
    const repos = reposOfStep.get(step);
    const repository = repos?.size === 1 ? [...repos][0]! : UNKNOWN_REPOSITORY;
    const newestFirst = [...recs].sort(
      (a, b) => (epochSeconds(b.createdAt) || 0) - (epochSeconds(a.createdAt) || 0) || byText(a.id, b.id),
    );
    const old = newestFirst.slice(1);
    const c = byRepo.get(repository) ?? {
      repository,
      builds24h: 0,
      danglingVersions: 0,
      danglingBytes: 0,
      keptIn: 'build-cache' as const,
    };
    // A build makes one record per changed step: the busiest step counts the builds.
    c.builds24h = Math.max(c.builds24h, recs.filter((r) => nowSeconds - epochSeconds(r.createdAt) <= 86_400).length);
    c.danglingVersions = Math.max(c.danglingVersions, old.length);
    c.danglingBytes += old.filter((r) => !r.inUse && !r.shared).reduce((a, r) => a + Math.max(0, r.size), 0);
    byRepo.set(repository, c);
  }
  return [...byRepo.values()].sort(
    (a, b) => b.danglingBytes - a.danglingBytes || b.builds24h - a.builds24h || byText(a.repository, b.repository),
  );
}
