import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { containerdFigures, isDockerNamespace } from '../../src/model/containerd-store.js';
import { containerdUsage } from '../../src/model/containerd-usage.js';
import { openBolt } from '../../src/parse/bbolt.js';
import { readContainerdMeta, readSnapshotterMeta } from '../../src/parse/containerd-meta.js';
import type { DfContainer, DfImage } from '../../src/parse/docker-df.js';
import { execRunner } from '../../src/host/exec.js';
import { foldersOf, getDataRootBytes } from '../../src/probes/containerd-store.js';

// Engine 28.5.2 on the containerd store after the mixed scenario (test/fixtures/containerd/README.md).
const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'containerd');
const truth = JSON.parse(readFileSync(path.join(DIR, 'ground-truth.json'), 'utf8'));
const namespaces = readContainerdMeta(openBolt(readFileSync(path.join(DIR, 'meta.db'))).root);
const usage = containerdUsage({
  namespaces,
  snapshotter: 'overlayfs',
  backend: readSnapshotterMeta(openBolt(readFileSync(path.join(DIR, 'overlayfs-metadata.db'))).root),
  measuredBytes: new Map(Object.entries(truth.duBytes as Record<string, number>)),
  now: new Date(truth.captured),
});
const containers: DfContainer[] = truth.docker.containers.map((c: any) => ({
  id: c.id,
  name: c.name,
  image: c.image,
  imageId: '',
  state: c.state,
  sizeRw: 0,
  sizeRootFs: 0,
  created: 0,
  labels: {},
}));
const images: DfImage[] = truth.docker.images.map((i: any) => ({
  id: i.id,
  repoTags: [i.ref],
  repoDigests: [],
  created: 0,
  size: 0,
  sharedSize: -1,
  containers: containers.filter((c) => c.image === i.ref).length,
  labels: {},
}));
const figures = containerdFigures({ usage, namespaces, dockerNamespace: 'moby', images, containers });
const idOf = (ref: string) => images.find((i) => i.repoTags[0] === ref)!.id;

