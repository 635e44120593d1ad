// The layer listing script on planted data roots (real sh, find, xargs, awk):
// references past one awk's argument list are all read, and a layerdb entry
// the user may not search gives no verdict instead of false orphans.
import { mkdir, mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execRunner, type Runner } from '../../src/host/exec.js';
import { listLayerDirs } from '../../src/probes/layer-dirs.js';
import { unreferencedLayerNames } from '../../src/parse/layer-dirs.js';

const hex = (i: number) => i.toString(16).padStart(64, '0');
/** The real runner, as uid/gid 65534 (nobody): root reads every folder whatever its mode. */
const asNobody: Runner = (file, args, timeoutMs, input) =>
  execRunner(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', file === 'sh' ? '/bin/sh' : file, ...args],
    timeoutMs,
    input,
  );

let roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
  roots = [];
});

/** A data root with `layers` overlay2 folders, each referenced by a layerdb entry's cache-id (no trailing newline, as dockerd writes it). */
async function plantedRoot(layers: number): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'pf-layers-'));
  roots.push(root);
  const db = path.join(root, 'image/overlay2/layerdb');
  await mkdir(path.join(db, 'mounts'), { recursive: true });
  for (let i = 0; i < layers; i += 1) {
    await mkdir(path.join(root, 'overlay2', hex(i)), { recursive: true });
    await mkdir(path.join(db, 'sha256', hex(i + 1_000_000)), { recursive: true });
    await writeFile(path.join(db, 'sha256', hex(i + 1_000_000), 'cache-id'), hex(i));
  }
  // A container's read-write layer and its -init layer, from mounts/.
  await mkdir(path.join(root, 'overlay2', `${hex(1 << 30)}-init`));
  await mkdir(path.join(root, 'overlay2', hex(1 << 30)));
  await mkdir(path.join(db, 'mounts', 'c1'));
  await writeFile(path.join(db, 'mounts', 'c1', 'mount-id'), hex(1 << 30));
  await writeFile(path.join(db, 'mounts', 'c1', 'init-id'), `${hex(1 << 30)}-init`);
  return root;
}

describe('the layer listing script', () => {
  it('reads every reference when they need more than one awk (xargs batches of 128 KiB)', async () => {
    // 3,000 paths of ~100 bytes: about 300 KB of arguments.
    const root = await plantedRoot(3000);
    const res = await listLayerDirs(execRunner, root, 'overlay2', 20_000);
    if (res.kind !== 'ok') throw res.error;
    expect(res.listing.names).toHaveLength(3002);
    expect(res.listing.referenced.size).toBe(3002);
    expect(unreferencedLayerNames(res.listing)).toEqual([]);
    expect(res.listing.unsearchable).toBe(false);
  }, 60_000);

  it('lists an unreferenced directory, and nothing else, when one is planted', async () => {
    const root = await plantedRoot(20);
    await mkdir(path.join(root, 'overlay2', hex(999)));
    const res = await listLayerDirs(execRunner, root, 'overlay2', 10_000);
    if (res.kind !== 'ok') throw res.error;
    expect(unreferencedLayerNames(res.listing)).toEqual([hex(999)]);
  });

  it('gives no verdict when a layerdb entry may not be searched, rather than calling its layer an orphan', async () => {
    const root = await plantedRoot(20);
    await chmod(root, 0o755);
    const entry = path.join(root, 'image/overlay2/layerdb/sha256', hex(1_000_005));
    // Readable by nobody, except this one entry.
    const readable = await listLayerDirs(asNobody, root, 'overlay2', 10_000);
    if (readable.kind !== 'ok') throw readable.error;
    expect(unreferencedLayerNames(readable.listing)).toEqual([]);
    await chmod(entry, 0o700);
    await expect(listLayerDirs(asNobody, root, 'overlay2', 10_000)).rejects.toThrow(
      /^image\/overlay2\/layerdb could not be read completely \(a folder in it may not be searched\), so no layer can be called an orphan$/,
    );
    await chmod(entry, 0o755);
    await chmod(path.join(entry, 'cache-id'), 0o600);
    await expect(listLayerDirs(asNobody, root, 'overlay2', 10_000)).rejects.toThrow(
      /layerdb could not be read completely: .*Permission denied/,
    );
  });
});
