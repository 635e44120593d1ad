import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { actionDocument, actionProblems } from '../../src/run/escalation/actions.js';
import { DEFAULT_ESCALATION, escalations, escalationSlug, type EscalationInput } from '../../src/model/escalation.js';
import type { Finding } from '../../src/model/findings.js';
import type { PlanStep, RemediationPlan } from '../../src/model/remediation/plan.js';
import { formatBytes } from '../../src/text/bytes.js';
import { renderResolvedItem, renderVaultItem } from '../../src/render/vault-item.js';
import { assessTrend, type FilesystemTrend } from '../../src/model/trend/assess.js';
import { GiB, historyRecord } from '../helpers/history.js';
import { RUNNER_STEPS, submitCommand } from '../../src/model/vault-action.js';
import { humanStepProblems } from '../helpers/vault-item.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

const MiB = 1024 ** 2;
const HOUR = 3_600_000;
const MOUNT = '/var/lib/docker';
const HOSTILE = '/mnt/x\n## Fake\n# Title\n`x` | Disk: 0% used ../../etc\u202e';

const high = (mountpoint = MOUNT): Finding => ({
  name: 'disk-high',
  severity: 'P1',
  evidence: `${mountpoint} 85% used`,
  action: 'llm',
  mountpoint,
});
const step = (
  kind: PlanStep['kind'],
  tier: PlanStep['tier'],
  expectedBytes: number,
  objects: PlanStep['objects'] = [],
): PlanStep => ({
  kind,
  tier,
  title: `${kind} title`,
  action: `${kind} action`,
  cli: `${kind} cli`,
  objects,
  expectedBytes,
  why: 'because',
});
const plan = (steps: PlanStep[], mountpoint = MOUNT): RemediationPlan => ({
  mountpoint,
  usedBytes: 850 * MiB,
  capacityBytes: 1000 * MiB,
  usedPct: 85,
  targetPct: 75,
  wantBytes: 100 * MiB,
  steps,
  byTier: {
    safe: steps.filter((s) => s.tier === 'safe').reduce((a, s) => a + s.expectedBytes, 0),
    moderate: steps.filter((s) => s.tier === 'moderate').reduce((a, s) => a + s.expectedBytes, 0),
    destructive: 0,
  },
  cannotFree: [{ reason: 'in use by containers (their images)', bytes: 300 * MiB }],
  historyHours: 48,
  notes: [],
});
const fsTrend = (over: Partial<FilesystemTrend> = {}): FilesystemTrend => ({
  mountpoint: MOUNT,
  usedPct: 60,
  bytesPerHour: { '1h': 50 * MiB, '24h': 40 * MiB, '7d': 10 * MiB },
  points: { '1h': 3, '24h': 20, '7d': 20 },
  rateNeeds: { '1h': null, '24h': null, '7d': null },
  timeToFullMs: 10 * HOUR,
  forecastWindow: '6h',
  forecastSpanMs: 6 * HOUR,
  forecastNeeds: null,
  streakAbove: 0,
  sparkline24h: '',
  ...over,
});
function input(over: Partial<EscalationInput> = {}): EscalationInput {
  return {
    findings: [high()],
    filesystems: [
      {
        mountpoint: MOUNT,
        device: 'd',
        fstype: 'ext4',
        deviceNumber: '1:1',
        readonly: false,
        stuck: false,
        roles: ['docker-data-root'],
        paths: [],
        usedBytes: 850 * MiB,
        sizeBytes: 1000 * MiB,
        availBytes: 150 * MiB,
        usedPct: 85,
      },
    ],
    attribution: null,
    plan: null,
    applied: null,
    trend: { filesystems: [], alerts: [], remediations: [] },
    diskHighPct: 80,
    ...over,
  };
}
/** A P1 that held for 3 runs. */
const alerts = [
  {
    name: 'disk-high',
    key: `disk-high@${MOUNT}`,
    severity: 'P1',
    mountpoint: MOUNT,
    state: 'ongoing' as const,
    since: '2026-11-25T05:00:00.000Z',
    runs: 3,
  },
];
const kinds = (i: EscalationInput) => escalations(i, DEFAULT_ESCALATION, formatBytes).map((e) => e.slug);

