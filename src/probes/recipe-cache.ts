import type { ReadOutcome } from '../host/file-problem.js';
import { parseRecipeCache, RECIPE_CACHE_FILE, type RecipeCacheRead } from '../model/recipe-cache.js';

/**
 * Pure: what reading the cache file gave (with the history, under its cap:
 * 400 images × 20 steps × 100 bytes is ~0.8 MiB) → the cache, or why there
 * is none (a missing file is no problem).
 */
export function recipeCacheFromRead(out: ReadOutcome | undefined): RecipeCacheRead {
  if (!out || out.kind === 'missing') return { cache: new Map(), problem: null };
  if (out.kind === 'refused') return { cache: new Map(), problem: out.problem.message };
  const cache = out.truncated ? null : parseRecipeCache(out.text);
  return cache
    ? { cache, problem: null }
    : { cache: new Map(), problem: `${RECIPE_CACHE_FILE} is not what this tool writes: ignored, rebuilt` };
}
