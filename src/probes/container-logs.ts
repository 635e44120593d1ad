import { TimeoutError, UnavailableError } from '../errors.js';
import { parseContainerLogListing, parseDeniedFolders, type ContainerLogFiles } from '../parse/container-logs.js';
import { BLOCKED_FN, unreadable, unreadableFolders } from './blocked.js';
import type { Runner } from './exec.js';

/*
 * Container logs are not in /system/df: list them from the data root. One
 * child under a deadline (the data root may sit on a mount that hangs):
 * `find` prints sizes; `read` (a shell builtin, no fork per container)
 * takes each one-line hostconfig.json for the log driver and max-size.
 * Run as a user who may not read everything (uid 1000 in the docker group):
 * the data root or `containers` refused is one `E` line (exit 3), a
 * container folder refused is a `D` line, a hostconfig.json refused a `U`
 * line; nothing per file on stderr is read.
 */
export const LOG_LISTING_SCRIPT = `${BLOCKED_FN}
cd -- "$1" 2>/dev/null || blocked "$1"
cd containers 2>/dev/null || blocked "$1/containers"
[ -r . ] || blocked "$1/containers" 'Permission denied'
for d in */; do
  [ -d "$d" ] && { [ ! -x "$d" ] || [ ! -r "$d" ]; } && printf 'D\\t%s\\n' "\${d%/}"
done
find . -mindepth 2 -maxdepth 3 -type f \\( -name '*-json.log*' -o -path './*/local-logs/*' \\) -printf 'L\\t%s\\t%P\\n' 2>/dev/null
for f in */hostconfig.json; do
  [ -f "$f" ] || continue
  [ -r "$f" ] || { printf 'U\\t%s\\n' "\${f%%/*}"; continue; }
  line=; IFS= read -r line < "$f" || true
  printf 'H\\t%s\\t%s\\n' "\${f%%/*}" "$line"
done
exit 0`;

export async function getContainerLogs(run: Runner, dataRoot: string, timeoutMs: number): Promise<Map<string, ContainerLogFiles>> {
  const root = dataRoot.replace(/\/+$/, '') || '/';
  let res;
  try {
    res = await run('sh', ['-c', LOG_LISTING_SCRIPT, 'preflight-logs', root], timeoutMs);
  } catch (err) {
    if (err instanceof TimeoutError) throw new UnavailableError(`listing ${root}/containers gave no answer in ${err.afterMs / 1000} s`);
    throw err;
  }
  if (res.exitCode === 3) throw unreadable(res.stdout, `${root}/containers`);
  // Totals that leave out the folders we could not enter would read as the truth: none at all.
  const denied = parseDeniedFolders(res.stdout);
  if (denied.length) throw unreadableFolders(`${root}/containers`, denied.length);
  return parseContainerLogListing(res.stdout);
}
