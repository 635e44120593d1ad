import { describe, expect, it } from 'vitest';
import { buildDockerStorage } from '../../src/model/docker-storage.js';
import { formatRecord, parseHistory, validRecord, type HistoryRecord } from '../../src/model/history.js';
import { OBJECTS_PER_KIND, topObjects, type ObjectFigures } from '../../src/model/history-objects.js';
import { objectFiguresOf } from '../../src/model/object-figures.js';
import { makeReport } from '../../src/model/report.js';
import { assessTrend, type TrendData } from '../../src/model/trend/assess.js';
import { MATERIAL_MIN_BYTES_PER_HOUR, materialBytesPerHour } from '../../src/model/trend/objects.js';
import { parseSystemDf } from '../../src/parse/docker-df.js';
import { parseInfo, parseVersion } from '../../src/parse/docker-engine.js';
import { renderProm } from '../../src/render/prom.js';
import { pressureMarkdown } from '../../src/sections/pressure/markdown.js';
import { trendMarkdown } from '../../src/sections/trend/markdown.js';
import { trendSection } from '../../src/sections/trend/index.js';
import { fixture } from '../helpers/fixtures.js';
import { GiB, MIN, historyRecord } from '../helpers/history.js';

/*
 * Growth named down to the object: the history keeps the biggest objects
 * of each kind, bounded and checked; the trend names the few whose growth
 * is trusted and material, with the rule every rate follows.
 */

const MiB = 1024 ** 2;
const T0 = Date.parse('2026-11-20T00:00:00Z');

/** A run at `minute` holding these objects (the filesystem 100 GiB, as historyRecord makes it). */
const run = (minute: number, objects: ObjectFigures, over: Partial<HistoryRecord> = {}) =>
  historyRecord(T0 + minute * MIN, 50 * GiB, { over: { objects, ...over } });

/** `runs` runs `stepMin` apart: pgdata grows `stepBytes` a run, static stays. */
function steadyFill(runs: number, stepMin: number, stepBytes: number): HistoryRecord[] {
  return Array.from({ length: runs }, (_, i) =>
    run(i * stepMin, {
      volume: [
        ['pgdata', 100 * MiB + i * stepBytes],
        ['static', 90 * MiB],
      ].sort((a, b) => (b[1] as number) - (a[1] as number)) as [string, number][],
    }),
  );
}

const trendData = (records: readonly HistoryRecord[]): TrendData => ({
  ...assessTrend(records, 0, 80),
  journalProblem: null,
  files: 1,
});

function promLines(d: TrendData): string[] {
  const result = { section: trendSection, status: 'ok' as const, data: d, durationMs: 1 };
  return renderProm(makeReport([result], new Date(T0), new Date(T0), null, { trend: result }))
    .split('\n')
    .filter((l) => l.startsWith('storage_preflight_object_'));
}

