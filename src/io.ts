/** Exit codes, mapped from typed errors in cli.ts only. */
export const EXIT = { ok: 0, internal: 1, usage: 2, wouldNotFit: 3, applyLocked: 4 } as const;

/** Where a command writes: injected so tests can capture it. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}
