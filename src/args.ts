import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import type { OutputFormat } from './options.js';

export interface CliArgs {
  command: 'report' | 'help' | 'version';
  format?: OutputFormat;
  budgetSeconds?: number;
  paths: string[];
  allMounts: boolean;
  configFile?: string;
}

const FORMATS: readonly OutputFormat[] = ['markdown', 'json'];
const COMMANDS = ['report'] as const;
export const MAX_BUDGET_SECONDS = 3600;

/** Pure: argv (without node and script) → typed arguments, or UsageError. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string' },
        budget: { type: 'string' },
        path: { type: 'string', multiple: true },
        'all-mounts': { type: 'boolean' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    throw new UsageError(parseArgsMessage(err as Error & { code?: string }));
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help', paths: [], allMounts: false };
  if (values.version) return { command: 'version', paths: [], allMounts: false };
  const [command = 'report', ...extra] = positionals;
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command '${command}' (try --help)`);
  }
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  return {
    command: 'report',
    format: values.format === undefined ? undefined : parseFormat(values.format),
    budgetSeconds: values.budget === undefined ? undefined : parseBudget(values.budget),
    paths: (values.path ?? []).map(parsePathArg),
    allMounts: values['all-mounts'] ?? false,
    configFile: values.config,
  };
}

/** node:util's messages are long and mention positionals; keep one short line. */
function parseArgsMessage(err: Error & { code?: string }): string {
  const option = /'(-{1,2}[^']*)'/.exec(err.message)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option '${option}' (try --help)`;
  return err.message.split('\n')[0] ?? 'malformed arguments';
}

function parseFormat(value: string): OutputFormat {
  if ((FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got '${value}')`);
}

export function parseBudget(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > MAX_BUDGET_SECONDS) {
    throw new UsageError(`--budget must be a number of seconds in (0, ${MAX_BUDGET_SECONDS}] (got '${value}')`);
  }
  return n;
}

function parsePathArg(value: string): string {
  if (value === '') throw new UsageError('--path must not be empty');
  return value;
}

export const HELP = `Usage: preflight [report] [options]

Prints a markdown storage report for a Docker host on stdout (logs on stderr).

Options:
  --format markdown|json   output format (default markdown)
  --budget SECONDS         whole-run time budget (default 60)
  --path PATH              also measure the filesystem holding PATH (repeatable)
  --all-mounts             also measure every real filesystem in the mount table
  --config FILE            TOML config (default: $PREFLIGHT_CONFIG if set)
  -h, --help               this text
  --version                print the version

Environment: DOCKER_HOST (default unix:///var/run/docker.sock), PREFLIGHT_CONFIG.
Exit codes: 0 a report was printed; 2 malformed flags or config; 1 internal error.
`;
