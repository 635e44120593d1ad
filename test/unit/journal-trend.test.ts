import { describe, expect, it } from 'vitest';
import { formatEntry, parseJournal, type JournalEntry } from '../../src/journal/entry.js';
import { findFindings } from '../../src/model/findings.js';
import type { FilesystemRow } from '../../src/model/filesystems.js';
import { formatBytes } from '../../src/render/bytes.js';
import { assessTrend } from '../../src/trend/assess.js';
import { leastSquares, sparkline } from '../../src/trend/fit.js';

const GiB = 1024 ** 3;
const MIN = 60_000;

function entry(at: number, usedBytes: number, over: Partial<JournalEntry> = {}): JournalEntry {
  const sizeBytes = 100 * GiB;
  const availBytes = sizeBytes - usedBytes;
  return {
    v: 1, at: new Date(at).toISOString(), host: 'h', summaryMount: '/var/lib/docker',
    filesystems: [{ mountpoint: '/var/lib/docker', usedBytes, sizeBytes, availBytes, usedPct: Math.ceil((usedBytes * 100) / sizeBytes), inodesUsedPct: 1 }],
    sources: { 'container-logs': usedBytes / 2, 'outside-docker': usedBytes / 2 }, driver: 'overlay2', counts: null, churn: [], fired: [], remediation: [], ...over,
  };
}

