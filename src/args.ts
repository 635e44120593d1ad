import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import type { OutputFormat } from './options.js';

export interface CliArgs {
  command: 'report' | 'guard' | 'trend' | 'remediate' | 'help' | 'version';
  format?: OutputFormat;
  budgetSeconds?: number;
  paths: string[];
  allMounts: boolean;
  configFile?: string;
  diskThresholdPct?: number;
  scanOutside?: boolean;
  journalDir?: string;
  noJournal?: boolean;
  journalKeepDays?: number;
  trendDays?: number;
  /** trend --svg: where the chart goes (`-`: stdout). */
  svgFile?: string;
  /** guard: bytes to be written, and the used % it must not pass. */
  needBytes?: number;
  maxPct?: number;
  /** remediate: run the plan's steps (else a dry run), up to this tier, down to this used %. */
  apply?: boolean;
  maxTier?: 'safe' | 'moderate';
  targetPct?: number;
  /** Overrides every minimum age and grace period of the policy. */
  minAgeMs?: number;
  /** The clean-up script's path as the host names it (relative to $FACTORY_ROOT). */
  actionScript?: string;
  escalate?: boolean;
  vaultDir?: string;
  vaultActionsDir?: string;
  /** --escalate-horizon: escalate a filesystem forecast full sooner than this. */
  horizonMs?: number;
  /** --prom-file: the node_exporter textfile a measuring run also writes. */
  promFile?: string;
}

