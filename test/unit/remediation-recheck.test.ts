import { describe, expect, it } from 'vitest';
import { stillPlanned, type Recheck } from '../../src/model/remediation/recheck.js';
import { parseSystemDf } from '../../src/parse/docker-df.js';
import { containerNow, imageNow, recordNow } from '../../src/parse/docker-recheck.js';
import { formatDuration } from '../../src/text/duration.js';
import { fixture } from '../helpers/fixtures.js';

/** Real answers of a 20.10 daemon (test/capture-recheck.ts): the timeline is in their times. */
const captured = (name: string) => JSON.parse(fixture(`docker/recheck-20.10/${name}.json.txt`));
const container = (name: string) => containerNow(captured(`container-${name}`));
const at = (iso: string) => Date.parse(iso);

// "exited" finished at 14:27:59.528; "restarted" ran once before 14:28:02 and again at 14:28:03.558.
const PLANNED = '2026-12-06T14:28:02.000Z';
const exitedGrace = (graceMs: number): Recheck => ({ what: 'exited-container', plannedAt: PLANNED, graceMs });

describe('stillPlanned: a container must still be stopped, past the grace, and not run since the plan', () => {
  it('reads the state and times of the captured inspect answers (Go zero time is no time)', () => {
    expect(container('exited')).toEqual({
      kind: 'container',
      status: 'exited',
      startedAt: at('2026-12-06T14:27:59.529Z'),
      finishedAt: at('2026-12-06T14:27:59.528Z'),
    });
    expect(container('created')).toEqual({ kind: 'container', status: 'created', startedAt: null, finishedAt: null });
    expect(container('paused').status).toBe('paused');
  });

  it('an exited container past the grace goes, measured against now', () => {
    expect(stillPlanned(exitedGrace(1000), container('exited'), at(PLANNED) + 10_000)).toEqual({ ok: true });
    expect(stillPlanned(exitedGrace(60_000), container('exited'), at(PLANNED) + 10_000)).toEqual({
      ok: false,
      changed: 'changed since the plan: exited 12.5 s ago, within the 1 min grace',
    });
  });

  it('one started again after the plan and exited is kept, even with a grace of 0 s', () => {
    const v = stillPlanned(exitedGrace(0), container('restarted'), at(PLANNED) + 10_000);
    expect(v).toEqual({ ok: false, changed: 'changed since the plan: started again 1.6 s after the plan' });
  });

  it('running, paused or never exited: kept', () => {
    for (const name of ['running', 'paused'])
      expect(stillPlanned(exitedGrace(0), container(name), at(PLANNED))).toEqual({
        ok: false,
        changed: `changed since the plan: ${name}`,
      });
    expect(stillPlanned(exitedGrace(0), container('created'), at(PLANNED))).toEqual({
      ok: false,
      changed: 'changed since the plan: no exit time (created)',
    });
  });
});

describe('stillPlanned: an image must still be unused, dangling (or old enough) and not tagged since the plan', () => {
  const listing = captured('containers-all');
  const dangling: Recheck = { what: 'unused-image', plannedAt: PLANNED, minAgeMs: 1000, dangling: true };
  const tagged: Recheck = { ...dangling, dangling: false };

  it('the dangling build no container uses goes; as a tagged image it would have been kept', () => {
    expect(imageNow(captured('image-dangling'), listing)).toMatchObject({ repoTags: [], users: [] });
    expect(stillPlanned(dangling, imageNow(captured('image-dangling'), listing), at(PLANNED))).toEqual({ ok: true });
    expect(stillPlanned(dangling, imageNow(captured('image-tagged'), listing), at(PLANNED))).toEqual({
      ok: false,
      changed: 'changed since the plan: tagged pf-app:latest',
    });
    expect(stillPlanned(tagged, imageNow(captured('image-tagged'), listing), at(PLANNED))).toEqual({ ok: true });
  });

  it('an image any container uses (stopped ones too) is kept, naming one', () => {
    const base = imageNow(captured('image-retagged'), listing);
    expect(base.users.sort()).toEqual(['created', 'exited', 'paused', 'restarted', 'running']);
    expect(stillPlanned(tagged, base, at(PLANNED))).toMatchObject({
      ok: false,
      changed: expect.stringMatching(/^changed since the plan: used by container \w+ and 4 more$/),
    });
  });

  it('an image tagged after the plan (LastTagTime moved) is kept; younger than the minimum age too', () => {
    const base = imageNow(captured('image-retagged'), []);
    expect(stillPlanned(tagged, base, at(PLANNED) + 5000)).toEqual({
      ok: false,
      changed: 'changed since the plan: tagged 1.8 s after the plan',
    });
    const young = { ...tagged, plannedAt: '2026-12-06T14:28:04Z', minAgeMs: 3_600_000 };
    expect(stillPlanned(young, base, at('2026-12-06T14:28:04Z'))).toEqual({
      ok: false,
      changed: 'changed since the plan: created 5.9 s ago, within the 1 h minimum age',
    });
  });

  it('an image stamped 1970-01-01 (a reproducible build) has no creation time: as old as the plan took it, not a change', () => {
    const stamped = imageNow({ ...captured('image-dangling'), Created: '1970-01-01T00:00:00Z' }, listing);
    expect(stamped.createdAt).toBeNull();
    expect(stillPlanned({ ...dangling, minAgeMs: 3_600_000 }, stamped, at(PLANNED))).toEqual({ ok: true });
  });
});

describe('stillPlanned: a build-cache record must still be idle, unshared, and not used since the plan', () => {
  const records = new Map(parseSystemDf(captured('system-df')).buildCache.map((r) => [r.id, recordNow(r)]));
  const idle = (plannedAt: string, minAgeMs: number): Recheck => ({ what: 'idle-record', plannedAt, minAgeMs });
  // The cache mount, last used at 14:27:58.846.
  const mount = records.get('0vi8y6zduse356qjw9zhn853k')!;

  it('an idle record past the minimum age goes; one used after the plan or within the age is kept', () => {
    expect(stillPlanned(idle(PLANNED, 1000), mount, at(PLANNED))).toEqual({ ok: true });
    expect(stillPlanned(idle('2026-12-06T14:27:58.500Z', 0), mount, at(PLANNED))).toEqual({
      ok: false,
      changed: 'changed since the plan: used 345 ms after the plan',
    });
    expect(stillPlanned(idle(PLANNED, 60_000), mount, at(PLANNED))).toEqual({
      ok: false,
      changed: 'changed since the plan: used 3.2 s ago, within the 1 min minimum age',
    });
  });

  it('a record now shared with an image, or in use by a build, is kept', () => {
    expect(stillPlanned(idle(PLANNED, 0), records.get('mn55jmxzbjhgiimwkv9jj4c2o')!, at(PLANNED))).toEqual({
      ok: false,
      changed: 'changed since the plan: shared with an image',
    });
    // No build ran during the capture: InUse set by hand on the captured record.
    expect(stillPlanned(idle(PLANNED, 0), { ...mount, inUse: true }, at(PLANNED))).toEqual({
      ok: false,
      changed: 'changed since the plan: in use',
    });
  });
});

describe('formatDuration: the unit that fits', () => {
  it('ms below 1 s, never "0 s"', () => {
    expect([12, 999.4, 999.6, 1000, 2500, 90_000, 5 * 3_600_000, 72 * 3_600_000].map(formatDuration)).toEqual([
      '12 ms',
      '999 ms',
      '1 s',
      '1 s',
      '2.5 s',
      '2 min',
      '5 h',
      '3 days',
    ]);
  });
});
