import type { Runner } from '../host/exec.js';
import { problemFrom } from '../host/file-problem.js';
import { effectiveUid, ENTER_FOLDER, REFUSE_NOT_REGULAR, REPLACE_FROM_STDIN, walkable } from '../host/folder-walk.js';
import { inChild } from '../host/in-child.js';
import { errorMessage } from '../model/errors.js';
import { historyDir } from '../model/history.js';
import { formatRecipeCache, RECIPE_CACHE_FILE, recipeCacheFile, type RecipeCache } from '../model/recipe-cache.js';

/** Replace the cache file atomically, in the private history folder (created 0700 if need be). */
const WRITE_SCRIPT = `${ENTER_FOLDER}
dir=$1 name=$2 me=$3
enter "$dir" 0700 private "$me"
${REFUSE_NOT_REGULAR}
${REPLACE_FROM_STDIN}`;

/** Write the cache; a failure is a reason, never a throw (the next run looks the images up again). */
export async function writeRecipeCache(
  run: Runner,
  root: string,
  cache: RecipeCache,
  timeoutMs: number,
): Promise<string | null> {
  const file = recipeCacheFile(root);
  try {
    const res = await inChild(
      run,
      WRITE_SCRIPT,
      [walkable(historyDir(root)), RECIPE_CACHE_FILE, String(effectiveUid())],
      timeoutMs,
      file,
      formatRecipeCache(cache),
    );
    if (res.exitCode !== 0) throw problemFrom(file, res.stderr, res.exitCode);
    return null;
  } catch (err) {
    return errorMessage(err);
  }
}
