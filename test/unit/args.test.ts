import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/args.js';
import { UsageError } from '../../src/errors.js';

describe('parseCliArgs', () => {
  it('defaults to the report command', () => {
    expect(parseCliArgs([])).toMatchObject({ command: 'report', paths: [], allMounts: false });
  });

  it('reads repeatable --path, --format, --budget and --all-mounts', () => {
    expect(parseCliArgs(['--path', '/a', '--path', '/b c', '--format', 'json', '--budget', '2.5', '--all-mounts'])).toEqual({
      command: 'report', paths: ['/a', '/b c'], format: 'json', budgetSeconds: 2.5, allMounts: true, configFile: undefined,
      diskThresholdPct: undefined, scanOutside: false, journalDir: undefined, noJournal: false, journalKeepDays: undefined, trendDays: undefined,
      apply: false, maxTier: undefined, targetPct: undefined, minAgeMs: undefined, actionScript: undefined,
      escalate: false, vaultDir: undefined, vaultActionsDir: undefined, horizonMs: undefined,
    });
  });

  it('reads trend --svg, and keeps it to trend', () => {
    expect(parseCliArgs(['trend', '--svg', '/tmp/t.svg', '--days', '3'])).toMatchObject({ command: 'trend', svgFile: '/tmp/t.svg', trendDays: 3 });
    expect(parseCliArgs(['trend', '--svg', '-']).svgFile).toBe('-');
    expect(parseCliArgs(['trend']).svgFile).toBeUndefined();
    expect(() => parseCliArgs(['--svg', 'x.svg'])).toThrow(/--svg belongs to 'preflight trend'/);
    expect(() => parseCliArgs(['trend', '--svg', ''])).toThrow(/--svg must name a file/);
    expect(() => parseCliArgs(['trend', '--svg', '-', '--format', 'json'])).toThrow(/--format has nothing left to print to/);
    expect(() => parseCliArgs(['trend', '--svg', 'x.svg', '--format', 'json'])).not.toThrow();
  });

  it('reads remediate flags, and keeps them to remediate', () => {
    expect(parseCliArgs(['remediate', '--apply', '--max-tier', 'moderate', '--target-pct', '70', '--min-age', '2h'])).toMatchObject({
      command: 'remediate', apply: true, maxTier: 'moderate', targetPct: 70, minAgeMs: 7_200_000,
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
