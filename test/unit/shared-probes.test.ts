import { execa } from 'execa';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ESCALATION } from '../../src/model/escalation.js';
import { DEFAULT_POLICY } from '../../src/model/remediation/policy.js';
import { parseDockerHost } from '../../src/parse/docker-host.js';
import { formatRecord, historyDir, type HistoryRecord } from '../../src/model/history.js';
import { writeRecipeCache } from '../../src/sinks/recipe-cache.js';
import { appendRecord } from '../../src/sinks/history.js';
import { execRunner, type Runner } from '../../src/host/exec.js';
import { createSharedProbes } from '../../src/probes/shared.js';

const options = (journalRoot: string | null) => ({
  format: 'markdown' as const,
  budgetMs: 60_000,
  paths: [],
  allMounts: false,
  docker: parseDockerHost('unix:///nonexistent.sock'),
  diskThresholdPct: 80,
  scanOutside: false,
  journalRoot,
  journalKeepDays: null,
  trendDays: 7,
  actionScript: 'x',
  escalate: false,
  escalation: DEFAULT_ESCALATION,
  vault: { pending: null, actions: null },
  remediation: { policy: DEFAULT_POLICY, always: false, apply: false, applySafe: false, maxTier: 'safe' as const },
  promFile: null,
  notify: [],
  notifyCooldownMs: 6 * 3_600_000,
});
const now = new Date();
const record: HistoryRecord = {
  v: 2,
  at: new Date(now.getTime() - 60_000).toISOString(),
  id: 'r1',
  host: 'h',
  observed: { assessed: true, filesystems: ['/'], looked: ['/'], btrfs: [], dockerSizes: false },
  summaryMount: '/',
  dockerRoot: null,
  filesystems: [{ mountpoint: '/', usedBytes: 1, sizeBytes: 10, availBytes: 9, usedPct: 10, inodesUsedPct: 1 }],
  sources: { 'outside-docker': 1 },
  driver: null,
  counts: null,
  churn: [],
  fired: [],
  remediation: [],
  imagesInUse: [],
  escalations: [],
};
const recipes = new Map([[`sha256:${'1'.repeat(64)}`, ['RUN make']]]);

/** The real runner, counting the children it starts. */
function counting(): { run: Runner; children: string[] } {
  const children: string[] = [];
  return {
    children,
    run: (file, args, timeoutMs, input) => (children.push(args[2] ?? file), execRunner(file, args, timeoutMs, input)),
  };
}

describe('the history and the image recipe cache', () => {
  let root = '';
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'pf-shared-'));
    expect((await appendRecord(execRunner, root, record, 5000)).ok).toBe(true);
    expect(await writeRecipeCache(execRunner, root, recipes, 5000)).toBeNull();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each([
    ['on /: in-process, no child', false, []],
    ['on a mount of its own: in one child', true, ['preflight-files']],
  ] as const)('are read once, however often each is asked for (%s)', async (_, bind, expected) => {
    if (bind) await execa('mount', ['--bind', root, root]);
    try {
      const { run, children } = counting();
      const shared = createSharedProbes(options(root), run, now);
      const [history, again, cache] = await Promise.all([
        shared.history(),
        shared.history(Date.now() + 5000),
        shared.recipeCache(Date.now() + 5000),
      ]);
      expect(history.records.map(formatRecord)).toEqual([formatRecord(record)]);
      expect(again).toEqual(history);
      expect(cache).toEqual({ cache: recipes, problem: null });
      expect(children).toEqual(expected);
    } finally {
      if (bind) await execa('umount', ['-l', root]);
    }
  });

  it('both say why when the folder is refused (writable by others), and the cache is empty', async () => {
    await chmod(historyDir(root), 0o777);
    const shared = createSharedProbes(options(root), execRunner, now);
    const history = await shared.history();
    expect(history.records).toEqual([]);
    expect(history.problem).toMatch(/^[\d-]+\.jsonl: EPERM: its folder is .*writable by others/);
    expect(await shared.recipeCache(Date.now() + 5000)).toMatchObject({
      cache: new Map(),
      problem: expect.stringMatching(/^EPERM: /),
    });
  });

  it('read nothing with --no-journal', async () => {
    const { run, children } = counting();
    const shared = createSharedProbes(options(null), run, now);
    expect(shared.recipeCache(Date.now() + 5000)).toBeNull();
    expect((await shared.history()).records).toEqual([]);
    expect(children).toEqual([]);
  });
});
