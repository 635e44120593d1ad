import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseCliArgs } from '../../src/cli/args.js';
import { resolveOptions } from '../../src/cli/dispatch.js';
import { configFromDocument } from '../../src/config/validate.js';
import { METADATA_RISK_FULLNESS } from '../../src/model/btrfs.js';
import type { RemediationPlan } from '../../src/model/remediation/plan.js';
import type { ApplyResult } from '../../src/model/remediation/applied.js';
import { APPLIED_SECTION } from '../../src/render/applied.js';
import { gaugeFamily, labelValue } from '../../src/render/exposition.js';
import { PROM_FAMILIES, PROM_PREFIX, renderProm } from '../../src/render/prom.js';
import type { Report } from '../../src/model/report.js';
import { remediationSection } from '../../src/sections/remediation/index.js';
import type { Section } from '../../src/sections/types.js';
import type { RunResult, SectionResult } from '../../src/model/results.js';
import { parseExposition, seriesOf } from '../helpers/prom.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const HOSTILE = '/mnt/a "quoted" \\back\nslash\r## x \u001b[31m \ud800 lone';

describe('exposition escaping and families', () => {
  it('escapes exactly backslash, double quote and line feed in label values, and mends lone surrogates', () => {
    expect(labelValue(HOSTILE)).toBe('/mnt/a \\"quoted\\" \\\\back\\nslash\r## x \u001b[31m \ufffd lone');
  });

  it('leaves out unknown values, keeps +Inf, sorts series by labels and keeps the first of a repeated label set', () => {
    const lines = gaugeFamily('x_bytes', 'h\\elp\nmore', [
      [{ m: 'b' }, 2],
      [{ m: 'a' }, null],
      [{ m: 'c' }, Number.NaN],
      [{ m: 'd' }, undefined],
      [{ m: 'a"' }, Infinity],
      [{ m: 'b' }, 9],
      [{ m: 'B' }, 1],
    ]);
    expect(lines).toEqual([
      '# HELP x_bytes h\\\\elp\\nmore',
      '# TYPE x_bytes gauge',
      'x_bytes{m="B"} 1',
      'x_bytes{m="a\\""} +Inf',
      'x_bytes{m="b"} 2',
    ]);
    expect(gaugeFamily('x_bytes', 'h', [[{}, null]])).toEqual([]);
  });

  it('round-trips a hostile label value through the strict reader', () => {
    const doc = parseExposition(`${gaugeFamily('x_bytes', 'h', [[{ mountpoint: HOSTILE }, 5]]).join('\n')}\n`);
    expect(doc.get('x_bytes')!.series).toEqual([
      { labels: { mountpoint: HOSTILE.replace('\ud800', '\ufffd') }, value: 5 },
    ]);
  });
});

describe('the strict exposition reader rejects what the textfile collector would', () => {
  const good = '# HELP a_bytes h\n# TYPE a_bytes gauge\na_bytes{m="x"} 1\n';
  it.each([
    ['a partial last line', good.slice(0, -3)],
    ['a timestamp', good.replace('} 1', '} 1 1700000000000')],
    ['an unescaped quote', good.replace('m="x"', 'm="x"y"')],
    ['an escape the format lacks', good.replace('m="x"', 'm="x\\t"')],
    ['a duplicate series', `${good}a_bytes{m="x"} 2\n`],
    ['a sample before HELP and TYPE', `a_bytes 1\n${good}`],
    ['a family declared twice', `${good}${good}`],
    ['a sample of another name', `${good}b_bytes 1\n`],
    ['a comment', `${good}# note\n`],
    ['NaN written as a word', good.replace('} 1', '} nan')],
  ])('%s', (_, text) => {
    expect(() => parseExposition(text)).toThrow();
  });

  it('accepts the sound file', () => {
    expect(parseExposition(good).get('a_bytes')).toEqual({
      help: 'h',
      type: 'gauge',
      series: [{ labels: { m: 'x' }, value: 1 }],
    });
  });
});

/** A report of the remediation sections only, as remediate --apply's results hold them. */
function reportOf(results: SectionResult[]): Report {
  const [remediation, applied] = results as [RunResult['remediation'], RunResult['applied']];
  return {
    host: 'h',
    generatedAt: new Date(1_800_000_000_000),
    durationMs: 1500,
    results,
    run: { remediation, applied },
    journal: null,
  };
}

const plan = {
  mountpoint: '/var/lib/docker',
  wantBytes: 700,
  byTier: { safe: 500, moderate: 300, destructive: 30 },
} as RemediationPlan;
const planned: SectionResult = {
  section: remediationSection as Section,
  status: 'ok',
  data: { shown: true, reason: null, plan },
  durationMs: 3,
};
const step = (tier: 'safe' | 'moderate', expectedBytes: number, measuredBytes: number | null) => ({
  tier,
  expectedBytes,
  measuredBytes,
});

