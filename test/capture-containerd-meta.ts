// Captures containerd's own metadata (meta.db and the overlayfs snapshotter's
// metadata.db) from a sandboxed Engine 28.5 on the containerd image store,
// running the mixed scenario, plus what ctr, du and stat say about the same
// state, into test/fixtures/containerd/. Run as root:
//   npx tsx test/capture-containerd-meta.ts
// The files are copied while containerd runs, idle: the copy is repeated until
// two copies are byte-equal, and ctr's lists are taken before and after it.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDockerd, type DockerSandbox } from './helpers/dockerd.js';
import { buildMixedScenario } from './helpers/scenarios.js';

const OUT = 'test/fixtures/containerd';
const SNAPSHOTTER = 'overlayfs';

/** The sandbox's chroot is the /tmp/pf-chroot-*\/root that holds its containerd socket. */
async function chrootOf(s: DockerSandbox): Promise<string> {
  for (const entry of await readdir('/tmp')) {
    const dir = path.join('/tmp', entry, 'root');
    if (entry.startsWith('pf-chroot-') && existsSync(path.join(dir, s.fs.dir, 'r/c.sock'))) return dir;
  }
  throw new Error('no chroot holds this sandbox’s containerd socket');
}

type Ctr = (namespace: string, args: readonly string[]) => Promise<string>;

function ctrIn(chroot: string, socket: string): Ctr {
  return async (namespace, args) => {
    const res = await execa('chroot', [chroot, 'ctr', '-a', socket, '-n', namespace, ...args], {
      reject: false,
      timeout: 60_000,
    });
    if (res.exitCode !== 0) throw new Error(`ctr ${args.join(' ')}: ${String(res.stderr).slice(-800)}`);
    return String(res.stdout);
  };
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');
/** `ctr … ls` prints a header, then one whitespace-separated row per object. */
const rows = (text: string) =>
  lines(text)
    .slice(1)
    .map((l) => l.trim().split(/\s+/));

async function listState(ctr: Ctr, namespace: string) {
  const snapshotKeys = rows(await ctr(namespace, ['snapshots', '--snapshotter', SNAPSHOTTER, 'ls'])).map((r) => r[0]!);
  const content = lines(await ctr(namespace, ['content', 'ls', '-q']));
  return { snapshotKeys: snapshotKeys.sort(), content: content.sort() };
}

async function captureNamespace(ctr: Ctr, namespace: string, containerdRoot: string) {
  const images = rows(await ctr(namespace, ['images', 'ls'])).map((r) => ({
    name: r[0]!,
    mediaType: r[1]!,
    target: r[2]!,
  }));
  const contentRows = rows(await ctr(namespace, ['content', 'ls']));
  const content = await Promise.all(
    contentRows.map(async (r) => {
      const digest = r[0]!;
      // ctr prints sizes rounded: the blob file's own size is exact.
      const blob = path.join(containerdRoot, 'io.containerd.content.v1.content/blobs/sha256', digest.slice(7));
      return { digest, size: (await stat(blob)).size, labelsText: r.at(-1)! };
    }),
  );
  const leases = rows(await ctr(namespace, ['leases', 'ls'])).map((r) => ({ id: r[0]!, labelsText: r[2] ?? '' }));
  const snapshots = [];
  for (const key of (await listState(ctr, namespace)).snapshotKeys) {
    const info = JSON.parse(await ctr(namespace, ['snapshots', '--snapshotter', SNAPSHOTTER, 'info', key])) as {
      Kind: string;
      Parent?: string;
      Labels?: Record<string, string>;
    };
    // Active snapshots' mounts name their snapshots/<id> directories (upper, then the parents' lowers).
    const mounts =
      info.Kind === 'Active'
        ? await ctr(namespace, ['snapshots', '--snapshotter', SNAPSHOTTER, 'mounts', '/mnt', key])
        : null;
    snapshots.push({ key, kind: info.Kind, parent: info.Parent ?? '', labels: info.Labels ?? {}, mounts });
  }
  const containers = [];
  for (const id of lines(await ctr(namespace, ['containers', 'ls', '-q']))) {
    const info = JSON.parse(await ctr(namespace, ['containers', 'info', id])) as Record<string, unknown>;
    containers.push({ id, snapshotter: info.Snapshotter, snapshotKey: info.SnapshotKey, image: info.Image });
  }
  return { images, content, leases, snapshots, containers };
}

/** du -B1 -s of every snapshots/<id> directory, one du each (no hard-link sharing between them). */
async function snapshotDirSizes(containerdRoot: string): Promise<Record<string, number>> {
  const root = path.join(containerdRoot, `io.containerd.snapshotter.v1.${SNAPSHOTTER}/snapshots`);
  const sizes: Record<string, number> = {};
  for (const id of await readdir(root)) {
    const res = await execa('du', ['-B1', '-s', path.join(root, id)]);
    sizes[id] = Number(res.stdout.split(/\s/)[0]);
  }
  return sizes;
}

/** Copy until two copies are byte-equal, so no write transaction was caught halfway. */
async function copyStable(from: string, to: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    await copyFile(from, to);
    const again = await readFile(from);
    if (again.equals(await readFile(to))) return;
    await sleep(500);
  }
  throw new Error(`${from} kept changing while copied`);
}

