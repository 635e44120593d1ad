/**
 * A read-only reader for bbolt database files (go.etcd.io/bbolt), the format
 * of containerd's `io.containerd.metadata.v1.bolt/meta.db` and of its
 * snapshotters' `metadata.db`. Input is the whole file; nothing is written.
 * Bounded: every page id is checked against the file and the meta's high
 * water mark, and a page met twice on one walk is a cycle, so a corrupt file
 * throws a BoltFormatError instead of looping.
 * Format facts (little-endian, as bbolt writes on amd64/arm64) are from
 * etcd-io/bbolt at 4e65d8f: internal/common/{page,meta,bucket,types}.go, db.go.
 */

export type BoltProblem = 'truncated' | 'no-valid-meta' | 'page-out-of-range' | 'bad-page' | 'cycle';

export class BoltFormatError extends Error {
  constructor(
    readonly problem: BoltProblem,
    message: string,
  ) {
    super(`bbolt: ${message}`);
    this.name = 'BoltFormatError';
  }
}

export type BoltEntry =
  { key: Buffer; value: Buffer; bucket?: never } | { key: Buffer; bucket: BoltBucket; value?: never };

export interface BoltBucket {
  /** A plain value under this key; null when absent or when the key names a bucket. */
  get(key: string | Buffer): Buffer | null;
  /** The nested bucket under this key, or null. */
  bucket(name: string | Buffer): BoltBucket | null;
  /** Every key in byte order, with its value or its nested bucket. */
  entries(): readonly BoltEntry[];
}

export interface BoltDb {
  root: BoltBucket;
  txid: bigint;
  pageSize: number;
  /** Which of the two meta pages was chosen (the valid one with the higher txid). */
  metaPage: 0 | 1;
}

// internal/common/page.go: Page{id u64, flags u16, count u16, overflow u32}.
const PAGE_HEADER_SIZE = 16;
// internal/common/page.go: leafPageElement{flags,pos,ksize,vsize u32} and branchPageElement{pos,ksize u32, pgid u64}.
const ELEMENT_SIZE = 16;
// internal/common/page.go: page type flags; BucketLeafFlag marks a leaf value that is a bucket.
const BRANCH_PAGE = 0x01;
const LEAF_PAGE = 0x02;
const BUCKET_LEAF = 0x01;
// internal/common/bucket.go: InBucket{root u64, sequence u64} heads a bucket value; root 0 means inline.
const BUCKET_HEADER_SIZE = 16;
// internal/common/types.go: Magic and Version.
const MAGIC = 0xed0cdaed;
const VERSION = 2;
// internal/common/meta.go: magic,version,pageSize,flags u32; root InBucket; freelist,pgid,txid u64; checksum u64.
const META_CHECKSUM_OFFSET = 56;
const META_SIZE = 64;
// Deeper than any real tree (bbolt splits pages at half-full): a guard, not a limit in practice.
const MAX_DEPTH = 64;

interface Meta {
  pageSize: number;
  rootPgid: bigint;
  highWater: bigint;
  txid: bigint;
}

/** Open a bbolt file image: the root bucket of the newest valid meta page. */
export function openBolt(file: Buffer): BoltDb {
  if (file.length < PAGE_HEADER_SIZE + META_SIZE)
    throw new BoltFormatError('truncated', `file of ${file.length} bytes`);
  const pageSize = findPageSize(file);
  const candidates = ([0, 1] as const)
    .map((page) => ({ page, meta: readMeta(file, page * pageSize) }))
    .filter((c): c is { page: 0 | 1; meta: Meta } => c.meta !== null && c.meta.pageSize === pageSize);
  const best = candidates.sort((a, b) => (a.meta.txid > b.meta.txid ? -1 : 1))[0];
  if (!best) throw new BoltFormatError('no-valid-meta', 'neither meta page has a valid magic, version and checksum');
  const { meta } = best;
  // db.go mmaps at least the high water mark: a file shorter than that lost pages.
  if (BigInt(file.length) < meta.highWater * BigInt(pageSize)) {
    throw new BoltFormatError(
      'truncated',
      `file of ${file.length} bytes is shorter than its ${meta.highWater} pages of ${pageSize}`,
    );
  }
  const pages: PageReader = { file, pageSize, highWater: meta.highWater };
  return {
    root: makeBucket(pages, { kind: 'paged', pgid: meta.rootPgid }, []),
    txid: meta.txid,
    pageSize,
    metaPage: best.page,
  };
}

