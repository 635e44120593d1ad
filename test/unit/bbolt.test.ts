import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BoltFormatError, fnv1a64, headTxid, openBolt, type BoltBucket } from '../../src/parse/bbolt.js';
import { readUvarint } from '../../src/parse/containerd-meta.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'containerd');
const metaDb = readFileSync(path.join(DIR, 'meta.db'));
const overlayDb = readFileSync(path.join(DIR, 'overlayfs-metadata.db'));
const truth = JSON.parse(readFileSync(path.join(DIR, 'ground-truth.json'), 'utf8')) as GroundTruth;

interface GroundTruth {
  namespaces: string[];
  perNamespace: Record<
    string,
    {
      images: { name: string; target: string }[];
      content: { digest: string }[];
      leases: { id: string }[];
      snapshots: { key: string; parent: string }[];
    }
  >;
  duBytes: Record<string, number>;
}

const names = (b: BoltBucket | null) => (b?.entries() ?? []).map((e) => e.key.toString());
const sorted = (list: readonly string[]) => [...list].sort();
const at = (b: BoltBucket | null, ...path: string[]) => path.reduce((x, p) => x?.bucket(p) ?? null, b);

describe('bbolt reader on containerd 2.1 meta.db (Engine 28.5.2, containerd store, captured here)', () => {
  const v1 = openBolt(metaDb).root.bucket('v1');

  it('lists the namespaces ctr lists', () => {
    expect(sorted(names(v1).filter((n) => n !== 'version'))).toEqual(sorted(truth.namespaces));
  });

  for (const ns of Object.keys(truth.perNamespace)) {
    const seen = truth.perNamespace[ns]!;
    it(`${ns}: image names and targets as ctr images ls`, () => {
      const images = at(v1, ns, 'images');
      expect(sorted(names(images))).toEqual(sorted(seen.images.map((i) => i.name)));
      for (const image of seen.images) {
        expect(at(images, image.name, 'target')?.get('digest')?.toString()).toBe(image.target);
      }
    });
    it(`${ns}: content digests as ctr content ls, leases as ctr leases ls`, () => {
      expect(sorted(names(at(v1, ns, 'content', 'blob')))).toEqual(sorted(seen.content.map((c) => c.digest)));
      expect(sorted(names(at(v1, ns, 'leases')))).toEqual(sorted(seen.leases.map((l) => l.id)));
    });
    it(`${ns}: snapshot keys and parents as ctr snapshots info`, () => {
      const overlay = at(v1, ns, 'snapshots', 'overlayfs');
      expect(sorted(names(overlay))).toEqual(sorted(seen.snapshots.map((s) => s.key)));
      for (const s of seen.snapshots) expect(overlay?.bucket(s.key)?.get('parent')?.toString() ?? '').toBe(s.parent);
    });
  }
});

describe('bbolt reader on the overlayfs snapshotter metadata.db (same capture)', () => {
  it('holds one record per snapshots/<id> folder du measured', () => {
    const records = openBolt(overlayDb).root.bucket('v1')?.bucket('snapshots')?.entries() ?? [];
    const ids = records.map((e) => String(readUvarint(e.bucket?.get('id') ?? null)));
    expect(sorted(ids)).toEqual(sorted(Object.keys(truth.duBytes)));
  });
});

// internal/common/meta.go layout, offsets within a page: header 16, then the meta fields.
const META = 16;
const CHECKSUM = META + 56;
const ROOT = META + 16;
const PAGE = 4096;

/** Rewrite a meta page's field and seal it with a correct checksum, as a valid writer would. */
function resealMeta(file: Buffer, page: 0 | 1, edit: (meta: Buffer) => void): void {
  const meta = file.subarray(page * PAGE + META, page * PAGE + META + 64);
  edit(meta);
  meta.writeBigUInt64LE(fnv1a64(meta.subarray(0, 56)), 56);
}

const flipByte = (file: Buffer, offset: number) => file.writeUInt8(file.readUInt8(offset) ^ 0xff, offset);

function problemOf(run: () => unknown): string {
  try {
    run();
    return 'none';
  } catch (err) {
    if (err instanceof BoltFormatError) return err.problem;
    throw err;
  }
}

/** Walk every bucket, as a consumer would. */
function walk(b: BoltBucket): number {
  return b.entries().reduce((n, e) => n + 1 + (e.bucket ? walk(e.bucket) : 0), 0);
}

/** A small file: two metas (txid 1 and 2), then the given pages from id 2 on. */
function synthetic(pages: Buffer[], rootPgid = 2n): Buffer {
  const file = Buffer.alloc(PAGE * (2 + pages.length));
  for (const id of [0, 1] as const) {
    const p = file.subarray(id * PAGE);
    p.writeBigUInt64LE(BigInt(id), 0);
    p.writeUInt16LE(0x04, 8);
    resealMeta(file, id, (m) => {
      m.writeUInt32LE(0xed0cdaed, 0);
      m.writeUInt32LE(2, 4);
      m.writeUInt32LE(PAGE, 8);
      m.writeBigUInt64LE(rootPgid, 16);
      m.writeBigUInt64LE(BigInt(2 + pages.length), 40);
      m.writeBigUInt64LE(BigInt(id + 1), 48);
    });
  }
  pages.forEach((p, i) => p.copy(file, PAGE * (2 + i)));
  return file;
}