const FORMATS: readonly OutputFormat[] = ['markdown', 'json', 'fired', 'prom'];
const COMMANDS = ['report', 'guard', 'trend', 'remediate'] as const;
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
        'disk-threshold': { type: 'string' },
        'scan-outside': { type: 'boolean' },
        journal: { type: 'string' },
        'no-journal': { type: 'boolean' },
        'journal-keep-days': { type: 'string' },
        days: { type: 'string' },
        svg: { type: 'string' },
        need: { type: 'string' },
        'max-pct': { type: 'string' },
        apply: { type: 'boolean' },
        'max-tier': { type: 'string' },
        'target-pct': { type: 'string' },
        'min-age': { type: 'string' },
        'action-script': { type: 'string' },
        escalate: { type: 'boolean' },
        vault: { type: 'string' },
        'vault-actions': { type: 'string' },
        'escalate-horizon': { type: 'string' },
        'prom-file': { type: 'string' },
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
  if (values['prom-file'] !== undefined && (command === 'guard' || command === 'trend')) throw new UsageError(`--prom-file belongs to a measuring run (report or remediate), not ${command}`);
  if (command === 'guard') return parseGuardArgs(values);
  if (command !== 'trend' && values.days !== undefined) throw new UsageError("--days belongs to 'preflight trend'");
  if (command !== 'trend' && values.svg !== undefined) throw new UsageError("--svg belongs to 'preflight trend'");
  if (values.svg === '') throw new UsageError('--svg must name a file (or - for stdout)');
  if (values.svg === '-' && values.format !== undefined) throw new UsageError('--svg - prints the chart on stdout: --format has nothing left to print to');
  for (const flag of ['need', 'max-pct'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} belongs to 'preflight guard'`);
  }
  for (const flag of ['apply', 'max-tier', 'target-pct', 'min-age'] as const) {
    if (command !== 'remediate' && values[flag] !== undefined) throw new UsageError(`--${flag} belongs to 'preflight remediate'`);
  }
  if (!values.apply && (values['max-tier'] !== undefined)) throw new UsageError('--max-tier chooses what --apply runs: add --apply');
  if (values.journal !== undefined && values['no-journal']) throw new UsageError('--journal and --no-journal contradict each other');
  if (command === 'trend' && values['no-journal']) throw new UsageError('trend reads the journal: --no-journal leaves it nothing to read');
  for (const flag of ['escalate', 'vault', 'vault-actions', 'escalate-horizon'] as const) {
    if (command === 'trend' && values[flag] !== undefined) throw new UsageError(`--${flag} belongs to a measuring run (report or remediate), not trend`);
  }
  if (command === 'trend' && values.format === 'fired') throw new UsageError("trend prints markdown or json; the recipe gate (--format fired) comes from a report run");
  if (command === 'trend' && values.format === 'prom') throw new UsageError("trend prints markdown or json; metrics (--format prom) come from a report run");
  return {
    command: command as 'report' | 'trend' | 'remediate',
    apply: values.apply ?? false,
    maxTier: values['max-tier'] === undefined ? undefined : parseTier(values['max-tier']),
    targetPct: values['target-pct'] === undefined ? undefined : parsePct(values['target-pct'], '--target-pct'),
    minAgeMs: values['min-age'] === undefined ? undefined : parseDuration(values['min-age'], '--min-age'),
    journalDir: values.journal === undefined ? undefined : parsePathArg(values.journal),
    noJournal: values['no-journal'] ?? false,
    journalKeepDays: values['journal-keep-days'] === undefined ? undefined : parseCount(values['journal-keep-days'], '--journal-keep-days'),
    trendDays: values.days === undefined ? undefined : parseCount(values.days, '--days'),
    ...(values.svg === undefined ? {} : { svgFile: values.svg }),
    format: values.format === undefined ? undefined : parseFormat(values.format),
    budgetSeconds: values.budget === undefined ? undefined : parseBudget(values.budget),
    paths: (values.path ?? []).map(parsePathArg),
    allMounts: values['all-mounts'] ?? false,
    configFile: values.config,
    diskThresholdPct: values['disk-threshold'] === undefined ? undefined : parsePct(values['disk-threshold'], '--disk-threshold'),
    scanOutside: values['scan-outside'] ?? false,
    actionScript: values['action-script'],
    escalate: values.escalate ?? false,
    vaultDir: values.vault === undefined ? undefined : parsePathArg(values.vault),
    vaultActionsDir: values['vault-actions'] === undefined ? undefined : parsePathArg(values['vault-actions']),
    horizonMs: values['escalate-horizon'] === undefined ? undefined : parseDuration(values['escalate-horizon'], '--escalate-horizon'),
    promFile: values['prom-file'] === undefined ? undefined : parsePromFile(values['prom-file']),
  };
}

/** The textfile collector reads only `*.prom`: any other name would be written and never scraped. */
export function parsePromFile(value: string, what = '--prom-file'): string {
  if (!/[^/]\.prom$/.test(value)) throw new UsageError(`${what} must name a file ending in .prom (node_exporter's textfile collector reads only those; got '${value}')`);
  return value;
}

function parseGuardArgs(values: Record<string, string | boolean | string[] | undefined>): CliArgs {
  const paths = (values.path as string[] | undefined) ?? [];
  if (paths.length !== 1) throw new UsageError("guard needs exactly one --path (the place about to be written)");
  if (values.need === undefined) throw new UsageError('guard needs --need SIZE (e.g. 12G, 500M, 1048576)');
  return {
    command: 'guard',
    paths: paths.map(parsePathArg),
    allMounts: false,
    needBytes: parseSize(values.need as string),
    maxPct: values['max-pct'] === undefined ? 95 : parsePct(values['max-pct'] as string, '--max-pct'),
  };
}

function parseTier(value: string): 'safe' | 'moderate' {
  if (value === 'safe' || value === 'moderate') return value;
  throw new UsageError(`--max-tier must be safe or moderate (destructive steps are never applied by this tool; got '${value}')`);
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `0s`, `90m`, `2h`, `7d`. */
export function parseDuration(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)([smhd])\s*$/.exec(value);
  if (!m) throw new UsageError(`${flag} must be a duration such as 0s, 90m, 2h or 7d (got '${value}')`);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
}

function parseCount(value: string, flag: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1 || Number(value) > 3660) throw new UsageError(`${flag} must be a whole number of days from 1 to 3660 (got '${value}')`);
  return Number(value);
}

export function parsePct(value: string | number, flag: string): number {
  const n = typeof value === 'number' ? value : /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > 100) throw new UsageError(`${flag} must be a percentage in (0, 100] (got '${value}')`);
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, B: 1,
  K: 2 ** 10, KI: 2 ** 10, KIB: 2 ** 10, M: 2 ** 20, MI: 2 ** 20, MIB: 2 ** 20, G: 2 ** 30, GI: 2 ** 30, GIB: 2 ** 30,
  T: 2 ** 40, TI: 2 ** 40, TIB: 2 ** 40, P: 2 ** 50, PI: 2 ** 50, PIB: 2 ** 50,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15,
};