describe('journal entries among foreign text', () => {
  const t0 = Date.parse('2026-11-23T00:00:00Z');
  const ours = [entry(t0, 10 * GiB), entry(t0 + 20 * MIN, 11 * GiB), entry(t0 + 40 * MIN, 12 * GiB)];
  const text = [
    '## Supervisor run — 00:05 UTC',
    '- disk fine, nothing to do',
    '- ```yaml looks like a fence but is prose',
    formatEntry(ours[0]!),
    '## Supervisor run — 00:25 UTC\nThe LLM wrote *this*, with a `code span` and | pipes.\n```\nsome foreign code block\n```',
    formatEntry(ours[1]!),
    '```yaml preflight-entry\n{"v":1,"at":"garbage"}\n```',
    '```yaml preflight-entry\n{not json at all\n```',
    formatEntry(ours[2]!),
    '```yaml preflight-entry\n{"v":1,"at":"2026-11-23T01:00:00Z","filesystems":[',
  ].join('\n');

  it('finds our entries and counts the unreadable blocks, never throwing', () => {
    const parsed = parseJournal(text);
    expect(parsed.entries.map((e) => e.at)).toEqual(ours.map((e) => e.at));
    expect(parsed.entries[1]).toEqual(ours[1]);
    expect(parsed.unreadable).toBe(3);
  });

  it('writes a human block people can read', () => {
    expect(formatEntry(ours[0]!)).toMatch(/^\n### Storage preflight — 00:00 UTC\n- Disk: 10% used \(10\.0 GiB\/100\.0 GiB on \/var\/lib\/docker\)\n/);
  });
});

describe('trend', () => {
  it('forecasts a steady fill within 10% of the true time-to-full', () => {
    const t0 = Date.parse('2026-11-20T00:00:00Z');
    const rate = 0.25 * GiB; // per 20 minutes
    const entries = Array.from({ length: 3 * 24 * 3 }, (_, i) => entry(t0 + i * 20 * MIN, 20 * GiB + i * rate));
    const last = entries[entries.length - 1]!;
    const f = last.filesystems[0]!;
    const trueMs = ((f.availBytes) / rate) * 20 * MIN;
    const trend = assessTrend(entries, 0, 80);
    const fs = trend.filesystems[0]!;
    expect(fs.forecastWindow).toBe('6h');
    expect(Math.abs(fs.timeToFullMs! - trueMs) / trueMs).toBeLessThan(0.1);
    expect(fs.bytesPerHour['24h']).toBeCloseTo(rate * 3, 0);
    expect(fs.points['1h']).toBe(4);
  });

  it('says not filling when flat or shrinking, and fits all points rather than first and last', () => {
    const t0 = Date.parse('2026-11-23T00:00:00Z');
    const flat = [entry(t0, 50 * GiB), entry(t0 + 20 * MIN, 50 * GiB), entry(t0 + 40 * MIN, 50 * GiB)];
    expect(assessTrend(flat, 0, 80).filesystems[0]!.timeToFullMs).toBeNull();
    // One spike in the middle barely moves a least-squares slope.
    const fit = leastSquares([{ t: 0, v: 0 }, { t: 1, v: 1 }, { t: 2, v: 100 }, { t: 3, v: 3 }, { t: 4, v: 4 }]);
    expect(fit!.slope).toBeCloseTo(1, 5);
  });

  it('counts streaks and tracks alert state: new, ongoing since, recovered once', () => {
    const t0 = Date.parse('2026-11-23T05:00:00Z');
    const fired = [{ name: 'disk-high', severity: 'P1', mountpoint: '/var/lib/docker' }];
    const runs = [
      entry(t0, 70 * GiB),
      entry(t0 + 20 * MIN, 82 * GiB, { fired }),
      entry(t0 + 40 * MIN, 83 * GiB, { fired }),
      entry(t0 + 60 * MIN, 84 * GiB, { fired }),
    ];
    const t = assessTrend(runs, 0, 80);
    expect(t.filesystems[0]!.streakAbove).toBe(3);
    expect(t.alerts).toEqual([{ name: 'disk-high', key: 'disk-high@/var/lib/docker', severity: 'P1', state: 'ongoing', since: runs[1]!.at, runs: 3 }]);
    const recovered = assessTrend([...runs, entry(t0 + 80 * MIN, 60 * GiB)], 0, 80);
    expect(recovered.alerts).toEqual([expect.objectContaining({ key: 'disk-high@/var/lib/docker', state: 'recovered' })]);
    // Said once: a run later it is gone.
    expect(assessTrend([...runs, entry(t0 + 80 * MIN, 60 * GiB), entry(t0 + 100 * MIN, 60 * GiB)], 0, 80).alerts).toEqual([]);
  });

  it('draws a 24 h sparkline', () => {
    const now = 24 * 60 * MIN;
    expect(sparkline([{ t: 0, v: 10 }, { t: now - 1, v: 99 }], 0, now, 4)).toBe('▁··█');
  });
});

describe('hysteresis', () => {
  const row = (usedPct: number): FilesystemRow => ({
    mountpoint: '/d', device: 'x', fstype: 'ext4', deviceNumber: '1:1', readonly: false, stuck: false, roles: ['docker-data-root'],
    paths: [], sizeBytes: 100, usedBytes: usedPct, availBytes: 100 - usedPct, reservedBytes: 0, usedPct, inodesUsedPct: null,
  });
  const names = (pct: number, previous: string[]) =>
    findFindings([row(pct)], null, [], null, { diskHighPct: 80 }, formatBytes, new Set(previous)).map((f) => f.name);

  it('raises at the threshold and clears only a few points below it', () => {
    expect(names(80, [])).toEqual(['disk-warning']);
    expect(names(81, [])).toEqual(['disk-high']);
    expect(names(80, ['disk-high@/d'])).toEqual(['disk-high']);
    expect(names(78, ['disk-high@/d'])).toEqual(['disk-high']);
    expect(names(77, ['disk-high@/d'])).toEqual(['disk-warning']);
    expect(names(68, ['disk-warning@/d'])).toEqual(['disk-warning']);
    expect(names(67, ['disk-warning@/d'])).toEqual([]);
  });
});

describe('hand-edited journal blocks', () => {
  const good = entry(Date.parse('2026-11-23T00:00:00Z'), GiB);
  const block = (e: unknown) => `\`\`\`yaml preflight-entry\n${JSON.stringify(e)}\n\`\`\`\n`;
  it.each([
    ['fired is not a list', { ...good, fired: 'x' }],
    ['a filesystem is null', { ...good, filesystems: [null] }],
    ['a size is a string', { ...good, filesystems: [{ ...good.filesystems[0], usedBytes: '12' }] }],
    ['a lenient date hiding a header', { ...good, at: 'Jan 1 2000 (x\n## Fake)' }],
    ['churn is an object', { ...good, churn: { a: 1 } }],
  ])('counts a block whose %s as unreadable, never half-used', (_, bad) => {
    const parsed = parseJournal(block(good) + block(bad));
    expect(parsed.entries).toHaveLength(1);
    expect(parsed.unreadable).toBe(1);
    expect(() => assessTrend(parsed.entries, parsed.unreadable, 80)).not.toThrow();
  });
});
