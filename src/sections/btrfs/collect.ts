import { NotApplicableError, ToolMissingError, UnavailableError, errorMessage } from '../../model/errors.js';
import {
  assessBtrfs,
  type BtrfsData,
  type BtrfsFilesystem,
  type DockerBtrfs,
  type SubvolumeSize,
} from '../../model/btrfs.js';
import type { FilesystemData, FilesystemRow } from '../../model/filesystems.js';
import type { QgroupRow } from '../../parse/btrfs-qgroup.js';
import { orphanSubvolumes, type DockerSubvolumes } from '../../parse/btrfs-subvolumes.js';
import {
  getBtrfsDf,
  getBtrfsUsage,
  getCompsize,
  getDeletedSubvolumes,
  getDockerSubvolumes,
  getExclusiveBytes,
  getQgroups,
  getSubvolumeIds,
} from '../../probes/btrfs.js';
import { callTimeout, remainingMs } from '../../host/deadline.js';
import { formatBytes } from '../../text/bytes.js';
import type { Collected, SectionContext } from '../types.js';
import { byText } from '../../text/order.js';

const CALL_TIMEOUT_MS = 10_000;
/** `btrfs filesystem du` on orphans is bounded: name the largest few, count the rest. */
const MAX_DU_ORPHANS = 50;

/**
 * Runs after the Filesystem section (phase 1) and uses its rows: the same
 * resolved paths, canonical mounts and data root, so the two never disagree.
 */
export async function collectBtrfs(ctx: SectionContext): Promise<Collected<BtrfsData>> {
  const fsData = ctx.measured.filesystem?.data;
  if (!fsData) throw new UnavailableError('the Filesystem section did not measure anything');
  const rows = fsData.filesystems.filter((r) => r.fstype === 'btrfs' && !r.stuck);
  if (rows.length === 0) throw new NotApplicableError('no measured filesystem is btrfs');
  const dataRoot = fsData.docker.path;
  const timeout = () => callTimeout(ctx.deadline, CALL_TIMEOUT_MS, 300);
  const filesystems = await Promise.all(
    rows.map((row) => collectOne(ctx, row, row.roles.includes('docker-data-root') ? dataRoot : null, timeout)),
  );
  const problems = filesystems.flatMap((f) => f.problems);
  return problems.length
    ? { status: 'degraded', reason: problems[0], data: { filesystems } }
    : { status: 'ok', data: { filesystems } };
}

async function collectOne(
  ctx: SectionContext,
  mount: FilesystemRow,
  dataRoot: string | null,
  timeout: () => number,
): Promise<BtrfsFilesystem> {
  const fs: BtrfsFilesystem = {
    mountpoint: mount.mountpoint,
    device: mount.device,
    roles: mount.roles,
    usage: null,
    df: null,
    assessment: null,
    docker: null,
    compsize: null,
    problems: [],
  };
  const [usage, df] = await Promise.allSettled([
    getBtrfsUsage(ctx.run, mount.mountpoint, timeout()),
    getBtrfsDf(ctx.run, mount.mountpoint, timeout()),
  ]);
  if (usage.status === 'rejected' && usage.reason instanceof ToolMissingError) {
    fs.problems.push(
      'btrfs-progs is not installed: `apt-get install btrfs-progs` for allocation, metadata and subvolume figures (## Filesystem has the statfs figures)',
    );
    return fs;
  }
  if (usage.status === 'fulfilled') {
    fs.usage = usage.value;
    fs.assessment = assessBtrfs(usage.value, formatBytes);
  } else {
    fs.problems.push(
      `${errorMessage(usage.reason)}${process.getuid?.() === 0 ? '' : ' (btrfs-progs needs root for chunk figures)'}`,
    );
  }
  if (df.status === 'fulfilled') fs.df = df.value;
  if (dataRoot) {
    try {
      fs.docker = await dockerSubvolumes(ctx, mount.mountpoint, dataRoot, timeout);
    } catch (err) {
      fs.problems.push(`docker subvolumes: ${errorMessage(err)}`);
    }
    const comp = await getCompsize(ctx.run, dataRoot, Math.min(timeout(), Math.max(1, remainingMs(ctx.deadline) / 2)));
    fs.compsize = comp.figures;
  }
  return fs;
}

