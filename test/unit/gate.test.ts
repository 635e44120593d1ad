import { describe, expect, it } from 'vitest';
import { CLEANUP_SCRIPT, gateFindings } from '../../src/model/gate.js';
import type { Finding } from '../../src/model/findings.js';
import { planRemediation, type PlanStep, type RemediationPlan } from '../../src/model/remediation/plan.js';
import { DEFAULT_POLICY } from '../../src/model/remediation/policy.js';
import type { RunResult } from '../../src/model/results.js';
import { runsSafeCleanup } from '../../src/render/fired.js';

const MOUNT = '/var/lib/docker';
const step = (kind: PlanStep['kind'], tier: PlanStep['tier'], expectedBytes: number): PlanStep => ({
  kind,
  tier,
  title: kind,
  action: '',
  cli: '',
  objects: [],
  expectedBytes,
  why: '',
});
const plan = (steps: PlanStep[], wantBytes = 100): RemediationPlan => ({
  mountpoint: MOUNT,
  usedBytes: 900,
  capacityBytes: 1000,
  usedPct: 90,
  targetPct: 75,
  wantBytes,
  steps,
  byTier: { safe: 0, moderate: 0, destructive: 0 },
  cannotFree: [],
  historyHours: null,
  notes: [],
});
const finding = (
  name: string,
  severity: Finding['severity'],
  action: Finding['action'],
  mountpoint: string | undefined = MOUNT,
): Finding => ({ name, severity, evidence: `${name} evidence`, action, ...(mountpoint ? { mountpoint } : {}) });
const gate = (f: Finding[], p: RemediationPlan | null) =>
  gateFindings(f, p, CLEANUP_SCRIPT).map((x) => `${x.name} ${x.action} ${x.action_script}`.trim());

