import { COMMANDS, flagsOf, type Command, type FlagSpec } from './flags.js';

/* --help text, generated from the flag table: what a command parses is what its help lists. */

const WIDTH = 80;
const FLAG_COLUMN = 28;

/** Greedy word wrap: `lead`, then `body` in a column from `indent` (a lead too long for it gets a line of its own). */
function wrap(lead: string, body: string, indent: number): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = lead.padEnd(indent);
  if (lead !== '' && lead.length >= indent) {
    lines.push(lead);
    line = pad;
  }
  let fresh = true;
  for (const word of body.split(/\s+/).filter(Boolean)) {
    if (!fresh && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = pad;
      fresh = true;
    }
    line += (fresh ? '' : ' ') + word;
    fresh = false;
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

function flagLine(f: FlagSpec): string {
  const name = `${f.short ? `-${f.short}, ` : ''}--${f.name}${f.value ? ` ${f.value}` : ''}`;
  const body = f.default === null ? f.text : `${f.text} (default: ${f.default})`;
  return wrap(`  ${name}`, body, FLAG_COLUMN);
}

const spec = (command: Command) => COMMANDS.find((c) => c.name === command)!;

/** `preflight <command> --help`: its usage, what it does, every flag it takes with its default. */
export function commandHelp(command: Command): string {
  const c = spec(command);
  return [
    `Usage: preflight ${c.usage}`,
    '',
    wrap('', c.about, 0),
    '',
    'Options:',
    ...flagsOf(command).map(flagLine),
    '',
  ].join('\n');
}

/** `preflight --help`: every command in a line; each command's --help has its flags. */
export function overviewHelp(): string {
  return [
    ...COMMANDS.map((c, i) => `${i === 0 ? 'Usage: ' : '       '}preflight ${c.usage}`),
    '       preflight help [COMMAND]',
    '',
    'A storage report for a Docker host: markdown on stdout, nothing on stderr in a',
    'normal run.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => wrap(`  ${c.name}`, c.summary, 14)),
    '',
    "'preflight COMMAND --help' (or 'preflight help COMMAND') lists the flags of a",
    'command, each with its default.',
    '',
    wrap(
      '',
      'Environment: DOCKER_HOST (default unix:///var/run/docker.sock), PREFLIGHT_CONFIG, OPS_JOURNAL_ROOT, OPS_VAULT_ROOT, OPS_REPO_ROOT, FACTORY_ROOT; TMPDIR holds the run and apply locks when only this user can write it (else /run/storage-preflight for root, $XDG_RUNTIME_DIR/storage-preflight or /tmp/storage-preflight-UID).',
      0,
    ),
    '',
    'Exit codes:',
    wrap(
      '  0',
      'a report was printed (guard: it fits; remediate --apply ran, even if it freed less than wanted; watch: stopped by SIGTERM or SIGINT)',
      6,
    ),
    wrap('  1', 'internal error', 6),
    wrap('  2', 'malformed flags or config; host install or check refused the tree (the line says why)', 6),
    wrap('  3', 'guard: it does not fit', 6),
    wrap('  4', 'remediate --apply, --apply-safe: another apply held the apply lock for 5 s; nothing was applied', 6),
    wrap('  5', 'another preflight run held the run lock for half the budget; nothing was measured', 6),
    wrap('  6', 'host check: a point of the contract with the host is broken (each FAIL line says the fix)', 6),
    wrap('  130, 143', 'a report or remediate run cut by SIGINT or SIGTERM; nothing was printed', 12),
    '',
  ].join('\n');
}
