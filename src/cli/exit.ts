import { ApplyLockedError, InterruptedError, RunLockedError, UsageError, errorMessage } from '../model/errors.js';
import { EXIT, type Io } from '../commands/io.js';

/** The one place typed errors become exit codes (and one line on stderr). */
export function exitCodeFor(err: unknown, io: Io): number {
  const code =
    err instanceof UsageError
      ? EXIT.usage
      : err instanceof ApplyLockedError
        ? EXIT.applyLocked
        : err instanceof RunLockedError
          ? EXIT.runLocked
          : err instanceof InterruptedError
            ? err.signal === 'SIGINT'
              ? EXIT.sigint
              : EXIT.sigterm
            : null;
  io.stderr(`preflight: ${code === null ? 'internal error: ' : ''}${errorMessage(err)}\n`);
  return code ?? EXIT.internal;
}

/** Flush stdout, then exit even if an abandoned probe (a killed child stuck in statfs, a silent socket) still holds a handle. */
export function exitWhenFlushed(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  terminal: Boolean(process.stdout.isTTY && process.stderr.isTTY),
};
