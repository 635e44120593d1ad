import { UsageError } from '../model/errors.js';
import type { OutputFormat } from '../model/options.js';
import {
  parseBudget,
  parseCount,
  parseDuration,
  parseInterval,
  parsePathArg,
  parseNotifyUrl,
  parsePct,
  parsePromFile,
  parseSize,
  parseSvgTarget,
  parseTier,
} from '../config/value-parsers.js';

/*
 * Every flag, once: node:util's parseArgs options, the per-command checks
 * and each command's --help are all generated from FLAGS, so a flag cannot
 * be parsed but undocumented, or documented but refused. Adding a flag is
 * one entry here (plus the CliArgs field it fills, just below, and the code
 * that reads it).
 */

export type Command = 'report' | 'trend' | 'guard' | 'remediate' | 'watch' | 'host';

/** `preflight host install|check`. */
export type HostAction = 'install' | 'check';

export interface CommandSpec {
  name: Command;
  /** The usage line after `preflight `. */
  usage: string;
  /** One line for the overview. */
  summary: string;
  /** What --help says about it, above its flags. */
  about: string;
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'report',
    usage: '[report] [options]',
    summary: 'the storage report (the default command)',
    about:
      'Measures every section within --budget, appends this run to the journal and prints a markdown report on stdout (or JSON, or the recipe gate). One measuring run at a time per host: it waits for another at most half its budget (exit 5 when that is not enough).',
  },
  {
    name: 'trend',
    usage: 'trend [options]',
    summary: 'the Storage Trend section alone, from the journal; probes nothing',
    about:
      'Prints the Storage Trend section from the history under the journal, without probing anything, within --budget.',
  },
  {
    name: 'guard',
    usage: 'guard --path PATH --need SIZE [--max-pct PCT]',
    summary: 'does writing SIZE under PATH fit? (exit 0 or 3)',
    about:
      'Exit 0 when writing SIZE more keeps the filesystem holding PATH at or below --max-pct used; exit 3 with a DiskCapacity JSON error on stdout and one line on stderr when it would not. SIZE: 12G, 500M, 1.5T (powers of 1024), 12GB (powers of 1000) or bytes. It touches no Docker API.',
  },
  {
    name: 'remediate',
    usage: 'remediate [--apply [--max-tier safe|moderate]] [options]',
    summary: 'the clean-up plan (a dry run); --apply runs it',
    about:
      "Measures like a report and prints the clean-up plan for the Docker data root's filesystem, changing nothing. With --apply, runs the plan's steps up to --max-tier, stopping at the target (one apply per host: exit 4 when another holds the lock for 5 s); on a terminal, a progress line per step goes to stderr.",
  },
  {
    name: 'watch',
    usage: 'watch [--interval DURATION] [--apply-safe] [report options]',
    summary: 'a report every --interval, for hosts without a supervisor',
    about:
      'Runs `preflight [report options]` every --interval, start to start, and passes each report through to stdout. A run longer than the interval is followed at once by the next (no pile-up); runs never overlap, with each other or with any other preflight run on the host (the run lock). A failed run prints one line on stderr and the loop goes on. With --apply-safe, a run whose recipe gate would fire the safe clean-up direct applies it as remediate --apply does (safe tier only). SIGTERM or SIGINT stops it within a second (a run in progress is cut and its lock released), with exit 0.',
  },
  {
    name: 'host',
    usage: 'host install|check --factory-root DIR [--dry-run]',
    summary: "plug into the supervisor's checkout (install), or check that it is (check)",
    about:
      "install: merges our recipes into the one recipes: list of supervisor/recipes.yaml, places our lines as a marked block inside the final if … fi of supervisor/preflight.sh, adds our storage steps to formulas/run-supervisor.toml (every line of the host's kept) and copies formulas/storage-remediation.toml; installing again changes nothing. This checkout must be inside the factory root (action_script is a path from there). --dry-run prints the diff and writes nothing. check: each point of that contract, the Docker socket, Node, the journal and vault roots and the recipes on a live report, as ok/FAIL lines with the fix; exit 6 when any fails. A tree without those three files is refused (exit 2).",
  },
];

type Parsed<K extends keyof CliArgs> =
  NonNullable<CliArgs[K]> extends readonly (infer E)[] ? E : NonNullable<CliArgs[K]>;

