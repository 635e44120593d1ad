import { describe, expect, it } from 'vitest';
import { mergeTypedDf, parseSystemDf, parseVolumeListing } from '../../src/parse/docker-df.js';
import { fixture } from '../helpers/fixtures.js';

/*
 * From API 1.42, /system/df?type=… computes only the types named. Each half
 * below is what the daemon sends for its types: the same document, the other
 * types left out (moby daemon/server/router/system: an absent type is not sent).
 */
const pick = (doc: Record<string, unknown>, keys: readonly string[]) =>
  Object.fromEntries(Object.entries(doc).filter(([k]) => keys.includes(k)));

describe.each([
  {
    name: 'API 1.51 legacy arrays (Engine 28.5.2 capture)',
    doc: JSON.parse(fixture('docker/containerd-28.5/system-df.json.txt')),
    cheap: ['LayersSize', 'Images', 'BuildCache'],
    walking: ['Containers', 'Volumes'],
  },
  {
    name: 'API 1.52 usage objects (from the swagger)',
    doc: JSON.parse(fixture('docker/api-1.52/system-df-verbose.json.txt')),
    cheap: ['ImageUsage', 'BuildCacheUsage'],
    walking: ['ContainerUsage', 'VolumeUsage'],
  },
])('/system/df by type, merged: $name', ({ doc, cheap, walking }) => {
  const whole = parseSystemDf(doc);
  const cheapHalf = parseSystemDf(pick(doc, cheap));
  const walkingHalf = parseSystemDf(pick(doc, walking));

  it('the two halves read as the one answer', () => {
    expect(mergeTypedDf(cheapHalf, walkingHalf)).toEqual(whole);
    expect(whole.containers.length + whole.volumes.length).toBeGreaterThan(0);
  });

  it('without the walk: images and build cache whole; containers and volumes from the plain lists, unsized', () => {
    const listed = {
      containers: whole.containers.map((c) => ({ ...c, sizeRw: 0, sizeRootFs: 0 })),
      volumes: parseVolumeListing(whole.volumes.map((v) => ({ Name: v.name, Driver: v.driver, Labels: v.labels }))),
    };
    const merged = mergeTypedDf(cheapHalf, null, listed);
    expect(merged.images).toEqual(whole.images);
    expect(merged.buildCache).toEqual(whole.buildCache);
    expect(merged.layersSize).toBe(whole.layersSize);
    expect(merged.unsized).toEqual(['containers', 'volumes']);
    expect(merged.volumes.map((v) => [v.name, v.size, v.refCount])).toEqual(whole.volumes.map((v) => [v.name, -1, -1]));
    expect(merged.totals.containers).toBeUndefined();
  });
});
