import { looksLikeLog, type DeletedOpenFile } from '../deleted-open.js';
import type { PlanStep } from './plan.js';
import { count } from '../../text/plural.js';

/** Smaller files are counted where they lie, but not worth a person's step (a shell's 8 KiB here and there). */
export const RELEASE_MIN_BYTES = 1024 * 1024;

/** Commands written out in the step's command line; the objects list every file. */
const COMMANDS_SHOWN = 3;

/** A log (a container's included) is emptied through its fd; anything else waits for its holder to close it. */
function fix(f: DeletedOpenFile): string {
  const h = f.holders[0]!;
  return f.container || looksLikeLog(f.path)
    ? `truncate -s 0 /proc/${h.pid}/fd/${h.fd}`
    : `ps -o pid,args -p ${f.holders.map((x) => x.pid).join(',')}`;
}

/**
 * Destructive (a person decides, never --apply): deleted files still held
 * open on the plan's filesystem. Their blocks come back only when every
 * holder closes them, or when a log is emptied through its /proc fd link.
 * Files under `minBytes` are left out of the step.
 */
export function releaseDeletedFiles(held: readonly DeletedOpenFile[], minBytes = RELEASE_MIN_BYTES): PlanStep | null {
  const files = held.filter((f) => f.bytes >= minBytes);
  if (files.length === 0) return null;
  const pids = new Set(files.flatMap((f) => f.holders.map((h) => h.pid)));
  return {
    kind: 'release-deleted-files',
    tier: 'destructive',
    title: `release ${count(files.length, 'deleted file')} still held open by ${count(pids.size, 'process')}`,
    action:
      'a log: truncate -s 0 /proc/<pid>/fd/<fd> (empties it at once; the writer goes on); anything else: restart the process holding it, or signal it to reopen its files',
    cli: files.slice(0, COMMANDS_SHOWN).map(fix).join('; '),
    objects: files.map((f) => ({
      id: `${f.device}:${f.inode}`,
      name: f.container ? `container ${f.container.name ?? f.container.id.slice(0, 12)}'s log` : f.path,
      bytes: f.bytes,
    })),
    expectedBytes: files.reduce((a, f) => a + f.bytes, 0),
    why: 'no folder lists them, so nothing else frees them: their blocks come back when every holder closes them (a restart), or when a log is emptied through its fd',
  };
}
