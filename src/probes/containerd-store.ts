import type { Runner } from '../host/exec.js';
import { TimeoutError, UnavailableError, errorMessage, formatSeconds } from '../model/errors.js';
import { headTxid, openBolt, type BoltDb } from '../parse/bbolt.js';
import { readContainerdMeta, readSnapshotterMeta } from '../parse/containerd-meta.js';
import type { ContainerdRead } from '../model/containerd-store.js';
import { parseDu, type DuEntry } from '../parse/du.js';
import { globLiteral } from '../text/escape.js';

/*
 * The two bbolt files, base64 on stdout (binary through a text pipe), read
 * in a child: the root may lie on any disk. Read-only: containerd keeps them
 * open and writes them; a reader that opens a file never changes it. Each
 * file's head is read again after both copies (headTxid says why).
 */
const READ_RECORDS = [
  'cd -- "$1" || exit 3',
  'meta=io.containerd.metadata.v1.bolt/meta.db',
  'snap="io.containerd.snapshotter.v1.$2/metadata.db"',
  'base64 -w0 -- "$meta" || exit 4',
  "printf '\\n'",
  'base64 -w0 -- "$snap" || exit 5',
  "printf '\\n'",
  // Two meta pages of up to 64 KiB each.
  'head -c 131072 -- "$meta" | base64 -w0',
  "printf '\\n'",
  'head -c 131072 -- "$snap" | base64 -w0',
].join('\n');

/** containerd commits while it works (a build's end, its GC): a copy across two commits is read again. */
const RECORD_TRIES = 3;

/**
 * containerd's own metadata (images, content, snapshots, leases per
 * namespace) and its snapshotter's (which snapshots/<id> folder is which),
 * with one bounded du over the root: `./io.containerd.snapshotter.v1.overlayfs/snapshots/12`
 * is depth 3. The records are what containerd's GC reads to decide what is
 * garbage; the folders are what the disk holds.
 */
export async function getContainerdStore(
  run: Runner,
  root: string,
  snapshotter: string,
  recordsTimeoutMs: number,
  walkTimeoutMs: number,
): Promise<ContainerdRead> {
  const walk = run('du', ['-x', '-0', '-B1', '--max-depth=3', '--', root], walkTimeoutMs).then(
    (res) =>
      res.exitCode === 0
        ? { entries: parseDu(res.stdout), problem: null as string | null }
        : {
            entries: [] as DuEntry[],
            problem: `du over ${root}: ${res.stderr.trim().split('\n').pop() ?? `exit ${res.exitCode}`}`,
          },
    (err: unknown) => ({
      entries: [] as DuEntry[],
      problem:
        err instanceof TimeoutError
          ? `du over ${root} did not finish in ${formatSeconds(err.afterMs)}`
          : `du over ${root}: ${errorMessage(err)}`,
    }),
  );
  const { meta, snap } = await readWholeRecords(run, root, snapshotter, recordsTimeoutMs);
  const namespaces = readContainerdMeta(meta.root);
  const backend = readSnapshotterMeta(snap.root);
  const { entries, problem } = await walk;
  return {
    namespaces,
    backend,
    ...foldersOf(entries, root, snapshotter),
    walkProblem: entries.length ? null : problem,
  };
}

