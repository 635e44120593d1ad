import { DEFAULT_ESCALATION } from '../../src/model/escalation.js';
import { describe, expect, it } from 'vitest';
import { ToolMissingError, UnavailableError } from '../../src/model/errors.js';
import { DEFAULT_POLICY } from '../../src/model/remediation/policy.js';
import { parseDockerHost } from '../../src/parse/docker-host.js';
import { execRunner } from '../../src/host/exec.js';
import { renderJson } from '../../src/render/json.js';
import { renderMarkdown } from '../../src/render/markdown.js';
import { makeReport } from '../../src/model/report.js';
import { runSections } from '../../src/run/sections.js';
import { createSharedProbes } from '../../src/probes/shared.js';
import type { Section } from '../../src/sections/types.js';

const options = {
  format: 'markdown' as const,
  budgetMs: 60_000,
  paths: [],
  allMounts: false,
  docker: parseDockerHost('unix:///nonexistent.sock'),
  diskThresholdPct: 80,
  scanOutside: false,
  journalRoot: null,
  journalKeepDays: null,
  trendDays: 7,
  actionScript: 'integrations/actions/storage-cleanup.sh',
  escalate: false,
  escalation: DEFAULT_ESCALATION,
  vault: { pending: null, actions: null },
  remediation: { policy: DEFAULT_POLICY, always: false, apply: false, applySafe: false, maxTier: 'safe' as const },
  promFile: null,
  notify: [],
  notifyCooldownMs: 6 * 3_600_000,
};
const context = {
  startedAt: new Date(),
  runId: 'test',
  options,
  run: execRunner,
  shared: createSharedProbes(options, execRunner, new Date()),
};

function section(id: string, collect: Section<string>['collect'], timeoutMs = 5000): Section {
  return {
    id,
    title: `Title ${id}`,
    timeoutMs,
    collect,
    markdown: (d) => [`data: ${d}`],
    json: (d) => ({ [id]: d ?? null }),
  } as Section;
}

const never = () => new Promise<never>(() => undefined);

describe('runSections', () => {
  it('isolates a hanging, a throwing and a tool-less section from a good one, in registry order', async () => {
    const sections = [
      section('hang', never, 300),
      section('boom', async () => {
        throw new Error('kaput');
      }),
      section('notool', async () => {
        throw new ToolMissingError('btrfs');
      }),
      section('nodocker', async () => {
        throw new UnavailableError('docker: no socket at /x');
      }),
      section('good', async () => ({ status: 'ok', data: 'fine' })),
    ];
    const started = Date.now();
    const results = await runSections(sections, Date.now() + 10_000, context);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(results.map((r) => [r.section.id, r.status, r.reason])).toEqual([
      ['hang', 'timeout', 'timed out after 0.3 s'],
      ['boom', 'error', 'failed: kaput'],
      ['notool', 'skipped', 'btrfs: not installed (not found on PATH)'],
      ['nodocker', 'skipped', 'docker: no socket at /x'],
      ['good', 'ok', undefined],
    ]);
    const md = renderMarkdown(makeReport(results, new Date(started), new Date(), null));
    expect(md).toContain('## Title hang\n(timed out after 0.3 s)');
    expect(md).toContain('## Title notool\n(btrfs: not installed (not found on PATH))');
    expect(md).toContain('## Title good\ndata: fine');
    const json = JSON.parse(renderJson(makeReport(results, new Date(started), new Date(), null)));
    expect(json.sections.map((s: { status: string }) => s.status)).toEqual([
      'timeout',
      'error',
      'skipped',
      'skipped',
      'ok',
    ]);
    expect(json.good).toBe('fine');
    expect(json.hang).toBeNull();
  });

  it('cuts every section at the run budget, whatever its own timeout', async () => {
    const started = Date.now();
    const results = await runSections(
      [section('a', never, 60_000), section('b', never, 60_000)],
      started + 400,
      context,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(1500);
    expect(results.every((r) => r.status === 'timeout')).toBe(true);
  });

  it('starts a section `after` another as soon as that one is done, beside a slow one of the same phase', async () => {
    const slow = section(
      'slow',
      () => new Promise((resolve) => setTimeout(() => resolve({ status: 'ok', data: 'df' }), 600)),
    );
    const fs = section('fs', async () => ({ status: 'ok', data: 'rows' }));
    let sawAt = 0;
    const reader = {
      ...section('reader', async (ctx) => {
        sawAt = Date.now();
        return { status: 'ok', data: `read ${ctx.earlier?.map((r) => `${r.section.id}=${String(r.data)}`).join(',')}` };
      }),
      after: ['fs'],
    } as Section;
    const started = Date.now();
    const results = await runSections([slow, reader, fs], started + 5000, context);
    expect(sawAt - started).toBeLessThan(400);
    expect(results.map((r) => [r.section.id, r.data])).toEqual([
      ['slow', 'df'],
      ['reader', 'read fs=rows'],
      ['fs', 'rows'],
    ]);
  });

  it('skips sections when the budget is already spent', async () => {
    const results = await runSections(
      [section('late', async () => ({ status: 'ok', data: 'x' }))],
      Date.now() - 1,
      context,
    );
    expect(results[0]).toMatchObject({ status: 'skipped', reason: 'run budget spent before it could start' });
  });
});
