/*
 * The globs of clean-up rules, matched against a file's path relative to the
 * rule's root: `*` and `?` within one name, `**` across folders, `{a,b}`
 * one of plain names (`{dev,review}/*.log`, as the shell expands it). A glob
 * without `/` matches the last name at any depth (`*.log`), as .gitignore
 * does. Compiled to an anchored RegExp source, which the walking child
 * rebuilds (it imports nothing of ours).
 */

/** Refused at load: a glob past these is not a name an operator writes. */
export const MAX_GLOB_LENGTH = 200;
const MAX_STARS = 8;

/** Why a glob is refused, or null. */
export function globProblem(glob: string): string | null {
  if (glob === '' || glob.length > MAX_GLOB_LENGTH) return `1 to ${MAX_GLOB_LENGTH} characters`;
  if (glob.startsWith('/')) return 'relative to the rule root (no leading /)';
  if (glob.split('/').some((part) => part === '..' || part === '.')) return 'no . or .. names';
  if (/[[\]\\]/.test(glob)) return 'only *, **, ? and {a,b} are special ([ ] \\ are not supported)';
  // Braces: plain names only, none nested, so each is one alternation of literals.
  const braces = glob.replace(/\{[\w.-]+(?:,[\w.-]+)+\}/g, '');
  if (/[{}]/.test(braces)) return '{a,b} holds two or more plain names (letters, digits, . _ -), none nested';
  // Each star can backtrack over a name: a handful keeps a match linear enough for a 4 KiB path.
  if ((glob.match(/\*+/g) ?? []).length > MAX_STARS) return `at most ${MAX_STARS} stars`;
  return null;
}

// Sample: `agents/**/*.log` becomes `^agents/(?:.*/)?[^/]*\.log$`.
export function globSource(glob: string): string {
  const anywhere = !glob.includes('/');
  let out = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '{') {
      const end = glob.indexOf('}', i);
      out += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((n) => n.replace(/\./g, '\\.'))
        .join('|')})`;
      i = end;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^$(){}|\\[\]]/g, (x) => `\\${x}`);
  }
  return `^${anywhere ? '(?:.*/)?' : ''}${out}$`;
}

export function globMatches(glob: string, relPath: string): boolean {
  return new RegExp(globSource(glob), 'u').test(relPath);
}