describe('the history keeps the biggest objects of each kind', () => {
  const engine = parseInfo(
    JSON.parse(fixture('docker/overlay2-20.10/info.json.txt')),
    parseVersion(JSON.parse(fixture('docker/overlay2-20.10/version.json.txt'))),
  );
  const storage = (file: string, danglingRepository: Record<string, string> = {}) =>
    buildDockerStorage({
      source: 'api',
      endpoint: '/var/run/docker.sock',
      engine,
      df: parseSystemDf(JSON.parse(fixture(file))),
      dfProblem: null,
      logs: null,
      logsReason: 'not measured in this test',
      danglingRepository,
      nowSeconds: 1_800_000_000,
    });

  it('at most 8 per kind, largest first, from a /system/df of over 1,000 objects; every record stays valid', () => {
    const objects = objectFiguresOf(storage('docker/scale-20.10/system-df.json.txt'))!;
    expect(Object.keys(objects).sort()).toEqual(['build-cache', 'container', 'image', 'volume']);
    for (const list of Object.values(objects)) {
      expect(list.length).toBeLessThanOrEqual(OBJECTS_PER_KIND);
      expect(list.map(([, b]) => b)).toEqual([...list.map(([, b]) => b)].sort((a, b) => b - a));
    }
    const record = run(0, objects);
    expect(validRecord(JSON.parse(formatRecord(record)))).toEqual(record);
    // 5 kinds × 8 objects stay well under a kilobyte or two a run.
    expect(JSON.stringify(objects).length).toBeLessThan(2048);
  });

  it('counts a dangling image in the repository it was a version of; logs and sizes not measured are left out', () => {
    const d = storage('docker/overlay2-20.10/system-df.json.txt');
    const dangling = d.df!.images.find((i) => i.repoTags.length === 0)!;
    const withRepo = objectFiguresOf(storage('docker/overlay2-20.10/system-df.json.txt', { [dangling.id]: 'pf-app' }))!;
    const without = objectFiguresOf(d)!;
    const bytesOf = (o: ObjectFigures, name: string) => o.image!.find(([n]) => n === name)?.[1] ?? 0;
    expect(bytesOf(withRepo, 'pf-app') - bytesOf(without, 'pf-app')).toBe(
      Math.max(0, dangling.size - dangling.sharedSize),
    );
    expect(without.log).toBeUndefined();
    expect(objectFiguresOf({ ...d, volumes: null, containers: null })!.volume).toBeUndefined();
    expect(objectFiguresOf(undefined)).toBeUndefined();
  });

  it('caps names and merges the ones the cap makes equal', () => {
    const long = 'v'.repeat(300);
    const top = topObjects([
      { name: `${long}a`, bytes: 1 },
      { name: `${long}b`, bytes: 2 },
      { name: '', bytes: 5 },
      { name: 'neg', bytes: -1 },
    ]);
    expect(top).toEqual([[`${'v'.repeat(99)}…`, 3]]);
  });

  const good = run(0, { volume: [['pgdata', 2 * GiB]], log: [] });
  const bad: [string, unknown][] = [
    ['an unknown kind', { network: [['x', 1]] }],
    ['more than 8 of a kind', { volume: Array.from({ length: 9 }, (_, i) => [`v${i}`, 9 - i]) }],
    [
      'a name twice',
      {
        volume: [
          ['a', 2],
          ['a', 1],
        ],
      },
    ],
    [
      'not largest first',
      {
        volume: [
          ['a', 1],
          ['b', 2],
        ],
      },
    ],
    ['negative bytes', { volume: [['a', -1]] }],
    ['fractional bytes', { volume: [['a', 1.5]] }],
    ['bytes past 2^53', { volume: [['a', 2 ** 60]] }],
    ['an empty name', { volume: [['', 1]] }],
    ['a name past 100 characters', { volume: [['x'.repeat(101), 1]] }],
    ['a NUL in a name', { volume: [['a\0b', 1]] }],
    ['a figure that is no pair', { volume: [['a', 1, 2]] }],
    ['a list that is no list', { volume: { a: 1 } }],
    ['objects that are a list', [['volume', 'a', 1]]],
    ['a prototype key', JSON.parse('{"__proto__": [["a", 1]]}')],
  ];
  it.each(bad)('makes a record unreadable when it has %s', (_, objects) => {
    expect(validRecord(JSON.parse(formatRecord(good)))).toEqual(good);
    expect(validRecord({ ...JSON.parse(formatRecord(good)), objects })).toBeNull();
  });

  it('reads records without objects (written before them) unchanged', () => {
    const old = historyRecord(T0, 50 * GiB);
    expect(old.objects).toBeUndefined();
    const parsed = parseHistory(formatRecord(old) + formatRecord(good));
    expect(parsed).toEqual({ records: [old, good], unreadable: 0 });
  });
});

