/**
 * Who holds containerd's bytes: containerd's garbage-collector mark phase
 * (containerd core/metadata/gc.go scanRoots and references), run once per
 * owner, so that every content blob and every snapshot gets the set of
 * owners that reach it. An object no owner reaches is what GC would collect.
 * Owners: images, containers (their containerd record, and the lease dockerd
 * takes under the container's id), leases (BuildKit's cache and history),
 * objects labelled containerd.io/gc.root. Pure: the caller reads the files
 * (parse/containerd-meta.ts) and measures the snapshot folders.
 */
import type { BackendSnapshot, ContainerdLease, ContainerdNamespace, Labels } from '../parse/containerd-meta.js';

export type OwnerClass = 'images' | 'containers' | 'buildCache' | 'pinned';

export interface Owner {
  /** `image:docker.io/library/pf-base:1@moby`, `lease:4bb8wgaleqwibs9q6ujxrczey@moby`. */
  key: string;
  class: OwnerClass;
  namespace: string;
  id: string;
}

export interface UsageInput {
  namespaces: readonly ContainerdNamespace[];
  /** The snapshotter whose folders are measured: `overlayfs`. */
  snapshotter: string;
  /** Its metadata.db records: backend name → numeric folder id and recorded usage. */
  backend: readonly BackendSnapshot[];
  /**
   * Measured bytes per snapshots/<id> folder (du -B1 -s). A committed snapshot
   * left out falls back to the usage recorded at its commit; an active or view
   * one left out counts 0. A folder with no record is an orphan.
   */
  measuredBytes: ReadonlyMap<string, number>;
  /** For gc.expire labels; GC compares them with its own clock. */
  now: Date;
  /** Which leases stand for a container; by default a 64-hex id holding the snapshot of that key (dockerd's). */
  containerLease?: (lease: ContainerdLease, namespace: string) => boolean;
}

export interface UsageObject {
  kind: 'content' | 'snapshot' | 'snapshot-folder';
  /** A digest; a snapshot's `namespace/key` (keys of every namespace that names it); a folder id. */
  name: string;
  /** The snapshotter's folder id (snapshots only). */
  folderId: string | null;
  bytes: number;
  owners: readonly string[];
  classes: readonly OwnerClass[];
}

export interface OwnerUsage extends Owner {
  /** Bytes of everything this owner reaches. */
  reached: number;
  /** Bytes no other owner reaches: what removing this owner would free. */
  unique: number;
}

export interface ContainerdUsage {
  objects: readonly UsageObject[];
  owners: readonly OwnerUsage[];
  /** Bytes reached by a class's owners, shared ones included. */
  reached: Readonly<Record<OwnerClass, number>>;
  /** Bytes reached by owners of one class only. */
  exclusive: Readonly<Record<OwnerClass, number>>;
  /** Bytes reached by owners of several classes, per set of classes. */
  shared: readonly { classes: readonly OwnerClass[]; bytes: number }[];
  orphans: number;
  /** exclusive + shared + orphans: every byte once. */
  total: number;
}

const CLASSES: readonly OwnerClass[] = ['images', 'containers', 'buildCache', 'pinned'];

/** A node of the GC graph: its type (`-flat` ones follow no labels), namespace and key. */
type NodeType = 'content' | 'content-flat' | 'snapshot' | 'snapshot-flat' | 'image' | 'image-flat' | 'container';
interface Node {
  type: NodeType;
  ns: string;
  key: string;
}
const nodeId = (n: Node) => `${n.type}\u0000${n.ns}\u0000${n.key}`;

const GC_ROOT = 'containerd.io/gc.root';
const GC_EXPIRE = 'containerd.io/gc.expire';
const GC_FLAT = 'containerd.io/gc.flat';

/** gc.go accepts the bare label or one followed by `.` or `/` and a name: `containerd.io/gc.ref.content.0`. */
const named = (key: string, prefix: string) =>
  key === prefix || (key.startsWith(prefix) && (key[prefix.length] === '.' || key[prefix.length] === '/'));

/** `containerd.io/gc.ref.snapshot.overlayfs/1` → `overlayfs`, as gc.go cuts the snapshotter name at `/`. */
const snapshotterIn = (key: string, prefix: string) => key.slice(prefix.length).split('/')[0]!;

/** The forward (gc.ref.*) or backward (gc.bref.*) references a labels bucket makes. */
function labelRefs(labels: Labels, ns: string, direction: 'ref' | 'bref'): Node[] {
  const base = `containerd.io/gc.${direction}.`;
  const out: Node[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (named(key, `${base}content`)) out.push({ type: 'content', ns, key: value });
    else if (named(key, `${base}image`)) out.push({ type: 'image', ns, key: value });
    else if (direction === 'bref' && named(key, `${base}container`)) out.push({ type: 'container', ns, key: value });
    else if (key.startsWith(`${base}snapshot.`))
      out.push({ type: 'snapshot', ns, key: `${snapshotterIn(key, `${base}snapshot.`)}/${value}` });
  }
  return out;
}

