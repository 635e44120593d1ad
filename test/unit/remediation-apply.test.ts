import { execa } from 'execa';
import { lstat, mkdtemp, readlink, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireApplyLock, parseHolder } from '../../src/host/lock.js';
import { ApplyLockedError } from '../../src/model/errors.js';
import type { PlanStep, RemediationPlan, Tier } from '../../src/model/remediation/plan.js';
import { parseDockerHost } from '../../src/parse/docker-host.js';
import type { Runner } from '../../src/host/exec.js';
import { applyPlan, shellDeps, type ApplyDeps, type Measure } from '../../src/run/apply/apply.js';
import { progressText, type ApplyEvent } from '../../src/run/apply/progress.js';
import { historyEntries, type StepRun } from '../../src/model/remediation/applied.js';
import { appliedMarkdown } from '../../src/render/applied.js';

const step = (
  kind: PlanStep['kind'],
  tier: Tier,
  expectedBytes: number,
  objects: PlanStep['objects'] = [],
): PlanStep => ({
  kind,
  tier,
  title: `${kind} title`,
  action: '',
  cli: '',
  objects,
  expectedBytes,
  why: '',
});

/** 1000 bytes of capacity (used + available), 900 used, target 75%: 150 must go. */
function plan(steps: PlanStep[], usedBytes = 900): RemediationPlan {
  return {
    mountpoint: '/var/lib/docker',
    usedBytes,
    capacityBytes: 1000,
    usedPct: Math.ceil(usedBytes / 10),
    targetPct: 75,
    wantBytes: Math.max(0, usedBytes - 750),
    steps,
    byTier: { safe: 0, moderate: 0, destructive: 0 },
    cannotFree: [],
    historyHours: null,
    notes: [],
  };
}

const STEPS = [
  step('remove-containers', 'safe', 100),
  step('remove-dangling-images', 'safe', 100),
  step('prune-all-build-cache', 'moderate', 30),
  step('remove-volumes', 'destructive', 40),
];

/** Fake shell: each step frees `frees[kind]` bytes of the filesystem; the clock advances 10 ms per call. */
function fakes(usedBytes: number, frees: Partial<Record<PlanStep['kind'], number>>, over: Partial<ApplyDeps> = {}) {
  let used = usedBytes;
  let clock = 1_000_000;
  const calls: string[] = [];
  const deps: ApplyDeps = {
    lock: async () => ({
      path: '/x',
      waitedMs: 0,
      release: async () => {
        calls.push('release');
      },
    }),
    now: () => (clock += 10),
    measure: async (): Promise<Measure> => ({ usedBytes: used, availBytes: 1000 - used }),
    step: async (s): Promise<StepRun> => {
      calls.push(s.kind);
      used -= frees[s.kind] ?? 0;
      return {
        objects: s.objects.map((o) => ({
          id: o.id,
          name: o.name,
          plannedBytes: o.bytes,
          result: 'removed',
          detail: null,
        })),
        daemonReclaimedBytes: null,
        problem: null,
        detail: null,
      };
    },
    ...over,
  };
  return { deps, calls };
}

const FAR = 1_000_000 + 60_000;