describe('growing objects', () => {
  it('an hour of runs 10 minutes apart names the volume that grows, at its rate, and not the one that does not', () => {
    // 20 MiB every 10 minutes: 120 MiB/h.
    const d = trendData(steadyFill(7, 10, 20 * MiB));
    expect(d.growingObjects).toEqual([
      { kind: 'volume', name: 'pgdata', bytes: 220 * MiB, bytesPerHour: 120 * MiB, window: '1h' },
    ]);
    const flat = d.objects.find((o) => o.name === 'static')!;
    expect(flat.bytesPerHour['1h']).toBe(0);
    const lines = trendMarkdown(d);
    expect(lines).toContain('Growing objects: volume pgdata +120.0 MiB/h over 1 h.');
    expect(lines.join('\n')).not.toMatch(/static/);
    expect(promLines(d)).toEqual([
      'storage_preflight_object_growth_bytes_per_second{kind="volume",name="pgdata",window="1h"} 34952.53333333333',
    ]);
    expect(JSON.parse(JSON.stringify(trendSection.json(d))).trend.growingObjects).toHaveLength(1);
  });

  it('three runs seconds apart give no per-object rate in the markdown, the JSON or the metrics', () => {
    const records = [0, 1, 2].map((s) =>
      historyRecord(T0 + s * 1000, 50 * GiB, {
        over: { objects: { volume: [['pgdata', (1 + s) * GiB]], log: [['web', (1 + s) * GiB]] } },
      }),
    );
    const d = trendData(records);
    expect(d.objects).toHaveLength(2);
    for (const o of d.objects) {
      expect(o.bytesPerHour).toEqual({ '1h': null, '24h': null, '7d': null });
      expect(o.rateNeeds['1h']).toEqual({ moreMs: 30 * MIN - 2000, moreRuns: 0 });
    }
    expect(d.growingObjects).toEqual([]);
    expect(trendMarkdown(d).join('\n')).not.toMatch(/Growing objects|pgdata|\/h/);
    const json = JSON.stringify(trendSection.json(d));
    expect(json).toContain('"growingObjects":[]');
    expect(json).not.toMatch(/"bytesPerHour":\{"1h":\d/);
    expect(promLines(d)).toEqual([]);
  });

  it('a run where an object was not among the biggest is no point: unknown, never zero', () => {
    const records = steadyFill(7, 10, 20 * MiB);
    // In two runs pgdata fell out of the kept 8 (or its kind was not measured): its rate is still the true one.
    records[2] = { ...records[2]!, objects: { volume: [['static', 90 * MiB]] } };
    records[4] = { ...records[4]!, objects: {} };
    const pg = assessTrend(records, 0, 80).objects.find((o) => o.name === 'pgdata')!;
    expect(pg.points['1h']).toBe(5);
    expect(pg.bytesPerHour['1h']).toBeCloseTo(120 * MiB, 0);
  });

  it('names only material growth: at least 1% of the filesystem a day and 1 MiB/h; at most 3, fastest first', () => {
    // historyRecord's filesystem is 100 GiB: 1% a day is about 42.7 MiB/h.
    expect(materialBytesPerHour(100 * GiB)).toBeCloseTo((GiB / 24) * 1, 0);
    expect(materialBytesPerHour(null)).toBe(MATERIAL_MIN_BYTES_PER_HOUR);
    const perHour = [10, 50, 60, 70, 80].map((m) => m * MiB);
    const records = Array.from({ length: 7 }, (_, i) =>
      run(i * 10, {
        log: perHour
          .map((r, j): [string, number] => [`ctr${j}`, GiB + Math.round((r / 6) * i)])
          .sort((a, b) => b[1] - a[1]),
      }),
    );
    const named = assessTrend(records, 0, 80).growingObjects;
    expect(named.map((o) => o.name)).toEqual(['ctr4', 'ctr3', 'ctr2']);
    expect(named.map((o) => Math.round(o.bytesPerHour / MiB))).toEqual([80, 70, 60]);
  });

  it('prefers the 24 h fit once it is given', () => {
    // Runs every 2 h over 14 h, then two fast ones in the last hour.
    const minutes = [0, 120, 240, 360, 480, 600, 720, 840, 870, 900];
    const records = minutes.map((m, i) => run(m, { volume: [['pgdata', GiB + i * 100 * MiB]] }));
    const [o] = assessTrend(records, 0, 80).growingObjects;
    expect(o!.window).toBe('24h');
  });

  it('escapes hostile names (a forged history can hold any) in the markdown and the metric labels', () => {
    const hostile = 'x\n## Fake header\nVerdict: all clear | `tick` "q" \\ \u202e';
    const records = Array.from({ length: 7 }, (_, i) => run(i * 10, { volume: [[hostile, GiB + i * 100 * MiB]] }));
    const d = trendData(records);
    const line = trendMarkdown(d).find((l) => l.startsWith('Growing objects'))!;
    expect(line).not.toMatch(/\n/);
    expect(line).toContain('volume x\\n\\#\\# Fake header\\nVerdict: all clear \\| \\`tick\\` "q" \\\\ \\u{202e} +');
    expect(promLines(d)).toEqual([
      'storage_preflight_object_growth_bytes_per_second{kind="volume",name="x\\n## Fake header\\nVerdict: all clear | `tick` \\"q\\" \\\\ \u202e",window="1h"} 174762.66666666666',
    ]);
  });

  it('the Storage Pressure verdict names them after the top sources', () => {
    const d = trendData(steadyFill(7, 10, 20 * MiB));
    const verdict = pressureMarkdown({
      attribution: {
        mountpoint: '/var/lib/docker',
        usedBytes: 50 * GiB,
        sizeBytes: 100 * GiB,
        usedPct: 50,
        sources: [{ kind: 'volumes', label: 'volumes', bytes: 10 * GiB, reclaimableBytes: 0, countsInUsed: true }],
        unattributedBytes: 0,
        notes: [],
        stale: [],
      },
      containerdAttribution: null,
      outsideDocker: null,
      largestFiles: null,
      deletedOpen: null,
      outsideDockerProblem: null,
      pressure: [],
      findings: [],
      growingObjects: d.growingObjects,
      objectTrends: d.objects,
      historyKnown: true,
    })[0];
    expect(verdict).toBe(
      'Verdict: /var/lib/docker is 50% used (50.0 GiB of 100.0 GiB); top source volumes 10.0 GiB (20% of used); growing: volume pgdata +120.0 MiB/h over 1 h.',
    );
  });
});