/** gc.go: an unparsable expiry is ignored; a past one takes the object out of the roots. */
function expired(labels: Labels, now: Date): boolean {
  const at = labels[GC_EXPIRE];
  if (at === undefined) return false;
  const ms = Date.parse(at);
  return !Number.isNaN(ms) && now.getTime() > ms;
}

// Sample: `34b16a2f65745788e4bc743ca8c0bcb71df254f3cc0b9dc16c3f889c8b7f01c0` (BuildKit's are `4bb8wgaleqwibs9q6ujxrczey`).
const CONTAINER_ID = /^[0-9a-f]{64}$/;

/** dockerd leases a container's writable snapshot and its `-init` under the container's id. */
const isDockerContainerLease = (lease: ContainerdLease) =>
  CONTAINER_ID.test(lease.id) && lease.snapshots.some((s) => s.key === lease.id);

interface Graph {
  roots: Map<string, { owner: Owner; nodes: Node[] }>;
  references(node: Node): Node[];
  /** The sized object a node stands for, or null (images, containers, dead edges). */
  objectOf(node: Node): string | null;
}

function buildGraph(input: UsageInput): Graph {
  const byNs = new Map(
    input.namespaces.map((ns) => [
      ns.name,
      {
        content: new Map(ns.content.map((c) => [c.digest, c])),
        snapshots: new Map(ns.snapshots.map((s) => [`${s.snapshotter}/${s.key}`, s])),
        images: new Map(ns.images.map((i) => [i.name, i])),
        containers: new Map(ns.containers.map((c) => [c.id, c])),
      },
    ]),
  );
  const backRefs = new Map<string, Node[]>();
  const addBackRefs = (labels: Labels, ns: string, holder: Node) => {
    for (const target of labelRefs(labels, ns, 'bref')) {
      backRefs.set(nodeId(target), [...(backRefs.get(nodeId(target)) ?? []), holder]);
    }
  };
  const roots = new Map<string, { owner: Owner; nodes: Node[] }>();
  const addRoot = (cls: OwnerClass, kind: string, ns: string, id: string, nodes: Node[]) => {
    const key = `${kind}:${id}@${ns}`;
    const entry = roots.get(key) ?? { owner: { key, class: cls, namespace: ns, id }, nodes: [] };
    entry.nodes.push(...nodes);
    roots.set(key, entry);
  };
  const isContainerLease = input.containerLease ?? isDockerContainerLease;
  for (const ns of input.namespaces) {
    const n = ns.name;
    for (const lease of ns.leases) {
      if (expired(lease.labels, input.now)) continue;
      const flat = lease.labels[GC_FLAT] !== undefined ? '-flat' : '';
      const nodes: Node[] = [
        ...lease.content.map((key) => ({ type: `content${flat}` as NodeType, ns: n, key })),
        ...lease.snapshots.map((s) => ({
          type: `snapshot${flat}` as NodeType,
          ns: n,
          key: `${s.snapshotter}/${s.key}`,
        })),
        ...lease.images.map((key) => ({ type: `image${flat}` as NodeType, ns: n, key })),
      ];
      if (isContainerLease(lease, n)) addRoot('containers', 'container', n, lease.id, nodes);
      else addRoot('buildCache', 'lease', n, lease.id, nodes);
    }
    for (const image of ns.images) {
      const node: Node = { type: 'image', ns: n, key: image.name };
      if (!expired(image.labels, input.now)) addRoot('images', 'image', n, image.name, [node]);
      else addBackRefs(image.labels, n, node);
    }
    for (const c of ns.containers) {
      const node: Node = { type: 'container', ns: n, key: c.id };
      addRoot('containers', 'container', n, c.id, [node]);
      addBackRefs(c.labels, n, node);
    }
    for (const blob of ns.content) {
      const node: Node = { type: 'content', ns: n, key: blob.digest };
      if (blob.labels[GC_ROOT] !== undefined) addRoot('pinned', 'content', n, blob.digest, [node]);
      addBackRefs(blob.labels, n, node);
    }
    for (const s of ns.snapshots) {
      const node: Node = { type: 'snapshot', ns: n, key: `${s.snapshotter}/${s.key}` };
      if (s.labels[GC_ROOT] !== undefined) addRoot('pinned', 'snapshot', n, node.key, [node]);
      addBackRefs(s.labels, n, node);
    }
  }
  const references = (node: Node): Node[] => {
    const ns = byNs.get(node.ns);
    const back = backRefs.get(nodeId(node)) ?? [];
    if (!ns) return back;
    const flat = node.type.endsWith('-flat');
    const labelled = (labels: Labels) => (flat ? [] : labelRefs(labels, node.ns, 'ref'));
    if (node.type.startsWith('content')) {
      const blob = ns.content.get(node.key);
      return blob ? [...back, ...labelled(blob.labels)] : back;
    }
    if (node.type.startsWith('snapshot')) {
      const s = ns.snapshots.get(node.key);
      if (!s) return back;
      const parent: Node[] = s.parent ? [{ type: node.type, ns: node.ns, key: `${s.snapshotter}/${s.parent}` }] : [];
      return [...back, ...parent, ...labelled(s.labels)];
    }
    if (node.type.startsWith('image')) {
      const image = ns.images.get(node.key);
      if (!image) return back;
      const target: Node = { type: flat ? 'content-flat' : 'content', ns: node.ns, key: image.target.digest };
      return [...back, target, ...labelled(image.labels)];
    }
    const c = ns.containers.get(node.key);
    if (!c) return back;
    const snapshot: Node[] = c.snapshotter
      ? [{ type: 'snapshot', ns: node.ns, key: `${c.snapshotter}/${c.snapshotKey}` }]
      : [];
    return [...back, ...snapshot, ...labelRefs(c.labels, node.ns, 'ref')];
  };
  const objectOf = (node: Node): string | null => {
    const ns = byNs.get(node.ns);
    if (node.type.startsWith('content')) return ns?.content.has(node.key) ? `content:${node.key}` : null;
    if (!node.type.startsWith('snapshot')) return null;
    const s = ns?.snapshots.get(node.key);
    return s ? `snapshot:${s.snapshotter}/${s.backendName}` : null;
  };
  return { roots, references, objectOf };
}