describe("Docker's share of containerd's bytes (Engine 28.5.2 capture)", () => {
  it('counts every byte once: the classes add up to all the objects', () => {
    const f = figures;
    expect(f.images.bytes + f.containers.bytes + f.buildCache.bytes + f.otherClients.bytes + f.orphanBytes).toBe(
      usage.total,
    );
    expect(f.otherClients).toEqual({ bytes: 0, namespaces: [] });
  });

  it("containers' bytes are their snapshot folders; the stopped ones' are reclaimable", () => {
    // Each container's writable and -init snapshots, as `ctr snapshots mounts` named their folders.
    const folders = usage.objects.filter((o) => o.classes.includes('containers'));
    expect(figures.containers.bytes).toBe(folders.reduce((t, o) => t + o.bytes, 0));
    const running = truth.docker.containers.find((c: any) => c.state === 'running').id;
    const runningBytes = usage.owners.find((o) => o.class === 'containers' && o.id === running)!.reached;
    expect(figures.containers.reclaimableBytes).toBe(figures.containers.bytes - runningBytes);
    // pf-stopped50 wrote 50 MiB into its writable layer.
    expect(figures.containers.reclaimableBytes).toBeGreaterThan(50 * 1024 * 1024);
  });

  it('the unused image frees what its removal freed on the disk; the one in use frees nothing', () => {
    const removal = truth.unusedImageRemoval;
    const gone = Object.entries(truth.duBytes as Record<string, number>)
      .filter(([id]) => !(id in removal.duBytesAfter))
      .reduce((t, [, b]) => t + b, 0);
    const goneContent = (removal.before.content as string[]).filter((d) => !removal.after.content.includes(d));
    const stillOnDisk = (d: string) =>
      Object.entries(truth.perNamespace).some(
        ([ns, v]: [string, any]) => ns !== 'moby' && v.content.some((c: any) => c.digest === d),
      );
    const contentFreed = goneContent
      .filter((d) => !stillOnDisk(d))
      .reduce((t, d) => t + truth.perNamespace.moby.content.find((c: any) => c.digest === d).size, 0);
    expect(figures.perImage[idOf('pf-unused:1')]!.uniqueBytes).toBe(gone + contentFreed);
    // Its compressed layers stay: BuildKit's leases hold them.
    expect(figures.perImage[idOf('pf-unused:1')]!.bytes).toBeGreaterThan(gone + contentFreed);
    expect(figures.images.heldByBuildCacheBytes).toBeGreaterThan(0);
    // pf-base is in use: none of the images' reclaimable bytes are its.
    expect(figures.images.reclaimableBytes).toBe(
      figures.perImage[idOf('pf-unused:1')]!.uniqueBytes + figures.perImage[idOf('pf-app:latest')]!.uniqueBytes,
    );
  });

  it("dockerd's namespaces are its own; another client's are not", () => {
    expect(['moby', 'moby_history', 'plugins.moby'].every((n) => isDockerNamespace(n, 'moby'))).toBe(true);
    expect(isDockerNamespace('k8s.io', 'moby')).toBe(false);
    expect(isDockerNamespace('mobyx', 'moby')).toBe(false);
  });

  it('du depth 3 reads as snapshot folders and the root folders', () => {
    const root = '/var/lib/containerd';
    const { folderBytes, topLevel } = foldersOf(
      [
        { bytes: 100, path: `${root}/io.containerd.snapshotter.v1.overlayfs/snapshots/12` },
        { bytes: 300, path: `${root}/io.containerd.snapshotter.v1.overlayfs/snapshots` },
        { bytes: 400, path: `${root}/io.containerd.snapshotter.v1.overlayfs` },
        { bytes: 50, path: `${root}/io.containerd.content.v1.content/blobs/sha256` },
        { bytes: 60, path: `${root}/io.containerd.content.v1.content` },
        { bytes: 500, path: root },
      ],
      `${root}/`,
      'overlayfs',
    );
    expect([...folderBytes]).toEqual([['12', 100]]);
    expect([...topLevel].sort()).toEqual([
      ['io.containerd.content.v1.content', 60],
      ['io.containerd.snapshotter.v1.overlayfs', 400],
    ]);
  });
});

describe("the data root walked without the folders the daemon sizes (Docker's own files)", () => {
  it('equals du of the whole root less the skipped folders, a deeper one and the dotfiles counted', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'pf-data-root-'));
    try {
      const put = (rel: string, bytes: number) => {
        mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        writeFileSync(path.join(root, rel), Buffer.alloc(bytes, 1));
      };
      put('volumes/v/_data/big', 300_000);
      put('overlay2/l1/diff/big', 200_000);
      put('containerd/daemon/io.containerd.content.v1.content/blob', 150_000);
      put('containerd/other', 20_000);
      put('image/overlay2/layerdb/sha256/x/tar-split.json.gz', 40_000);
      put('containers/c1/c1-json.log', 60_000);
      put('.hidden', 10_000);
      put('a*b [x]\nname', 5_000);
      // A name like a skipped one is not skipped.
      put('volumes-old', 7_000);
      const du = async (...args: string[]) => Number((await execa('du', ['-s', '-B1', ...args])).stdout.split('\t')[0]);
      const whole = await du(root);
      const skipped = (await du(path.join(root, 'volumes'))) + (await du(path.join(root, 'overlay2')));
      const deeper = await du(path.join(root, 'containerd', 'daemon'));
      const rootDir = Number((await execa('stat', ['-c', '%b', root])).stdout) * 512;
      const bytes = await getDataRootBytes(
        execRunner,
        `${root}/`,
        ['volumes', 'overlay2', `${root}/containerd/daemon`],
        10_000,
      );
      expect(bytes).toBe(whole - skipped - deeper - rootDir);
      // Nothing left once every entry is skipped: zero, not the whole root.
      const all = readdirSync(root);
      expect(await getDataRootBytes(execRunner, root, all, 10_000)).toBe(0);
      expect(await getDataRootBytes(execRunner, path.join(root, 'missing'), [], 10_000)).toBeNull();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
