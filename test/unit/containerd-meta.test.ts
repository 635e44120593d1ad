import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openBolt } from '../../src/parse/bbolt.js';
import { readContainerdMeta, readSnapshotterMeta } from '../../src/parse/containerd-meta.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'containerd');
const truth = JSON.parse(readFileSync(path.join(DIR, 'ground-truth.json'), 'utf8')) as GroundTruth;
const namespaces = readContainerdMeta(openBolt(readFileSync(path.join(DIR, 'meta.db'))).root);
const backend = readSnapshotterMeta(openBolt(readFileSync(path.join(DIR, 'overlayfs-metadata.db'))).root);

interface GroundTruth {
  perNamespace: Record<
    string,
    {
      images: { name: string; mediaType: string; target: string }[];
      content: { digest: string; size: number; labelsText: string }[];
      leases: { id: string; labelsText: string }[];
      snapshots: { key: string; kind: string; parent: string; labels: Record<string, string>; mounts: string | null }[];
      containers: { id: string; snapshotter: string; snapshotKey: string; image: string }[];
    }
  >;
}

/** ctr prints labels as sorted `k=v` joined by commas, `-` for none. */
const asCtrPrints = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',') || '-';

// Sample: `…/io.containerd.snapshotter.v1.overlayfs/snapshots/58/fs`
const FOLDER = /snapshots\/(\d+)\/fs/g;

describe('containerd meta.db as ctr sees it (Engine 28.5.2, containerd 2.1, captured here)', () => {
  it('has the namespaces ctr captured', () => {
    expect(namespaces.map((n) => n.name).sort()).toEqual(Object.keys(truth.perNamespace).sort());
  });

  for (const ns of namespaces) {
    const seen = truth.perNamespace[ns.name]!;
    it(`${ns.name}: images with their target and media type`, () => {
      const read = ns.images.map((i) => ({ name: i.name, mediaType: i.target.mediaType, target: i.target.digest }));
      expect(read).toEqual(expect.arrayContaining(seen.images));
      expect(read).toHaveLength(seen.images.length);
    });
    it(`${ns.name}: content with the blob files' sizes and ctr's labels`, () => {
      const read = ns.content.map((c) => ({ digest: c.digest, size: c.size, labelsText: asCtrPrints(c.labels) }));
      expect(read).toEqual(expect.arrayContaining(seen.content));
      expect(read).toHaveLength(seen.content.length);
    });
    it(`${ns.name}: leases with ctr's labels`, () => {
      const read = ns.leases.map((l) => ({ id: l.id, labelsText: asCtrPrints(l.labels) }));
      expect(read).toEqual(expect.arrayContaining(seen.leases));
      expect(read).toHaveLength(seen.leases.length);
    });
    it(`${ns.name}: snapshots with parent and labels; containers as ctr containers info`, () => {
      const read = ns.snapshots.map((s) => ({ key: s.key, parent: s.parent ?? '', labels: s.labels }));
      expect(read).toEqual(
        expect.arrayContaining(seen.snapshots.map((s) => ({ key: s.key, parent: s.parent, labels: s.labels }))),
      );
      expect(read).toHaveLength(seen.snapshots.length);
      expect(
        ns.containers.map(({ id, snapshotter, snapshotKey, image }) => ({ id, snapshotter, snapshotKey, image })),
      ).toEqual(seen.containers);
    });
  }

  it('the snapshotter ties every key to the folders its mounts use, and knows its kind', () => {
    const moby = namespaces.find((n) => n.name === 'moby')!;
    const byName = new Map(backend.map((b) => [b.name, b]));
    const withMounts = truth.perNamespace.moby!.snapshots.filter((s) => s.mounts);
    expect(withMounts.length).toBeGreaterThan(5);
    for (const s of truth.perNamespace.moby!.snapshots) {
      const record = byName.get(moby.snapshots.find((m) => m.key === s.key)!.backendName)!;
      expect(record.kind).toBe(s.kind.toLowerCase());
      if (!s.mounts) continue;
      // The upper (or bound) folder is the snapshot's own; the lowers are its parents, nearest first.
      const chain: string[] = [];
      for (let b: typeof record | undefined = record; b; b = b.parent ? byName.get(b.parent) : undefined) {
        chain.push(b.id);
      }
      expect([...s.mounts.matchAll(FOLDER)].map((m) => m[1])).toEqual(chain);
    }
  });
});