/** Every sized object, owned or not, with its bytes and the names it goes by. */
function sizedObjects(input: UsageInput): Map<string, UsageObject> {
  const objects = new Map<string, UsageObject>();
  const blank = { owners: [], classes: [] };
  for (const ns of input.namespaces) {
    for (const blob of ns.content) {
      objects.set(`content:${blob.digest}`, {
        kind: 'content',
        name: blob.digest,
        folderId: null,
        bytes: blob.size,
        ...blank,
      });
    }
  }
  const names = new Map<string, string[]>();
  for (const ns of input.namespaces) {
    for (const s of ns.snapshots.filter((x) => x.snapshotter === input.snapshotter)) {
      names.set(s.backendName, [...(names.get(s.backendName) ?? []), `${ns.name}/${s.key}`]);
    }
  }
  for (const b of input.backend) {
    const bytes = input.measuredBytes.get(b.id) ?? (b.kind === 'committed' ? (b.recordedBytes ?? 0) : 0);
    const name = (names.get(b.name) ?? [b.name]).join(' ');
    objects.set(`snapshot:${input.snapshotter}/${b.name}`, { kind: 'snapshot', name, folderId: b.id, bytes, ...blank });
  }
  const knownIds = new Set(input.backend.map((b) => b.id));
  for (const [id, bytes] of input.measuredBytes) {
    if (!knownIds.has(id))
      objects.set(`folder:${id}`, { kind: 'snapshot-folder', name: id, folderId: id, bytes, ...blank });
  }
  return objects;
}

/** Mark from each owner's roots separately (gc.go's mark phase), then sum bytes per owner and class. */
export function containerdUsage(input: UsageInput): ContainerdUsage {
  const graph = buildGraph(input);
  const objects = sizedObjects(input);
  const ownersOf = new Map<string, Set<string>>();
  for (const { owner, nodes } of graph.roots.values()) {
    const seen = new Set<string>();
    const queue = [...nodes];
    while (queue.length > 0) {
      const node = queue.pop()!;
      if (seen.has(nodeId(node))) continue;
      seen.add(nodeId(node));
      const object = graph.objectOf(node);
      if (object && objects.has(object)) ownersOf.set(object, (ownersOf.get(object) ?? new Set()).add(owner.key));
      queue.push(...graph.references(node));
    }
  }
  const classOf = new Map([...graph.roots.values()].map(({ owner }) => [owner.key, owner.class]));
  const owned = [...objects].map(([id, o]): UsageObject => {
    const owners = [...(ownersOf.get(id) ?? [])].sort();
    return { ...o, owners, classes: CLASSES.filter((c) => owners.some((k) => classOf.get(k) === c)) };
  });
  const exclusive = Object.fromEntries(CLASSES.map((c) => [c, 0])) as Record<OwnerClass, number>;
  const shared = new Map<string, { classes: OwnerClass[]; bytes: number }>();
  let orphans = 0;
  for (const o of owned) {
    if (o.classes.length === 0) orphans += o.bytes;
    else if (o.classes.length === 1) exclusive[o.classes[0]!] += o.bytes;
    else {
      const key = o.classes.join('+');
      shared.set(key, { classes: [...o.classes], bytes: (shared.get(key)?.bytes ?? 0) + o.bytes });
    }
  }
  const owners = [...graph.roots.values()].map(({ owner }) => {
    const mine = owned.filter((o) => o.owners.includes(owner.key));
    const sum = (list: UsageObject[]) => list.reduce((t, o) => t + o.bytes, 0);
    return { ...owner, reached: sum(mine), unique: sum(mine.filter((o) => o.owners.length === 1)) };
  });
  const reached = Object.fromEntries(
    CLASSES.map((c) => [c, owned.filter((o) => o.classes.includes(c)).reduce((t, o) => t + o.bytes, 0)]),
  ) as Record<OwnerClass, number>;
  return {
    objects: owned,
    owners,
    reached,
    exclusive,
    shared: [...shared.values()],
    orphans,
    total: owned.reduce((t, o) => t + o.bytes, 0),
  };
}
