import type { Runner } from './exec.js';
import { problemFrom } from './file-problem.js';
import { effectiveUid, ENTER_FOLDER, walkable } from './folder-walk.js';
import { inChild } from './in-child.js';

/** Names of the regular files in a folder of this user's (one per line; names with a newline are skipped: never ours). */
const LIST_SCRIPT = `${ENTER_FOLDER}
[ -e "$1" ] || exit 0
enter "$1" '' own "$2"
for f in *; do [ -f "$f" ] && [ ! -L "$f" ] && printf '%s\\n' "$f"; done
exit 0`;

export async function listFiles(run: Runner, dir: string, timeoutMs: number): Promise<string[]> {
  const res = await inChild(run, LIST_SCRIPT, [walkable(dir), String(effectiveUid())], timeoutMs, dir);
  if (res.exitCode !== 0) throw problemFrom(dir, res.stderr, res.exitCode);
  return res.stdout.split('\n').filter(Boolean);
}
