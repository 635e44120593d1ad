import { randomBytes } from 'node:crypto';
import { TimeoutError, ToolMissingError, errorMessage, formatSeconds } from '../model/errors.js';
import { parseStatfsLine } from '../parse/statfs.js';
import type { Runner } from '../host/exec.js';
import type { MountEntry } from '../parse/mountinfo.js';
import { lastReason, measurePathInProcess, printfEscape, realpathScript } from './statfs.js';
import { type PathMeasurement } from '../model/filesystems.js';

/*
 * Many paths in one child (one spawn, ~5-15 ms of this thread, instead of
 * one each). Every path gets a subshell of its own, all at once, so a hung
 * mount blocks only its own: each answers as soon as it has, one record in
 * one printf (a single write(2), so records never interleave), and at the
 * deadline the child is killed and the paths that never answered are stuck.
 * Records: `<b>><index> O<b>|<realpath>\n<b>|<stat line>` or
 * `<b>><index> M<b>|<error>`, where <b> is the run's random boundary.
 */
const BATCH_SCRIPT = `b=$1; shift; i=0
for a; do
  (
    case $a in r*) p=$(printf '%bx' "\${a#?}"); p=\${p%x};; *) p=\${a#?};; esac
    r=$(${realpathScript('"$p"', '\\n')} 2>&1; printf 'x%s' $?)
    [ "\${r##*x}" = 0 ] && s=$(stat -f -L -c "%S %b %f %a %c %d" -- "$p" 2>&1; printf 'x%s' $?) || s=$r
    if [ "\${s##*x}" = 0 ]; then printf '%s>%s O%s|%s%s|%s' "$b" "$i" "$b" "\${r%x*}" "$b" "\${s%x*}"
    else printf '%s>%s M%s|%s' "$b" "$i" "$b" "\${s%x*}"; fi
  ) &
  i=$((i + 1))
done
wait`;

export interface PathTarget {
  /** A string, or a latin1 byte string when `raw` (a mount point that is not UTF-8). */
  path: string;
  raw?: boolean;
}

/** Pure: the batch's output (whole, or up to its deadline) → a measurement per target, or undefined where none came. */
export function parseBatchOutput(
  targets: readonly PathTarget[],
  stdout: string,
  boundary: string,
): (PathMeasurement | undefined)[] {
  const out: (PathMeasurement | undefined)[] = new Array(targets.length).fill(undefined);
  for (const record of stdout.split(`${boundary}>`).slice(1)) {
    const [head = '', ...fields] = record.split(`${boundary}|`);
    const m = /^(\d+) ([OM])$/.exec(head);
    const target = m ? targets[Number(m[1])] : undefined;
    if (!m || !target) continue;
    const path = target.path;
    if (m[2] === 'M') {
      out[Number(m[1])] = { kind: 'missing', path, reason: lastReason(fields[0] ?? '') };
      continue;
    }
    // Sample: `/srv\n` then `4096 2621440 1048576 983040 655360 600000\n`.
    const statfs = fields.length === 2 ? parseStatfsLine(fields[1]!) : undefined;
    out[Number(m[1])] =
      statfs && fields[0]!.endsWith('\n')
        ? { kind: 'ok', path, realpath: fields[0]!.slice(0, -1), statfs }
        : { kind: 'error', path, reason: 'stat -f printed nothing usable' };
  }
  return out;
}

/** measurePath for many paths in one child under one deadline; a path that never answered is stuck. */
export async function measurePaths(
  run: Runner,
  targets: readonly PathTarget[],
  timeoutMs: number,
): Promise<PathMeasurement[]> {
  if (targets.length === 0) return [];
  const boundary = `\x1e${randomBytes(8).toString('hex')}`;
  const args = targets.map((t) => (t.raw ? `r${printfEscape(t.path)}` : `p${t.path}`));
  let stdout: string;
  let late: ((path: string) => PathMeasurement) | null = null;
  try {
    stdout = (await run('sh', ['-c', BATCH_SCRIPT, 'preflight-statfs', boundary, ...args], timeoutMs)).stdout;
  } catch (err) {
    if (!(err instanceof TimeoutError)) {
      const reason = err instanceof ToolMissingError ? err.message : errorMessage(err);
      return targets.map((t) => ({ kind: 'error', path: t.path, reason }));
    }
    stdout = err.partialOutput;
    late = (path) => ({ kind: 'stuck', path, reason: `statfs gave no answer in ${formatSeconds(err.afterMs)}` });
  }
  return parseBatchOutput(targets, stdout, boundary).map(
    (m, i) =>
      m ??
      late?.(targets[i]!.path) ?? {
        kind: 'error',
        path: targets[i]!.path,
        reason: 'the statfs child ended without an answer',
      },
  );
}

/**
 * measurePaths, with every path that lies on `/` or in memory measured
 * in-process (measurePathInProcess: nothing there can hang): on most hosts
 * `/` and /var/lib/docker need no child at all. The rest go to one child at
 * once, as before.
 */
export async function measurePathsSafely(
  run: Runner,
  targets: readonly PathTarget[],
  timeoutMs: number,
  table: readonly MountEntry[],
): Promise<PathMeasurement[]> {
  const inProcess = targets.map((t) => (t.raw ? null : measurePathInProcess(t.path, table)));
  const measured = await measurePaths(
    run,
    targets.filter((_, i) => inProcess[i] === null),
    timeoutMs,
  );
  let next = 0;
  return targets.map((_, i) => inProcess[i] ?? measured[next++]!);
}
