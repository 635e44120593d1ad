import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { MountEntry } from '../parse/mountinfo.js';
import { FileProblem, problemFrom, tailRead, type FileProblemCode, type ReadOutcome } from '../host/file-problem.js';
import { walkPath } from '../host/safe-lookup.js';

/*
 * The journal's reads without a child, where nothing can hang: files whose
 * every name, their own included, lies on `/` or in memory (walkPath). The
 * same checks and outcomes as READ_SCRIPT in files.ts; each of its execs cost
 * 10-30 ms here, and a week of history took eight (one `tail` a day file).
 * Writes stay in children: a frozen `/` (fsfreeze, a snapshot agent) blocks
 * write(2), and a child is what a deadline can abandon.
 */

/** The most a read returns, as the child's output cap (MAX_OUTPUT_BYTES in exec.ts). */
const MAX_READ_BYTES = 64 * 1024 * 1024;

/** Every path can be followed, and opened, without a child (a relative one from here, `..` and all, as the kernel would). */
export function pathsCannotHang(paths: readonly string[], table: readonly MountEntry[]): boolean {
  try {
    return paths.every((p) => walkPath(path.isAbsolute(p) ? p : `${process.cwd()}/${p}`, table).kind !== 'unsafe');
  } catch {
    return false;
  }
}

/** What a read may meet (a link or a FIFO put there after the checks: ELOOP, ENXIO; a file removed: ENOENT). */
const ERRNO: Partial<Record<string, FileProblemCode>> = {
  EACCES: 'EACCES',
  EPERM: 'EACCES',
  ELOOP: 'ELOOP',
  ENXIO: 'ENXIO',
  ENOENT: 'ENOENT',
};
/** coreutils' words for them, as the scripts' problems say. */
const STRERROR: Partial<Record<FileProblemCode, string>> = {
  EACCES: 'Permission denied',
  ELOOP: 'Too many levels of symbolic links',
  ENXIO: 'No such device or address',
  ENOENT: 'No such file or directory',
};

function problemOf(file: string, err: unknown): FileProblem {
  if (err instanceof FileProblem) return err;
  const code = ERRNO[(err as NodeJS.ErrnoException).code ?? ''] ?? 'EIO';
  return new FileProblem(code, file, `${file}: ${STRERROR[code] ?? (err as Error).message}`);
}

/** PRIVATE_DIR_CHECK: a real folder, ours, writable by nobody else; false when it fails. */
function privateFolderOk(dir: string): boolean {
  const st = lstatSync(dir);
  return !st.isSymbolicLink() && st.uid === process.geteuid?.() && (st.mode & 0o022) === 0;
}

/** The end of a regular file, as READ_SCRIPT's `tail -c` gives it. */
function tailOf(file: string, maxBytes: number): ReadOutcome {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st) return { file, kind: 'missing' };
  if (st.isSymbolicLink()) return { file, kind: 'refused', problem: problemFrom(file, '', 10) };
  if (!st.isFile()) return { file, kind: 'refused', problem: problemFrom(file, '', 11) };
  // NOFOLLOW and NONBLOCK close the race with the checks above: a link or a FIFO put there since fails, never blocks.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const size = fstatSync(fd).size;
    const want = Math.min(size, maxBytes + 1);
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, size - want + got);
      if (n === 0) break;
      got += n;
    }
    return tailRead(file, buf.subarray(0, got).toString('utf8'), got, maxBytes);
  } finally {
    closeSync(fd);
  }
}

/** readFileTails' outcomes, read here (the files and the folder must pass pathsCannotHang). */
export function readTailsInProcess(files: readonly string[], maxBytes: number, privateDir: string): ReadOutcome[] {
  const dirThere = privateDir !== '' && lstatSync(privateDir, { throwIfNoEntry: false }) !== undefined;
  if (dirThere && !privateFolderOk(privateDir))
    return files.map((file) => ({ file, kind: 'refused', problem: problemFrom(file, '', 12) }));
  let total = 0;
  return files.map((file): ReadOutcome => {
    if (total > MAX_READ_BYTES)
      return {
        file,
        kind: 'refused',
        problem: new FileProblem('EIO', file, 'not read (the reader stopped early, or its output passed the cap)'),
      };
    try {
      const out = tailOf(file, maxBytes);
      if (out.kind === 'ok') total += out.text.length;
      return out;
    } catch (err) {
      return { file, kind: 'refused', problem: problemOf(file, err) };
    }
  });
}
