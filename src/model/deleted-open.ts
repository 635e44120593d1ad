import type { DeletedFd, FdListing, ProcessStat } from '../parse/deleted-open.js';
import { byText } from '../text/order.js';

/*
 * Files deleted while a process still holds them open: no folder lists
 * them, so du and Docker's figures miss them, yet their blocks stay used
 * until the last holder closes them (`lsof +L1` finds them).
 */

export interface DeletedOpenHolder {
  pid: number;
  fd: number;
}

export interface DeletedOpenFile {
  /** The path it had, as the kernel names it for the first holder (relative to this run's root). */
  path: string;
  /** major:minor of its filesystem, as the mount table writes it. */
  device: string;
  inode: number;
  /** Allocated (st_blocks): what closing it returns to df. Counted once per file, however many hold it. */
  bytes: number;
  /** Apparent size. */
  sizeBytes: number;
  holders: DeletedOpenHolder[];
  /** A container's log the daemon still writes after it was deleted; name null when this run's listing lacks it. */
  container: { id: string; name: string | null } | null;
}

export interface DeletedOpenProcess {
  pid: number;
  /** Owner (its /proc folder's); null when it could not be read. */
  uid: number | null;
  /** Its command line (NULs as spaces), as the process set it: hostile. */
  command: string;
}

export interface DeletedOpenScan {
  /** Largest first. */
  files: DeletedOpenFile[];
  /** The holders of those files. */
  processes: DeletedOpenProcess[];
  /** Processes looked at, and those whose open files this user may not see. */
  processesScanned: number;
  processesHidden: number;
  /** Deleted files seen but not measured: past the bound, or no answer (a hung mount). */
  unmeasured: number;
  /** Why nothing (or not everything) was measured, in a few words; null when all was. */
  problem: string | null;
}

export const EMPTY_SCAN: DeletedOpenScan = {
  files: [],
  processes: [],
  processesScanned: 0,
  processesHidden: 0,
  unmeasured: 0,
  problem: null,
};

/**
 * The listing and what stat said through each link → one file per (device,
 * inode), however many fds and processes hold it. A link whose file still
 * has a name (links > 0: renamed over, or a name that itself ends in
 * " (deleted)") is no deleted file.
 */
export function deletedOpenFiles(
  listing: FdListing,
  stats: readonly ProcessStat[],
): Pick<DeletedOpenScan, 'files' | 'processes'> & { answered: number } {
  const pathOf = new Map(listing.fds.map((f: DeletedFd) => [`${f.pid}/${f.fd}`, f.path]));
  const files = new Map<string, DeletedOpenFile>();
  const holders = new Set<number>();
  let answered = 0;
  for (const p of stats) {
    for (const s of p.fds) {
      answered += 1;
      const path = pathOf.get(`${p.pid}/${s.fd}`);
      if (path === undefined || s.links > 0) continue;
      const key = `${s.device}/${s.inode}`;
      const known = files.get(key);
      holders.add(p.pid);
      if (known) known.holders.push({ pid: p.pid, fd: s.fd });
      else
        files.set(key, {
          path,
          device: s.device,
          inode: s.inode,
          bytes: s.allocatedBytes,
          sizeBytes: s.sizeBytes,
          holders: [{ pid: p.pid, fd: s.fd }],
          container: null,
        });
    }
  }
  // A process with many fds answers in several records: one entry each.
  const byPid = new Map(stats.filter((p) => holders.has(p.pid)).map((p) => [p.pid, p]));
  const processes = [...byPid.values()]
    .map((p) => ({ pid: p.pid, uid: p.uid, command: p.command }))
    .sort((a, b) => a.pid - b.pid);
  return { files: [...files.values()].sort(largestFirst), processes, answered };
}

const largestFirst = (a: DeletedOpenFile, b: DeletedOpenFile) =>
  b.bytes - a.bytes || byText(a.path, b.path) || a.inode - b.inode;

/*
 * A json-file or local log under `<data-root>/containers/<id>/`: matched by
 * its tail, since the daemon may see the data root under another root (a
 * chroot, a bind mount). Samples:
 * `/var/lib/docker/containers/0b3d…/0b3d…-json.log`,
 * `/var/lib/docker/containers/0b3d…/local-logs/container.log`
 */
const CONTAINER_LOG = /\/containers\/([0-9a-f]{64})\/(?:\1-json\.log(?:\.\d+)?|local-logs\/container\.log(?:\.\d+)?)$/;

/** Name each file that is a container's log by the container listing this run has (id → name). */
export function nameContainerLogs(
  files: readonly DeletedOpenFile[],
  containers: ReadonlyMap<string, string>,
): DeletedOpenFile[] {
  return files.map((f) => {
    const id = CONTAINER_LOG.exec(f.path)?.[1];
    return id === undefined ? f : { ...f, container: { id, name: containers.get(id) ?? null } };
  });
}

/** What deleted files hold on one filesystem (by its major:minor). */
export function heldOn(files: readonly DeletedOpenFile[], device: string): number {
  return files.filter((f) => f.device === device).reduce((a, f) => a + f.bytes, 0);
}

/** A file whose name says it is a log: emptying it through its fd is the usual fix, no restart. */
export function looksLikeLog(path: string): boolean {
  // Samples: `/var/log/app.log`, `/srv/app/app.log.1`, `/var/log/nginx/access_log`
  return /(?:\.log(?:\.\d+)?|_log)$/.test(path) || path.includes('/log/') || path.includes('/logs/');
}

/** Files listed per run (largest first); the totals count them all. */
const MAX_LISTED = 20;

/** One measured filesystem, as the scan is placed on it. */
export interface DeletedOpenPlace {
  mountpoint: string;
  /** major:minor from the mount table. */
  deviceNumber: string;
}

export interface DeletedOpenReport extends Omit<DeletedOpenScan, 'files'> {
  /** On the measured filesystems, largest first, at most MAX_LISTED. */
  files: (DeletedOpenFile & { mountpoint: string })[];
  /** What they hold per measured filesystem (all of them, not only those listed). */
  byFilesystem: { mountpoint: string; bytes: number; files: number }[];
}

/**
 * The scan placed on the measured filesystems (a deleted file elsewhere, in
 * /dev/shm say, presses on no disk this report measures), its container
 * logs named from this run's container listing (id → name).
 */
export function deletedOpenReport(
  scan: DeletedOpenScan,
  places: readonly DeletedOpenPlace[],
  containers: ReadonlyMap<string, string>,
): DeletedOpenReport {
  const mountOf = new Map(places.map((p) => [p.deviceNumber, p.mountpoint]));
  const placed = nameContainerLogs(scan.files, containers).flatMap((f) => {
    const mountpoint = mountOf.get(f.device);
    return mountpoint === undefined ? [] : [{ ...f, mountpoint }];
  });
  const byFilesystem = places
    .map((p) => {
      const here = placed.filter((f) => f.device === p.deviceNumber);
      return { mountpoint: p.mountpoint, bytes: here.reduce((a, f) => a + f.bytes, 0), files: here.length };
    })
    .filter((b) => b.files > 0);
  const files = placed.slice(0, MAX_LISTED);
  const holders = new Set(files.flatMap((f) => f.holders.map((h) => h.pid)));
  return { ...scan, files, processes: scan.processes.filter((p) => holders.has(p.pid)), byFilesystem };
}
