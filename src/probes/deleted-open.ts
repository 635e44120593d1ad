import { randomBytes } from 'node:crypto';
import { TimeoutError, errorMessage, formatSeconds } from '../model/errors.js';
import { deletedOpenFiles, EMPTY_SCAN, type DeletedOpenScan } from '../model/deleted-open.js';
import { parseFdListing, parseFdStats, type DeletedFd, type FdListing } from '../parse/deleted-open.js';
import type { Runner } from '../host/exec.js';

/** Deleted files measured per run, and processes: a host with more is named by its largest that fit. */
const MAX_FDS = 1000;
/** One stat record must stay one write(2) (under PIPE_BUF, 4 KiB): a process's fds go in groups of this many. */
const FDS_PER_RECORD = 32;

/*
 * Every process's fd links whose target ends in " (deleted)": reading a
 * link never touches the file's filesystem, so this cannot hang on a stuck
 * mount. memfd files (`/memfd:name (deleted)`) live in memory, not on a
 * disk. First `<processes> <hidden>`: processes whose fd folder this user
 * may not read (another user's, as non-root) are counted, not seen.
 */
export const LIST_SCRIPT = `n=0 u=0
for d in /proc/[0-9]*/fd; do n=$((n + 1)); [ -r "$d" ] || u=$((u + 1)); done
printf '%s %s\\0' "$n" "$u"
find /proc/[0-9]*/fd/ -mindepth 1 -maxdepth 1 -lname '/*(deleted)' ! -lname '/memfd:*' -printf '%p\\0%l\\0' 2>/dev/null | head -z -n "$1"
exit 0`;

/*
 * stat through each link (-L: the open file itself, deleted or not). That
 * stat can block on a hung FUSE or NFS mount, so every process gets a
 * subshell of its own, all at once: a hang holds only its own record, and
 * the deadline kills the rest. Each record is one printf (one write, so
 * records never interleave). Arguments: the boundary, then `p<pid>`
 * followed by its fd numbers, per group.
 */
export const STAT_SCRIPT = `b=$1; shift
one() {
  p=$1; shift
  (
    cd "/proc/$p/fd" 2>/dev/null || exit 0
    s=$(stat -L -c '%n %u %Hd:%Ld %i %s %b %B %h' -- .. "$@" 2>/dev/null)
    c=$(tr '\\0' ' ' < ../cmdline 2>/dev/null | head -c 300; printf x)
    [ "$c" != x ] || c=$(cat ../comm 2>/dev/null; printf x)
    printf '%s>%s%s|%s%s|%s' "$b" "$p" "$b" "$s" "$b" "$c"
  ) &
}
p= fds=
for a; do
  case $a in
    p*) [ -z "$p" ] || one "$p" $fds; p=\${a#p} fds= ;;
    *) fds="$fds $a" ;;
  esac
done
[ -z "$p" ] || one "$p" $fds
wait`;

/** The stat child's arguments: each process's fds, in groups that keep a record under PIPE_BUF. */
function statArgs(fds: readonly DeletedFd[]): string[] {
  const byPid = new Map<number, number[]>();
  for (const f of fds) byPid.set(f.pid, [...(byPid.get(f.pid) ?? []), f.fd]);
  const args: string[] = [];
  for (const [pid, list] of byPid)
    for (let i = 0; i < list.length; i += FDS_PER_RECORD)
      args.push(`p${pid}`, ...list.slice(i, i + FDS_PER_RECORD).map(String));
  return args;
}

/**
 * Deleted files still held open, by every process this user may see: one
 * child lists the links, another stats them, both under `timeoutMs`. A
 * partial answer (a hung mount, the deadline) keeps what answered and
 * counts the rest as unmeasured.
 */
export async function getDeletedOpen(run: Runner, timeoutMs: number): Promise<DeletedOpenScan> {
  const started = Date.now();
  let listing: FdListing;
  let problem: string | null = null;
  try {
    listing = parseFdListing(
      (await run('sh', ['-c', LIST_SCRIPT, 'preflight-fds', String(1 + 2 * MAX_FDS)], timeoutMs)).stdout,
    );
  } catch (err) {
    if (!(err instanceof TimeoutError))
      return { ...EMPTY_SCAN, problem: `the /proc scan failed: ${errorMessage(err)}` };
    listing = parseFdListing(err.partialOutput);
    problem = `the /proc scan did not finish in ${formatSeconds(err.afterMs)}`;
  }
  const capped = listing.fds.length >= MAX_FDS;
  let stdout = '';
  const boundary = `\x1e${randomBytes(8).toString('hex')}`;
  if (listing.fds.length) {
    try {
      const left = Math.max(1, timeoutMs - (Date.now() - started));
      stdout = (await run('sh', ['-c', STAT_SCRIPT, 'preflight-fd-stat', boundary, ...statArgs(listing.fds)], left))
        .stdout;
    } catch (err) {
      if (!(err instanceof TimeoutError)) return { ...EMPTY_SCAN, problem: `stat failed: ${errorMessage(err)}` };
      stdout = err.partialOutput;
      problem ??= `some held files gave no answer in ${formatSeconds(err.afterMs)} (a hung mount?)`;
    }
  }
  const { files, processes, answered } = deletedOpenFiles(listing, parseFdStats(stdout, boundary));
  if (capped) problem ??= `only the first ${MAX_FDS} deleted files were measured`;
  return {
    files,
    processes,
    processesScanned: listing.processes,
    processesHidden: listing.hidden,
    // Without a problem, a link that did not answer was closed meanwhile: nothing left to measure.
    unmeasured: problem ? Math.max(0, listing.fds.length - answered) : 0,
    problem,
  };
}
