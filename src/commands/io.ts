/** Exit codes: what a command returns; typed errors become one in cli/exit.ts only. */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  wouldNotFit: 3,
  applyLocked: 4,
  runLocked: 5,
  /** host check: a point of the contract with the host is broken. */
  hostBroken: 6,
  sigint: 130,
  sigterm: 143,
} as const;

/** Where a command writes: injected so tests can capture it. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are both terminals: a person is watching (progress lines are for them only). */
  terminal?: boolean;
}
