import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configFromText } from '../../src/config/load.js';
import { rootProblem } from '../../src/config/cleanup-rules.js';
import { safelyFixable } from '../../src/model/gate.js';
import { planRemediation, type RemediationPlan } from '../../src/model/remediation/plan.js';
import { DEFAULT_POLICY } from '../../src/model/remediation/policy.js';
import { appliedMarkdown } from '../../src/render/applied.js';
import { globMatches, globProblem } from '../../src/model/remediation/rule-glob.js';
import { planRuleSteps } from '../../src/model/remediation/rule-steps.js';
import type { CleanupRule, RuleScan, ScannedFile } from '../../src/model/remediation/rules.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-06T12:00:00Z');

describe('rule globs', () => {
  it.each([
    ['*.log', 'a.log', true],
    ['*.log', 'deep/er/a.log', true],
    ['*.log', 'a.log.1', false],
    ['logs/*.log', 'logs/a.log', true],
    ['logs/*.log', 'logs/x/a.log', false],
    ['logs/**/*.log', 'logs/a.log', true],
    ['logs/**/*.log', 'logs/x/y/a.log', true],
    ['logs/**', 'logs/x/y', true],
    ['a?.log', 'ab.log', true],
    ['a?.log', 'a/.log', false],
    ['a.log', 'a_log', false],
    ['x+(y).log', 'x+(y).log', true],
    ['{dev,review}/*.log', 'review/a.log', true],
    ['{dev,review}/*.log', 'devx/a.log', false],
    ['{a.b,c}', 'x/aXb', false],
  ])('%s against %j: %s', (glob, rel, hit) => {
    expect(globMatches(glob, rel)).toBe(hit);
  });

  it('refuses what it does not match as written', () => {
    expect(globProblem('/abs/*.log')).toMatch(/relative/);
    expect(globProblem('../x')).toMatch(/\.\./);
    expect(globProblem('[ab].log')).toMatch(/not supported/);
    expect(globProblem('{a,{b,c}}')).toMatch(/none nested/);
    expect(globProblem('{a}.log')).toMatch(/two or more/);
    expect(globProblem('*a*a*a*a*a*a*a*a*a')).toMatch(/stars/);
  });
});

describe('rule roots', () => {
  it.each([
    '/',
    '/etc',
    '/etc/nginx',
    '/usr/local/x',
    '/var',
    '/var/lib',
    '/var/lib/docker/x',
    '/proc',
    '/run/x',
    'rel',
    '/srv/../etc',
    '/srv/x/',
    '/srv//x',
  ])('refuses %j', (root) => {
    expect(rootProblem(root)).not.toBeNull();
  });
  it.each(['/var/log', '/home/agent/logs', '/srv/app', '/tmp/x'])('accepts %j', (root) => {
    expect(rootProblem(root)).toBeNull();
  });
});