describe('applyPlan (the loop, with a fake shell)', () => {
  it('runs steps in plan order and stops as soon as the filesystem is at the target', async () => {
    const { deps, calls } = fakes(900, { 'remove-containers': 200, 'remove-dangling-images': 100 });
    const r = await applyPlan(plan(STEPS), 'safe', FAR, deps);
    expect(calls).toEqual(['remove-containers', 'release']);
    expect(r).toMatchObject({
      stopped: 'target-reached',
      targetReached: true,
      wantedBytes: 150,
      freedBytes: 200,
      usedBeforeBytes: 900,
      usedAfterBytes: 700,
      short: [],
    });
    expect(r.steps[0]).toMatchObject({
      kind: 'remove-containers',
      usedBeforeBytes: 900,
      usedAfterBytes: 700,
      measuredBytes: 200,
      expectedBytes: 100,
    });
    expect(r.notRun.map((s) => [s.kind, s.reason])).toEqual([
      ['remove-dangling-images', 'target-reached'],
      ['prune-all-build-cache', 'tier-limit'],
      ['remove-volumes', 'destructive'],
    ]);
    expect(historyEntries(r)).toEqual([{ action: 'remove-containers', reclaimedBytes: 200 }]);
  });

  it('says why it freed less than wanted: steps exhausted, the tier limit, what only a person may do', async () => {
    const { deps } = fakes(900, { 'remove-containers': 50, 'remove-dangling-images': 50 });
    const r = await applyPlan(plan(STEPS), 'safe', FAR, deps);
    expect(r).toMatchObject({ stopped: 'steps-exhausted', targetReached: false, wantedBytes: 150, freedBytes: 100 });
    // The steps were expected to free 200 and freed 100: said too.
    expect(r.short.map((s) => [s.kind, s.bytes])).toEqual([
      ['steps-exhausted', null],
      ['tier-limit', 30],
      ['destructive', 40],
      ['under-delivered', 100],
    ]);
    const md = appliedMarkdown(r).join('\n');
    expect(md).toMatch(
      /^Wanted to free 150 B on \/var\/lib\/docker \(to 75%; 90% used before\), freed 100 B \(statfs\); now 80% used/,
    );
    expect(md).toContain(
      'Short of the target by 50 B: every step up to --max-tier safe ran; 1 moderate step not run (--max-tier safe; 30 B expected); 1 destructive step left to a person (40 B expected); the steps that ran freed 100 B, 100 B less than their removals were expected to.',
    );
  });

  it('--max-tier moderate runs the moderate steps too; destructive ones never', async () => {
    const { deps, calls } = fakes(900, {
      'remove-containers': 50,
      'remove-dangling-images': 50,
      'prune-all-build-cache': 30,
    });
    const r = await applyPlan(plan(STEPS), 'moderate', FAR, deps);
    expect(calls).toEqual(['remove-containers', 'remove-dangling-images', 'prune-all-build-cache', 'release']);
    expect(r.notRun.map((s) => s.reason)).toEqual(['destructive']);
  });

  it('a btrfs balance runs even below the target: it makes unallocated space, which df does not show', async () => {
    const steps = [
      step('btrfs-balance-empty', 'safe', 0),
      step('remove-containers', 'safe', 100),
      step('btrfs-balance-stepped', 'moderate', 0),
      step('prune-all-build-cache', 'moderate', 30),
    ];
    const { deps, calls } = fakes(700, {});
    const r = await applyPlan(plan(steps, 700), 'moderate', FAR, deps);
    expect(calls).toEqual(['btrfs-balance-empty', 'btrfs-balance-stepped', 'release']);
    expect(r.notRun.map((s) => [s.kind, s.reason])).toEqual([
      ['remove-containers', 'target-reached'],
      ['prune-all-build-cache', 'target-reached'],
    ]);
    expect(r.stopped).toBe('already-below-target');
  });

  it('already at the target: nothing runs', async () => {
    const { deps, calls } = fakes(700, {});
    const r = await applyPlan(plan(STEPS, 700), 'safe', FAR, deps);
    expect(calls).toEqual(['release']);
    expect(r).toMatchObject({ stopped: 'already-below-target', targetReached: true, wantedBytes: 0, freedBytes: 0 });
  });

  it('no step starts once the budget is spent, and the result says what was left', async () => {
    const { deps, calls } = fakes(900, { 'remove-containers': 50 });
    const r = await applyPlan(plan(STEPS), 'safe', 1_000_000 + 100, deps);
    expect(calls).toEqual(['release']);
    expect(r.stopped).toBe('deadline');
    expect(r.short.find((s) => s.kind === 'deadline')).toMatchObject({ bytes: 200 });
  });

  it('nothing runs without a first statfs (the target could not be checked); a failed statfs after a step stops the rest', async () => {
    const first = fakes(
      900,
      {},
      { measure: async () => ({ problem: 'statfs /var/lib/docker: statfs gave no answer in 5 s' }) },
    );
    const r = await applyPlan(plan(STEPS), 'safe', FAR, first.deps);
    expect(first.calls).toEqual(['release']);
    expect(r).toMatchObject({ stopped: 'measure-failed', usedBeforeBytes: null, freedBytes: null });
    expect(appliedMarkdown(r)).toEqual([
      'Nothing applied on /var/lib/docker: the target could not be checked (statfs /var/lib/docker: statfs gave no answer in 5 s).',
    ]);
    let n = 0;
    const later = fakes(
      900,
      { 'remove-containers': 50 },
      { measure: async () => (n++ === 0 ? { usedBytes: 900, availBytes: 100 } : { problem: 'statfs: stuck' }) },
    );
    const r2 = await applyPlan(plan(STEPS), 'safe', FAR, later.deps);
    expect(later.calls).toEqual(['remove-containers', 'release']);
    expect(r2.steps[0]).toMatchObject({ usedAfterBytes: null, measuredBytes: null });
    // What the step freed is unknown, not zero.
    expect(r2).toMatchObject({ stopped: 'measure-failed', usedAfterBytes: null, freedBytes: null });
    expect(r2.notRun[0]).toMatchObject({ kind: 'remove-dangling-images', reason: 'measure-failed' });
    expect(historyEntries(r2)).toEqual([{ action: 'remove-containers', reclaimedBytes: 0 }]);
  });

  it('refusals are reported per object, and the apply goes on', async () => {
    const objects = [
      { id: 'sha256:a', name: '<dangling a>', bytes: 60 },
      { id: 'sha256:b', name: 'x\n## Fake | `y`', bytes: 40 },
    ];
    const { deps, calls } = fakes(900, { 'remove-containers': 50, 'remove-dangling-images': 60 }, {});
    const inner = deps.step;
    deps.step = async (s, d) => {
      const r = await inner(s, d);
      if (s.kind !== 'remove-dangling-images') return r;
      return {
        ...r,
        objects: [
          r.objects[0]!,
          {
            ...r.objects[1]!,
            result: 'refused',
            detail: 'conflict: unable to delete b (cannot be forced) - image is being used by running container 1234',
          },
        ],
      };
    };
    const r = await applyPlan(
      plan([step('remove-containers', 'safe', 50), step('remove-dangling-images', 'safe', 100, objects)]),
      'safe',
      FAR,
      deps,
    );
    expect(calls).toEqual(['remove-containers', 'remove-dangling-images', 'release']);
    expect(r.short.find((s) => s.kind === 'refusals')).toMatchObject({ bytes: 40 });
    const md = appliedMarkdown(r);
    // A hostile name cannot start a line or break the table.
    expect(md.some((l) => l.startsWith('## '))).toBe(false);
    expect(md.join('\n')).toContain(
      'Not removed: x\\n\\#\\# Fake \\| \\`y\\` refused: conflict: unable to delete b (cannot be forced) - image is being used by running container 1234.',
    );
  });

  it('the lock is released when a step throws', async () => {
    const { deps, calls } = fakes(
      900,
      {},
      {
        step: async () => {
          throw new Error('boom');
        },
      },
    );
    await expect(applyPlan(plan(STEPS), 'safe', FAR, deps)).rejects.toThrow('boom');
    expect(calls).toEqual(['release']);
  });
});

