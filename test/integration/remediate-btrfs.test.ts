import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { acquireApplyLock } from '../../src/host/lock.js';
import type { RemediationPlan } from '../../src/model/remediation/plan.js';
import { parseDockerHost } from '../../src/parse/docker-host.js';
import { execRunner } from '../../src/host/exec.js';
import { applyPlan, shellDeps } from '../../src/run/apply/apply.js';
import { describeWith } from '../helpers/describe-with.js';
import { makeLoopFs, type LoopFs } from '../helpers/loopfs.js';

/** The btrfs steps run through the injected runner, and each measure on btrfs waits for `subvolume sync`. */
describeWith(['mkfs.btrfs', 'btrfs'], 'remediate --apply: the btrfs balance steps on a real loop btrfs', () => {
  let fs: LoopFs;
  let scratch: string;
  beforeAll(async () => {
    fs = await makeLoopFs({ fstype: 'btrfs', sizeMiB: 512 });
    scratch = await mkdtemp(path.join(tmpdir(), 'pf-apply-btrfs-'));
    // Data chunks, then most of their data deleted: what balance -dusage compacts.
    for (let i = 0; i < 4; i += 1)
      await execa('dd', ['if=/dev/urandom', `of=${fs.mountpoint}/f${i}`, 'bs=1M', 'count=40', 'conv=fsync']);
    for (let i = 0; i < 3; i += 1) await rm(path.join(fs.mountpoint, `f${i}`));
    await execa('sync', ['-f', fs.mountpoint]);
  });
  afterAll(async () => {
    await fs?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('runs balance -dusage=0, then 5 and 10 when allowed, and measures each', async () => {
    const step = (kind: 'btrfs-balance-empty' | 'btrfs-balance-stepped', tier: 'safe' | 'moderate') => ({
      kind,
      tier,
      title: kind,
      action: '',
      cli: '',
      why: '',
      objects: [],
      expectedBytes: 0,
    });
    const plan: RemediationPlan = {
      mountpoint: fs.mountpoint,
      usedBytes: 1,
      capacityBytes: 2,
      usedPct: 50,
      targetPct: 1,
      wantBytes: 1,
      byTier: { safe: 0, moderate: 0, destructive: 0 },
      cannotFree: [],
      historyHours: null,
      notes: [],
      steps: [step('btrfs-balance-empty', 'safe'), step('btrfs-balance-stepped', 'moderate')],
    };
    const deps = shellDeps({
      run: execRunner,
      docker: parseDockerHost(undefined),
      apiVersion: null,
      mountpoint: fs.mountpoint,
      fstype: 'btrfs',
      lock: () => acquireApplyLock(path.join(scratch, 'apply.lock')),
    });
    const r = await applyPlan(plan, 'moderate', Date.now() + 60_000, deps);
    expect(r.steps.map((x) => [x.kind, x.problem])).toEqual([
      ['btrfs-balance-empty', null],
      ['btrfs-balance-stepped', null],
    ]);
    expect(r.steps[0]!.detail).toMatch(/^Done, had to relocate \d+ out of \d+ chunks$/);
    expect(r.steps[1]!.detail).toMatch(/^-dusage=5: Done, had to relocate \d+ out of \d+ chunks; -dusage=10: Done, /);
    expect(r.steps.every((x) => typeof x.measuredBytes === 'number')).toBe(true);
    expect(r.usedBeforeBytes).toBeGreaterThan(0);
  });

  it("a balance that fails is a failed step with the tool's words, and the apply goes on measuring", async () => {
    const plan: RemediationPlan = {
      mountpoint: fs.mountpoint,
      usedBytes: 1,
      capacityBytes: 2,
      usedPct: 50,
      targetPct: 1,
      wantBytes: 1,
      byTier: { safe: 0, moderate: 0, destructive: 0 },
      cannotFree: [],
      historyHours: null,
      notes: [],
      steps: [
        {
          kind: 'btrfs-balance-empty',
          tier: 'safe',
          title: 'x',
          action: '',
          cli: '',
          why: '',
          objects: [],
          expectedBytes: 0,
        },
      ],
    };
    // A directory that is not on btrfs: statfs answers, the balance refuses.
    const deps = shellDeps({
      run: execRunner,
      docker: parseDockerHost(undefined),
      apiVersion: null,
      mountpoint: scratch,
      fstype: null,
      lock: () => acquireApplyLock(path.join(scratch, 'apply.lock')),
    });
    const r = await applyPlan({ ...plan, mountpoint: scratch }, 'safe', Date.now() + 30_000, deps);
    expect(r.steps[0]!.problem).toMatch(/ERROR|not a btrfs/i);
    expect(r.short.map((x) => x.kind)).toContain('errors');
  });
});
