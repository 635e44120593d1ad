/*
 * What can go wrong with a file, named by errno, and what a read gives: shared
 * by the scripts that run in a child (files.ts) and the in-process path
 * (files-in-process.ts).
 */
export type FileProblemCode =
  'ENOENT' | 'ELOOP' | 'ENOTREG' | 'ENOSPC' | 'EROFS' | 'EACCES' | 'EDQUOT' | 'ENXIO' | 'ETIMEDOUT' | 'EIO' | 'EPERM';

export class FileProblem extends Error {
  override name = 'FileProblem';
  constructor(
    readonly code: FileProblemCode,
    readonly file: string,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

/** coreutils' strerror texts → the errno names people search for. */
const ERRNO_TEXT: [RegExp, FileProblemCode][] = [
  [/No space left on device/, 'ENOSPC'],
  [/Read-only file system/, 'EROFS'],
  [/Permission denied|Operation not permitted/, 'EACCES'],
  [/Disk quota exceeded/, 'EDQUOT'],
  [/Too many levels of symbolic links/, 'ELOOP'],
  [/No such device or address/, 'ENXIO'],
  [/No such file or directory/, 'ENOENT'],
];

export function problemFrom(file: string, stderr: string, exitCode: number): FileProblem {
  // Sample: `dd: error writing '/j/2026-11-25.md': No space left on device`
  const line = stderr.trim().split('\n').pop() ?? '';
  const detail = line.replace(/^[\w.-]+: /, '') || `exit ${exitCode}`;
  if (exitCode === 10)
    return new FileProblem('ELOOP', file, 'is a symbolic link: refused (only a regular file is written or read)');
  if (exitCode === 11)
    return new FileProblem('ENOTREG', file, 'is not a regular file (a FIFO, device or directory): refused');
  // Sample: `refused: /srv/prom belongs to uid 1000 (only root's or this user's names are followed)`.
  if (exitCode === 14)
    return new FileProblem(
      'EPERM',
      file,
      `${line.replace(/^refused: /, '').slice(0, 200)}: refused (another user could redirect the write)`,
    );
  if (exitCode === 12)
    return new FileProblem(
      'EPERM',
      file,
      'its folder is a symbolic link, not owned by this user, or writable by others: refused (only this tool may write its history)',
    );
  const code = ERRNO_TEXT.find(([re]) => re.test(detail))?.[1] ?? 'EIO';
  return new FileProblem(code, file, detail.slice(0, 200));
}

export type ReadOutcome =
  | { file: string; kind: 'ok'; text: string; truncated: boolean }
  | { file: string; kind: 'missing' }
  | { file: string; kind: 'refused'; problem: FileProblem };

/**
 * A file's last `maxBytes + 1` bytes as read: past `maxBytes` it was cut, and
 * its first, partial line is dropped (one more byte than kept tells a cut
 * file from a whole one).
 */
export function tailRead(file: string, text: string, bytes: number, maxBytes: number): ReadOutcome {
  const truncated = bytes > maxBytes;
  return { file, kind: 'ok', text: truncated ? text.slice(text.indexOf('\n') + 1) : text, truncated };
}