describe('progress lines (for a terminal), with a fake shell', () => {
  it('tells each step as it starts and as it ends, and the result is the same without them', async () => {
    const events: ApplyEvent[] = [];
    const frees = { 'remove-containers': 100, 'remove-dangling-images': 100 };
    const quiet = await applyPlan(plan(STEPS), 'moderate', FAR, fakes(900, frees).deps);
    const told = await applyPlan(
      plan(STEPS),
      'moderate',
      FAR,
      fakes(900, frees, { progress: (e) => events.push(e) }).deps,
    );
    expect(told).toEqual(quiet);
    expect(appliedMarkdown(told)).toEqual(appliedMarkdown(quiet));
    expect(events.map(progressText).join('')).toBe(
      [
        'remediate --apply: /var/lib/docker 90% used (900 B of 1000 B), target 75%; 3 steps up to --max-tier moderate\n',
        '[1/3] safe: remove-containers title (expected 100 B) … freed 100 B (statfs), now 80% used (0.0 s)\n',
        '[2/3] safe: remove-dangling-images title (expected 100 B) … freed 100 B (statfs), now 70% used (0.0 s)\n',
        'remediate --apply: at the target; 2 steps not run\n',
      ].join(''),
    );
  });

  it('says when a step failed, when statfs failed, and keeps system text to one plain line', async () => {
    let n = 0;
    const events: ApplyEvent[] = [];
    const deps = fakes(
      900,
      {},
      {
        progress: (e) => events.push(e),
        step: async () => ({
          objects: [],
          daemonReclaimedBytes: null,
          problem: 'daemon said \u001b[31mno\nway',
          detail: null,
        }),
        measure: async () => (n++ === 0 ? { usedBytes: 900, availBytes: 100 } : { problem: 'statfs: stuck' }),
      },
    ).deps;
    await applyPlan(plan(STEPS), 'safe', FAR, deps);
    const text = events.map(progressText).join('');
    expect(text).toContain(
      '[1/2] safe: remove-containers title (expected 100 B) … failed: daemon said \\u{1b}[31mno\\nway (0.0 s)\n',
    );
    expect(text).toMatch(/remediate --apply: statfs failed; 3 steps not run \(statfs: stuck\)\n$/);
    expect(text.split('\n').filter(Boolean)).toHaveLength(3);
  });
});