describe('remediation metrics', () => {
  it('come from the plan per tier when nothing was applied', () => {
    const doc = parseExposition(renderProm(reportOf([planned])));
    expect(seriesOf(doc, 'storage_preflight_remediation_expected_bytes').map((s) => [s.labels.tier, s.value])).toEqual([
      ['destructive', 30],
      ['moderate', 300],
      ['safe', 500],
    ]);
    expect(seriesOf(doc, 'storage_preflight_remediation_wanted_bytes')).toEqual([
      { labels: { mountpoint: '/var/lib/docker' }, value: 700 },
    ]);
    expect(doc.has('storage_preflight_remediation_reclaimed_bytes')).toBe(false);
  });

  it('come from the apply when there was one; a tier with an unmeasured step has no reclaimed total', () => {
    const applied = {
      mountpoint: '/var/lib/docker',
      wantedBytes: 650,
      steps: [step('safe', 200, 150), step('safe', 300, 20), step('moderate', 300, null)],
    } as unknown as ApplyResult;
    const doc = parseExposition(
      renderProm(
        reportOf([planned, { section: APPLIED_SECTION as Section, status: 'ok', data: applied, durationMs: 40 }]),
      ),
    );
    expect(seriesOf(doc, 'storage_preflight_remediation_expected_bytes').map((s) => [s.labels.tier, s.value])).toEqual([
      ['moderate', 300],
      ['safe', 500],
    ]);
    expect(seriesOf(doc, 'storage_preflight_remediation_reclaimed_bytes').map((s) => [s.labels.tier, s.value])).toEqual(
      [['safe', 170]],
    );
    expect(seriesOf(doc, 'storage_preflight_remediation_wanted_bytes')[0]!.value).toBe(650);
    expect(
      seriesOf(doc, 'storage_preflight_section_status', { section: 'remediation-applied', status: 'ok' })[0]!.value,
    ).toBe(1);
  });
});

describe('the alert rules and the README name only metrics we export', () => {
  const families = new Set(Object.keys(PROM_FAMILIES).map((f) => `${PROM_PREFIX}${f}`));
  const rulesText = read('integrations/prometheus/storage-preflight.rules.yaml');
  const rules = (
    parseYaml(rulesText) as {
      groups: {
        rules: {
          alert: string;
          expr: string;
          for?: string;
          labels: Record<string, string>;
          annotations: Record<string, string>;
        }[];
      }[];
    }
  ).groups.flatMap((g) => g.rules);

  it('every metric an expression or annotation queries is a family the renderer writes', () => {
    const named = new Set(rulesText.match(/storage_preflight_[a-z_]+/g));
    expect([...named].filter((n) => !families.has(n))).toEqual([]);
    expect(named.size).toBeGreaterThan(8);
  });

  it('every alert has a severity, a summary and a description; all but the apply-only one wait with for:', () => {
    for (const r of rules) {
      expect(['warning', 'critical'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.summary && r.annotations.description, r.alert).toBeTruthy();
      if (r.alert !== 'StoragePreflightRemediationUnderDelivered') expect(r.for, r.alert).toMatch(/^\d+[mh]$/);
    }
  });

  it('the btrfs metadata alert uses the threshold the finding uses', () => {
    const btrfs = rules.find((r) => r.alert === 'StoragePreflightBtrfsMetadataExhaustion')!;
    expect(btrfs.expr).toContain(`storage_preflight_btrfs_metadata_used_ratio >= ${METADATA_RISK_FULLNESS}`);
  });

  it('the README lists every family', () => {
    const readme = read('docs/metrics.md');
    expect([...families].filter((f) => !readme.includes(`\`${f}\``))).toEqual([]);
  });
});

describe('--prom-file and prom_file', () => {
  it('take a *.prom path for a measuring run, flag over config, never for trend or guard', () => {
    expect(parseCliArgs(['--prom-file', '/t/storage-preflight.prom']).promFile).toBe('/t/storage-preflight.prom');
    expect(parseCliArgs(['remediate', '--apply', '--prom-file', 'x.prom', '--format', 'prom'])).toMatchObject({
      promFile: 'x.prom',
      format: 'prom',
    });
    for (const argv of [
      ['--prom-file', '/t/metrics.txt'],
      ['--prom-file', '/t/.prom'],
      ['trend', '--prom-file', 'x.prom'],
      ['guard', '--path', '/', '--need', '1G', '--prom-file', 'x.prom'],
      ['trend', '--format', 'prom'],
    ]) {
      expect(() => parseCliArgs(argv), argv.join(' ')).toThrow(/prom/);
    }
    const config = configFromDocument({ prom_file: '/c/a.prom' }, 'f.toml');
    expect(config.promFile).toBe('/c/a.prom');
    expect(() => configFromDocument({ prom_file: '/c/a' }, 'f.toml')).toThrow(
      /f.toml: prom_file: expected a file name ending in .prom/,
    );
    expect(resolveOptions(parseCliArgs([]), config, {}).promFile).toBe('/c/a.prom');
    expect(resolveOptions(parseCliArgs(['--prom-file', '/f/b.prom']), config, {}).promFile).toBe('/f/b.prom');
    expect(resolveOptions(parseCliArgs(['trend']), config, {}).promFile).toBeNull();
  });
});