describe('the gate: what fires, and whether it wakes the LLM', () => {
  const high = finding('disk-high', 'P1', 'llm');
  const warning = finding('disk-warning', 'P4', 'llm');
  const critical = finding('disk-critical', 'P1', 'incident');

  it('a disk finding the safe apply can fix is direct, naming the script path, never a command', () => {
    const p = plan([step('remove-containers', 'safe', 50), step('remove-volumes', 'destructive', 500)]);
    expect(gate([high], p)).toEqual([`disk-high direct ${CLEANUP_SCRIPT}`]);
    expect(gate([critical], p)).toEqual([`disk-critical direct ${CLEANUP_SCRIPT}`]);
    expect(gateFindings([high], p, CLEANUP_SCRIPT)[0]).toEqual({
      name: 'disk-high',
      severity: 'P1',
      evidence: 'disk-high evidence',
      action: 'direct',
      action_script: CLEANUP_SCRIPT,
    });
  });

  it('what the safe tier cannot touch keeps its own action, with no script: the LLM (or an incident) decides', () => {
    const onlyModerate = plan([step('remove-unused-images', 'moderate', 500)]);
    expect(gate([high, critical], onlyModerate)).toEqual(['disk-high llm', 'disk-critical incident']);
    expect(gate([high], null)).toEqual(['disk-high llm']);
    // A safe step on another filesystem fixes nothing here.
    expect(gate([finding('disk-high', 'P1', 'llm', '/')], plan([step('remove-containers', 'safe', 50)]))).toEqual([
      'disk-high llm',
    ]);
    // Empty safe steps free nothing.
    expect(gate([high], plan([step('remove-containers', 'safe', 0)]))).toEqual(['disk-high llm']);
  });

  it('a merely-warning host fires nothing that wakes the LLM: a warning the apply cannot help is only reported', () => {
    expect(gate([warning], null)).toEqual([]);
    expect(gate([warning], plan([step('remove-unused-images', 'moderate', 500)]))).toEqual([]);
    // Below the target (72% with a 75% target): the apply would do nothing, so nothing fires.
    expect(gate([warning], plan([step('remove-containers', 'safe', 50)], 0))).toEqual([]);
    expect(gate([warning], plan([step('remove-containers', 'safe', 50)]))).toEqual([
      `disk-warning direct ${CLEANUP_SCRIPT}`,
    ]);
  });

  it('a btrfs metadata risk is direct when the plan can return empty chunks (balance -dusage=0), else the LLM', () => {
    const enospc = finding('btrfs-metadata-enospc', 'P1', 'llm');
    expect(gate([enospc], plan([step('btrfs-balance-empty', 'safe', 0)], 0))).toEqual([
      `btrfs-metadata-enospc direct ${CLEANUP_SCRIPT}`,
    ]);
    expect(gate([enospc], plan([step('btrfs-balance-stepped', 'moderate', 0)], 0))).toEqual([
      'btrfs-metadata-enospc llm',
    ]);
  });

  it('findings no clean-up fixes keep their action and an empty script; without a script path nothing is direct', () => {
    const p = plan([step('remove-containers', 'safe', 50)]);
    expect(
      gate(
        [
          finding('mount-stuck', 'P3', 'llm'),
          finding('filesystem-readonly', 'P1', 'incident'),
          finding('docker-unreachable', 'P2', 'llm', undefined),
        ],
        p,
      ),
    ).toEqual(['mount-stuck llm', 'filesystem-readonly incident', 'docker-unreachable llm']);
    expect(gateFindings([high], p, '').map((x) => x.action)).toEqual(['llm']);
  });

  it("a hostile btrfs mount point stays one shell word in the plan's commands", () => {
    const mountpoint = "/mnt/x'; rm -rf /";
    const p = planRemediation(
      {
        now: 0,
        filesystem: { mountpoint, usedBytes: 90, availBytes: 10, usedPct: 90 },
        docker: null,
        exitedAt: new Map(),
        imageLastUsed: new Map(),
        historySince: null,
        outsideDockerBytes: 0,
        btrfs: {
          mountpoint,
          device: 'd',
          roles: ['path'],
          usage: null,
          df: null,
          docker: null,
          compsize: null,
          problems: [],
          assessment: {
            verdict: 'risk',
            verdictText: 'ENOSPC possible',
            data: null,
            metadata: null,
            system: null,
            metadataFullness: 0.9,
            unallocatedGuideline: 1,
            unusedDataChunkBytes: 5,
            dfFree: null,
          },
        },
      },
      DEFAULT_POLICY,
    );
    expect(p.steps[0]!.cli).toBe("btrfs balance start -dusage=0 '/mnt/x'\\''; rm -rf /'");
  });
});

describe('--apply-safe: the clean-up runs exactly when the host would run it', () => {
  const run = (findings: Finding[], p: RemediationPlan | null, status = 'ok') =>
    ({
      pressure: { status, data: { findings } },
      remediation: { status: 'ok', data: { plan: p } },
    }) as unknown as RunResult;
  const fixable = plan([step('remove-containers', 'safe', 50)]);
  const high = finding('disk-high', 'P1', 'llm');

  it('runs when everything fired is direct', () => {
    expect(runsSafeCleanup(run([high], fixable), CLEANUP_SCRIPT)).toBe(true);
  });

  it('does not when nothing fires, something needs judgement, the assessment is incomplete, or there is no script', () => {
    expect(runsSafeCleanup(run([], fixable), CLEANUP_SCRIPT)).toBe(false);
    expect(runsSafeCleanup(run([finding('disk-warning', 'P4', 'llm')], plan([], 0)), CLEANUP_SCRIPT)).toBe(false);
    expect(runsSafeCleanup(run([high], plan([step('remove-volumes', 'destructive', 500)])), CLEANUP_SCRIPT)).toBe(
      false,
    );
    expect(runsSafeCleanup(run([high, finding('btrfs-metadata-enospc', 'P2', 'llm')], fixable), CLEANUP_SCRIPT)).toBe(
      false,
    );
    expect(runsSafeCleanup(run([high], fixable, 'timeout'), CLEANUP_SCRIPT)).toBe(false);
    expect(runsSafeCleanup(run([high], fixable), '')).toBe(false);
  });
});
