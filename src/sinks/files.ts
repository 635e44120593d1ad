import path from 'node:path';
import type { Runner } from '../host/exec.js';
import { FileProblem, problemFrom } from '../host/file-problem.js';
import { effectiveUid, ENTER_FOLDER, REFUSE_NOT_REGULAR, REPLACE_FROM_STDIN, walkable } from '../host/folder-walk.js';
import { inChild } from '../host/in-child.js';

/*
 * Our writes to files (the journal, the history, a chart, the metrics
 * textfile): each in a child under a deadline, never in this process (see
 * probes/files.ts for why), walked to one name at a time (folder-walk.ts).
 */

/*
 * Append: walk to the folder (made, one name at a time, when missing; see
 * folder-walk.ts), refuse a symlink or anything but a regular file, then
 * one dd that reads the whole input (fullblock) and writes it in one
 * O_APPEND write(2), so concurrent runs never interleave; nofollow closes
 * the race on the link check, nonblock makes a FIFO fail (ENXIO) instead of
 * hanging. A private folder (0700: the history) must be this user's.
 */
const APPEND_SCRIPT = `${ENTER_FOLDER}
dir=$1 name=$2 mode=$3 me=$4
kind=append; [ "$mode" = 0700 ] && kind=private
enter "$dir" "$mode" "$kind" "$me"
${REFUSE_NOT_REGULAR}
umask 022
exec dd of="./$name" oflag=append,nofollow,nonblock conv=notrunc bs=4M iflag=fullblock status=none`;

/** Append `text` to `file` (creating `dir` with `mode`), or throw FileProblem. Text must stay under 4 MiB. */
export async function appendToFile(
  run: Runner,
  dir: string,
  file: string,
  text: string,
  timeoutMs: number,
  mode = '0755',
): Promise<void> {
  const res = await inChild(
    run,
    APPEND_SCRIPT,
    [walkable(dir), path.basename(file), mode, String(effectiveUid())],
    timeoutMs,
    file,
    text,
  );
  if (res.exitCode !== 0) throw problemFrom(file, res.stderr, res.exitCode);
}

/** Remove `names` (plain names) from a folder of this user's, walked to as for a write: never through another user's link. */
const REMOVE_SCRIPT = `${ENTER_FOLDER}
enter "$1" '' own "$2"
shift 2
for f; do case $f in */*|.|..) exit 1;; esac; done
rm -f -- "$@"`;

export async function removeFiles(
  run: Runner,
  dir: string,
  names: readonly string[],
  timeoutMs: number,
): Promise<void> {
  if (names.length === 0) return;
  const res = await inChild(run, REMOVE_SCRIPT, [walkable(dir), String(effectiveUid()), ...names], timeoutMs, dir);
  if (res.exitCode !== 0) throw problemFrom(dir, res.stderr, res.exitCode);
}

/*
 * Replace a user-given file (a chart, the metrics textfile) atomically (see
 * REPLACE_FROM_STDIN). The folder must exist (a typo must not create
 * folders), root's or this user's and writable by nobody else; a symlink
 * or a non-regular file at the name is refused, as for the journal.
 */
const REPLACE_SCRIPT = `${ENTER_FOLDER}
dir=$1 name=$2 me=$3
enter "$dir" '' replace "$me"
${REFUSE_NOT_REGULAR}
${REPLACE_FROM_STDIN}`;

/** Write `text` as `file`, atomically, in a child under `timeoutMs`; throws FileProblem (`noFolder` says why its folder must exist). */
export async function replaceFile(
  run: Runner,
  file: string,
  text: string,
  timeoutMs: number,
  noFolder = 'its folder does not exist',
): Promise<void> {
  // dir and name go split: $(dirname) would strip a folder name's trailing newlines.
  const name = path.basename(file);
  const res = await inChild(
    run,
    REPLACE_SCRIPT,
    [walkable(path.dirname(file)), name, String(effectiveUid())],
    timeoutMs,
    file,
    text,
  );
  if (res.exitCode === 13) throw new FileProblem('ENOENT', file, noFolder);
  if (res.exitCode !== 0) throw problemFrom(file, res.stderr, res.exitCode);
}
