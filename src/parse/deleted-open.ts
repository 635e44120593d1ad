/*
 * Deleted files still held open, as two children print them: the listing
 * of /proc/<pid>/fd links whose target ends in " (deleted)", then a stat
 * through each such link (the file itself, however it was removed).
 */

/** One fd whose link names a deleted file. */
export interface DeletedFd {
  pid: number;
  fd: number;
  /** The path the file had, as the kernel names it (" (deleted)" cut off). */
  path: string;
}

export interface FdListing {
  /** Processes looked at, and those whose fd folder this user may not read. */
  processes: number;
  hidden: number;
  fds: DeletedFd[];
}

const DELETED = ' (deleted)';

/**
 * The listing: `<processes> <hidden>\0`, then NUL-separated pairs (-printf
 * '%p\0%l\0', so a path holding a newline stays one field). Sample:
 * `412 3\0/proc/4242/fd/3\0/srv/app/app.log (deleted)\0`
 */
export function parseFdListing(text: string): FdListing {
  const fields = text.split('\0');
  // Sample: `412 3`
  const head = /^(\d+) (\d+)$/.exec(fields[0] ?? '');
  const fds: DeletedFd[] = [];
  for (let i = 1; i + 1 < fields.length; i += 2) {
    // Sample: `/proc/4242/fd/3`
    const link = /^\/proc\/(\d+)\/fd\/(\d+)$/.exec(fields[i]!);
    const target = fields[i + 1]!;
    if (!link || !target.endsWith(DELETED)) continue;
    fds.push({ pid: Number(link[1]), fd: Number(link[2]), path: target.slice(0, -DELETED.length) });
  }
  return { processes: Number(head?.[1] ?? 0), hidden: Number(head?.[2] ?? 0), fds };
}

/** What stat says through one fd link. */
export interface FdStat {
  fd: number;
  /** major:minor, as the mount table writes it. */
  device: string;
  inode: number;
  sizeBytes: number;
  /** st_blocks × 512: what the file holds on its filesystem. */
  allocatedBytes: number;
  links: number;
}

export interface ProcessStat {
  pid: number;
  uid: number | null;
  command: string;
  fds: FdStat[];
}

/**
 * The stat child's records, one per process, framed by the run's boundary
 * <b>: `<b>><pid><b>|<stat lines><b>|<command line>x`. Stat lines (`%n %u
 * %Hd:%Ld %i %s %b %B %h`): first the process's own folder (`..`: its owner),
 * then one per fd. Sample:
 * `.. 1000 0:23 41523 0 0 512 9\n3 1000 7:0 12 314572800 614400 512 0\n`
 */
export function parseFdStats(text: string, boundary: string): ProcessStat[] {
  const out: ProcessStat[] = [];
  for (const record of text.split(`${boundary}>`).slice(1)) {
    const [head = '', lines = '', command] = record.split(`${boundary}|`);
    if (!/^\d+$/.test(head) || command === undefined || !command.endsWith('x')) continue;
    let uid: number | null = null;
    const fds: FdStat[] = [];
    for (const line of lines.split('\n')) {
      // Sample: `3 1000 7:0 12 314572800 614400 512 0`
      const m = /^(\d+|\.\.) (\d+) (\d+:\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/.exec(line);
      if (!m) continue;
      if (m[1] === '..') {
        uid = Number(m[2]);
        continue;
      }
      fds.push({
        fd: Number(m[1]),
        device: m[3]!,
        inode: Number(m[4]),
        sizeBytes: Number(m[5]),
        allocatedBytes: Number(m[6]) * Number(m[7]),
        links: Number(m[8]),
      });
    }
    out.push({ pid: Number(head), uid, command: command.slice(0, -1).trim(), fds });
  }
  return out;
}