export interface FlagSpec<K extends keyof CliArgs = keyof CliArgs> {
  name: string;
  short?: string;
  /** The value's name in help (`SECONDS`, `markdown|json`); none for a switch. */
  value?: string;
  multiple?: boolean;
  commands: readonly Command[];
  /** What applies when the flag is not given, as help prints it; null only for the actions --help and --version. */
  default: string | null;
  text: string;
  /** The CliArgs field it fills (a switch: true or false); none for the actions. */
  key?: K;
  parse?: (value: string, flag: string) => Parsed<K>;
  /** Why a command refuses it, where the generic "belongs to" says too little. */
  refused?: Partial<Record<Command, string>>;
}

/** Typed per entry: `parse` must return what `key` holds. */
const flag = <K extends keyof CliArgs>(spec: FlagSpec<K>): FlagSpec => spec as unknown as FlagSpec;

const ALL: readonly Command[] = ['report', 'trend', 'guard', 'remediate', 'watch', 'host'];
/** The commands that measure (and append to the journal): watch passes its flags to report runs. */
const RUNS: readonly Command[] = ['report', 'remediate', 'watch'];
const READS: readonly Command[] = [...RUNS, 'trend'];

const text = (value: string): string => value;

function formats(allowed: readonly OutputFormat[], who = '') {
  return (value: string, name: string): OutputFormat => {
    if ((allowed as readonly string[]).includes(value)) return value as OutputFormat;
    if (value === 'fired')
      throw new UsageError(`${who} print markdown or json; the recipe gate (--format fired) comes from a report run`);
    if (value === 'prom')
      throw new UsageError(`${who} print markdown or json; metrics (--format prom) come from a measuring run`);
    throw new UsageError(`${name} must be one of ${allowed.join(', ')} (got '${value}')`);
  };
}

/** What a command line parses to: one field per entry of FLAGS below. */
export interface CliArgs {
  command: Command | 'help' | 'version';
  /** help: the command whose flags to list; none for the overview. */
  helpFor?: Command;
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
  /** guard: bytes to be written, and the used % it must not pass. */
  needBytes?: number;
  maxPct?: number;
  /** remediate: run the plan's steps (else a dry run), up to this tier, down to this used %. */
  apply?: boolean;
  maxTier?: 'safe' | 'moderate';
  targetPct?: number;
  /** report, watch: apply the safe tier when the gate fires it `direct`. */
  applySafe?: boolean;
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
  /** --notify: webhook URLs (secrets). */
  notify?: string[];
  /** trend --svg: where the chart goes (`-`: stdout). */
  svgFile?: string;
  /** watch: from the start of one run to the start of the next. */
  intervalMs?: number;
  /** watch: the flags each report run gets (all of watch's but --interval). */
  runArgv?: string[];
  /** host: what to do, on the host's checkout at --factory-root. */
  hostAction?: HostAction;
  factoryRoot?: string;
  dryRun?: boolean;
}

