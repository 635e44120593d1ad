import { UnreadableError } from '../model/errors.js';
import { blockedText, parseBlocked, type Blocked } from '../parse/blocked.js';

/*
 * Shell function for the probe scripts that read the data root: `blocked
 * PATH [REASON]` prints `E\tPATH\tREASON` and exits 3 (parse/blocked.ts).
 * Without a reason, stat says why PATH cannot be reached (dash's `cd` only
 * says "can't cd"): its error is the errno text; when stat succeeds, PATH
 * exists and it is entering it that is refused.
 */
export const BLOCKED_FN = `blocked() {
  r=\${2:-}
  if [ -z "$r" ]; then
    if r=$(stat -c %n -- "$1" 2>&1 >/dev/null); then
      if [ -d "$1" ]; then r='Permission denied'; else r='Not a directory'; fi
    fi
    r=\${r##*: }
  fi
  printf 'E\\t%s\\t%s\\n' "$1" "$r"
  exit 3
}`;

/** The uid this process runs as, for "not readable by uid 1000"; null where there is none. */
export function currentUid(): number | null {
  return process.getuid?.() ?? null;
}

/** Folders in `dir` the script could not enter (`D` lines): one UnreadableError for all of them. */
export function unreadableFolders(dir: string, count: number): UnreadableError {
  const blocked: Blocked = { path: dir, cause: 'denied', detail: 'Permission denied', folders: count };
  return new UnreadableError(blocked, blockedText(blocked, currentUid()));
}

/** The script's exit 3: an UnreadableError naming the folder that stopped it (or `fallback` when it printed none). */
export function unreadable(stdout: string, fallback: string): UnreadableError {
  const blocked: Blocked = parseBlocked(stdout) ?? { path: fallback, cause: 'other', detail: 'not readable from here' };
  return new UnreadableError(blocked, blockedText(blocked, currentUid()));
}
