import { TimeoutError, UnavailableError } from '../model/errors.js';
import { parseContainerLogListing, parseDeniedFolders, type ContainerLogFiles } from '../parse/container-logs.js';
import { BLOCKED_FN, unreadable, unreadableFolders } from './blocked.js';
import type { Runner } from '../host/exec.js';

/*
 * Container logs are not in /system/df: list them from the data root. One
 * child under a deadline (the data root may sit on a mount that hangs),
 * a fixed number of programs whatever the number of containers: `find`
 * prints sizes; one `grep -m1` prints the first line of every readable
 * hostconfig.json (log driver and max-size) with its container id. Not the
 * shell's `read`: it takes one byte per read(2), and a host with 52
 * containers cost 76,000 calls (issue 14). Run as a user who may not read
 * everything (uid 1000 in the docker group): the data root or `containers`
 * refused is one `E` line (exit 3), a container folder refused is a `D`
 * line, a hostconfig.json refused a `U` line; nothing per file on stderr is read.
 */
export const LOG_LISTING_SCRIPT = `${BLOCKED_FN}
cd -- "$1" 2>/dev/null || blocked "$1"
cd containers 2>/dev/null || blocked "$1/containers"
[ -r . ] || blocked "$1/containers" 'Permission denied'
for d in */; do
  [ -d "$d" ] && { [ ! -x "$d" ] || [ ! -r "$d" ]; } && printf 'D\\t%s\\n' "\${d%/}"
done
find . -mindepth 2 -maxdepth 3 -type f \\( -name '*-json.log*' -o -path './*/local-logs/*' \\) -printf 'L\\t%s\\t%P\\n' 2>/dev/null
set --
for f in */hostconfig.json; do
  [ -f "$f" ] || continue
  if [ -r "$f" ]; then set -- "$@" "$f"; else printf 'U\\t%s\\n' "\${f%%/*}"; fi
done
# Sample: \`0b3d…/hostconfig.json:{"Binds":null,"LogConfig":{…}}\` → \`H<TAB>0b3d…<TAB>{…}\`; a file gone meanwhile is skipped (-s).
[ $# -eq 0 ] || grep -s -H -m1 '' "$@" | sed 's#^\\([^/]*\\)/hostconfig\\.json:#H\\t\\1\\t#'
exit 0`;

export async function getContainerLogs(
  run: Runner,
  dataRoot: string,
  timeoutMs: number,
): Promise<Map<string, ContainerLogFiles>> {
  const root = dataRoot.replace(/\/+$/, '') || '/';
  let res;
  try {
    res = await run('sh', ['-c', LOG_LISTING_SCRIPT, 'preflight-logs', root], timeoutMs);
  } catch (err) {
    if (err instanceof TimeoutError)
      throw new UnavailableError(`listing ${root}/containers gave no answer in ${err.afterMs / 1000} s`);
    throw err;
  }
  if (res.exitCode === 3) throw unreadable(res.stdout, `${root}/containers`);
  // Totals that leave out the folders we could not enter would read as the truth: none at all.
  const denied = parseDeniedFolders(res.stdout);
  if (denied.length) throw unreadableFolders(`${root}/containers`, denied.length);
  return parseContainerLogListing(res.stdout);
}