describe('the apply lock', () => {
  let dir: string;
  let lockPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pf-lock-'));
    lockPath = path.join(dir, 'apply.lock');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds our pid; a second taker waits, then refuses with ApplyLockedError naming the holder', async () => {
    const lock = await acquireApplyLock(lockPath, 0);
    // A symbolic link whose target is the holder: created whole, even on a full disk (the bytes live in the inode).
    expect((await lstat(lockPath)).isSymbolicLink()).toBe(true);
    expect(parseHolder(await readlink(lockPath))?.pid).toBe(process.pid);
    const started = Date.now();
    const second = await acquireApplyLock(lockPath, 300).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ApplyLockedError);
    expect((second as ApplyLockedError).holderPid).toBe(process.pid);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect((second as Error).message).toMatch(
      /^another remediate --apply \(pid \d+\) holds .*apply\.lock; gave up after 0\.\d+ s, nothing was applied$/,
    );
    await lock.release();
    const third = await acquireApplyLock(lockPath, 0);
    await third.release();
    await expect(lstat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a waiting taker gets the lock as soon as it is released', async () => {
    const lock = await acquireApplyLock(lockPath, 0);
    setTimeout(() => void lock.release(), 200);
    const second = await acquireApplyLock(lockPath, 3000);
    expect(second.waitedMs).toBeGreaterThanOrEqual(150);
    await second.release();
  });

  it('a lock whose holder is gone, or whose pid now names another process, is stale and broken', async () => {
    const gone = await execa('sh', ['-c', 'echo $$']);
    await symlink(`${gone.stdout.trim()} 12345`, lockPath);
    const lock = await acquireApplyLock(lockPath, 0);
    await lock.release();
    // Our own pid with another start time: a reused pid.
    await symlink(`${process.pid} 1`, lockPath);
    const again = await acquireApplyLock(lockPath, 0);
    expect(parseHolder(await readlink(lockPath))?.start).not.toBe('1');
    await again.release();
    // A plain file made by hand is read the same way.
    await writeFile(lockPath, `${gone.stdout.trim()}\n`);
    await (await acquireApplyLock(lockPath, 0)).release();
  });

  it('release never removes a lock that is no longer ours', async () => {
    const lock = await acquireApplyLock(lockPath, 0);
    await unlink(lockPath);
    await symlink('1 1', lockPath);
    await lock.release();
    expect(await readlink(lockPath)).toBe('1 1');
  });
});

describe('the measure on btrfs (a recorded runner)', () => {
  /** Answers btrfs with `btrfsExit`, and the statfs child with the btrfs-loop capture (test/fixtures/statfs/btrfs-loop.stat). */
  const recorded = (btrfsExit: Record<string, number> = {}) => {
    const calls: string[] = [];
    const run: Runner = async (file, args) => {
      if (file === 'btrfs') {
        calls.push(`btrfs ${args[0]} ${args[1]}`);
        const exitCode = btrfsExit[`${args[0]} ${args[1]}`] ?? 0;
        return { stdout: '', stderr: exitCode ? 'ERROR: cannot sync: Read-only file system' : '', exitCode };
      }
      calls.push('statfs');
      return { stdout: '/mnt\x004096 76800 70184 50944 0 0\n', stderr: '', exitCode: 0 };
    };
    const deps = shellDeps({
      run,
      docker: parseDockerHost(undefined),
      apiVersion: null,
      mountpoint: '/mnt',
      fstype: 'btrfs',
      lock: async () => ({ path: '/x', waitedMs: 0, release: async () => {} }),
    });
    return { deps, calls };
  };

  // Seen on kernel 6.18: a deleted subvolume's bytes reach statfs only at the commit after `subvolume sync`,
  // and a commit before it wakes the cleaner (~30 ms instead of up to 30 s).
  it('commits (waking the cleaner), waits for deleted subvolumes, commits again, then takes statfs', async () => {
    const { deps, calls } = recorded();
    expect(await deps.measure(Date.now() + 10_000)).toEqual({
      usedBytes: (76800 - 70184) * 4096,
      availBytes: 50944 * 4096,
    });
    expect(calls).toEqual(['btrfs filesystem sync', 'btrfs subvolume sync', 'btrfs filesystem sync', 'statfs']);
  });

  it('a commit that fails is a measure problem: no figure that may miss what was freed', async () => {
    const { deps, calls } = recorded({ 'filesystem sync': 1 });
    expect(await deps.measure(Date.now() + 10_000)).toEqual({
      problem: 'btrfs filesystem sync /mnt: ERROR: cannot sync: Read-only file system',
    });
    expect(calls).toEqual(['btrfs filesystem sync']);
  });
});
