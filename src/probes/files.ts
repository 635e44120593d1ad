import { randomBytes } from 'node:crypto';
import type { Runner } from '../host/exec.js';
import { FileProblem, problemFrom, tailRead, type ReadOutcome } from '../host/file-problem.js';
import { inChild } from '../host/in-child.js';
import { pathsCannotHang, readTailsInProcess } from './files-in-process.js';
import { getMountTable } from './mountinfo.js';

export { FileProblem, problemFrom, type FileProblemCode, type ReadOutcome } from '../host/file-problem.js';

/*
 * Every file operation on a user-given or configured path (the journal, the
 * history, a config file) runs in a child under a deadline, never in this
 * process: a call stuck on a hung mount (stale NFS, a stopped FUSE daemon)
 * pins a libuv thread that process.exit() then waits for forever. A child is
 * killed, or abandoned, at the deadline, and the run ends on time. The one
 * exception: files whose every name lies on `/` or in memory, where no
 * lookup or read can hang, are read in-process, with the same checks
 * (files-in-process.ts); writes always run in children (sinks/files.ts).
 */

/** Every path lies on `/` or in memory, all the way, its last name included (the mount table unreadable: no). */
async function inProcessFor(paths: readonly string[]): Promise<boolean> {
  const table = await getMountTable().catch(() => null);
  return table !== null && pathsCannotHang(paths, table);
}

/*
 * A private folder (mode 0700, the history) must be a real directory owned by
 * this user and writable by nobody else, or anyone could plant records in it.
 * Checked before reading it; writes walk to it (folder-walk.ts).
 * Sample of stat: `0 700`.
 */
const PRIVATE_DIR_CHECK = `if [ "$mode" = 0700 ]; then
  { [ -L "$dir" ] || [ ! -O "$dir" ]; } && exit 12
  case $(stat -c %a -- "$dir") in *[2367]?|*[2367]) exit 12;; esac
fi`;

/*
 * Read the tails of several files in one child. Each file is announced by
 * the run's boundary (RS and a random token, so no file content can forge
 * it) and a tag: F, then its last `max + 1` bytes (one more than kept tells
 * a cut file from a whole one); L symlink, T not a regular file, N missing
 * (neither is opened: a FIFO would block the reader). With a private folder
 * given, a folder that fails the check is announced once (D) and nothing is
 * read. One exec per existing file.
 */
const READ_SCRIPT = `b=$1 max=$2 dir=$3 mode=$4; shift 4
if [ -n "$dir" ] && { [ -e "$dir" ] || [ -L "$dir" ]; }; then
  ${PRIVATE_DIR_CHECK.replace(/exit 12/g, '{ printf \'%sD\\n\' "$b"; exit 0; }').replace(/\n/g, '\n  ')}
fi
for f; do
  printf '%s' "$b"
  if [ -L "$f" ]; then printf 'L\\n'
  elif [ ! -e "$f" ]; then printf 'N\\n'
  elif [ ! -f "$f" ]; then printf 'T\\n'
  else printf 'F\\n'; tail -c "$((max + 1))" -- "$f"; printf '\\n'
  fi
done`;

/** Pure: the read script's output → one outcome per file, in order. */
export function parseReadOutput(
  files: readonly string[],
  stdout: string,
  maxBytes: number,
  boundary: string,
): ReadOutcome[] {
  const parts = stdout.split(boundary).slice(1);
  if (parts[0]?.startsWith('D')) {
    return files.map((file) => ({ file, kind: 'refused', problem: problemFrom(file, '', 12) }));
  }
  return files.map((file, i): ReadOutcome => {
    const part = parts[i];
    if (part === undefined)
      return {
        file,
        kind: 'refused',
        problem: new FileProblem('EIO', file, 'not read (the reader stopped early, or its output passed the cap)'),
      };
    const tag = part[0];
    if (tag === 'N') return { file, kind: 'missing' };
    if (tag === 'L') return { file, kind: 'refused', problem: problemFrom(file, '', 10) };
    if (tag === 'T') return { file, kind: 'refused', problem: problemFrom(file, '', 11) };
    // Sample: `F\n{"v":2,…}\n…\n\n`: the tag line, the bytes, our closing newline.
    const text = part.slice(2, -1);
    return tailRead(file, text, Buffer.byteLength(text), maxBytes);
  });
}

/**
 * The last `maxBytes` of each file (one child for all, or in-process where
 * their folders cannot hang), or a FileProblem for the whole read.
 * `privateDir`: the folder must pass the private check.
 */
export async function readFileTails(
  run: Runner,
  files: readonly string[],
  maxBytes: number,
  timeoutMs: number,
  privateDir = '',
): Promise<ReadOutcome[]> {
  if (files.length === 0) return [];
  if (await inProcessFor([...files, ...(privateDir ? [privateDir] : [])]))
    return readTailsInProcess(files, maxBytes, privateDir);
  const boundary = `\x1e${randomBytes(8).toString('hex')}`;
  const res = await inChild(
    run,
    READ_SCRIPT,
    [boundary, String(maxBytes), privateDir, '0700', ...files],
    timeoutMs,
    files[0]!,
  );
  if (res.exitCode !== 0 && !res.stdout) throw problemFrom(files[0]!, res.stderr, res.exitCode);
  return parseReadOutput(files, res.stdout, maxBytes, boundary);
}

/** One small file (a config): refused when it is not a regular file or larger than `maxBytes`. */
export async function readSmallFile(run: Runner, file: string, maxBytes: number, timeoutMs: number): Promise<string> {
  const [out] = await readFileTails(run, [file], maxBytes, timeoutMs);
  if (!out || out.kind === 'missing') throw new FileProblem('ENOENT', file, 'no such file');
  if (out.kind === 'refused') throw out.problem;
  if (out.truncated) throw new FileProblem('EIO', file, `larger than ${maxBytes} bytes: not a config file`);
  return out.text;
}
