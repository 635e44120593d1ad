import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { containerdUsage, type UsageObject } from '../../src/model/containerd-usage.js';
import { openBolt } from '../../src/parse/bbolt.js';
import { readContainerdMeta, readSnapshotterMeta, type ContainerdNamespace } from '../../src/parse/containerd-meta.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'containerd');
const truth = JSON.parse(readFileSync(path.join(DIR, 'ground-truth.json'), 'utf8')) as GroundTruth;

interface GroundTruth {
  captured: string;
  perNamespace: Record<
    string,
    {
      images: { name: string; target: string }[];
      content: { digest: string; size: number; labelsText: string }[];
      leases: { id: string }[];
      snapshots: { key: string; parent: string }[];
    }
  >;
  duBytes: Record<string, number>;
  docker: { containers: { id: string; name: string }[] };
  unusedImageRemoval: {
    image: string;
    before: { content: string[]; snapshotKeys: string[] };
    after: { content: string[]; snapshotKeys: string[] };
    duBytesAfter: Record<string, number>;
  };
}

const usage = containerdUsage({
  namespaces: readContainerdMeta(openBolt(readFileSync(path.join(DIR, 'meta.db'))).root),
  snapshotter: 'overlayfs',
  backend: readSnapshotterMeta(openBolt(readFileSync(path.join(DIR, 'overlayfs-metadata.db'))).root),
  measuredBytes: new Map(Object.entries(truth.duBytes)),
  now: new Date(truth.captured),
});

const moby = truth.perNamespace.moby!;
const snapshotObject = (key: string) => usage.objects.find((o) => o.kind === 'snapshot' && o.name === `moby/${key}`)!;
const contentObject = (digest: string) => usage.objects.find((o) => o.kind === 'content' && o.name === digest)!;
const imageOwner = (name: string) => `image:${name}@moby`;
const sum = (list: readonly UsageObject[]) => list.reduce((t, o) => t + o.bytes, 0);

/** ctr content ls labels: `k=v,k=v` or `-`. */
function ctrLabels(text: string): [string, string][] {
  if (text === '-') return [];
  return text.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]);
}

/** What an image reaches by ctr's own lists: content labels, then snapshot parents. */
function reachedByCtr(target: string): { content: Set<string>; snapshots: Set<string> } {
  const labels = new Map(moby.content.map((c) => [c.digest, ctrLabels(c.labelsText)]));
  const parents = new Map(moby.snapshots.map((s) => [s.key, s.parent]));
  const content = new Set<string>();
  const snapshots = new Set<string>();
  const queue = [target];
  while (queue.length) {
    const digest = queue.pop()!;
    if (content.has(digest) || !labels.has(digest)) continue;
    content.add(digest);
    for (const [k, v] of labels.get(digest)!) {
      if (k.startsWith('containerd.io/gc.ref.content')) queue.push(v);
      if (k.startsWith('containerd.io/gc.ref.snapshot.overlayfs')) {
        for (let key: string | undefined = v; key; key = parents.get(key)) snapshots.add(key);
      }
    }
  }
  return { content, snapshots };
}

