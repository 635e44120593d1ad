import { UsageError } from '../../model/errors.js';

/*
 * Our lines in the host's supervisor/preflight.sh. The host also sources that
 * script from another one, and its final `if … fi` is what runs only when it
 * is executed: our block goes inside it, just above the `fi`, between marker
 * comments so a second install replaces it instead of adding another.
 */

const FILE = 'supervisor/preflight.sh';
export const BLOCK_BEGIN = '# >>> storage-preflight: placed by `preflight host install`, which replaces it >>>';
export const BLOCK_END = '# <<< storage-preflight <<<';

const indentOf = (line: string) => /^[ \t]*/.exec(line)![0];
const isCode = (line: string) => line.trim() !== '' && !line.trim().startsWith('#');

function framed(body: string, indent: string): string[] {
  const lines = body.replace(/\n+$/, '').split('\n');
  return [BLOCK_BEGIN, ...lines, BLOCK_END].map((l) => (l === '' ? '' : indent + l));
}

/** The final `if … fi`: the indexes of its `if` and `fi` lines, and the indent of its body. */
function finalFi(lines: readonly string[]): { ifAt: number; fi: number; indent: string } {
  let fi = lines.length - 1;
  while (fi >= 0 && !isCode(lines[fi]!)) fi -= 1;
  // Sample: `fi` or `fi  # main`.
  if (fi < 0 || !/^fi(\s*(#.*)?)?$/.test(lines[fi]!.trim()))
    throw new UsageError(
      `${FILE} does not end with an \`if … fi\`: put the lines of integrations/preflight-snippet.sh where the script runs as a program (not when it is sourced) by hand`,
    );
  const level = indentOf(lines[fi]!);
  for (let i = fi - 1; i >= 0; i -= 1) {
    const line = lines[i]!;
    if (!isCode(line) || indentOf(line) !== level) continue;
    const word = line.trim().split(/[\s;]/)[0];
    // Sample: `if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then`.
    if (word === 'if') {
      const body = lines.slice(i + 1, fi).find(isCode);
      return { ifAt: i, fi, indent: body ? indentOf(body) : `${level}  ` };
    }
    if (word === 'then') continue;
    if (word === 'else' || word === 'elif')
      throw new UsageError(
        `${FILE}: its final \`if … fi\` has an \`${word}\` branch, and which branch is the program's is a guess: place the block by hand`,
      );
    break;
  }
  throw new UsageError(`${FILE}: its last \`fi\` closes no \`if\` at the same indentation: place the block by hand`);
}

/** Pure: the host's preflight.sh → the same with `body` as our marked block (replaced in place when already there). */
export function placeBlock(script: string, body: string): string {
  const lines = script.split('\n');
  const begin = lines.findIndex((l) => l.trim() === BLOCK_BEGIN);
  if (begin >= 0) {
    const end = lines.findIndex((l, i) => i > begin && l.trim() === BLOCK_END);
    if (end < 0) throw new UsageError(`${FILE} has our begin marker but no end marker: remove the half block by hand`);
    const block = framed(body, indentOf(lines[begin]!));
    return [...lines.slice(0, begin), ...block, ...lines.slice(end + 1)].join('\n');
  }
  const { fi, indent } = finalFi(lines);
  return [...lines.slice(0, fi), ...framed(body, indent), ...lines.slice(fi)].join('\n');
}

/** Our block sits between the script's final `if` and its `fi` (the part that runs only as a program); false when either is missing. */
export function blockInsideFinalIf(script: string): boolean {
  const lines = script.split('\n');
  const begin = lines.findIndex((l) => l.trim() === BLOCK_BEGIN);
  const end = lines.findIndex((l, i) => i > begin && l.trim() === BLOCK_END);
  if (begin < 0 || end < 0) return false;
  try {
    const { ifAt, fi } = finalFi(lines);
    return ifAt < begin && end < fi;
  } catch {
    return false;
  }
}

/** Our block, if the script holds one: its lines between the markers, unindented. */
export function blockIn(script: string): string | null {
  const lines = script.split('\n');
  const begin = lines.findIndex((l) => l.trim() === BLOCK_BEGIN);
  const end = lines.findIndex((l, i) => i > begin && l.trim() === BLOCK_END);
  if (begin < 0 || end < 0) return null;
  const indent = indentOf(lines[begin]!);
  return lines
    .slice(begin + 1, end)
    .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
    .join('\n');
}

/**
 * The snippet with its checkout found from the host's script itself: the
 * host's root is the folder above supervisor/ (whichever FACTORY_ROOT it is),
 * and our checkout sits at `fromRoot` below it.
 */
export function snippetFor(snippet: string, where: { fromRoot: string } | { absolute: string }): string {
  // Sample: `_sp_dir="${STORAGE_PREFLIGHT_DIR:-/opt/storage-preflight}"`.
  const line = /^_sp_dir="\$\{STORAGE_PREFLIGHT_DIR:-[^}]*\}"$/m;
  if (!line.test(snippet))
    throw new Error('integrations/preflight-snippet.sh has no _sp_dir line to point at this checkout');
  const text = 'fromRoot' in where ? where.fromRoot : where.absolute;
  if (/["$`\\\n}]/.test(text))
    throw new UsageError(`this checkout's path (${text}) has a character a shell string cannot hold plainly`);
  // In the host's checkout: found from the script's own folder, whichever FACTORY_ROOT it is; elsewhere (a package): by its path.
  const dir =
    'fromRoot' in where
      ? `_sp_dir="\${STORAGE_PREFLIGHT_DIR:-$(cd -- "$(dirname -- "\${BASH_SOURCE[0]}")/.." 2>/dev/null && pwd)/${text}}"`
      : `_sp_dir="\${STORAGE_PREFLIGHT_DIR:-${text}}"`;
  return snippet.replace(line, () => dir);
}
