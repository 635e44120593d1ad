import { TimeoutError, UnavailableError } from '../errors.js';
import { parseContainerLogListing, type ContainerLogFiles } from '../parse/container-logs.js';
import { lastReason } from './statfs.js';
import type { Runner } from './exec.js';

/*
 * Container logs are not in /system/df: list them from the data root. One
 * child under a deadline (the data root may sit on a mount that hangs), two
 * programs whatever the number of containers: `find` prints sizes; one awk
 * prints every one-line hostconfig.json (log driver and max-size) with its
 * container id. Not the shell's `read`: it takes one byte per read(2), and a
 * host with 52 containers cost 76,000 calls (issue 14).
 */
export const LOG_LISTING_SCRIPT = `cd -- "$1" || exit 3
find . -mindepth 2 -maxdepth 3 -type f \\( -name '*-json.log*' -o -path './*/local-logs/*' \\) -printf 'L\\t%s\\t%P\\n'
set -- */hostconfig.json
[ -f "$1" ] || exit 0
exec awk '{ id = FILENAME; sub(/\\/.*/, "", id); printf "H\\t%s\\t%s\\n", id, $0 }' "$@"`;

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
