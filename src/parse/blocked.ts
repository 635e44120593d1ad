/**
 * Why a probe could not enter a folder of the data root. The probe scripts
 * (probes/blocked.ts) print one line for it and exit 3:
 *   `E\t/var/lib/docker\tPermission denied`
 *   `E\t/var/lib/docker\tNo such file or directory`
 * The path is the first folder on the way that stopped us, so "the data root
 * is root-only" and "the data root is not mounted here" read as what they are.
 */
export interface Blocked {
  path: string;
  cause: 'missing' | 'denied' | 'other';
  /** strerror text as the tool printed it. */
  detail: string;
  /** Set when it is not `path` itself but this many folders in it that were refused. */
  folders?: number;
}

// Sample: `E\t/var/lib/docker/containers\tPermission denied`
const BLOCKED_LINE = /^E\t([^\t\n]+)\t([^\t\n]*)$/m;

/** The script's `E` line, or null when it printed none. */
export function parseBlocked(stdout: string): Blocked | null {
  const m = BLOCKED_LINE.exec(stdout);
  if (!m) return null;
  const detail = m[2]!.trim() || 'unreadable';
  const cause = /No such file or directory|Not a directory/.test(detail)
    ? 'missing'
    : /Permission denied|Operation not permitted/.test(detail)
      ? 'denied'
      : 'other';
  return { path: m[1]!, cause, detail };
}

/**
 * One short clause for a report line (the caller says what was not measured):
 * `/var/lib/docker is not readable by uid 1000 (needs root)`,
 * `/var/lib/docker does not exist here (not mounted into this container)`.
 */
export function blockedText(b: Blocked, uid: number | null): string {
  if (b.folders !== undefined) {
    const n = `${b.folders} folder${b.folders === 1 ? '' : 's'} in ${b.path} ${b.folders === 1 ? 'is' : 'are'}`;
    return uid === null || uid === 0
      ? `${n} not readable (permission denied)`
      : `${n} not readable by uid ${uid} (needs root)`;
  }
  if (b.cause === 'missing') return `${b.path} does not exist here (not mounted into this container)`;
  if (b.cause === 'denied') {
    return uid === null || uid === 0
      ? `${b.path}: permission denied`
      : `${b.path} is not readable by uid ${uid} (needs root)`;
  }
  return `${b.path}: ${b.detail}`;
}
