import { parseArgs } from 'node:util';
import { UsageError } from '../model/errors.js';
import { COMMANDS, FLAGS, flagsOf, parseArgsOptions, refusal, type CliArgs, type Command } from './flags.js';
import type { OutputFormat } from '../model/options.js';

type Values = Record<string, string | boolean | string[] | undefined>;

/** Pure: argv (without node and script) → typed arguments, or UsageError. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: parseArgsOptions() });
  } catch (err) {
    throw new UsageError(parseArgsMessage(err as Error & { code?: string }));
  }
  // Only string flags are `multiple`: the arrays hold strings.
  const values = parsed.values as Values;
  const [first = 'report', ...extra] = parsed.positionals;
  // `preflight help [COMMAND]`, `preflight [COMMAND] --help`.
  if (first === 'help' || values.help) {
    const topic = first === 'help' ? extra[0] : parsed.positionals[0];
    if (first === 'help' && extra.length > 1) throw new UsageError(`unexpected argument '${extra[1]}'`);
    return {
      command: 'help',
      paths: [],
      allMounts: false,
      ...(topic === undefined ? {} : { helpFor: commandNamed(topic) }),
    };
  }
  if (values.version) return { command: 'version', paths: [], allMounts: false };
  const command = commandNamed(first);
  const [action, ...rest] = command === 'host' ? extra : [undefined, ...extra];
  if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
  if (command === 'host') {
    if (action !== 'install' && action !== 'check')
      throw new UsageError(`host needs install or check (got ${action === undefined ? 'nothing' : `'${action}'`})`);
    if (values['factory-root'] === undefined)
      throw new UsageError("host needs --factory-root DIR (the host's checkout)");
    if (action === 'check' && values['dry-run'])
      throw new UsageError('--dry-run belongs to host install: check writes nothing');
  }
  const accepted = new Set(flagsOf(command).map((f) => f.name));
  for (const name of Object.keys(values)) if (!accepted.has(name)) throw new UsageError(refusal(name, command));
  if (command === 'guard') {
    if (((values.path as string[] | undefined) ?? []).length !== 1)
      throw new UsageError('guard needs exactly one --path (the place about to be written)');
    if (values.need === undefined) throw new UsageError('guard needs --need SIZE (e.g. 12G, 500M, 1048576)');
  }
  if (!values.apply && values['max-tier'] !== undefined)
    throw new UsageError('--max-tier chooses what --apply runs: add --apply');
  if (values.journal !== undefined && values['no-journal'])
    throw new UsageError('--journal and --no-journal contradict each other');
  if (values['apply-safe'] && values.format === 'fired')
    throw new UsageError(
      '--apply-safe acts on the gate itself: --format fired would hand the same clean-up to the host again',
    );
  if (values.svg === '-' && values.format !== undefined)
    throw new UsageError('--svg - prints the chart on stdout: --format has nothing left to print to');
  const args = { command, ...fromTable(command, values) } as CliArgs;
  if (command === 'guard') args.maxPct ??= 95;
  if (command === 'watch') args.runArgv = reportArgv(values);
  if (command === 'host') args.hostAction = action as CliArgs['hostAction'];
  return args;
}

function commandNamed(name: string): Command {
  const found = COMMANDS.find((c) => c.name === name);
  if (!found) throw new UsageError(`unknown command '${name}' (try --help)`);
  return found.name;
}

/** Every switch is false unless given; every value the command takes, parsed by its entry. */
function fromTable(command: Command, values: Values): Omit<CliArgs, 'command'> {
  const out: Record<string, unknown> = { paths: [], allMounts: false };
  for (const f of FLAGS) if (f.key && !f.value) out[f.key] = values[f.name] ?? false;
  for (const f of flagsOf(command)) {
    const v = values[f.name];
    if (!f.key || !f.parse || v === undefined || typeof v === 'boolean') continue;
    out[f.key] = Array.isArray(v) ? v.map((x) => f.parse!(x, `--${f.name}`)) : f.parse(v, `--${f.name}`);
  }
  return out as unknown as Omit<CliArgs, 'command'>;
}

/**
 * watch: the same flags, as each report run gets them (`--name=value`, so a
 * value may start with '-'). Not --notify: its URLs hold tokens, and a
 * command line is readable by every user (`ps`); the runs get them in
 * their environment instead (commands/watch.ts).
 */
function reportArgv(values: Values): string[] {
  const names = new Set(
    flagsOf('report')
      .filter((f) => f.key && f.name !== 'notify')
      .map((f) => f.name),
  );
  return [...names].flatMap((name) => {
    const v = values[name];
    if (v === undefined || v === false) return [];
    return v === true ? [`--${name}`] : [v].flat().map((x) => `--${name}=${x}`);
  });
}

/** node:util's messages are long and mention positionals; keep one short line. */
function parseArgsMessage(err: Error & { code?: string }): string {
  const option = /'(-{1,2}[^']*)'/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option '${option}' (try --help)`;
  return err.message.split('\n')[0] ?? 'malformed arguments';
}