/** internal/common/page.go: a branch page pointing at `children`, keyed `k0`, `k1`…. */
function branchPage(id: number, children: number[]): Buffer {
  const p = Buffer.alloc(PAGE);
  p.writeBigUInt64LE(BigInt(id), 0);
  p.writeUInt16LE(0x01, 8);
  p.writeUInt16LE(children.length, 10);
  let data = 16 + 16 * children.length;
  children.forEach((child, i) => {
    const elem = 16 + 16 * i;
    p.writeUInt32LE(data - elem, elem);
    p.writeUInt32LE(2, elem + 4);
    p.writeBigUInt64LE(BigInt(child), elem + 8);
    data += p.write(`k${i}`, data);
  });
  return p;
}

/** A leaf page with one entry; `bucketRoot` makes it a bucket whose root is that page. */
function leafPage(id: number, key: string, value: string, bucketRoot?: number): Buffer {
  const p = Buffer.alloc(PAGE);
  p.writeBigUInt64LE(BigInt(id), 0);
  p.writeUInt16LE(0x02, 8);
  p.writeUInt16LE(1, 10);
  const v = bucketRoot === undefined ? Buffer.from(value) : Buffer.alloc(16);
  if (bucketRoot !== undefined) v.writeBigUInt64LE(BigInt(bucketRoot), 0);
  p.writeUInt32LE(bucketRoot === undefined ? 0 : 1, 16);
  p.writeUInt32LE(16, 20);
  p.writeUInt32LE(key.length, 24);
  p.writeUInt32LE(v.length, 28);
  p.write(key, 32);
  v.copy(p, 32 + key.length);
  return p;
}

describe('bbolt reader on damaged files: a typed error or the other meta, never a hang', () => {
  it('reads a hand-built file (the builder below is right)', () => {
    const db = openBolt(synthetic([branchPage(2, [3]), leafPage(3, 'name', 'value')]));
    expect(db.root.get('name')?.toString()).toBe('value');
  });

  it('a file cut short is truncated', () => {
    expect(problemOf(() => openBolt(metaDb.subarray(0, 40)))).toBe('truncated');
    expect(problemOf(() => openBolt(metaDb.subarray(0, metaDb.length / 2)))).toBe('truncated');
  });

  it('a bad checksum on the newest meta falls back to the other one, which still reads', () => {
    const good = openBolt(metaDb);
    const file = Buffer.from(metaDb);
    flipByte(file, good.metaPage * PAGE + CHECKSUM);
    const fallback = openBolt(file);
    expect(fallback.metaPage).toBe(1 - good.metaPage);
    expect(fallback.txid).toBe(good.txid - 1n);
    expect(walk(fallback.root)).toBeGreaterThan(0);
  });

  it('both metas damaged: no valid meta', () => {
    const file = Buffer.from(metaDb);
    flipByte(file, CHECKSUM);
    flipByte(file, PAGE + CHECKSUM);
    expect(problemOf(() => openBolt(file))).toBe('no-valid-meta');
  });

  it('a root page id past the high water mark is out of range', () => {
    const file = Buffer.from(metaDb);
    const page = openBolt(file).metaPage;
    resealMeta(file, page, (m) => m.writeBigUInt64LE(1n << 40n, ROOT - META));
    expect(problemOf(() => walk(openBolt(file).root))).toBe('page-out-of-range');
  });

  it('a branch page pointing past the file is out of range', () => {
    expect(problemOf(() => walk(openBolt(synthetic([branchPage(2, [9])])).root))).toBe('page-out-of-range');
  });

  it('a page that names another id is a bad page', () => {
    expect(problemOf(() => walk(openBolt(synthetic([branchPage(2, [3]), leafPage(4, 'a', 'b')])).root))).toBe(
      'bad-page',
    );
  });

  it('a branch page that is its own child is a cycle', () => {
    expect(problemOf(() => walk(openBolt(synthetic([branchPage(2, [2])])).root))).toBe('cycle');
  });

  it('two branch pages pointing at each other are a cycle', () => {
    expect(problemOf(() => walk(openBolt(synthetic([branchPage(2, [3]), branchPage(3, [2])])).root))).toBe('cycle');
  });

  it('a page two branches share is refused: pages shared level after level would make the walk exponential', () => {
    const shared = synthetic([branchPage(2, [3, 3]), leafPage(3, 'a', 'b')]);
    expect(problemOf(() => walk(openBolt(shared).root))).toBe('cycle');
  });

  it('a bucket whose root is its own parent page is a cycle', () => {
    expect(problemOf(() => walk(openBolt(synthetic([leafPage(2, 'self', '', 2)])).root))).toBe('cycle');
  });
});

describe('a copy taken while containerd commits', () => {
  it('is whole when its head, read again, has no newer transaction', () => {
    const copy = openBolt(metaDb);
    expect(headTxid(metaDb.subarray(0, 2 * PAGE), copy.pageSize)).toBe(copy.txid);
  });

  it('is not whole when a commit landed after the copy (bbolt writes meta page txid % 2)', () => {
    const copy = openBolt(metaDb);
    const head = Buffer.from(metaDb.subarray(0, 2 * PAGE));
    const next = copy.txid + 1n;
    resealMeta(head, Number(next % 2n) as 0 | 1, (m) => m.writeBigUInt64LE(next, 48));
    expect(headTxid(head, copy.pageSize)).toBe(next);
  });

  it('a head with no valid meta (cut short, or both torn) gives no txid', () => {
    expect(headTxid(metaDb.subarray(0, 40), PAGE)).toBeNull();
    const head = Buffer.from(metaDb.subarray(0, 2 * PAGE));
    flipByte(head, CHECKSUM);
    flipByte(head, PAGE + CHECKSUM);
    expect(headTxid(head, PAGE)).toBeNull();
  });
});
