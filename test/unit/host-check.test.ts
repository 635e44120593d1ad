import { describe, expect, it } from 'vitest';
import { checkNode, checkRoots, gateAgreement } from '../../src/commands/host/check.js';
import type { FiredEntry } from '../../src/model/gate.js';
import type { HostRecipe } from '../../src/model/recipe-evaluate.js';
import { recipes } from '../../src/sections/recipes.js';

const SCRIPT = 'sp/integrations/actions/storage-cleanup.sh';
const ours = recipes(SCRIPT) as HostRecipe[];
const report = (pressure: string, cleanup: string) =>
  `## Storage Pressure\nVerdict: / is 91% used\nDisk pressure: ${pressure}\n\n## Remediation Plan\nSafe clean-up: ${cleanup}\n`;
const fired = (name: string, action: FiredEntry['action'], script = ''): FiredEntry => ({
  name,
  severity: 'P1',
  evidence: '',
  action,
  action_script: script,
});

describe("host check's pure points", () => {
  it('agrees when the recipes wake the LLM as the gate does, ignoring findings no recipe covers', () => {
    const high = gateAgreement(
      ours,
      report('high', 'none'),
      [fired('disk-high', 'llm'), fired('docker-unreachable', 'llm')],
      '/f',
    );
    expect(high).toMatchObject({ ok: true, note: 'recipes fire storage-disk-high (llm); the gate disk-high (llm)' });
    const cleanup = gateAgreement(ours, report('clean-up', 'available'), [fired('disk-high', 'direct', SCRIPT)], '/f');
    expect(cleanup.ok).toBe(true);
    expect(gateAgreement(ours, report('ok', 'none'), [fired('docker-unreachable', 'llm')], '/f').ok).toBe(true);
  });

  it('fails, with the fix, when they disagree: a recipe missing, or another script', () => {
    const missing = gateAgreement(
      ours.filter((r) => r.name !== 'storage-disk-high'),
      report('high', 'none'),
      [fired('disk-high', 'llm')],
      '/f',
    );
    expect(missing.ok).toBe(false);
    expect(missing.note).toMatch(
      /recipes fire nothing but the gate disk-high \(llm\).*preflight host install --factory-root \/f/,
    );
    const elsewhere = gateAgreement(
      ours,
      report('clean-up', 'available'),
      [fired('disk-high', 'direct', 'x/y.sh')],
      '/f',
    );
    expect(elsewhere.ok).toBe(false);
  });

  it('resolves the roots as the host does, and names the fix when they are unset', () => {
    expect(checkRoots({ OPS_REPO_ROOT: '/ops' }).map((i) => i.note)).toEqual([
      '/ops/journal/supervisor',
      '/ops/vault/pending',
    ]);
    expect(checkRoots({ OPS_REPO_ROOT: '/ops', OPS_VAULT_ROOT: '/v' })[1]!.note).toBe('/v');
    expect(checkRoots({}).every((i) => !i.ok && /set OPS_REPO_ROOT/.test(i.note))).toBe(true);
  });

  it('wants Node 18.19 or newer', () => {
    expect(checkNode('v18.19.0').ok).toBe(true);
    expect(checkNode('v18.18.2').ok).toBe(false);
    expect(checkNode('v20.1.0').ok).toBe(true);
  });
});