/**
 * `12G`, `12GiB`, `1.5T`, `500M`, `1048576`: K/M/G/T/P are powers of 1024
 * (as df -h and du -h mean them); `KB`/`MB`/`GB`… are powers of 1000.
 */
export function parseSize(value: string, flag = '--need'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value);
  const factor = m ? SIZE_UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || factor === undefined) throw new UsageError(`${flag} must be a size such as 12G, 500M or 1048576 (got '${value}')`);
  const bytes = Math.ceil(Number(m[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${flag} is too large (got '${value}')`);
  return bytes;
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
       preflight trend [--days N] [--format markdown|json] [--journal DIR] [--svg FILE|-]
       preflight guard --path PATH --need SIZE [--max-pct 95]
       preflight remediate [--apply [--max-tier safe|moderate]] [--target-pct N] [--min-age DURATION]

Prints a markdown storage report for a Docker host on stdout (logs on stderr).

Options:
  --format markdown|json|fired|prom   output format (default markdown; fired: the recipe gate; prom: metrics)
  --budget SECONDS         whole-run time budget (default 60)
  --path PATH              also measure the filesystem holding PATH (repeatable)
  --all-mounts             also measure every real filesystem in the mount table
  --config FILE            YAML config, or TOML (default: $PREFLIGHT_CONFIG if set)
  --disk-threshold PCT     P1 disk finding above PCT% used (default 80)
  --scan-outside           when outside-docker leads, list the biggest directories
                           even below the warning tier (a bounded du -x)
  --journal DIR            daily journal directory (default $OPS_JOURNAL_ROOT, else
                           $OPS_REPO_ROOT/journal/supervisor, else ./journal)
  --no-journal             neither read nor append the journal
  --journal-keep-days N    remove journal day files older than N days (default: keep all)
  --days N                 trend: days of journal to read (default 7)
  --svg FILE|-             trend: also write the summary filesystem's chart as SVG
                           (- : the chart alone on stdout)
  --apply                  remediate: run the plan (default: print it, change nothing)
  --max-tier safe|moderate remediate --apply: the riskiest tier to run (default safe;
                           destructive steps are never run, a person decides)
  --target-pct N           remediate: clean up to below N% used (default: the disk
                           threshold minus 5, i.e. 75)
  --min-age DURATION       remediate: overrides every minimum age and grace period
                           (e.g. 0s, 2h; defaults: dangling images 1h, exited
                           containers and build cache 24h, unused images 7d)
  --escalate               file, update and resolve vault items (supervisor-<slug>.md
                           in the pending folder) for what a person must do
  --vault DIR              the vault's pending folder (default $OPS_VAULT_ROOT, else
                           $OPS_REPO_ROOT/vault/pending)
  --vault-actions DIR      --escalate: also write an action TOML per destructive step
                           a runner could carry out after approval (default: none)
  --escalate-horizon DUR   --escalate: a filesystem forecast full sooner than this
                           needs a person (default 24h)
  --action-script PATH     the path fired direct findings name for our clean-up
                           script, relative to the host's root (default: from
                           $FACTORY_ROOT to integrations/actions/storage-cleanup.sh)
  --prom-file PATH         also write the metrics (as --format prom) to PATH, atomically,
                           for node_exporter's textfile collector (PATH ends in .prom;
                           its folder must exist); a failed write is one report line
  -h, --help               this text
  --version                print the version

Environment: DOCKER_HOST (default unix:///var/run/docker.sock), PREFLIGHT_CONFIG, OPS_JOURNAL_ROOT,
OPS_VAULT_ROOT, OPS_REPO_ROOT, FACTORY_ROOT.
guard: exit 0 when writing SIZE more keeps the filesystem holding PATH at or
below --max-pct (default 95) used; exit 3 with a DiskCapacity JSON error on
stdout when it would not. It touches no Docker API.

Exit codes: 0 a report was printed (or guard: it fits; or remediate --apply
ran, even if it freed less than wanted); 2 malformed flags or config; 3 guard:
it does not fit; 4 remediate --apply: another apply held the lock for 5 s,
nothing was applied; 1 internal error.
`;
