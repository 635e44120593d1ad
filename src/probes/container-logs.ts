import { TimeoutError, UnavailableError } from '../errors.js';
import { parseContainerLogListing, type ContainerLogFiles } from '../parse/container-logs.js';
import { lastReason } from './statfs.js';
import type { Runner } from './exec.js';

/*
 * Container logs are not in /system/df: list them from the data root. One
 * child under a deadline (the data root may sit on a mount that hangs):
 * `find` prints sizes; `read` (a shell builtin, no fork per container)
 * takes each one-line hostconfig.json for the log driver and max-size.
 */
export const LOG_LISTING_SCRIPT = `cd -- "$1" || exit 3
find . -mindepth 2 -maxdepth 3 -type f \\( -name '*-json.log*' -o -path './*/local-logs/*' \\) -printf 'L\\t%s\\t%P\\n'
for f in */hostconfig.json; do
  [ -f "$f" ] || continue
  line=; IFS= read -r line < "$f" || true
  printf 'H\\t%s\\t%s\\n' "\${f%%/*}" "$line"
done`;

export async function getContainerLogs(run: Runner, dataRoot: string, timeoutMs: number): Promise<Map<string, ContainerLogFiles>> {
  const dir = `${dataRoot.replace(/\/+$/, '')}/containers`;
  let res;
  try {
    res = await run('sh', ['-c', LOG_LISTING_SCRIPT, 'preflight-logs', dir], timeoutMs);
  } catch (err) {
    if (err instanceof TimeoutError) throw new UnavailableError(`listing ${dir} gave no answer in ${err.afterMs / 1000} s`);
    throw err;
  }
  if (res.exitCode === 3) throw new UnavailableError(`${dir} is not readable from here: ${lastReason(res.stderr)}`);
  return parseContainerLogListing(res.stdout);
}
