import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { recipes, recipesYaml, RECIPES_FILE } from '../../integrations/recipes.js';
import type { Finding } from '../../src/model/findings.js';
import { CLEANUP_SCRIPT, gateFindings } from '../../src/model/gate.js';
import { DISK_PRESSURE, FIELDS, METADATA_RISK, SAFE_CLEANUP } from '../../src/model/recipe-fields.js';
import type { PlanStep, RemediationPlan } from '../../src/model/remediation/plan.js';
import { recipeFieldLines } from '../../src/render/recipe-fields.js';
import { measurementsOf, SECTIONS } from '../../src/sections/registry.js';
import type { SectionResult, SectionStatus } from '../../src/model/results.js';
import { cutSection, diskPct, evaluate, fieldValue, wakesLlm, type HostRecipe } from '../helpers/recipe-evaluator.js';

const shipped = (parse(readFileSync(RECIPES_FILE, 'utf8')) as { recipes: HostRecipe[] }).recipes;
const VALUES: Record<string, readonly string[]> = {
  [FIELDS.diskPressure]: DISK_PRESSURE,
  [FIELDS.metadataRisk]: METADATA_RISK,
  [FIELDS.safeCleanup]: SAFE_CLEANUP,
};

describe('integrations/recipes.yaml', () => {
  it('is what integrations/recipes.ts generates (`npm run recipes` after a change)', () => {
    expect(readFileSync(RECIPES_FILE, 'utf8')).toBe(recipesYaml());
    expect(shipped).toEqual(recipes());
  });

  it('parses back to the host schema: only its keys, a script on direct recipes only, unique names', () => {
    const doc = parse(readFileSync(RECIPES_FILE, 'utf8'));
    expect(Object.keys(doc)).toEqual(['recipes']);
    for (const r of shipped) {
      expect(
        Object.keys(r).every((k) => ['name', 'severity', 'detect', 'action', 'action_script'].includes(k)),
        r.name,
      ).toBe(true);
      expect(
        Object.keys(r.detect).every((k) => ['source', 'section', 'rule', 'threshold', 'field', 'value'].includes(k)),
        r.name,
      ).toBe(true);
      expect(r.severity).toMatch(/^P[0-4]$/);
      expect(['direct', 'vault', 'incident', 'llm']).toContain(r.action);
      expect(r.detect.source).toBe('preflight');
      expect(r.action_script !== undefined).toBe(r.action === 'direct');
    }
    expect(new Set(shipped.map((r) => r.name)).size).toBe(shipped.length);
    expect(shipped.filter((r) => r.action === 'direct').map((r) => r.action_script)).toEqual([CLEANUP_SCRIPT]);
    expect(recipes('../sp/x.sh').find((r) => r.action === 'direct')?.action_script).toBe('../sp/x.sh');
  });

  it("reads only our sections, through our field lines, with values from each field's closed set", () => {
    const titles = SECTIONS.map((s) => s.title);
    for (const r of shipped) {
      expect(titles).toContain(r.detect.section);
      expect(r.detect.rule).toBe('field_eq');
      expect(VALUES[r.detect.field!], r.name).toContain(r.detect.value);
    }
  });
});

describe('the host evaluator helper: every rule can fail', () => {
  const md = [
    '## System Resources',
    'Disk: 91% used (9G/10G on /)',
    'Safe clean-up: available',
    '',
    '## Storage Pressure (data root)',
    'Verdict: x Disk: 5',
    'disk pressure: high',
    'Disk pressure: critical',
    '',
    '## Remediation Plan',
    'Safe clean-up:   none',
    '## Btrfs',
    'Metadata risk: risk ',
  ].join('\n');

  it('cuts from the header (or `## <title> (…`) to the next `## ` line, and finds no section that is not there', () => {
    expect(cutSection(md, 'Storage Pressure')).toEqual([
      'Verdict: x Disk: 5',
      'disk pressure: high',
      'Disk pressure: critical',
      '',
    ]);
    expect(cutSection(md, 'Remediation Plan')).toEqual(['Safe clean-up:   none']);
    expect(cutSection(md, 'Storage')).toBeNull();
  });

  it('disk_pct_gt reads the first Disk: figure of its section only, and fires strictly above the threshold', () => {
    expect(diskPct(cutSection(md, 'System Resources')!)).toBe(91);
    expect(diskPct(cutSection(md, 'Storage Pressure')!)).toBe(5);
    const rule = (threshold: number): HostRecipe => ({
      name: 'd',
      severity: 'P1',
      detect: { source: 'preflight', section: 'System Resources', rule: 'disk_pct_gt', threshold },
      action: 'direct',
    });
    expect(evaluate([rule(90), rule(91)], md).map((f) => [f.evidence, f.action_script])).toEqual([
      ['Disk: 91% used (threshold: 90%)', '__MISSING__'],
    ]);
  });

  it('field_eq takes the first line whose field matches in any case, strips the blanks after the colon, and compares exactly', () => {
    // The first line matches case-insensitively, but the case-sensitive strip leaves it whole: no value matches.
    expect(fieldValue(cutSection(md, 'Storage Pressure')!, 'Disk pressure')).toBe('disk pressure: high');
    expect(fieldValue(cutSection(md, 'Remediation Plan')!, 'Safe clean-up')).toBe('none');
    // A trailing blank is part of the value.
    expect(fieldValue(cutSection(md, 'Btrfs')!, 'Metadata risk')).toBe('risk ');
    const fired = evaluate(shipped, md);
    expect(fired).toEqual([]);
    expect(wakesLlm([{ action: 'direct', action_script: 'x.sh' }])).toBe(false);
    expect(wakesLlm([{ action: 'direct', action_script: '__MISSING__' }])).toBe(true);
  });
});

