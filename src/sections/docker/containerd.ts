import { errorMessage } from '../../model/errors.js';
import type { ContainerdInput } from '../../model/docker-storage.js';
import type { EngineIdentity } from '../../parse/docker-engine.js';
import { getContainerdStore, getDataRootBytes } from '../../probes/containerd-store.js';
import type { SectionContext } from '../types.js';
import { afterReserve } from './budget.js';

/** containerd's two bbolt files: a few MB, read in milliseconds. */
const CONTAINERD_RECORDS_TIMEOUT_MS = 3000;
/** One du over containerd's root: the walk /system/df makes of the same folders. */
const CONTAINERD_WALK_TIMEOUT_MS = 20_000;

/**
 * On the containerd store: containerd's root (from the daemon's answer and
 * procfs, shared with the Filesystem section), its records and folders; and
 * the data root walked without its volumes (no layers live there on this
 * store, so the walk is short). Started beside /system/df.
 */
export async function startContainerdStore(
  ctx: SectionContext,
  engine: EngineIdentity,
): Promise<{ containerd: ContainerdInput | null; dataRootBytes: number | null }> {
  const walkMs = () => Math.max(1, Math.min(CONTAINERD_WALK_TIMEOUT_MS, afterReserve(ctx.deadline)));
  const found = await ctx.shared.containerdRoot(ctx.deadline);
  // Docker's own files: the data root less the volumes, the layers (the graph driver's folder) and containerd's root.
  const root = engine.rootDir.replace(/\/+$/, '');
  // The walk starts at each top-level entry: one that is a mount point is another filesystem's (or counted twice).
  const mounted = (await ctx.shared.mountTable())
    .map((m) => m.mountpoint)
    .filter((m) => m.startsWith(`${root}/`) && !m.slice(root.length + 1).includes('/'));
  const skip = [
    'volumes',
    ...(engine.imageStore === 'graphdriver' ? [engine.driver] : []),
    ...(found?.path.startsWith(`${root}/`) ? [found.path] : []),
    ...mounted,
  ];
  const dataRoot = engine.rootDir
    ? getDataRootBytes(ctx.run, engine.rootDir, skip, walkMs()).catch(() => null)
    : Promise.resolve(null);
  if (engine.imageStore !== 'containerd') return { containerd: null, dataRootBytes: await dataRoot };
  const base = { root: found?.path ?? null, via: found?.via ?? null, snapshotter: engine.driver, now: new Date() };
  if (!found) {
    const problem = engine.containerd
      ? `containerd's root could not be found: no containerd process is seen listening on ${engine.containerd.address} (as root it would be), and no running container's layers name it`
      : "containerd's root could not be found: the daemon does not name its containerd (API before 1.46) and no running container's layers name it";
    return { containerd: { ...base, problem, read: null }, dataRootBytes: await dataRoot };
  }
  const read = await getContainerdStore(
    ctx.run,
    found.path,
    engine.driver,
    Math.max(1, Math.min(CONTAINERD_RECORDS_TIMEOUT_MS, afterReserve(ctx.deadline))),
    walkMs(),
  ).then(
    (r) => ({ read: r, problem: null as string | null }),
    (err: unknown) => ({ read: null, problem: errorMessage(err) }),
  );
  return { containerd: { ...base, ...read }, dataRootBytes: await dataRoot };
}
