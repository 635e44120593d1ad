import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/args.js';
import { configFromToml } from '../../src/config.js';
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

describe('configFromToml', () => {
  it('accepts the known keys', () => {
    expect(configFromToml({ paths: ['/srv'], budget: 30, all_mounts: true }, 'f.toml')).toEqual({
      paths: ['/srv'], budgetSeconds: 30, allMounts: true, dockerHost: undefined, diskThresholdPct: undefined,
    });
  });

  it('accepts the README\'s example config as written', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /Config file \(flags override it[^\n]*\n\n```toml\n([\s\S]*?)```/.exec(readme)![1]!;
    const { parse } = await import('smol-toml');
    const c = configFromToml(parse(block) as Record<string, unknown>, 'README.md');
    expect(c.remediation).toMatchObject({ targetPct: 75, unusedImageMinAgeMs: 7 * 86_400_000, keepLabels: ['storage-preflight.keep'] });
  });

  it('reads the protection policy from [remediation]', () => {
    const c = configFromToml({ remediation: {
      target_pct: 70, exited_container_grace: '2h', build_cache_reserve: '1G', keep_labels: ['keep=yes'], keep_image_patterns: ['^base/'],
    } }, 'f.toml');
    expect(c.remediation).toEqual({ targetPct: 70, exitedContainerGraceMs: 7_200_000, buildCacheReserveBytes: 2 ** 30, keepLabels: ['keep=yes'], keepImagePatterns: ['^base/'] });
  });

  it.each([
    [{ remediation: { exited_container_grace: 24 } }, /remediation.exited_container_grace must be a string/],
    [{ remediation: { unused_image_min_age: '1 week' } }, /remediation.unused_image_min_age must be a duration/],
    [{ remediation: { keep_image_patterns: ['(unclosed'] } }, /keep_image_patterns: '\(unclosed' is not a regular expression/],
    [{ remediation: { keep_lables: [] } }, /unknown key 'remediation.keep_lables'/],
    [{ remediation: { build_cache_reserve: 'lots' } }, /remediation.build_cache_reserve must be a size/],
    [{ remediation: 'yes' }, /remediation must be a table/],
    [{ pathz: [] }, /unknown key 'pathz'/],
    [{ paths: '/srv' }, /paths must be an array/],
    [{ budget: 'soon' }, /budget must be a number/],
    [{ budget: 0 }, /--budget/],
  ])('rejects %j', (doc, message) => {
    expect(() => configFromToml(doc, 'f.toml')).toThrow(message);
  });
});
