import { describe, expect, it } from 'vitest';
import {
  historyStep,
  recipeOf,
  recordStep,
  summarizeChurn,
  summarizeRecordChurn,
  UNKNOWN_REPOSITORY,
} from '../../src/model/churn.js';
import { buildDockerStorage, uniqueOf } from '../../src/model/docker-storage.js';
import { parseSystemDf } from '../../src/parse/docker-df.js';
import { engineFromInfo } from '../../src/parse/docker-engine.js';
import { fixture } from '../helpers/fixtures.js';

// Engine 28.5.2, containerd store, after the mixed scenario: pf-app rebuilt four times.
const dir = 'docker/containerd-28.5';
const df = parseSystemDf(JSON.parse(fixture(`${dir}/system-df.json.txt`)));
const histories: Record<string, { CreatedBy?: string }[]> = JSON.parse(fixture(`${dir}/histories.json.txt`));
const tagged = df.images.map((image) => ({ image, recipe: recipeOf(histories[image.id] ?? []) }));
const engine = engineFromInfo(JSON.parse(fixture(`${dir}/info.json.txt`)), '1.51');
const now = Math.max(...df.buildCache.map((r) => Date.parse(r.createdAt ?? '') / 1000));

describe('rebuild churn on the containerd image store (Engine 28.5.2 capture)', () => {
  it('the store leaves no dangling image: churn from images alone sees nothing', () => {
    expect(df.images.filter((i) => i.repoTags.length === 0)).toEqual([]);
    expect(summarizeChurn(df.images, new Map(), uniqueOf, now)).toEqual([]);
  });

  it("a record's step reads as the history's line", () => {
    const steps = new Set(df.buildCache.filter((r) => r.type === 'regular').map((r) => recordStep(r.description)));
    const lines = new Set(Object.values(histories).flatMap((h) => recipeOf(h).map(historyStep)));
    // Every layer-making step of a record appears in some image's history, once normalised.
    for (const step of steps) expect(lines, step).toContain(step);
    expect(steps).toContain('COPY stamp /stamp');
    expect(steps).toContain('/bin/sh -c cat /stamp /stamp > /doubled');
  });

  it("ties pf-app's four builds to it, with three old versions' bytes", () => {
    const churn = summarizeRecordChurn(df.buildCache, tagged, now);
    const app = churn.find((c) => c.repository === 'pf-app');
    const versionsOf = (step: string) =>
      df.buildCache
        .filter((r) => r.type === 'regular' && recordStep(r.description) === step)
        .sort((a, b) => Date.parse(b.createdAt!) - Date.parse(a.createdAt!));
    const stamp = versionsOf('COPY stamp /stamp');
    const doubled = versionsOf('/bin/sh -c cat /stamp /stamp > /doubled');
    expect(stamp).toHaveLength(4);
    expect(doubled).toHaveLength(4);
    expect(app).toEqual({
      repository: 'pf-app',
      builds24h: 4,
      danglingVersions: 3,
      danglingBytes: [...stamp.slice(1), ...doubled.slice(1)].reduce((a, r) => a + r.size, 0),
      keptIn: 'build-cache',
    });
    // The busybox step is in every image's history: a rebuild of it would say nothing of which app.
    expect(churn.map((c) => c.repository)).not.toContain(UNKNOWN_REPOSITORY);
  });

  it('a step several repositories share is not pinned on one of them', () => {
    const both = tagged.map((t) =>
      t.image.repoTags.includes('pf-unused:1') ? { ...t, recipe: [...t.recipe, 'COPY stamp /stamp # buildkit'] } : t,
    );
    const churn = summarizeRecordChurn(df.buildCache, both, now);
    expect(churn.find((c) => c.repository === UNKNOWN_REPOSITORY)?.danglingVersions).toBe(3);
  });

  it('the section model takes it on this store, and says where the old versions stay', () => {
    const modelOn = (imageStore: 'containerd' | 'graphdriver') =>
      buildDockerStorage({
        source: 'api',
        endpoint: 'unix:///var/run/docker.sock',
        engine: { ...engine, imageStore },
        df,
        dfProblem: null,
        logs: null,
        logsReason: null,
        danglingRepository: {},
        taggedRecipes: tagged,
        nowSeconds: now,
      });
    expect(engine.imageStore).toBe('containerd');
    expect(modelOn('containerd').churn[0]).toMatchObject({
      repository: 'pf-app',
      keptIn: 'build-cache',
      danglingVersions: 3,
    });
    // The same answers read as a graph-driver store's: no records are churn there (dangling images are).
    expect(modelOn('graphdriver').churn).toEqual([]);
  });
});