/**
 * The newest valid txid in a file's head (its two meta pages), read again
 * after a copy of the whole file. The copy is whole only when it is still the
 * newest: bbolt hands a tree's pages back one transaction after it replaced
 * them, and a reader from outside holds no read transaction to stop their
 * reuse, so a copy taken across two commits can reach pages that now hold
 * something else.
 */
export function headTxid(head: Buffer, pageSize: number): bigint | null {
  const txids = [0, pageSize]
    .map((offset) => readMeta(head, offset))
    .filter((m): m is Meta => m !== null && m.pageSize === pageSize)
    .map((m) => m.txid);
  return txids.length ? txids.reduce((a, b) => (a > b ? a : b)) : null;
}

/** db.go getPageSize: page 0's meta says it; if page 0 is damaged, probe 1 KiB << i for page 1. */
function findPageSize(file: Buffer): number {
  const first = readMeta(file, 0);
  if (first) return first.pageSize;
  for (let i = 0; i <= 14; i += 1) {
    const offset = 1024 << i;
    if (offset + PAGE_HEADER_SIZE + META_SIZE > file.length) break;
    const meta = readMeta(file, offset);
    if (meta && meta.pageSize === offset) return offset;
  }
  throw new BoltFormatError('no-valid-meta', 'neither meta page has a valid magic, version and checksum');
}

/** meta.go Validate: magic, version and the FNV-1a 64 of the fields before the checksum. */
function readMeta(file: Buffer, pageOffset: number): Meta | null {
  const at = pageOffset + PAGE_HEADER_SIZE;
  if (at + META_SIZE > file.length) return null;
  if (file.readUInt32LE(at) !== MAGIC || file.readUInt32LE(at + 4) !== VERSION) return null;
  if (fnv1a64(file.subarray(at, at + META_CHECKSUM_OFFSET)) !== file.readBigUInt64LE(at + META_CHECKSUM_OFFSET))
    return null;
  const pageSize = file.readUInt32LE(at + 8);
  if (pageSize < 512 || pageSize > 1 << 24) return null;
  return {
    pageSize,
    rootPgid: file.readBigUInt64LE(at + 16),
    highWater: file.readBigUInt64LE(at + 40),
    txid: file.readBigUInt64LE(at + 48),
  };
}

/** hash/fnv New64a, as meta.go Sum64 uses it. */
export function fnv1a64(bytes: Uint8Array): bigint {
  const mask = (1n << 64n) - 1n;
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & mask;
  return hash;
}

interface PageReader {
  file: Buffer;
  pageSize: number;
  highWater: bigint;
}

/** Where a bucket's root page lives: a page of the file, or inline in its parent's value. */
type BucketRoot = { kind: 'paged'; pgid: bigint } | { kind: 'inline'; page: Buffer };

/** A page's bytes, overflow pages included, after checking its id against the file. */
function pageBytes(pages: PageReader, pgid: bigint): Buffer {
  // Pages 0 and 1 are the metas: no bucket points there.
  if (pgid < 2n || pgid >= pages.highWater) {
    throw new BoltFormatError('page-out-of-range', `page id ${pgid} outside 2..${pages.highWater - 1n}`);
  }
  const start = Number(pgid) * pages.pageSize;
  const head = pages.file.subarray(start, start + PAGE_HEADER_SIZE);
  if (head.readBigUInt64LE(0) !== pgid) {
    throw new BoltFormatError('bad-page', `page ${pgid} says it is page ${head.readBigUInt64LE(0)}`);
  }
  const overflow = BigInt(head.readUInt32LE(12));
  if (pgid + overflow >= pages.highWater) {
    throw new BoltFormatError('page-out-of-range', `page ${pgid} overflows past page ${pages.highWater - 1n}`);
  }
  return pages.file.subarray(start, start + (Number(overflow) + 1) * pages.pageSize);
}

