import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/args.js';
import { DEFAULT_INTERVAL_MS, resolveOptions } from '../../src/cli/dispatch.js';
import { UsageError } from '../../src/model/errors.js';
import { COMMANDS, FLAGS, parseArgsOptions, refusal, type Command } from '../../src/cli/flags.js';
import { commandHelp, overviewHelp } from '../../src/cli/help.js';
import { parseDuration } from '../../src/config/value-parsers.js';
import { runEnv } from '../../src/commands/watch.js';

describe('parseCliArgs', () => {
  it('defaults to the report command', () => {
    expect(parseCliArgs([])).toMatchObject({ command: 'report', paths: [], allMounts: false });
  });

  it('reads repeatable --path, --format, --budget and --all-mounts', () => {
    expect(
      parseCliArgs(['--path', '/a', '--path', '/b c', '--format', 'json', '--budget', '2.5', '--all-mounts']),
    ).toEqual({
      command: 'report',
      paths: ['/a', '/b c'],
      format: 'json',
      budgetSeconds: 2.5,
      allMounts: true,
      configFile: undefined,
      diskThresholdPct: undefined,
      scanOutside: false,
      journalDir: undefined,
      noJournal: false,
      journalKeepDays: undefined,
      trendDays: undefined,
      apply: false,
      applySafe: false,
      maxTier: undefined,
      targetPct: undefined,
      minAgeMs: undefined,
      actionScript: undefined,
      escalate: false,
      vaultDir: undefined,
      vaultActionsDir: undefined,
      horizonMs: undefined,
      dryRun: false,
    });
  });

  it('reads host install|check --factory-root, and refuses what host cannot do', () => {
    expect(parseCliArgs(['host', 'install', '--factory-root', '/f', '--dry-run'])).toMatchObject({
      command: 'host',
      hostAction: 'install',
      factoryRoot: '/f',
      dryRun: true,
    });
    expect(parseCliArgs(['host', 'check', '--factory-root', '/f']).hostAction).toBe('check');
    expect(() => parseCliArgs(['host', '--factory-root', '/f'])).toThrow(/host needs install or check/);
    expect(() => parseCliArgs(['host', 'remove', '--factory-root', '/f'])).toThrow(/got 'remove'/);
    expect(() => parseCliArgs(['host', 'install'])).toThrow(/needs --factory-root/);
    expect(() => parseCliArgs(['host', 'check', '--factory-root', '/f', '--dry-run'])).toThrow(
      /belongs to host install/,
    );
    expect(() => parseCliArgs(['host', 'install', 'extra', '--factory-root', '/f'])).toThrow(
      /unexpected argument 'extra'/,
    );
    expect(() => parseCliArgs(['report', '--factory-root', '/f'])).toThrow(/belongs to 'preflight host'/);
  });

  it('reads trend --svg, and keeps it to trend', () => {
    expect(parseCliArgs(['trend', '--svg', '/tmp/t.svg', '--days', '3'])).toMatchObject({
      command: 'trend',
      svgFile: '/tmp/t.svg',
      trendDays: 3,
    });
    expect(parseCliArgs(['trend', '--svg', '-']).svgFile).toBe('-');
    expect(parseCliArgs(['trend']).svgFile).toBeUndefined();
    expect(() => parseCliArgs(['--svg', 'x.svg'])).toThrow(/--svg belongs to 'preflight trend'/);
    expect(() => parseCliArgs(['trend', '--svg', ''])).toThrow(/--svg must name a file/);
    expect(() => parseCliArgs(['trend', '--svg', '-', '--format', 'json'])).toThrow(
      /--format has nothing left to print to/,
    );
    expect(() => parseCliArgs(['trend', '--svg', 'x.svg', '--format', 'json'])).not.toThrow();
  });

  it('reads remediate flags, and keeps them to remediate', () => {
    expect(
      parseCliArgs(['remediate', '--apply', '--max-tier', 'moderate', '--target-pct', '70', '--min-age', '2h']),
    ).toMatchObject({
      command: 'remediate',
      apply: true,
      maxTier: 'moderate',
      targetPct: 70,
      minAgeMs: 7_200_000,
    });
    expect(parseCliArgs(['remediate', '--min-age', '0s']).minAgeMs).toBe(0);
    expect(() => parseCliArgs(['--apply'])).toThrow(/--apply belongs to 'preflight remediate'/);
    expect(() => parseCliArgs(['remediate', '--max-tier', 'destructive', '--apply'])).toThrow(/never applied/);
    expect(() => parseCliArgs(['remediate', '--max-tier', 'moderate'])).toThrow(/add --apply/);
    expect(() => parseCliArgs(['remediate', '--min-age', '2 weeks'])).toThrow(/--min-age must be a duration/);
  });

  it.each([
    [['--budget', 'abc'], /--budget/],
    [['--budget', '0'], /--budget/],
    [['--budget', '-5'], /budget/],
    [['--budget', '1e9'], /--budget/],
    [['--format', 'yaml'], /--format/],
    [['--bogus'], /unknown option '--bogus'/],
    [['frobnicate'], /unknown command/],
    [['--path', ''], /--path/],
  ])('rejects %j with a one-line usage error', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});

describe('watch and the flags each command takes', () => {
  it('reads --interval, and hands every other flag to each report run as it was given', () => {
    const args = parseCliArgs([
      'watch',
      '--interval',
      '2s',
      '--format',
      'json',
      '--path',
      '/a',
      '--path=-odd',
      '--no-journal',
      '--budget',
      '30',
      '--escalate',
      '--apply-safe',
    ]);
    expect(args).toMatchObject({
      command: 'watch',
      intervalMs: 2000,
      format: 'json',
      paths: ['/a', '-odd'],
      noJournal: true,
      budgetSeconds: 30,
      escalate: true,
      applySafe: true,
    });
    expect(args.runArgv).toEqual([
      '--format=json',
      '--budget=30',
      '--path=/a',
      '--path=-odd',
      '--no-journal',
      '--apply-safe',
      '--escalate',
    ]);
    // A report run parses them to the same values.
    const { command, intervalMs, runArgv, ...asWatch } = args;
    expect(parseCliArgs(args.runArgv!)).toEqual({ ...asWatch, command: 'report' });
    expect(parseCliArgs(['watch']).intervalMs).toBeUndefined();
  });

  it('--notify reaches the runs as PREFLIGHT_NOTIFY, never on their command line', () => {
    const urls = ['http://127.0.0.1:9/hook?token=s3cret', 'https://ntfy.example/topic x'];
    const args = parseCliArgs(['watch', '--notify', urls[0]!, '--notify', urls[1]!, '--no-journal']);
    expect(args.runArgv).toEqual(['--no-journal']);
    const env = runEnv({ PATH: '/bin', PREFLIGHT_NOTIFY: 'http://old.example/' }, args.notify!);
    expect(env).toEqual({
      PATH: '/bin',
      PREFLIGHT_NOTIFY: 'http://127.0.0.1:9/hook?token=s3cret https://ntfy.example/topic%20x',
    });
    // The run reads them back as the same targets (the space in a URL is no separator).
    expect(resolveOptions(parseCliArgs(args.runArgv!), {}, env).notify).toEqual([
      'http://127.0.0.1:9/hook?token=s3cret',
      'https://ntfy.example/topic%20x',
    ]);
    // Without --notify, the runs see watch's own environment, PREFLIGHT_NOTIFY and all.
    const own = { PREFLIGHT_NOTIFY: 'http://old.example/' };
    expect(runEnv(own, parseCliArgs(['watch']).notify ?? [])).toBe(own);
  });

  it.each([
    [['--interval', '2s'], /--interval belongs to 'preflight watch'/],
    [['watch', '--interval', '500ms'], /--interval must be a duration/],
    [['watch', '--interval', '0.5s'], /--interval must be at least 1s/],
    [['watch', '--apply'], /--apply belongs to 'preflight remediate'/],
    [['watch', '--apply-safe', '--format', 'fired'], /--format fired would hand the same clean-up to the host again/],
    [['remediate', '--apply-safe'], /--apply-safe belongs to report or watch, not remediate/],
    [['watch', '--days', '3'], /--days belongs to 'preflight trend'/],
    [['trend', '--path', '/x'], /--path belongs to report, guard, remediate or watch, not trend/],
    [['trend', '--escalate'], /--escalate belongs to report, remediate or watch, not trend/],
    [['remediate', '--format', 'fired'], /recipe gate \(--format fired\) comes from a report run/],
    [['trend', '--format', 'yaml'], /--format must be one of markdown, json \(got 'yaml'\)/],
    [
      ['guard', '--path', '/', '--need', '1G', '--format', 'json'],
      /--format belongs to report, trend, remediate or watch, not guard/,
    ],
    [['help', 'frobnicate'], /unknown command 'frobnicate'/],
    [['help', 'trend', 'guard'], /unexpected argument 'guard'/],
  ])('refuses %j in one line', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(UsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });

  it('--help and help name the command whose flags to list; alone, the overview', () => {
    for (const argv of [['--help'], ['-h'], ['help']])
      expect(parseCliArgs(argv)).toEqual({ command: 'help', paths: [], allMounts: false });
    expect(parseCliArgs(['remediate', '--help'])).toMatchObject({ command: 'help', helpFor: 'remediate' });
    expect(parseCliArgs(['help', 'guard'])).toMatchObject({ command: 'help', helpFor: 'guard' });
    expect(parseCliArgs(['guard', '-h'])).toMatchObject({ command: 'help', helpFor: 'guard' });
  });
});

/** A valid value for each value name the table uses: a new value name needs one here. */
const SAMPLE: Record<string, string> = {
  SECONDS: '5',
  PATH: '/x',
  FILE: '/x.toml',
  PCT: '50',
  DIR: '/d',
  N: '3',
  DURATION: '2h',
  SIZE: '1G',
  'safe|moderate': 'safe',
  'markdown|json|fired': 'json',
  'markdown|json': 'json',
  'markdown|json|fired|prom': 'json',
  'markdown|json|prom': 'json',
  'FILE.prom': '/x.prom',
  URL: 'https://ntfy.sh/storage-alerts',
};
/** What a command needs besides the flag under test. */
const REQUIRED: Partial<Record<Command, Record<string, string | true>>> = {
  guard: { path: '/x', need: '1G' },
  remediate: { apply: true },
  host: { 'factory-root': '/d' },
};
/** The words before the flags: host takes what to do. */
const words = (command: Command) => (command === 'host' ? [command, 'install'] : [command]);

/** Does the parser take `--name` for `command`? Decided by parsing, not by reading the table. */
function accepts(command: Command, name: string): boolean {
  const valueName = FLAGS.find((f) => f.name === name)!.value;
  const base = Object.entries(REQUIRED[command] ?? {})
    .filter(([k]) => k !== name)
    .map(([k, v]) => (v === true ? `--${k}` : `--${k}=${v}`));
  if (valueName !== undefined) expect(SAMPLE, `a sample value for ${valueName}`).toHaveProperty([valueName]);
  const flag = valueName === undefined ? `--${name}` : `--${name}=${SAMPLE[valueName]}`;
  try {
    const args = parseCliArgs([...words(command), ...base, flag]);
    return args.command === command || args.command === 'help' || args.command === 'version';
  } catch (err) {
    if ((err as Error).message === refusal(name, command)) return false;
    throw err;
  }
}

/** The help entry of `--name` (its lines joined), or null when the help does not list it. */
function helpEntry(help: string, name: string): string | null {
  const lines = help.split('\n');
  const at = lines.findIndex((l) => new RegExp(`^  (?:-\\w, )?--${name}(?: |$)`).test(l));
  if (at < 0) return null;
  const rest = lines.slice(at + 1);
  const end = rest.findIndex((l) => !/^ {20,}\S/.test(l));
  return [lines[at]!, ...rest.slice(0, end < 0 ? rest.length : end)].map((l) => l.trim()).join(' ');
}

describe('--help for every command', () => {
  const names = Object.keys(parseArgsOptions());

  it.each(COMMANDS.map((c) => c.name))(
    "'preflight %s --help' lists every flag the command parses, each with its default, and no other",
    (command) => {
      const help = commandHelp(command);
      for (const name of names) {
        const entry = helpEntry(help, name);
        if (!accepts(command, name)) {
          expect(entry, `${command} refuses --${name} but its help lists it`).toBeNull();
          continue;
        }
        expect(entry, `${command} parses --${name} but its help does not list it`).not.toBeNull();
        const spec = FLAGS.find((f) => f.name === name && f.commands.includes(command))!;
        if (spec.default !== null) expect(entry).toContain(`(default: ${spec.default})`);
      }
    },
  );

  it('prints the defaults the code applies', () => {
    const defaultOf = (command: Command, name: string) =>
      /\(default: ([^)]*)\)/.exec(helpEntry(commandHelp(command), name)!)![1];
    const options = resolveOptions(parseCliArgs([]), { paths: [] }, {});
    expect(Number(defaultOf('report', 'budget')) * 1000).toBe(options.budgetMs);
    expect(Number(defaultOf('report', 'disk-threshold'))).toBe(options.diskThresholdPct);
    expect(defaultOf('report', 'format')).toBe(options.format);
    expect(parseDuration(defaultOf('report', 'escalate-horizon')!, 'x')).toBe(options.escalation.horizonMs);
    expect(Number(defaultOf('trend', 'days'))).toBe(
      resolveOptions(parseCliArgs(['trend']), { paths: [] }, {}).trendDays,
    );
    expect(Number(defaultOf('guard', 'max-pct'))).toBe(parseCliArgs(['guard', '--path', '/', '--need', '1']).maxPct);
    expect(parseDuration(defaultOf('watch', 'interval')!, 'x')).toBe(DEFAULT_INTERVAL_MS);
    const remediate = resolveOptions(parseCliArgs(['remediate', '--apply']), { paths: [] }, {});
    expect(defaultOf('remediate', 'max-tier')).toBe(remediate.remediation.maxTier);
    expect(defaultOf('remediate', 'target-pct')).toContain(String(remediate.remediation.policy.targetPct));
  });

  it("'help COMMAND' is 'COMMAND --help'; the overview names every command and where its flags are", () => {
    const overview = overviewHelp();
    for (const { name } of COMMANDS) expect(overview).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(overview).toContain("'preflight COMMAND --help'");
    expect(overview.split('\n').every((l) => l.length <= 80)).toBe(true);
    for (const { name } of COMMANDS)
      expect(
        commandHelp(name)
          .split('\n')
          .every((l) => l.length <= 80),
        name,
      ).toBe(true);
  });

  it('has one entry per flag and command, and the entries of one flag agree on its type', () => {
    for (const { name } of COMMANDS) {
      const taken = FLAGS.filter((f) => f.commands.includes(name)).map((f) => f.name);
      expect(new Set(taken).size, name).toBe(taken.length);
    }
    for (const f of FLAGS) {
      const same = FLAGS.filter((g) => g.name === f.name);
      expect(
        same.every(
          (g) =>
            Boolean(g.value) === Boolean(f.value) && Boolean(g.multiple) === Boolean(f.multiple) && g.key === f.key,
        ),
        f.name,
      ).toBe(true);
    }
  });
});