describe('remediation.rules in a config', () => {
  const yaml = (rule: string) => `remediation:\n  rules:\n    - ${rule.trim().split('\n').join('\n      ')}\n`;
  it('reads a rule of each action, in TOML as in YAML', async () => {
    const toml = `[[remediation.rules]]\nname = "logs"\nroot = "/srv/app"\nmatch = "*.log"\naction = "rotate"\nlarger_than = "50M"\nkeep_lines = 10000\ntier = "safe"\n`;
    expect((await configFromText(toml, 'c.toml')).remediation?.rules).toEqual([
      {
        name: 'logs',
        root: '/srv/app',
        match: '*.log',
        action: { kind: 'rotate', largerThanBytes: 50 * 2 ** 20, keep: { lines: 10000 } },
        protect: [],
        tier: 'safe',
      },
    ]);
    const del = await configFromText(
      yaml(
        'name: m\nroot: /srv/m\nmatch: "**"\naction: delete\nolder_than: 7d\npressure_pct: 70\npressure_older_than: 1d',
      ),
      'c.yaml',
    );
    expect(del.remediation?.rules?.[0]).toMatchObject({
      action: { kind: 'delete', olderThanMs: 7 * DAY, pressure: { abovePct: 70, olderThanMs: DAY } },
      tier: 'moderate',
    });
  });

  it.each([
    ['name: a\nroot: /srv\nmatch: "*"\naction: delete', /rules\[0\]\.older_than: .*delete needs older_than/],
    [
      'name: a\nroot: /srv\nmatch: "*"\naction: truncate\nlarger_than: 1M\nolder_than: 1d',
      /rules\[0\]\.older_than: expected no older_than for action truncate/,
    ],
    [
      'name: a\nroot: /srv\nmatch: "*"\naction: delete\nolder_than: 1d\npressure_pct: 70\npressure_older_than: 2d',
      /pressure_older_than: expected an age shorter than older_than/,
    ],
    [
      'name: a\nroot: /srv\nmatch: "*"\naction: shred\nolder_than: 1d',
      /rules\[0\]\.action: expected delete, rotate or truncate, got "shred"/,
    ],
    [
      'name: a\nroot: /srv\nmatch: "*"\naction: truncate\nlarger_than: 1M\ntier: yolo',
      /rules\[0\]\.tier: expected safe, moderate or destructive/,
    ],
    ['name: a\nroot: /srv\nmatch: "*"\naction: truncate\nlarger_than: 1M\nfollow: true', /unknown key/],
    [
      'name: a\nroot: /etc\nmatch: "*"\naction: truncate\nlarger_than: 1M',
      /rules\[0\]\.root: .*\/etc belongs to the system/,
    ],
  ])('refuses %j', async (rule, why) => {
    await expect(configFromText(yaml(rule), 'c.yaml')).rejects.toThrow(why);
  });

  it('refuses two rules of one name, and more than 16 rules', async () => {
    const one = '{name: a, root: /srv, match: "*", action: truncate, larger_than: 1M}';
    await expect(configFromText(`remediation:\n  rules: [${one}, ${one}]\n`, 'c.yaml')).rejects.toThrow(
      /rules\[1\]\.name/,
    );
    const many = Array.from({ length: 17 }, (_, i) => one.replace('name: a', `name: r${i}`)).join(', ');
    await expect(configFromText(`remediation:\n  rules: [${many}]\n`, 'c.yaml')).rejects.toThrow(
      /17 items; at most 16/,
    );
  });
});

it('ships an example rule set for the host agent logs that the schema reads, off until copied into a config', async () => {
  const text = readFileSync(new URL('../../integrations/cleanup-rules.example.yaml', import.meta.url), 'utf8');
  const rules = (await configFromText(text, 'cleanup-rules.example.yaml')).remediation?.rules ?? [];
  expect(rules.map((r) => [r.name, r.root, r.match, r.action, r.tier])).toEqual([
    [
      'factory-agent-logs',
      '/home/agent/repos/_factory',
      '{dev,review,supervisor,gardener,planner,predictor}/*.log',
      { kind: 'truncate', largerThanBytes: 10 * 2 ** 20 },
      'safe',
    ],
  ]);
});

describe('planning a rule', () => {
  const rule: CleanupRule = {
    name: 'media',
    root: '/srv/m',
    match: '**',
    action: { kind: 'delete', olderThanMs: 7 * DAY, pressure: { abovePct: 70, olderThanMs: DAY } },
    protect: [],
    tier: 'safe',
  };
  const file = (rel: string, ageDays: number, allocated = 4096): ScannedFile => ({
    rel,
    dev: 7,
    ino: rel.length,
    size: allocated,
    allocated,
    mtimeMs: NOW - ageDays * DAY,
  });
  const scan = (usedPct: number): RuleScan => ({
    kind: 'ok',
    rule,
    rootDev: 7,
    rootIno: 2,
    mountpoint: '/srv',
    usedPct,
    files: [file('new', 0), file('mid', 3), file('old\n#|`x`', 10, 8192)],
    cut: null,
  });

  it('selects the old files, oldest first, and the shorter age only above the threshold', () => {
    const below = planRuleSteps([scan(70)], NOW).steps[0]!;
    expect(below.objects.map((o) => [o.name, o.bytes, o.id])).toEqual([['/srv/m/old\n#|`x`', 8192, '7:9']]);
    expect(below).toMatchObject({ kind: 'cleanup-rule', tier: 'safe', expectedBytes: 8192 });
    expect(below.cli).toBe("rm -- '/srv/m/old\n#|`x`'");
    const above = planRuleSteps([scan(71)], NOW).steps[0]!;
    expect(above.objects.map((o) => o.name)).toEqual(['/srv/m/old\n#|`x`', '/srv/m/mid']);
    expect(above.why).toMatch(/71% used, above 70%/);
    expect(above.rule?.criteria.olderThanMs).toBe(DAY);
  });

  it('says why a rule planned nothing', () => {
    const out = planRuleSteps([{ kind: 'refused', rule, reason: "Docker's data root /srv/m/docker is there" }], NOW);
    expect(out.steps).toEqual([]);
    expect(out.notes).toEqual(["Rule media (/srv/m): Docker's data root /srv/m/docker is there; nothing planned."]);
  });
});

