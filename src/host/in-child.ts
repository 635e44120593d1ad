import { TimeoutError, errorMessage, formatSeconds } from '../model/errors.js';
import type { Runner } from './exec.js';
import { FileProblem } from './file-problem.js';

/*
 * Every file operation on a user-given or configured path runs its script in
 * a child under a deadline (see probes/files.ts for why): a timeout or a
 * failed start becomes a FileProblem naming `what`.
 */
export async function inChild(
  run: Runner,
  script: string,
  args: readonly string[],
  timeoutMs: number,
  what: string,
  input?: string,
) {
  try {
    return await run('sh', ['-c', script, 'preflight-files', ...args], Math.max(1, timeoutMs), input);
  } catch (err) {
    if (err instanceof TimeoutError)
      throw new FileProblem('ETIMEDOUT', what, `no answer in ${formatSeconds(err.afterMs)} (hung mount?)`);
    throw new FileProblem('EIO', what, errorMessage(err));
  }
}