const BUILDKIT_NAME = /^[0-9a-z]{25}$/;

async function dockerSubvolumes(
  ctx: SectionContext,
  mountpoint: string,
  dataRoot: string,
  timeout: () => number,
): Promise<DockerBtrfs | null> {
  const listing: DockerSubvolumes = await getDockerSubvolumes(ctx.run, dataRoot, timeout());
  if (listing.names.length === 0) return null; // not the btrfs driver's data root
  const [qgroups, deleted] = await Promise.all([
    getQgroups(ctx.run, mountpoint, timeout()).catch((err: unknown) =>
      err instanceof UnavailableError ? undefined : Promise.reject(err),
    ),
    getDeletedSubvolumes(ctx.run, mountpoint, timeout()).catch(() => [] as number[]),
  ]);
  const orphanNames = orphanSubvolumes(listing);
  const subvolDir = `${dataRoot.replace(/\/+$/, '')}/btrfs/subvolumes`;
  let sizes = new Map<string, SubvolumeSize>();
  let stale: QgroupRow[] = [];
  if (qgroups) {
    // qgroup 0/N is subvolume N: map names through `btrfs subvolume list`.
    const ids = await getSubvolumeIds(ctx.run, mountpoint, timeout());
    const byId = new Map(qgroups.map((q) => [q.id, q]));
    for (const [path, id] of ids) {
      const m = /(?:^|\/)btrfs\/subvolumes\/([^/]+)$/.exec(path);
      const q = byId.get(id);
      if (m && q && listing.names.includes(m[1]!))
        sizes.set(m[1]!, { name: m[1]!, referencedBytes: q.referenced, exclusiveBytes: q.exclusive });
    }
    stale = qgroups.filter((q) => deleted.includes(q.id) || q.path === '<stale>');
  }
  const orphans: DockerBtrfs['orphans'] = orphanNames.map((name) => {
    const s = sizes.get(name);
    return {
      name,
      referencedBytes: s?.referencedBytes ?? null,
      exclusiveBytes: s?.exclusiveBytes ?? null,
      sizeSource: s ? ('qgroup' as const) : null,
    };
  });
  if (!qgroups && orphans.length) {
    const measured = orphans.slice(0, MAX_DU_ORPHANS);
    const exclusive = await getExclusiveBytes(
      ctx.run,
      measured.map((o) => `${subvolDir}/${o.name}`),
      timeout(),
    ).catch(() => []);
    measured.forEach((o, i) => {
      if (exclusive[i] !== undefined) Object.assign(o, { exclusiveBytes: exclusive[i], sizeSource: 'du' });
    });
  }
  orphans.sort((a, b) => (b.exclusiveBytes ?? -1) - (a.exclusiveBytes ?? -1) || byText(a.name, b.name));
  sizes = new Map(
    [...sizes].sort(
      (a, b) => (b[1].exclusiveBytes ?? 0) - (a[1].exclusiveBytes ?? 0) || byText(String(a[0]), String(b[0])),
    ),
  );
  const buildkit = listing.names.filter((n) => BUILDKIT_NAME.test(n)).length;
  return {
    dataRoot,
    subvolumes: listing.names.length,
    buildkitSubvolumes: buildkit,
    layerSubvolumes: listing.names.length - buildkit,
    quotas: qgroups === undefined ? 'unknown' : qgroups ? 'enabled' : 'disabled',
    qgroups: [...sizes.values()],
    orphans,
    orphanBytes: orphans.reduce((a, o) => a + (o.exclusiveBytes ?? 0), 0),
    pendingDeletion: { count: deleted.length, bytes: qgroups ? stale.reduce((a, q) => a + q.exclusive, 0) : null },
  };
}
