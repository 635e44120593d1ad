import path from 'node:path';
import { historyDir } from './history.js';

/*
 * Image build recipes (for rebuild churn), by image id. An id is the hash of
 * the image's config, history included, so what it maps to never changes:
 * one GET /images/{id}/history per image, ever, instead of ~180 per run on
 * a big host (issue 14). Kept beside the run history, written only by this
 * tool, read strictly: anything off and the whole cache is dropped (then
 * rebuilt), never half-trusted.
 */
export const RECIPE_CACHE_FILE = 'image-recipes.json';
const MAX_STEPS = 1000;
const MAX_STEP_CHARS = 64 * 1024;
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

export type RecipeCache = Map<string, readonly string[]>;

export function recipeCacheFile(root: string): string {
  return path.join(historyDir(root), RECIPE_CACHE_FILE);
}

/** Pure: the cache file's text → its entries, or null when any part is not what this tool writes. */
export function parseRecipeCache(text: string): RecipeCache | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return null;
  const { v, recipes, ...rest } = doc as Record<string, unknown>;
  if (
    v !== 1 ||
    Object.keys(rest).length > 0 ||
    typeof recipes !== 'object' ||
    recipes === null ||
    Array.isArray(recipes)
  )
    return null;
  const out: RecipeCache = new Map();
  for (const [id, steps] of Object.entries(recipes)) {
    if (!IMAGE_ID.test(id) || !Array.isArray(steps) || steps.length > MAX_STEPS) return null;
    if (!steps.every((s): s is string => typeof s === 'string' && s.length <= MAX_STEP_CHARS)) return null;
    out.set(id, steps);
  }
  return out;
}

/** Sorted by id, so the same cache is always the same bytes. */
export function formatRecipeCache(cache: RecipeCache): string {
  const recipes = Object.fromEntries([...cache.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ v: 1, recipes })}\n`;
}

export interface RecipeCacheRead {
  cache: RecipeCache;
  /** Why the cache could not be used, if it could not (a missing file is no problem). */
  problem: string | null;
}