describe('a rule applied', () => {
  it('says which files were truncated or rotated while a process held them', () => {
    const object = (name: string, detail: string | null) => ({
      id: '7:1',
      name,
      plannedBytes: 4096,
      result: 'removed' as const,
      detail,
    });
    const md = appliedMarkdown({
      mountpoint: '/',
      targetPct: 75,
      maxTier: 'safe',
      startedAt: null,
      finishedAt: null,
      lockWaitedMs: 0,
      capacityBytes: 100,
      usedBeforeBytes: 10,
      usedAfterBytes: 10,
      wantedBytes: 0,
      freedBytes: 0,
      targetReached: true,
      stopped: 'already-below-target',
      short: [],
      notRun: [],
      notes: [],
      steps: [
        {
          kind: 'cleanup-rule',
          tier: 'safe',
          title: 'rule logs: truncate 2 files larger than 1.0 MiB',
          expectedBytes: 8192,
          objects: [
            object('/srv/a\n#.log', 'truncated while open by pid 7 (app): a writer …'),
            object('/srv/b.log', null),
          ],
          daemonReclaimedBytes: null,
          problem: null,
          detail: null,
          usedBeforeBytes: 10,
          usedAfterBytes: 10,
          measuredBytes: 0,
          durationMs: 5,
        },
      ],
    }).join('\n');
    expect(md).toContain('Still open: /srv/a\\n\\#.log removed: truncated while open by pid 7 (app): a writer ….');
    expect(md).not.toContain('b.log removed');
  });
});

/** A safe truncate rule's step for one 8 KiB file, its root on `mountpoint`. */
function truncateStep(mountpoint: string, bytes = 8192) {
  return planRuleSteps(
    [
      {
        kind: 'ok',
        rule: {
          name: 'r',
          root: '/srv/r',
          match: '*',
          action: { kind: 'truncate', largerThanBytes: 1 },
          protect: [],
          tier: 'safe',
        },
        rootDev: 1,
        rootIno: 2,
        mountpoint,
        usedPct: 90,
        files: [{ rel: 'a', dev: 1, ino: 3, size: bytes, allocated: bytes, mtimeMs: NOW }],
        cut: null,
      },
    ],
    NOW,
  ).steps;
}

describe('the gate and a rule', () => {
  const plan = (ruleMount: string) =>
    ({
      mountpoint: '/',
      wantBytes: 1000,
      steps: truncateStep(ruleMount),
    }) as unknown as RemediationPlan;

  it('counts a safe rule as fixing a disk finding only on its own filesystem', () => {
    const finding = { name: 'disk-high', mountpoint: '/' };
    expect(safelyFixable(finding, plan('/'))).toBe(true);
    expect(safelyFixable(finding, plan('/srv'))).toBe(false);
  });
});

describe('rule steps in the plan', () => {
  const withRule = (ruleMount: string) =>
    planRemediation(
      {
        now: NOW,
        filesystem: { mountpoint: '/', usedBytes: 900, availBytes: 100, usedPct: 90 },
        docker: null,
        exitedAt: new Map(),
        imageLastUsed: new Map(),
        historySince: null,
        btrfs: null,
        outsideDockerBytes: 900,
        rules: {
          steps: truncateStep(ruleMount, 300),
          notes: [],
        },
      },
      DEFAULT_POLICY,
    );

  it('counts a rule on the plan filesystem in its tier, and takes it out of what cannot be freed', () => {
    const p = withRule('/');
    expect(p.byTier.safe).toBe(300);
    expect(p.cannotFree).toEqual([
      { reason: "outside Docker, beyond the operator's clean-up rules (not this tool's to delete)", bytes: 600 },
    ]);
  });

  it('lists a rule on another filesystem without counting it towards the target', () => {
    const p = withRule('/srv');
    expect(p.steps.map((s) => s.kind)).toEqual(['cleanup-rule']);
    expect(p.byTier.safe).toBe(0);
    expect(p.cannotFree).toEqual([{ reason: "outside Docker (not this tool's to delete)", bytes: 900 }]);
  });
});
