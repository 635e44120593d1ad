import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { MountEntry } from '../parse/mountinfo.js';
import { FileProblem, problemFrom, type FileProblemCode, type ReadOutcome } from './file-problem.js';
import { walkPath } from './safe-lookup.js';

/*
 * The journal's reads and appends without a child, where nothing can hang:
 * a folder whose every name lies on `/` or in memory (walkPath). The same
 * checks and outcomes as the scripts in files.ts, name for name; each of
 * those children cost 10-30 ms of exec here, and a week of history took
 * eight (one `tail` a day file).
 */

/** Pure: the folder's path can be followed, and what it holds opened, without a child. */
export function folderCannotHang(dir: string, table: readonly MountEntry[]): boolean {
  try {
    return walkPath(path.resolve(dir), table).kind !== 'unsafe';
  } catch {
    return false;
  }
}

const ERRNO: Partial<Record<string, FileProblemCode>> = {
  ENOSPC: 'ENOSPC', EROFS: 'EROFS', EACCES: 'EACCES', EPERM: 'EACCES', EDQUOT: 'EDQUOT', ELOOP: 'ELOOP', ENXIO: 'ENXIO', ENOENT: 'ENOENT',
};
/** coreutils' words for them, as the scripts' problems say. */
const STRERROR: Partial<Record<FileProblemCode, string>> = {
  ENOSPC: 'No space left on device', EROFS: 'Read-only file system', EACCES: 'Permission denied', EDQUOT: 'Disk quota exceeded',
  ELOOP: 'Too many levels of symbolic links', ENXIO: 'No such device or address', ENOENT: 'No such file or directory',
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

/** The last `maxBytes + 1` bytes of a regular file (one more than kept tells a cut file from a whole one). */
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
    const text = buf.subarray(0, got).toString('utf8');
    const truncated = got > maxBytes;
    return { file, kind: 'ok', text: truncated ? text.slice(text.indexOf('\n') + 1) : text, truncated };
  } finally {
    closeSync(fd);
  }
}

/** readFileTails' outcomes, read here (the folder must pass folderCannotHang). */
export function readTailsInProcess(files: readonly string[], maxBytes: number, privateDir: string): ReadOutcome[] {
  const dirThere = privateDir !== '' && lstatSync(privateDir, { throwIfNoEntry: false }) !== undefined;
  if (dirThere && !privateFolderOk(privateDir)) return files.map((file) => ({ file, kind: 'refused', problem: problemFrom(file, '', 12) }));
  return files.map((file) => {
    try {
      return tailOf(file, maxBytes);
    } catch (err) {
      return { file, kind: 'refused', problem: problemOf(file, err) };
    }
  });
}

/**
 * APPEND_SCRIPT, here: the folder made when missing (`mode` on the last one
 * only, as `mkdir -p -m`), the private check for 0700, a symlink or a
 * non-regular file refused, then the text in one O_APPEND write(2).
 */
export function appendInProcess(dir: string, file: string, text: string, mode: string): void {
  try {
    if (!lstatSync(dir, { throwIfNoEntry: false })) {
      mkdirSync(path.dirname(dir), { recursive: true });
      try {
        mkdirSync(dir, { mode: parseInt(mode, 8) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    if (mode === '0700' && !privateFolderOk(dir)) throw problemFrom(file, '', 12);
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) throw problemFrom(file, '', 10);
    if (st && !st.isFile()) throw problemFrom(file, '', 11);
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
    try {
      const bytes = Buffer.from(text);
      // One write(2) for a record (a short write on a regular file means the disk filled: the rest is tried, and fails).
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw problemOf(file, err);
  }
}
