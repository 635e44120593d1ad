import { describe, expect, it } from 'vitest';
import { imagesStarted } from '../../src/model/image-use.js';
import { normalizeReference, parseContainerStarts } from '../../src/parse/docker-events.js';
import type { DfImage } from '../../src/parse/docker-df.js';
import { fixture, fixtureHeader } from '../helpers/fixtures.js';

const image = (id: string, repoTags: string[], repoDigests: string[] = []): DfImage => ({
  id,
  repoTags,
  repoDigests,
  created: 0,
  size: 0,
  sharedSize: -1,
  containers: 0,
  labels: {},
});

describe.each(['20.10', '28.5'])("containers' start events (Engine %s capture)", (engine) => {
  const file = `docker/events/${engine}.ndjson.txt`;
  const starts = parseContainerStarts(fixture(file));
  const baseId = /pf-base:1 (sha256:[0-9a-f]{64})/.exec(fixtureHeader(file))![1]!;

  it('reads the three starts: a --rm job, a kept container, one started by image id', () => {
    expect(starts.map((s) => s.image)).toEqual(['pf-job:1', 'pf-base:1', baseId]);
    for (const s of starts) expect(s.container).toMatch(/^[0-9a-f]{64}$/);
    expect(starts[0]!.time).toBeLessThanOrEqual(starts[2]!.time);
  });

  it('names the images by id, whatever the reference was', () => {
    const job = `sha256:${'a'.repeat(64)}`;
    const unused = `sha256:${'b'.repeat(64)}`;
    const images = [image(baseId, ['pf-base:1']), image(job, ['pf-job:1']), image(unused, ['pf-unused:1'])];
    expect(imagesStarted(starts, images)).toEqual([baseId, job].sort());
    // An image gone since (its events remain) names nothing.
    expect(imagesStarted(starts, [image(unused, ['pf-unused:1'])])).toEqual([]);
  });
});

describe('references as RepoTags lists them', () => {
  it('adds :latest, drops docker.io/library/, keeps a registry port; a digest reference is not a tag', () => {
    expect(normalizeReference('docker.io/library/app')).toBe('app:latest');
    expect(normalizeReference('app')).toBe('app:latest');
    expect(normalizeReference('registry:5000/team/app')).toBe('registry:5000/team/app:latest');
    expect(normalizeReference('registry:5000/team/app:1')).toBe('registry:5000/team/app:1');
    expect(normalizeReference(`app@sha256:${'c'.repeat(64)}`)).toBeNull();
    const id = `sha256:${'d'.repeat(64)}`;
    const starts = parseContainerStarts(
      [
        `{"Type":"container","Action":"start","Actor":{"ID":"x","Attributes":{"image":"app@sha256:${'c'.repeat(64)}"}},"time":1}`,
        'not json',
        '{"Type":"network","Action":"connect","time":2}',
      ].join('\n'),
    );
    expect(starts).toHaveLength(1);
    expect(imagesStarted(starts, [image(id, [], [`app@sha256:${'c'.repeat(64)}`])])).toEqual([id]);
  });
});