async function waitForSettledState(ctr: Ctr, namespace: string) {
  let previous = '';
  for (let poll = 0; poll < 30; poll += 1) {
    const state = JSON.stringify(await listState(ctr, namespace));
    if (state === previous) return JSON.parse(state) as Awaited<ReturnType<typeof listState>>;
    previous = state;
    await sleep(1500);
  }
  throw new Error('containerd kept changing its content and snapshots');
}

const sandbox = await startDockerd('overlay2', 2048, { engine: 'newest', store: 'containerd' });
try {
  const scenario = await buildMixedScenario(sandbox);
  const containerdRoot = sandbox.containerdRoot!;
  const ctr = ctrIn(await chrootOf(sandbox), path.join(sandbox.fs.dir, 'r/c.sock'));
  const namespaces = lines(await ctr('default', ['namespaces', 'ls', '-q']));
  const before = await waitForSettledState(ctr, 'moby');
  const perNamespace: Record<string, unknown> = {};
  for (const ns of namespaces) perNamespace[ns] = await captureNamespace(ctr, ns, containerdRoot);
  const duBytes = await snapshotDirSizes(containerdRoot);
  await mkdir(OUT, { recursive: true });
  await copyStable(path.join(containerdRoot, 'io.containerd.metadata.v1.bolt/meta.db'), path.join(OUT, 'meta.db'));
  await copyStable(
    path.join(containerdRoot, `io.containerd.snapshotter.v1.${SNAPSHOTTER}/metadata.db`),
    path.join(OUT, 'overlayfs-metadata.db'),
  );
  const after = await listState(ctr, 'moby');
  if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error('the state changed while it was captured');
  const dockerContainers = lines(
    await sandbox.docker(['ps', '-a', '--no-trunc', '--format', '{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.State}}']),
  ).map((l) => {
    const [id, name, image, state] = l.split('\t');
    return { id, name, image, state };
  });
  const dockerImages = lines(
    await sandbox.docker(['image', 'ls', '-a', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}}\t{{.ID}}']),
  ).map((l) => {
    const [ref, id] = l.split('\t');
    return { ref, id };
  });
  // What deleting the unused image really frees: dockerd deletes its last name synchronously, GC included.
  await sandbox.docker(['image', 'rm', scenario.unusedImage]);
  const afterRemovingUnused = await waitForSettledState(ctr, 'moby');
  const truth = {
    captured: new Date().toISOString(),
    command: 'npx tsx test/capture-containerd-meta.ts',
    engine: sandbox.label,
    snapshotter: SNAPSHOTTER,
    scenario,
    namespaces,
    perNamespace,
    duBytes,
    docker: { containers: dockerContainers, images: dockerImages },
    unusedImageRemoval: {
      image: scenario.unusedImage,
      before,
      after: afterRemovingUnused,
      duBytesAfter: await snapshotDirSizes(containerdRoot),
    },
  };
  await writeFile(path.join(OUT, 'ground-truth.json'), `${JSON.stringify(truth, null, 1)}\n`);
  console.log(`captured into ${OUT} (${sandbox.label})`);
} finally {
  await sandbox.stop();
}