describe('when a person is needed', () => {
  it("a P1 on its first run is the gate's and the safe apply's, not yet a person's", () => {
    expect(kinds(input())).toEqual([]);
  });

  it('a P1 that held for 3 runs, or that the safe apply left above the threshold', () => {
    expect(kinds(input({ trend: { filesystems: [], alerts, remediations: [] } }))).toEqual([
      'storage-disk-space-var-lib-docker',
    ]);
    const applied = {
      mountpoint: MOUNT,
      usedAfterBytes: 820 * MiB,
      capacityBytes: 1000 * MiB,
      freedBytes: 30 * MiB,
      steps: [],
    } as never;
    const [e] = escalations(input({ applied }), DEFAULT_ESCALATION, formatBytes);
    expect(e!.reasons).toEqual(['Still 82% used after the safe clean-up freed 30.0 MiB (P1 above 80%).']);
  });

  it('a plan whose target needs destructive steps; not one the safe and moderate steps can reach', () => {
    const short = plan([step('remove-containers', 'safe', 20 * MiB), step('remove-volumes', 'destructive', 500 * MiB)]);
    const [e] = escalations(input({ plan: short }), DEFAULT_ESCALATION, formatBytes);
    expect(e!.reasons[0]).toBe(
      'Reaching 75% means freeing 100.0 MiB; the safe and moderate steps free 20.0 MiB: the rest needs steps only a person may approve.',
    );
    expect(e!.approvable.map((s) => s.kind)).toEqual(['remove-volumes']);
    // Every step carries a command; growing the filesystem goes by its type (ext4 here: its device).
    expect(e!.humanAction.map((a) => a.command)).toEqual(['remove-volumes cli', 'resize2fs d']);
    expect(
      kinds(
        input({
          plan: plan([step('remove-containers', 'safe', 200 * MiB), step('remove-volumes', 'destructive', 500 * MiB)]),
        }),
      ),
    ).toEqual([]);
  });

  it('a forecast full within 24 h, from 3 points over half an hour at least, even below the threshold', () => {
    const below = { findings: [] };
    expect(kinds(input({ ...below, trend: { filesystems: [fsTrend()], alerts: [], remediations: [] } }))).toEqual([
      'storage-disk-space-var-lib-docker',
    ]);
    // Seconds of runs (a test's, or a burst) are no trend; nor are two points, nor a forecast past the horizon.
    expect(
      kinds(
        input({
          ...below,
          trend: { filesystems: [fsTrend({ forecastSpanMs: 60_000 })], alerts: [], remediations: [] },
        }),
      ),
    ).toEqual([]);
    expect(
      kinds(
        input({
          ...below,
          trend: { filesystems: [fsTrend({ points: { '1h': 2, '24h': 2, '7d': 2 } })], alerts: [], remediations: [] },
        }),
      ),
    ).toEqual([]);
    expect(
      kinds(
        input({
          ...below,
          trend: { filesystems: [fsTrend({ timeToFullMs: 30 * HOUR })], alerts: [], remediations: [] },
        }),
      ),
    ).toEqual([]);
  });

  it('escalates on exactly the forecasts the trend table gives: none at 29 min of runs, one at 30', () => {
    const history = (lastMin: number) =>
      [0, 15, lastMin].map((m, i) => historyRecord(HOUR * 1000 + m * 60_000, 50 * GiB + i * 2 * GiB));
    for (const [lastMin, want] of [
      [29, []],
      [30, ['storage-disk-space-var-lib-docker']],
    ] as const) {
      const trend = assessTrend(history(lastMin), 0, 80);
      expect(trend.filesystems[0]!.timeToFullMs !== null).toBe(want.length > 0);
      expect(kinds(input({ findings: [], trend }))).toEqual(want);
    }
    // The rate it quotes is named by its own window: 30 min of runs give a 1 h rate, no 24 h one.
    const trend = assessTrend(history(30), 0, 80);
    const [e] = escalations(input({ findings: [], trend }), DEFAULT_ESCALATION, formatBytes);
    expect(JSON.stringify(e)).toContain('(6h fit, 8.0 GiB/h over 1 h)');
  });

  it("a btrfs metadata risk, unless this run's balance just changed the allocation", () => {
    const enospc: Finding = {
      name: 'btrfs-metadata-enospc',
      severity: 'P1',
      evidence: '/srv: RISK',
      action: 'llm',
      mountpoint: '/srv',
    };
    expect(kinds(input({ findings: [enospc] }))).toEqual(['storage-btrfs-metadata-srv']);
    const applied = {
      mountpoint: '/srv',
      usedAfterBytes: 1,
      capacityBytes: 2,
      freedBytes: 0,
      steps: [{ kind: 'btrfs-balance-empty', problem: null }],
    } as never;
    expect(kinds(input({ findings: [enospc], applied }))).toEqual([]);
  });
});

