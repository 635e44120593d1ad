import type { CleanupRule } from './rules.js';
import { MAX_TAG_LENGTH, matchesTag, type TagPattern } from './tag-pattern.js';

/** What clean-up may touch, and when: the operator's protection policy. */
export interface RemediationPolicy {
  /** A dangling image younger than this is kept (a build may still be using it). */
  danglingImageMinAgeMs: number;
  /** A container that exited less than this ago is kept (someone may want its logs or to restart it). */
  exitedContainerGraceMs: number;
  /** Build cache used more recently than this is kept. */
  buildCacheMinAgeMs: number;
  /** An unused image last seen in use (or created) more recently than this is kept. */
  unusedImageMinAgeMs: number;
  /** Build cache kept whatever its age, as BuildKit's own reservedSpace. */
  buildCacheReserveBytes: number | null;
  /** Objects carrying any of these labels (`key` or `key=value`) are never planned. */
  keepLabels: string[];
  /** Images whose tag matches any of these (regular expressions, of the kind tag-pattern.ts compiles) are never planned. */
  keepImagePatterns: string[];
  /** Clean up to below this used % (a low watermark under the 80% trigger, as kubelet frees 85 → 80). */
  targetPct: number;
  /** The operator's clean-up rules for the host's own files (rules.ts). */
  rules: CleanupRule[];
}

const HOUR = 3_600_000;

/**
 * Defaults a careful operator would choose: nothing a build or a person may
 * still be using (one hour for dangling images, a day for exited containers
 * and build cache, a week for unused images), a build-cache reserve as
 * BuildKit's (10% of the filesystem, here at most 10 GiB), and a label that
 * protects anything.
 */
export const DEFAULT_POLICY: RemediationPolicy = Object.freeze({
  danglingImageMinAgeMs: HOUR,
  exitedContainerGraceMs: 24 * HOUR,
  buildCacheMinAgeMs: 24 * HOUR,
  unusedImageMinAgeMs: 7 * 24 * HOUR,
  buildCacheReserveBytes: null,
  keepLabels: ['storage-preflight.keep'],
  keepImagePatterns: [],
  targetPct: 75,
  rules: [],
}) as RemediationPolicy;

export const MAX_BUILD_CACHE_RESERVE = 10 * 1024 ** 3;

/** BuildKit's default reservedSpace: 10% of the filesystem (capped here). */
export function buildCacheReserve(policy: RemediationPolicy, capacityBytes: number): number {
  return policy.buildCacheReserveBytes ?? Math.min(MAX_BUILD_CACHE_RESERVE, Math.floor(capacityBytes / 10));
}

/** `--min-age DURATION` overrides every minimum age and grace period (`0s` in tests, `2h`). */
export function withMinAge(policy: RemediationPolicy, ms: number): RemediationPolicy {
  return {
    ...policy,
    danglingImageMinAgeMs: ms,
    exitedContainerGraceMs: ms,
    buildCacheMinAgeMs: ms,
    unusedImageMinAgeMs: ms,
  };
}

/** Sample: `keep=true` matches label keep with value true; `keep` matches any value. */
export function protectedByLabel(labels: Record<string, string>, keep: readonly string[]): string | null {
  for (const k of keep) {
    const eq = k.indexOf('=');
    const key = eq < 0 ? k : k.slice(0, eq);
    if (key in labels && (eq < 0 || labels[key] === k.slice(eq + 1))) return k;
  }
  return null;
}

/**
 * The first keep pattern that matches one of the tags (linear time: see
 * tag-pattern.ts). A tag longer than Docker allows is not matched but kept:
 * nothing can tell whether a pattern meant it.
 */
export function protectedByPattern(tags: readonly string[], patterns: readonly TagPattern[]): string | null {
  for (const p of patterns) {
    if (tags.some((t) => t.length > MAX_TAG_LENGTH || matchesTag(p, t))) return p.source;
  }
  return null;
}
