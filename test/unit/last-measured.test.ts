import { describe, expect, it } from 'vitest';
import { lastMeasured, staleLine, type RecordedSources } from '../../src/model/last-measured.js';

const MiB = 1024 ** 2;
const now = new Date('2026-12-06T20:40:00Z');

describe('last measured sizes', () => {
  const records: RecordedSources[] = [
    { at: '2026-12-06T19:00:00Z', sources: { volumes: 9 * MiB, containers: 1 * MiB } },
    { at: '2026-12-06T20:00:00Z', sources: { volumes: 30 * MiB, images: 2 * MiB } },
    // A run whose walk ran out recorded neither.
    { at: '2026-12-06T20:20:00Z', sources: { images: 2 * MiB } },
  ];

  it('takes each kind from the newest record that measured it, with its age', () => {
    expect(lastMeasured(records, ['volumes', 'containers', 'build-cache'], now)).toEqual([
      { kind: 'volumes', bytes: 30 * MiB, measuredAt: '2026-12-06T20:00:00Z', ageSeconds: 2400 },
      { kind: 'containers', bytes: 1 * MiB, measuredAt: '2026-12-06T19:00:00Z', ageSeconds: 6000 },
      { kind: 'build-cache', bytes: null, measuredAt: null, ageSeconds: null },
    ]);
  });

  it('says each group once: its figures, its age and time; the unknown ones as unknown', () => {
    expect(staleLine(lastMeasured(records, ['volumes', 'containers', 'build-cache'], now))).toBe(
      "Last measured, not this run's figures: volumes 30.0 MiB, 40 min ago (2026-12-06 20:00 UTC); containers 1.0 MiB, 1 h 40 min ago (2026-12-06 19:00 UTC); build cache unknown (no earlier run in the history measured them).",
    );
    expect(staleLine([])).toBeNull();
  });
});
