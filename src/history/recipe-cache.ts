import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Runner } from '../probes/exec.js';
import { inChild, problemFrom, type ReadOutcome } from '../probes/files.js';
import { effectiveUid, ENTER_FOLDER, REFUSE_NOT_REGULAR, REPLACE_FROM_STDIN, walkable } from '../probes/folder-walk.js';
import { historyDir } from './store.js';

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
  if (v !== 1 || Object.keys(rest).length > 0 || typeof recipes !== 'object' || recipes === null || Array.isArray(recipes)) return null;
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

/**
 * Pure: what reading the cache file gave (with the history, under its cap:
 * 400 images × 20 steps × 100 bytes is ~0.8 MiB) → the cache, or why there
 * is none (a missing file is no problem).
 */
export function recipeCacheFromRead(out: ReadOutcome | undefined): RecipeCacheRead {
  if (!out || out.kind === 'missing') return { cache: new Map(), problem: null };
  if (out.kind === 'refused') return { cache: new Map(), problem: out.problem.message };
  const cache = out.truncated ? null : parseRecipeCache(out.text);
  return cache ? { cache, problem: null } : { cache: new Map(), problem: `${RECIPE_CACHE_FILE} is not what this tool writes: ignored, rebuilt` };
}

/** Replace the cache file atomically, in the private history folder (created 0700 if need be). */
const WRITE_SCRIPT = `${ENTER_FOLDER}
dir=$1 name=$2 me=$3
enter "$dir" 0700 private "$me"
${REFUSE_NOT_REGULAR}
${REPLACE_FROM_STDIN}`;

/** Write the cache; a failure is a reason, never a throw (the next run looks the images up again). */
export async function writeRecipeCache(run: Runner, root: string, cache: RecipeCache, timeoutMs: number): Promise<string | null> {
  const file = recipeCacheFile(root);
  try {
    const res = await inChild(run, WRITE_SCRIPT, [walkable(historyDir(root)), RECIPE_CACHE_FILE, effectiveUid()], timeoutMs, file, formatRecipeCache(cache));
    if (res.exitCode !== 0) throw problemFrom(file, res.stderr, res.exitCode);
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}