const MOUNT = '/var/lib/docker';
const step = (kind: PlanStep['kind'], expectedBytes: number): PlanStep => ({
  kind,
  tier: 'safe',
  title: kind,
  action: '',
  cli: '',
  objects: [],
  expectedBytes,
  why: '',
});
const plan = (wantBytes: number, ...steps: PlanStep[]) =>
  ({ mountpoint: MOUNT, wantBytes, steps }) as unknown as RemediationPlan;
const finding = (name: string, mountpoint = MOUNT): Finding => ({
  name,
  severity: 'P1',
  evidence: name,
  action: name === 'disk-critical' ? 'incident' : 'llm',
  mountpoint,
});

/** The field lines of a run with these findings, plan and btrfs verdict, cut into sections as the report prints them. */
function fieldsMarkdown(
  findings: Finding[],
  p: RemediationPlan | null,
  verdict: 'ok' | 'risk' | 'exhausted',
  status: SectionStatus = 'ok',
): string {
  const data: Record<string, unknown> = {
    pressure: { findings, attribution: null },
    remediation: { plan: p },
    btrfs: { filesystems: [{ mountpoint: MOUNT, assessment: { verdict } }] },
  };
  const results = SECTIONS.map((section) => ({
    section,
    status: section.id === 'pressure' ? status : 'ok',
    data: data[section.id],
    durationMs: 0,
  })) as SectionResult[];
  const lines = recipeFieldLines(measurementsOf(results));
  return SECTIONS.map((s) => [`## ${s.title}`, ...(lines.get(s.id) ?? [])].join('\n')).join('\n\n');
}

describe("the shipped recipes wake the LLM exactly when the tool's own gate does", () => {
  const plans = {
    none: null,
    fixable: plan(100, step('remove-containers', 50)),
    belowTarget: plan(0, step('remove-containers', 50)),
    balance: plan(0, step('btrfs-balance-empty', 0)),
  };
  const disks = {
    none: [],
    warning: [finding('disk-warning')],
    high: [finding('disk-high')],
    critical: [finding('disk-critical')],
    elsewhere: [finding('disk-high', '/srv')],
  };

  it('for every mix of disk tier, btrfs verdict and plan', () => {
    for (const [planName, p] of Object.entries(plans)) {
      for (const [diskName, disk] of Object.entries(disks)) {
        for (const verdict of ['ok', 'risk', 'exhausted'] as const) {
          const findings = [...disk, ...(verdict === 'ok' ? [] : [finding('btrfs-metadata-enospc')])];
          const gate = gateFindings(findings, p, CLEANUP_SCRIPT);
          const fired = evaluate(shipped, fieldsMarkdown(findings, p, verdict));
          const label = `${diskName} disk, btrfs ${verdict}, plan ${planName}: ${fired.map((f) => f.name).join(', ')}`;
          expect(
            fired.some((f) => f.action === 'direct'),
            label,
          ).toBe(gate.some((g) => g.action === 'direct'));
          expect(wakesLlm(fired), label).toBe(wakesLlm(gate));
        }
      }
    }
  });

  it('a healthy or merely-warning host fires nothing; what the apply fixes fires the script alone', () => {
    const names = (f: Finding[], p: RemediationPlan | null, v: 'ok' | 'risk' | 'exhausted' = 'ok') =>
      evaluate(shipped, fieldsMarkdown(f, p, v)).map((x) => x.name);
    expect(names([], null)).toEqual([]);
    expect(names(disks.warning, plans.belowTarget)).toEqual([]);
    expect(names(disks.high, plans.fixable)).toEqual(['storage-cleanup']);
    expect(names(disks.high, plans.none)).toEqual(['storage-disk-high']);
    expect(names(disks.critical, plans.fixable)).toEqual(['storage-cleanup']);
    expect(names(disks.critical, plans.none)).toEqual(['storage-disk-critical']);
    expect(names([finding('btrfs-metadata-enospc')], plans.balance, 'exhausted')).toEqual(['storage-cleanup']);
    expect(names([finding('btrfs-metadata-enospc')], plans.none, 'exhausted')).toEqual([
      'storage-btrfs-metadata-critical',
    ]);
    // Storage Pressure did not finish: the gate says preflight-incomplete, the field says unknown.
    expect(evaluate(shipped, fieldsMarkdown([], null, 'ok', 'timeout')).map((x) => x.name)).toEqual([
      'storage-preflight-incomplete',
    ]);
  });
});