describe('slugs and items are safe whatever the names', () => {
  it('a slug is stable, file-name safe, bounded, and distinct for mounts that only differ in case or punctuation', () => {
    expect(escalationSlug('disk-space', '/')).toBe('storage-disk-space-root');
    const slugs = [
      HOSTILE,
      '/var/lib-docker',
      '/var-lib/docker',
      '/Data',
      '/data',
      'x'.repeat(10_000),
      '/../../etc/passwd',
    ].map((m) => escalationSlug('disk-space', m));
    for (const s of slugs) expect(s).toMatch(/^storage-disk-space-[a-z0-9-]{1,90}$/);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(escalationSlug('disk-space', HOSTILE)).toBe(escalationSlug('disk-space', HOSTILE));
  });

  it('an item from hostile names has one title line, the five sections and nothing else at line start', () => {
    const alerts = [
      {
        name: 'disk-high',
        key: 'k',
        severity: 'P1',
        mountpoint: HOSTILE,
        state: 'ongoing' as const,
        since: '2026-11-25T05:00:00.000Z',
        runs: 5,
      },
    ];
    const hostilePlan = plan(
      [step('remove-volumes', 'destructive', 500 * MiB, [{ id: 'v\n## Human Action', name: 'v', bytes: 1 }])],
      HOSTILE,
    );
    hostilePlan.steps[0]!.cli = 'docker volume rm ```\n## Fake';
    const [e] = escalations(
      input({
        findings: [high(HOSTILE)],
        filesystems: [{ ...input().filesystems[0]!, mountpoint: HOSTILE }],
        plan: hostilePlan,
        trend: { filesystems: [], alerts, remediations: [] },
      }),
      DEFAULT_ESCALATION,
      formatBytes,
    );
    const text = renderVaultItem(e!, { host: 'h\n# x', at: new Date('2026-11-25T07:00:00Z'), since: null });
    expect(text.match(/^#{1,2} .*/gm)).toEqual([
      expect.stringMatching(/^# Free space on /),
      '## What',
      '## Why',
      '## Unblocks',
      '## Human Action',
      '## Factory Will Then',
    ]);
    expect(text).not.toMatch(/^Disk:|[^\\]Disk: 0/m);
    // The fence is longer than any backtick run in the command: it cannot be closed from inside.
    expect(text).toContain('   ````sh\n   docker volume rm ```\\n## Fake\n   ````');
    const resolved = renderResolvedItem('disk-space', HOSTILE, `${HOSTILE} is 50% used`, {
      host: 'h',
      at: new Date(),
      since: null,
    });
    expect(resolved.match(/^#{1,2} .*/gm)).toHaveLength(6);
  });

  it("an action TOML parses back with only the host's keys, whatever the object names", () => {
    const [e] = escalations(
      input({
        plan: plan([
          step('remove-volumes', 'destructive', 500 * MiB, [
            { id: 'data"]\nsecrets = ["TOKEN"]', name: 'x', bytes: 1 },
          ]),
        ]),
      }),
      DEFAULT_ESCALATION,
      formatBytes,
    );
    const doc = actionDocument(
      e!,
      e!.approvable[0]!,
      '/vault/pending/supervisor-x.md',
      new Date('2026-12-06T18:11:31Z'),
    );
    const back = parse(stringify(doc)) as Record<string, unknown>;
    expect(actionProblems(back)).toEqual([]);
    expect(back).toMatchObject({
      id: expect.stringMatching(/^storage-disk-space-var-lib-docker-remove-volumes-20261206t181131z-[0-9a-f]{6}$/),
      formula: 'storage-remediation',
      secrets: [],
      blast_radius: 'high',
    });
    expect(actionProblems({ ...back, command: 'rm -rf /' })).toEqual(['unknown key command']);
    expect(actionProblems({ id: '../x', formula: 'other' })).toEqual([
      'missing context',
      'missing secrets',
      'id is not a safe name',
      'formula is not ours',
      'secrets is not a list',
    ]);
  });
});

describe('vault actions the host accepts, and items its reviewer accepts', () => {
  const [e] = escalations(
    input({
      trend: { filesystems: [], alerts, remediations: [] },
      plan: plan([
        step('remove-containers', 'moderate', 5 * MiB),
        step('remove-volumes', 'destructive', 500 * MiB, [{ id: 'old-cache', name: 'old-cache', bytes: 1 }]),
        step('remove-overlay2-orphans', 'destructive', 50 * MiB, [{ id: 'a'.repeat(64), name: 'x', bytes: 1 }]),
      ]),
      attribution: {
        mountpoint: MOUNT,
        sources: [
          { kind: 'outside-docker', label: 'outside Docker', bytes: 9 * MiB, reclaimableBytes: 0, countsInUsed: true },
        ],
      } as never,
    }),
    DEFAULT_ESCALATION,
    formatBytes,
  );
  // Three streaks of the condition, each starting at its own time.
  const filings = ['2026-12-06T18:11:31Z', '2026-12-06T18:31:31Z', '2026-12-07T09:00:00Z'].map((at) =>
    actionDocument(
      e!,
      e!.approvable.find((s) => s.kind === 'remove-volumes')!,
      '/ops/vault/pending/x.md',
      new Date(at),
    ),
  );

  it('while a condition holds with the same objects, one action id run after run; a new streak or other objects, a new one', () => {
    const step = e!.approvable.find((s) => s.kind === 'remove-volumes')!;
    const ids = filings.map((d) => d.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(new RegExp(`^${e!.slug}-remove-volumes-\\d{8}t\\d{6}z-[0-9a-f]{6}$`));
    expect(ids[0]).toMatch(/^storage-disk-space-var-lib-docker-remove-volumes-20261206t181131z-[0-9a-f]{6}$/);
    // The same streak and objects, written again 20 minutes later: the same id (the host would get one pull request).
    const again = actionDocument(e!, step, '/ops/vault/pending/x.md', new Date('2026-12-06T18:11:31Z'));
    expect(again.id).toBe(ids[0]);
    // The same streak with another object set: a new id.
    const fewer = actionDocument(
      e!,
      { ...step, objects: [...step.objects, { id: 'pf-more', name: 'pf-more', bytes: 1 }] },
      '/ops/vault/pending/x.md',
      new Date('2026-12-06T18:11:31Z'),
    );
    expect(fewer.id).not.toBe(ids[0]);
  });

  it("every action passes the host validator's rules: its keys, a formula file in formulas/, a unique safe id", () => {
    for (const doc of filings) {
      const back = parse(stringify(doc)) as Record<string, unknown>;
      expect(actionProblems(back)).toEqual([]);
      expect(existsSync(join(ROOT, 'formulas', `${String(back.formula)}.toml`))).toBe(true);
      expect(back.id).toMatch(/^[a-z0-9-]+$/);
      expect(`${String(back.id)}.toml`.length).toBeLessThanOrEqual(151);
    }
    // Only what the runner can do through the socket becomes an action: orphans need the host's root.
    expect([...RUNNER_STEPS]).toEqual(['remove-volumes']);
  });

  it("the submit command is the host's vault_request, with the id and file as arguments", () => {
    expect(submitCommand('storage-x-20261206t181131z', "/ops/it's here/a.toml")).toBe(
      `bash -c 'source "$FACTORY_ROOT/lib/env.sh" && source "$FACTORY_ROOT/lib/pr-lifecycle.sh" && source "$FACTORY_ROOT/lib/action-vault.sh" && vault_request "$1" "$(cat "$2")"' _ storage-x-20261206t181131z '/ops/it'\\''s here/a.toml'`,
    );
  });

  it('Unblocks names the finding, the recipe that stops firing and the figure; every step has a command and where', () => {
    const id = filings[0]!.id as string;
    const text = renderVaultItem(e!, {
      host: 'h',
      at: new Date('2026-12-06T18:11:31Z'),
      since: null,
      actions: [{ id, kind: 'remove-volumes', file: `/ops/actions/${id}.toml` }],
    });
    const unblocks = e!.unblocks;
    expect(text).toContain(`## Unblocks\nClears the P1 disk-high finding for ${MOUNT}`);
    expect(unblocks).toMatch(/85% now, [\d.]+ MiB to free/);
    const recipes = [...unblocks.matchAll(/recipes? (storage-[a-z-]+)/g)].map((m) => m[1]!);
    expect(recipes.length).toBeGreaterThan(0);
    const yaml = readFileSync(join(ROOT, 'integrations/recipes.yaml'), 'utf8');
    for (const r of recipes) expect(yaml).toContain(`- name: ${r}\n`);

    expect(humanStepProblems(text)).toEqual([]);
    const steps = /\n## Human Action\n([\s\S]*?)\n## /.exec(text)![1]!;
    // The action that goes with this filing, right after the step it would do, with its submit command.
    expect(steps).toContain(`submit vault action ${id} (file /ops/actions/${id}.toml)`);
    expect(steps).toContain(`vault_request "$1" "$(cat "$2")"' _ ${id} /ops/actions/${id}.toml`);
    expect(steps.indexOf('remove-volumes cli')).toBeLessThan(steps.indexOf(`vault action ${id}`));
    expect(steps).not.toContain('remove-overlay2-orphans-2026');
  });

  it('a btrfs metadata item: concrete Unblocks, and each grow step with its command and where', () => {
    const enospc: Finding = {
      name: 'btrfs-metadata-enospc',
      severity: 'P1',
      evidence: 'x',
      action: 'llm',
      mountpoint: '/srv',
    };
    const [b] = escalations(input({ findings: [enospc] }), DEFAULT_ESCALATION, formatBytes);
    const text = renderVaultItem(b!, { host: 'h', at: new Date(), since: null });
    expect(humanStepProblems(text)).toEqual([]);
    expect(b!.unblocks).toMatch(/recipes storage-btrfs-metadata-risk and storage-btrfs-metadata-critical stop firing/);
    expect(text).toContain('btrfs filesystem resize max /srv');
    expect(text).toContain('btrfs device add DEVICE /srv');
  });
});