/** Both files as of one commit each: tried again while a commit fell within a copy, within the time given. */
async function readWholeRecords(
  run: Runner,
  root: string,
  snapshotter: string,
  timeoutMs: number,
): Promise<{ meta: BoltDb; snap: BoltDb }> {
  const until = Date.now() + timeoutMs;
  for (let tried = 1; ; tried += 1) {
    const records = await run(
      'sh',
      ['-c', READ_RECORDS, 'containerd-records', root, snapshotter],
      Math.max(1, until - Date.now()),
    ).catch((err: unknown) => {
      throw err instanceof TimeoutError
        ? new UnavailableError(`reading containerd's metadata in ${root} took over ${formatSeconds(timeoutMs)}`)
        : err;
    });
    if (records.exitCode !== 0)
      throw new UnavailableError(
        `containerd's metadata in ${root} is not readable here: ${records.stderr.trim().split('\n').pop() || `exit ${records.exitCode}`}`,
      );
    const parts = records.stdout.split('\n');
    const file = (n: number) => Buffer.from(parts[n] ?? '', 'base64');
    const dbs = { meta: openBolt(file(0)), snap: openBolt(file(1)) };
    // Lines 3 and 4: each file's head, read after both copies.
    const whole =
      headTxid(file(2), dbs.meta.pageSize) === dbs.meta.txid && headTxid(file(3), dbs.snap.pageSize) === dbs.snap.txid;
    if (whole) return dbs;
    if (tried >= RECORD_TRIES || Date.now() >= until)
      throw new UnavailableError(`containerd's metadata in ${root} changed while it was read, ${tried} times`);
  }
}

/** Pure: du's entries → snapshot folders by id, and the root's own folders by name. */
export function foldersOf(
  entries: readonly DuEntry[],
  root: string,
  snapshotter: string,
): { folderBytes: Map<string, number>; topLevel: Map<string, number> } {
  const base = root.replace(/\/+$/, '');
  const snapshots = `${base}/io.containerd.snapshotter.v1.${snapshotter}/snapshots/`;
  const folderBytes = new Map<string, number>();
  const topLevel = new Map<string, number>();
  for (const e of entries) {
    if (e.path.startsWith(snapshots) && !e.path.slice(snapshots.length).includes('/'))
      folderBytes.set(e.path.slice(snapshots.length), e.bytes);
    else if (e.path.startsWith(`${base}/`) && !e.path.slice(base.length + 1).includes('/'))
      topLevel.set(e.path.slice(base.length + 1), e.bytes);
  }
  return { folderBytes, topLevel };
}

/*
 * Run in the data root: its top-level entries but the names given before
 * `--`, then du over them; the options after `--` (an --exclude for a folder
 * to leave out deeper down) go first. The top-level names are left out by
 * not naming them: du tests every --exclude pattern on every file it meets
 * (the data root of 411 images: 140 ms with two, 90 without). No entry left:
 * du is not run, and nothing is printed.
 */
const DATA_ROOT_DU_SCRIPT = `cd -- "$1" || exit 3
shift
skip=/
while [ "$1" != -- ]; do skip="$skip$1/"; shift; done
shift
n=$#
for e in * .[!.]* ..?*; do
  { [ -e "$e" ] || [ -L "$e" ]; } || continue
  case $skip in *"/$e/"*) continue ;; esac
  set -- "$@" "./$e"
done
[ $# -gt $n ] || exit 0
exec du -x -0 -B1 -s "$@"`;

/**
 * The data root's bytes without what the daemon sizes itself (volumes, the
 * graph driver's layer folder, containerd's root when it lies inside, as
 * dockerd's own containerd does): Docker's own files and the containers'
 * logs. `skip` names folders of the data root, or absolute paths.
 */
export async function getDataRootBytes(
  run: Runner,
  dataRoot: string,
  skip: readonly string[],
  timeoutMs: number,
): Promise<number | null> {
  const root = dataRoot.replace(/\/+$/, '');
  const relative = skip.map((p) => (p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p));
  const topLevel = relative.filter((p) => !p.startsWith('/') && !p.includes('/'));
  // du's --exclude takes a pattern: a name holding `*`, `?`, `[` or `\\` is matched as itself.
  const deeper = relative
    .filter((p) => !p.startsWith('/') && p.includes('/'))
    .map((p) => `--exclude=${globLiteral(`./${p}`)}`);
  const res = await run(
    'sh',
    ['-c', DATA_ROOT_DU_SCRIPT, 'preflight-data-root', root, ...topLevel, '--', ...deeper],
    timeoutMs,
  );
  // du goes on past a folder it cannot read (exit 1): a part is no measure of the whole.
  return res.exitCode === 0 ? parseDu(res.stdout).reduce((sum, e) => sum + e.bytes, 0) : null;
}