describe('containerd usage on the captured mixed scenario (Engine 28.5.2, containerd store)', () => {
  const containerIds = truth.docker.containers.map((c) => c.id);

  it('owns every image snapshot by exactly the images whose content leads to it', () => {
    const imageSnapshots = moby.snapshots.filter((s) => s.key.startsWith('sha256:'));
    expect(imageSnapshots.length).toBeGreaterThan(3);
    for (const s of imageSnapshots) {
      const expected = moby.images.filter((i) => reachedByCtr(i.target).snapshots.has(s.key)).map((i) => i.name);
      const owning = snapshotObject(s.key).owners.filter((o) => o.startsWith('image:'));
      expect({ key: s.key, owning }).toEqual({ key: s.key, owning: expected.map(imageOwner).sort() });
      expect(expected.length).toBeGreaterThan(0);
    }
  });

  it("owns each container's writable and -init snapshots by that container alone", () => {
    expect(containerIds).toHaveLength(3);
    for (const id of containerIds) {
      for (const key of [id, `${id}-init`]) {
        expect({ key, owners: snapshotObject(key).owners }).toEqual({ key, owners: [`container:${id}@moby`] });
      }
    }
  });

  it("owns BuildKit's snapshots by its leases, named as the snapshots are", () => {
    const leaseIds = new Set(moby.leases.map((l) => l.id));
    const buildKit = moby.snapshots.filter(
      (s) => !s.key.startsWith('sha256:') && !containerIds.some((id) => s.key.startsWith(id)),
    );
    expect(buildKit.length).toBeGreaterThan(10);
    for (const s of buildKit) {
      const o = snapshotObject(s.key);
      expect(leaseIds.has(s.key)).toBe(true);
      expect({ key: s.key, classes: o.classes }).toEqual({ key: s.key, classes: ['buildCache'] });
      expect(o.owners).toContain(`lease:${s.key}@moby`);
    }
  });

  it("reaches, through images, the blobs and snapshot folders ctr's labels and parents lead to", () => {
    const content = new Set(moby.images.flatMap((i) => [...reachedByCtr(i.target).content]));
    const keys = new Set(moby.images.flatMap((i) => [...reachedByCtr(i.target).snapshots]));
    const folders = usage.objects.filter((o) => o.kind === 'snapshot' && keys.has(o.name.replace(/^moby\//, '')));
    expect(folders).toHaveLength(keys.size);
    const bytes =
      [...content].reduce((t, d) => t + moby.content.find((c) => c.digest === d)!.size, 0) +
      folders.reduce((t, o) => t + truth.duBytes[o.folderId!]!, 0);
    expect(usage.reached.images).toBe(bytes);
  });

  it('counts every byte once: classes + shared + orphans = du of every folder + every distinct blob', () => {
    const blobs = new Map(Object.values(truth.perNamespace).flatMap((ns) => ns.content.map((c) => [c.digest, c.size])));
    const measured =
      Object.values(truth.duBytes).reduce((t, b) => t + b, 0) + [...blobs.values()].reduce((t, b) => t + b, 0);
    const parts =
      Object.values(usage.exclusive).reduce((t, b) => t + b, 0) +
      usage.shared.reduce((t, s) => t + s.bytes, 0) +
      usage.orphans;
    expect(usage.total).toBe(measured);
    expect(parts).toBe(measured);
  });

  describe(`what deleting ${truth.unusedImageRemoval.image} freed (docker image rm, containerd GC, same daemon)`, () => {
    const removal = truth.unusedImageRemoval;
    const owner = imageOwner(`docker.io/library/${removal.image}`);
    const unique = usage.objects.filter((o) => o.owners.length === 1 && o.owners[0] === owner);
    const goneFolders = Object.keys(truth.duBytes).filter((id) => !(id in removal.duBytesAfter));
    const goneFromMoby = removal.before.content.filter((d) => !removal.after.content.includes(d));
    // The blob file stays while another namespace (BuildKit's history) still lists the digest.
    const elsewhere = new Set(
      Object.entries(truth.perNamespace).flatMap(([ns, seen]) =>
        ns === 'moby' ? [] : seen.content.map((c) => c.digest),
      ),
    );
    const goneFromDisk = goneFromMoby.filter((d) => !elsewhere.has(d));

    it('its unique bytes are the snapshot folders and blobs that went away', () => {
      expect(goneFolders.length).toBeGreaterThan(0);
      expect(
        unique
          .filter((o) => o.kind === 'snapshot')
          .map((o) => o.folderId)
          .sort(),
      ).toEqual(goneFolders.sort());
      expect(
        unique
          .filter((o) => o.kind === 'content')
          .map((o) => o.name)
          .sort(),
      ).toEqual(goneFromDisk.sort());
      const freed =
        goneFolders.reduce((t, id) => t + truth.duBytes[id]!, 0) +
        goneFromDisk.reduce((t, d) => t + moby.content.find((c) => c.digest === d)!.size, 0);
      expect(usage.owners.find((o) => o.key === owner)!.unique).toBe(freed);
      expect(sum(unique)).toBe(freed);
    });

    it("its compressed layers stayed, held by BuildKit's leases", () => {
      const image = moby.images.find((i) => i.name === `docker.io/library/${removal.image}`)!;
      const layers = [...reachedByCtr(image.target).content].filter((d) =>
        moby.content.find((c) => c.digest === d)!.labelsText.includes('containerd.io/uncompressed='),
      );
      expect(layers.length).toBeGreaterThan(0);
      for (const digest of layers) {
        expect(removal.after.content).toContain(digest);
        expect(contentObject(digest).classes).toContain('buildCache');
      }
    });

    it('in the moby namespace, GC removed exactly what only this image (or nothing) reached there', () => {
      const mobyOwners = (o: UsageObject) => o.owners.filter((k) => k.endsWith('@moby'));
      const collectible = (o: UsageObject) => mobyOwners(o).every((k) => k === owner);
      const inMoby = new Set(removal.before.content);
      const predictedContent = usage.objects.filter(
        (o) => o.kind === 'content' && inMoby.has(o.name) && collectible(o),
      );
      expect(predictedContent.map((o) => o.name).sort()).toEqual(goneFromMoby.sort());
      const goneKeys = removal.before.snapshotKeys.filter((k) => !removal.after.snapshotKeys.includes(k));
      const predictedKeys = removal.before.snapshotKeys.filter((k) => collectible(snapshotObject(k)));
      expect(predictedKeys.sort()).toEqual(goneKeys.sort());
    });
  });
});

describe('lease semantics from gc.go scanRoots, on a hand-built namespace', () => {
  // A blob whose label pins a snapshot, as a BuildKit blob pins its unpacked layer.
  const namespace = (leaseLabels: Record<string, string>): ContainerdNamespace => ({
    name: 'moby',
    images: [],
    containers: [],
    content: [{ digest: 'sha256:aa', size: 100, labels: { 'containerd.io/gc.ref.snapshot.overlayfs': 'layer' } }],
    snapshots: [
      { snapshotter: 'overlayfs', key: 'layer', backendName: 'moby/1/layer', parent: null, children: [], labels: {} },
    ],
    leases: [{ id: 'build', labels: leaseLabels, content: ['sha256:aa'], snapshots: [], ingests: [], images: [] }],
  });
  const run = (leaseLabels: Record<string, string>) =>
    containerdUsage({
      namespaces: [namespace(leaseLabels)],
      snapshotter: 'overlayfs',
      backend: [
        { name: 'moby/1/layer', id: '1', kind: 'committed', parent: null, recordedBytes: 7, recordedInodes: 1 },
      ],
      measuredBytes: new Map(),
      now: new Date('2026-12-06T12:00:00Z'),
    });

  it('a lease holds what its content references', () => {
    expect(run({})).toMatchObject({ orphans: 0, total: 107, exclusive: { buildCache: 107 } });
  });
  it('a flat lease (containerd.io/gc.flat) holds its content but not what the content references', () => {
    expect(run({ 'containerd.io/gc.flat': 'x' })).toMatchObject({ orphans: 7, exclusive: { buildCache: 100 } });
  });
  it('an expired lease (containerd.io/gc.expire in the past) holds nothing', () => {
    expect(run({ 'containerd.io/gc.expire': '2026-12-06T11:00:00Z' })).toMatchObject({ orphans: 107 });
    expect(run({ 'containerd.io/gc.expire': '2026-12-06T13:00:00Z' })).toMatchObject({ orphans: 0 });
  });
});
