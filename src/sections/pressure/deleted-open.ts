import { formatBytes } from '../../text/bytes.js';
import { code, inline } from '../../text/escape.js';
import { count } from '../../text/plural.js';
import type { DeletedOpenFile, DeletedOpenProcess, DeletedOpenReport } from '../../model/deleted-open.js';

/** Files and holders named on the line: the report stays a few hundred tokens. */
const FILES_SHOWN = 3;
const HOLDERS_SHOWN = 2;

function holderText(pid: number, processes: ReadonlyMap<number, DeletedOpenProcess>): string {
  const p = processes.get(pid);
  const owner = p?.uid === null || p?.uid === undefined ? '' : ` (uid ${p.uid})`;
  return `pid ${pid} ${p?.command ? code(p.command, 60) : '(gone)'}${owner}`;
}

function fileText(f: DeletedOpenFile, processes: ReadonlyMap<number, DeletedOpenProcess>): string {
  const what = f.container
    ? `container ${inline(f.container.name ?? f.container.id.slice(0, 12), 60)}'s log`
    : inline(f.path, 120);
  const shown = f.holders.slice(0, HOLDERS_SHOWN).map((h) => holderText(h.pid, processes));
  const more = f.holders.length > HOLDERS_SHOWN ? `, … and ${f.holders.length - HOLDERS_SHOWN} more` : '';
  return `${what} ${formatBytes(f.bytes)} held by ${shown.join(', ')}${more}`;
}

/**
 * `Deleted but still open: …` per filesystem that has some, then what could
 * not be seen (another user's processes, a hung mount) in one line.
 */
export function deletedOpenLines(d: DeletedOpenReport): string[] {
  const lines: string[] = [];
  const processes = new Map(d.processes.map((p) => [p.pid, p]));
  for (const fs of d.byFilesystem) {
    const here = d.files.filter((f) => f.mountpoint === fs.mountpoint);
    const named = here.slice(0, FILES_SHOWN).map((f) => fileText(f, processes));
    const rest = fs.files - named.length;
    const restBytes = fs.bytes - here.slice(0, FILES_SHOWN).reduce((a, f) => a + f.bytes, 0);
    lines.push(
      `Deleted but still open on ${inline(fs.mountpoint)}: ${formatBytes(fs.bytes)} in ${count(fs.files, 'file')}: ${named.join('; ')}${rest > 0 ? `; … and ${rest} more, ${formatBytes(restBytes)}` : ''}.`,
    );
  }
  const unseen: string[] = [];
  if (d.processesHidden > 0)
    unseen.push(
      `the open files of ${d.processesHidden} of ${d.processesScanned} processes are not visible to this user (run as root to see them)`,
    );
  if (d.problem) unseen.push(`${d.problem}${d.unmeasured ? ` (${d.unmeasured} not measured)` : ''}`);
  if (unseen.length) lines.push(`Deleted files still held open: ${inline(unseen.join('; '), 300)}.`);
  return lines;
}