/** Every leaf element under a root, in key order; `seen` catches a page met twice. */
function collectLeaves(pages: PageReader, root: BucketRoot): { key: Buffer; value: Buffer; flags: number }[] {
  const out: { key: Buffer; value: Buffer; flags: number }[] = [];
  const seen = new Set<bigint>();
  const visit = (page: Buffer, depth: number): void => {
    if (depth > MAX_DEPTH) throw new BoltFormatError('cycle', `tree deeper than ${MAX_DEPTH} pages`);
    const flags = page.readUInt16LE(8);
    const count = page.readUInt16LE(10);
    if (PAGE_HEADER_SIZE + count * ELEMENT_SIZE > page.length) {
      throw new BoltFormatError('bad-page', `page of ${page.length} bytes cannot hold ${count} elements`);
    }
    for (let i = 0; i < count; i += 1) {
      const elem = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      if (flags === LEAF_PAGE) {
        const keyStart = elem + page.readUInt32LE(elem + 4);
        const keyEnd = keyStart + page.readUInt32LE(elem + 8);
        const valueEnd = keyEnd + page.readUInt32LE(elem + 12);
        if (valueEnd > page.length) throw new BoltFormatError('bad-page', `leaf element ${i} runs past its page`);
        out.push({
          key: page.subarray(keyStart, keyEnd),
          value: page.subarray(keyEnd, valueEnd),
          flags: page.readUInt32LE(elem),
        });
      } else if (flags === BRANCH_PAGE) {
        const child = page.readBigUInt64LE(elem + 8);
        if (seen.has(child)) throw new BoltFormatError('cycle', `page ${child} is reached twice`);
        seen.add(child);
        visit(pageBytes(pages, child), depth + 1);
      } else {
        throw new BoltFormatError('bad-page', `page flags 0x${flags.toString(16)} where a branch or leaf belongs`);
      }
    }
  };
  if (root.kind === 'inline') {
    if (root.page.length < PAGE_HEADER_SIZE)
      throw new BoltFormatError('bad-page', 'inline bucket shorter than a page header');
    visit(root.page, 0);
  } else {
    seen.add(root.pgid);
    visit(pageBytes(pages, root.pgid), 0);
  }
  return out;
}

/** `ancestors`: the paged roots above this bucket, so a bucket that contains itself is a cycle. */
function makeBucket(pages: PageReader, root: BucketRoot, ancestors: readonly bigint[]): BoltBucket {
  let cached: readonly BoltEntry[] | null = null;
  const lineage = root.kind === 'paged' ? [...ancestors, root.pgid] : ancestors;
  const childOf = (value: Buffer): BoltBucket => {
    if (value.length < BUCKET_HEADER_SIZE)
      throw new BoltFormatError('bad-page', 'bucket value shorter than its header');
    const pgid = value.readBigUInt64LE(0);
    if (pgid === 0n) return makeBucket(pages, { kind: 'inline', page: value.subarray(BUCKET_HEADER_SIZE) }, lineage);
    if (lineage.includes(pgid)) throw new BoltFormatError('cycle', `bucket at page ${pgid} contains itself`);
    return makeBucket(pages, { kind: 'paged', pgid }, lineage);
  };
  const entries = (): readonly BoltEntry[] => {
    cached ??= collectLeaves(pages, root).map(({ key, value, flags }) =>
      flags & BUCKET_LEAF ? { key, bucket: childOf(value) } : { key, value },
    );
    return cached;
  };
  const find = (key: string | Buffer) => {
    const wanted = typeof key === 'string' ? Buffer.from(key) : key;
    return entries().find((e) => e.key.equals(wanted));
  };
  return {
    get: (key) => find(key)?.value ?? null,
    bucket: (name) => find(name)?.bucket ?? null,
    entries,
  };
}
