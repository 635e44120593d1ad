import path from 'node:path';
import type { Runner } from '../host/exec.js';
import { FileProblem, problemFrom } from '../host/file-problem.js';
import { effectiveUid, ENTER_FOLDER, REFUSE_NOT_REGULAR, walkable } from '../host/folder-walk.js';
import { inChild } from '../host/in-child.js';

/*
 * A file of the host's checkout, replaced atomically as files.ts replaceFile
 * does, but keeping the file's mode: the host's scripts are tracked by git,
 * and an install must not show up as a mode change (preflight.sh is 0755).
 */
const REPLACE_KEEPING_MODE = `${ENTER_FOLDER}
dir=$1 name=$2 me=$3
enter "$dir" '' replace "$me"
${REFUSE_NOT_REGULAR}
mode=$(stat -c %a -- "$name" 2>/dev/null) || mode=644
tmp=$(mktemp -- "./.$name.XXXXXXXXXXXX") || exit 1
if cat > "$tmp" && chmod "$mode" -- "$tmp" && mv -f -T -- "$tmp" "$name"; then printf 'written\\n'; exit 0; fi
rm -f -- "$tmp"
exit 1`;

/** Write `text` as `file` (its folder must exist), atomically, keeping an existing file's mode; throws FileProblem. */
export async function replaceHostFile(run: Runner, file: string, text: string, timeoutMs: number): Promise<void> {
  const res = await inChild(
    run,
    REPLACE_KEEPING_MODE,
    [walkable(path.dirname(file)), path.basename(file), String(effectiveUid())],
    timeoutMs,
    file,
    text,
  );
  if (res.exitCode === 13) throw new FileProblem('ENOENT', file, 'its folder does not exist');
  if (res.exitCode !== 0) throw problemFrom(file, res.stderr, res.exitCode);
}