export const FLAGS: readonly FlagSpec[] = [
  flag({
    name: 'interval',
    value: 'DURATION',
    commands: ['watch'],
    default: '20m',
    key: 'intervalMs',
    parse: parseInterval,
    text: 'from the start of one run to the start of the next (at least 1s)',
  }),
  flag({
    name: 'format',
    value: 'markdown|json|fired|prom',
    commands: ['report', 'watch'],
    default: 'markdown',
    key: 'format',
    parse: formats(['markdown', 'json', 'fired', 'prom']),
    text: "output format; fired is the recipe gate, prom Prometheus's text format",
  }),
  flag({
    name: 'format',
    value: 'markdown|json|prom',
    commands: ['remediate'],
    default: 'markdown',
    key: 'format',
    parse: formats(['markdown', 'json', 'prom'], 'remediate and trend'),
    text: 'output format (prom: the metrics of every section the run measured)',
  }),
  flag({
    name: 'format',
    value: 'markdown|json',
    commands: ['trend'],
    default: 'markdown',
    key: 'format',
    parse: formats(['markdown', 'json'], 'trend and remediate'),
    text: 'output format',
  }),
  flag({
    name: 'prom-file',
    value: 'FILE.prom',
    commands: RUNS,
    default: 'none (config prom_file)',
    key: 'promFile',
    parse: (v, n) => parsePromFile(v, n),
    text: "also write the metrics there for node_exporter's textfile collector (atomically; a name ending in .prom)",
  }),
  flag({
    name: 'notify',
    value: 'URL',
    multiple: true,
    commands: RUNS,
    default: '$PREFLIGHT_NOTIFY (space-separated), else config notify, else none',
    key: 'notify',
    parse: parseNotifyUrl,
    text: 'POST alert raises, re-alerts, recoveries, clean-ups and vault items to this webhook (repeatable; Slack, Mattermost, Discord, Telegram, ntfy or JSON by the URL; never printed)',
  }),
  flag({
    name: 'svg',
    value: 'FILE',
    commands: ['trend'],
    default: 'none',
    key: 'svgFile',
    parse: parseSvgTarget,
    text: 'also draw the chart (used bytes per source, capacity, threshold, clean-up, projection) as SVG into FILE; - for stdout',
  }),
  flag({
    name: 'budget',
    value: 'SECONDS',
    commands: READS,
    default: '60',
    key: 'budgetSeconds',
    parse: parseBudget,
    text: 'time budget for the whole run (watch: for each run); it ends within it, whatever hangs',
  }),
  flag({
    name: 'path',
    value: 'PATH',
    multiple: true,
    commands: RUNS,
    default: 'none',
    key: 'paths',
    parse: parsePathArg,
    text: 'also measure the filesystem that holds PATH (repeatable)',
  }),
  flag({
    name: 'path',
    value: 'PATH',
    multiple: true,
    commands: ['guard'],
    default: 'required',
    key: 'paths',
    parse: parsePathArg,
    text: 'where the write goes (exactly one)',
  }),
  flag({
    name: 'need',
    value: 'SIZE',
    commands: ['guard'],
    default: 'required',
    key: 'needBytes',
    parse: (v) => parseSize(v),
    text: 'how much is about to be written',
  }),
  flag({
    name: 'max-pct',
    value: 'PCT',
    commands: ['guard'],
    default: '95',
    key: 'maxPct',
    parse: parsePct,
    text: 'the used % the write must not pass',
  }),
  flag({
    name: 'all-mounts',
    commands: RUNS,
    default: 'off',
    key: 'allMounts',
    text: 'also measure every real filesystem in the mount table',
  }),
  flag({
    name: 'config',
    value: 'FILE',
    commands: READS,
    default: '$PREFLIGHT_CONFIG if set, else none',
    key: 'configFile',
    parse: text,
    text: 'a YAML config file (TOML still read); flags override it',
  }),
  flag({
    name: 'disk-threshold',
    value: 'PCT',
    commands: READS,
    default: '80',
    key: 'diskThresholdPct',
    parse: parsePct,
    text: 'disk-high (P1) above PCT% used; disk-warning 10 points below',
  }),
  flag({
    name: 'scan-outside',
    commands: RUNS,
    default: 'off',
    key: 'scanOutside',
    text: 'when outside-docker leads, list the biggest directories and largest files even below the warning tier (a bounded du -x and find -xdev)',
  }),
  flag({
    name: 'journal',
    value: 'DIR',
    commands: READS,
    default: '$OPS_JOURNAL_ROOT, else $OPS_REPO_ROOT/journal/supervisor, else ./journal',
    key: 'journalDir',
    parse: parsePathArg,
    text: 'the daily journal directory',
  }),
  flag({
    name: 'no-journal',
    commands: RUNS,
    default: 'off',
    key: 'noJournal',
    text: 'neither read nor append the journal',
    refused: { trend: 'trend reads the journal: --no-journal leaves it nothing to read' },
  }),
  flag({
    name: 'journal-keep-days',
    value: 'N',
    commands: RUNS,
    default: 'keep all',
    key: 'journalKeepDays',
    parse: parseCount,
    text: 'remove journal day files older than N days',
  }),
  flag({
    name: 'days',
    value: 'N',
    commands: ['trend'],
    default: '7',
    key: 'trendDays',
    parse: parseCount,
    text: 'days of journal to read',
  }),
  flag({
    name: 'apply',
    commands: ['remediate'],
    default: 'off, a dry run that changes nothing',
    key: 'apply',
    text: "run the plan's steps",
  }),
  flag({
    name: 'apply-safe',
    commands: ['report', 'watch'],
    default: 'off, nothing is changed',
    key: 'applySafe',
    text: "when the recipe gate would fire the safe clean-up direct, run it (remediate --apply's safe tier) and report it",
  }),
  flag({
    name: 'max-tier',
    value: 'safe|moderate',
    commands: ['remediate'],
    default: 'safe',
    key: 'maxTier',
    parse: parseTier,
    text: 'with --apply: the riskiest tier to run; destructive steps are never run, a person decides',
  }),
  flag({
    name: 'target-pct',
    value: 'N',
    commands: ['remediate'],
    default: 'the disk threshold minus 5, i.e. 75',
    key: 'targetPct',
    parse: parsePct,
    text: 'clean up to at or below N% used',
  }),
  flag({
    name: 'min-age',
    value: 'DURATION',
    commands: ['remediate'],
    key: 'minAgeMs',
    parse: parseDuration,
    default: 'the policy: dangling images 1h, exited containers and build cache 24h, unused images 7d',
    text: 'overrides every minimum age and grace period (0s, 90m, 2h, 7d)',
  }),
  flag({
    name: 'escalate',
    commands: RUNS,
    default: 'off',
    key: 'escalate',
    text: 'file, update and resolve vault items (supervisor-<slug>.md in the pending folder) for what a person must do',
  }),
  flag({
    name: 'vault',
    value: 'DIR',
    commands: RUNS,
    default: '$OPS_VAULT_ROOT, else $OPS_REPO_ROOT/vault/pending',
    key: 'vaultDir',
    parse: parsePathArg,
    text: "the vault's pending folder",
  }),
  flag({
    name: 'vault-actions',
    value: 'DIR',
    commands: RUNS,
    default: 'none',
    key: 'vaultActionsDir',
    parse: parsePathArg,
    text: "with --escalate: also write an action TOML per destructive step the host's runner can carry out after approval",
  }),
  flag({
    name: 'escalate-horizon',
    value: 'DURATION',
    commands: RUNS,
    default: '24h',
    key: 'horizonMs',
    parse: parseDuration,
    text: 'with --escalate: a filesystem forecast full sooner than this needs a person',
  }),
  flag({
    name: 'action-script',
    value: 'PATH',
    commands: RUNS,
    key: 'actionScript',
    parse: text,
    default: 'the path from $FACTORY_ROOT to integrations/actions/storage-cleanup.sh',
    text: "the path fired direct findings name for our clean-up script, relative to the host's root",
  }),
  flag({
    name: 'factory-root',
    value: 'DIR',
    commands: ['host'],
    default: 'required',
    key: 'factoryRoot',
    parse: (v, n) => {
      if (v === '') throw new UsageError(`${n} must not be empty`);
      return v;
    },
    text: "the host's checkout (its $FACTORY_ROOT: the folder holding supervisor/ and formulas/)",
  }),
  flag({
    name: 'dry-run',
    commands: ['host'],
    default: 'off',
    key: 'dryRun',
    text: 'install: print the unified diff of every change and write nothing',
  }),
  flag({ name: 'help', short: 'h', commands: ALL, default: null, text: 'print this help' }),
  flag({ name: 'version', commands: ALL, default: null, text: 'print the version' }),
];

/** The flags `command` accepts, in table order. */
export function flagsOf(command: Command): FlagSpec[] {
  return FLAGS.filter((f) => f.commands.includes(command));
}

/** node:util parseArgs options: every flag name once (the entries of one name agree on type). */
export function parseArgsOptions(): Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> {
  const out: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const f of FLAGS) {
    out[f.name] = {
      type: f.value ? 'string' : 'boolean',
      ...(f.multiple ? { multiple: true } : {}),
      ...(f.short ? { short: f.short } : {}),
    };
  }
  return out;
}

/** The one-line refusal of a flag `command` does not take. */
export function refusal(name: string, command: Command): string {
  const entries = FLAGS.filter((f) => f.name === name);
  const special = entries.find((f) => f.refused?.[command])?.refused?.[command];
  if (special) return special;
  const owners = ALL.filter((c) => entries.some((f) => f.commands.includes(c)));
  if (owners.length === 1) return `--${name} belongs to 'preflight ${owners[0]}'`;
  return `--${name} belongs to ${owners.slice(0, -1).join(', ')} or ${owners.at(-1)}, not ${command} (see 'preflight ${command} --help')`;
}
