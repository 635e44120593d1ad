/**
 * containerd's own records, read from its bbolt files (bbolt.ts): the
 * metadata store's meta.db (schema v1, containerd core/metadata/buckets.go)
 * and a snapshotter's metadata.db (core/snapshots/storage/bolt.go), which
 * ties the metadata's backend names to the numeric snapshots/<id> folders.
 * Pure: the caller reads the files.
 */
import type { BoltBucket } from './bbolt.js';

export type Labels = Readonly<Record<string, string>>;

export interface ContainerdImage {
  name: string;
  target: { digest: string; mediaType: string; size: number | null };
  labels: Labels;
}

export interface ContentBlob {
  digest: string;
  size: number;
  labels: Labels;
}

export interface MetaSnapshot {
  snapshotter: string;
  /** The key clients use: `sha256:19e0bd…`, a container id, a BuildKit ref id. */
  key: string;
  /** The snapshotter's own name for it: `moby/13/sha256:19e0bd…`. */
  backendName: string;
  /** The parent's key in the same snapshotter, or null. */
  parent: string | null;
  children: readonly string[];
  labels: Labels;
}

export interface SnapshotRef {
  snapshotter: string;
  key: string;
}

export interface ContainerdLease {
  id: string;
  labels: Labels;
  snapshots: readonly SnapshotRef[];
  content: readonly string[];
  ingests: readonly string[];
  images: readonly string[];
}

export interface ContainerdContainer {
  id: string;
  /** Empty when the client (dockerd) mounts the rootfs itself. */
  snapshotter: string;
  snapshotKey: string;
  image: string;
  labels: Labels;
}

export interface ContainerdNamespace {
  name: string;
  images: readonly ContainerdImage[];
  content: readonly ContentBlob[];
  snapshots: readonly MetaSnapshot[];
  leases: readonly ContainerdLease[];
  containers: readonly ContainerdContainer[];
}

export type SnapshotKind = 'view' | 'active' | 'committed' | 'unknown';

export interface BackendSnapshot {
  /** `moby/13/sha256:19e0bd…`, as MetaSnapshot.backendName. */
  name: string;
  /** The folder under snapshots/: `9`. */
  id: string;
  kind: SnapshotKind;
  /** The parent's backend name, or null. */
  parent: string | null;
  /** Usage recorded at commit (committed snapshots only), else null. */
  recordedBytes: number | null;
  recordedInodes: number | null;
}

const text = (b: Buffer | null): string => (b ? b.toString('utf8') : '');
const nestedBuckets = (b: BoltBucket | null) =>
  (b?.entries() ?? []).flatMap((e) => (e.bucket ? [{ name: e.key.toString('utf8'), bucket: e.bucket }] : []));
const keysOf = (b: BoltBucket | null) => (b?.entries() ?? []).map((e) => e.key.toString('utf8'));

/** encoding/binary Uvarint; null when the bytes end mid-number or it overflows 2^53. */
export function readUvarint(b: Buffer | null): number | null {
  if (!b || b.length === 0) return null;
  let value = 0n;
  for (let i = 0; i < b.length && i < 10; i += 1) {
    value |= BigInt(b[i]! & 0x7f) << BigInt(7 * i);
    if ((b[i]! & 0x80) === 0) return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
  }
  return null;
}

/** encoding/binary Varint: zig-zag over Uvarint (sizes are written with PutVarint). */
export function readVarint(b: Buffer | null): number | null {
  const u = readUvarint(b);
  if (u === null) return null;
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

function readLabels(object: BoltBucket | null): Labels {
  const labels: Record<string, string> = {};
  for (const e of object?.bucket('labels')?.entries() ?? [])
    if (e.value) labels[e.key.toString('utf8')] = text(e.value);
  return labels;
}

/** Every namespace under v1/ (buckets.go); an empty list when the file holds no v1 schema. */
export function readContainerdMeta(root: BoltBucket): ContainerdNamespace[] {
  return nestedBuckets(root.bucket('v1')).map(({ name, bucket }) => ({
    name,
    images: nestedBuckets(bucket.bucket('images')).map(({ name: imageName, bucket: image }) => {
      const target = image.bucket('target');
      return {
        name: imageName,
        target: {
          digest: text(target?.get('digest') ?? null),
          mediaType: text(target?.get('mediatype') ?? null),
          size: readVarint(target?.get('size') ?? null),
        },
        labels: readLabels(image),
      };
    }),
    content: nestedBuckets(bucket.bucket('content')?.bucket('blob') ?? null).map(({ name: digest, bucket: blob }) => ({
      digest,
      size: readVarint(blob.get('size')) ?? 0,
      labels: readLabels(blob),
    })),
    snapshots: nestedBuckets(bucket.bucket('snapshots')).flatMap(({ name: snapshotter, bucket: bySnapshotter }) =>
      nestedBuckets(bySnapshotter).map(({ name: key, bucket: snapshot }) => ({
        snapshotter,
        key,
        backendName: text(snapshot.get('name')),
        parent: text(snapshot.get('parent')) || null,
        children: keysOf(snapshot.bucket('children')),
        labels: readLabels(snapshot),
      })),
    ),
    leases: nestedBuckets(bucket.bucket('leases')).map(({ name: id, bucket: lease }) => ({
      id,
      labels: readLabels(lease),
      snapshots: nestedBuckets(lease.bucket('snapshots')).flatMap(({ name: snapshotter, bucket: keys }) =>
        keysOf(keys).map((key) => ({ snapshotter, key })),
      ),
      content: keysOf(lease.bucket('content')),
      ingests: keysOf(lease.bucket('ingests')),
      images: keysOf(lease.bucket('images')),
    })),
    containers: nestedBuckets(bucket.bucket('containers')).map(({ name: id, bucket: container }) => ({
      id,
      snapshotter: text(container.get('snapshotter')),
      snapshotKey: text(container.get('snapshotKey')),
      image: text(container.get('image')),
      labels: readLabels(container),
    })),
  }));
}

// core/snapshots/snapshotter.go: KindUnknown, KindView, KindActive, KindCommitted, stored as one byte.
const KINDS: readonly SnapshotKind[] = ['unknown', 'view', 'active', 'committed'];

/** A snapshotter's metadata.db: v1/snapshots/<backend name> → id, kind, parent, usage (storage/bolt.go). */
export function readSnapshotterMeta(root: BoltBucket): BackendSnapshot[] {
  return nestedBuckets(root.bucket('v1')?.bucket('snapshots') ?? null).map(({ name, bucket }) => {
    const kind = KINDS[bucket.get('kind')?.[0] ?? 0] ?? 'unknown';
    // bolt.go getUsage: inodes and size are PutVarint'd, only once a snapshot is committed.
    const committed = kind === 'committed';
    return {
      name,
      id: String(readUvarint(bucket.get('id')) ?? ''),
      kind,
      parent: text(bucket.get('parent')) || null,
      recordedBytes: committed ? readVarint(bucket.get('size')) : null,
      recordedInodes: committed ? readVarint(bucket.get('inodes')) : null,
    };
  });
}
