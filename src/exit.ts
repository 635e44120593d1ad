import { ApplyLockedError, UsageError, errorMessage } from './errors.js';
import { EXIT, type Io } from './io.js';

/** The one place typed errors become exit codes (and one line on stderr). */
export function exitCodeFor(err: unknown, io: Io): number {
  if (err instanceof UsageError) {
    io.stderr(`preflight: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof ApplyLockedError) {
    io.stderr(`preflight: ${err.message}\n`);
    return EXIT.applyLocked;
  }
  io.stderr(`preflight: internal error: ${errorMessage(err)}\n`);
  return EXIT.internal;
}

/** Flush stdout, then exit even if an abandoned probe (a killed child stuck in statfs, a silent socket) still holds a handle. */
export function exitWhenFlushed(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};
