import { availableParallelism } from 'node:os';
import {
  buildFilesystemModel,
  realMounts,
  summaryRow,
  type DockerRootInfo,
  type FilesystemData,
  type FilesystemModel,
  type FilesystemRow,
  type PathMeasurement,
  type Target,
  type TargetRole,
} from '../model/filesystems.js';
import { measurePathsSafely } from '../probes/statfs-batch.js';
import { remainingMs } from '../host/deadline.js';
import { mapLimit } from '../host/map-limit.js';
import type { DockerEngine } from '../probes/shared.js';
import type { HistoryWindow } from '../model/history.js';
import { formatBytes } from '../text/bytes.js';
import { cell, inline } from '../text/escape.js';
import { table } from '../render/table.js';
import type { Collected, Section, SectionContext } from './types.js';

/** Where Docker keeps its data unless told otherwise; measured when the daemon cannot say. */
const DEFAULT_DOCKER_ROOT = '/var/lib/docker';
/** A healthy statfs answers in microseconds; a mount silent this long is stuck. */
const STATFS_TIMEOUT_MS = 5000;
/** Kept back from the section's deadline to assemble the answer. */
const ASSEMBLE_MS = 250;
/** The least time a statfs child is given: less would call a healthy but late mount stuck. */
const MIN_STATFS_MS = 100;
/**
 * statfs children in flight for --path and --all-mounts, one a core, 2 to 8:
 * each runs 32 subshells at once, and more than the cores can run only made
 * every batch late (2 cores, 1,000 paths on a separate disk, 8 at once: the
 * section timed out at --budget 2 with none measured; one a core: 94
 * measured, the run over at 1.7 s)…
 */
const STATFS_CONCURRENCY = Math.min(8, Math.max(2, availableParallelism()));
/** …each measuring this many paths at once, every one in a subshell of its own. */
const STATFS_BATCH = 32;
/** Table rows and `Not measured:` lines in markdown; JSON lists them all. */
const MAX_TABLE_ROWS = 20;
const MAX_UNMEASURED_LINES = 5;

export const filesystemSection: Section<FilesystemData> = {
  id: 'filesystem',
  title: 'Filesystem',
  timeoutMs: 15_000,
  collect,
  markdown,
  json: (data) => ({
    filesystems: (data?.filesystems ?? []).map(filesystemJson),
    unmeasuredPaths: data?.unmeasured ?? [],
    dockerDataRoot: data?.docker ?? null,
  }),
};

async function collect(ctx: SectionContext): Promise<Collected<FilesystemData>> {
  const table = await ctx.shared.mountTable();
  const lastStart = ctx.deadline - ASSEMBLE_MS - MIN_STATFS_MS;
  const measure = (ts: readonly Target[]) =>
    measurePathsSafely(
      ctx.run,
      ts.map((t) => ({ path: t.rawPath ?? t.path, raw: t.rawPath !== undefined })),
      Math.max(MIN_STATFS_MS, Math.min(STATFS_TIMEOUT_MS, remainingMs(ctx.deadline) - ASSEMBLE_MS)),
      table,
    );
  // Measure what does not depend on Docker while the daemon is asked where its data root is.
  // One child for `/`, the default data root (on most hosts the one the daemon names) and the first paths.
  const [root, ...others] = fixedTargets(ctx, table);
  const inFirst = others.slice(0, STATFS_BATCH - 2);
  const batches: Target[][] = [];
  for (let i = inFirst.length; i < others.length; i += STATFS_BATCH) batches.push(others.slice(i, i + STATFS_BATCH));
  const firstPromise = measure([root!, { path: DEFAULT_DOCKER_ROOT, role: 'docker-data-root' }, ...inFirst]);
  // A thousand --path must not all start at once; a batch not started in time is reported, not dropped.
  const othersPromise = Promise.all([firstPromise, mapLimit(batches, STATFS_CONCURRENCY, lastStart, measure)]).then(
    ([first, ms]) => [
      ...first.slice(2),
      ...ms.flatMap(
        (m, i) =>
          m ??
          batches[i]!.map((t): PathMeasurement => ({
            kind: 'error',
            path: t.path,
            reason: 'run budget spent before it could be measured',
          })),
      ),
    ],
  );
  const engine = await ctx.shared.dockerEngine(ctx.deadline);
  const info = engine.reachable
    ? { reachable: true as const, rootDir: engine.identity.rootDir, driver: engine.identity.driver }
    : engine;
  // A daemon that is down or restarting does not move its data root: the history still knows it.
  const remembered = info.reachable
    ? null
    : lastDataRoot(await ctx.shared.history(ctx.deadline - ASSEMBLE_MS - MIN_STATFS_MS));
  const dockerTarget: Target = {
    path: info.reachable ? info.rootDir || DEFAULT_DOCKER_ROOT : (remembered ?? DEFAULT_DOCKER_ROOT),
    role: 'docker-data-root',
  };
  const dockerPromise =
    dockerTarget.path === DEFAULT_DOCKER_ROOT
      ? firstPromise.then((m) => m[1]!)
      : measure([dockerTarget]).then((m) => m[0]!);
  // On the containerd image store, images and containers live in containerd's root: often another filesystem.
  const containerdTarget = await ctx.shared
    .containerdRoot(ctx.deadline - ASSEMBLE_MS - MIN_STATFS_MS)
    .then((found): Target | null => (found ? { path: found.path, role: 'containerd-root' } : null));
  const containerdPromise = containerdTarget ? measure([containerdTarget]).then((m) => m[0]!) : null;
  const [[rootMeasured], dockerMeasured, othersMeasured, containerdMeasured] = await Promise.all([
    firstPromise,
    dockerPromise,
    othersPromise,
    containerdPromise,
  ]);
  const targets = [root!, dockerTarget, ...(containerdTarget ? [containerdTarget] : []), ...others];
  const measured = [
    rootMeasured!,
    dockerMeasured,
    ...(containerdMeasured ? [containerdMeasured] : []),
    ...othersMeasured,
  ];

  // A default data root that does not exist just means Docker was never installed here.
  const keep = targets.map(
    (t, i) => !(t.role === 'docker-data-root' && !info.reachable && measured[i]?.kind === 'missing'),
  );
  const model = buildFilesystemModel(
    table,
    targets.filter((_, i) => keep[i]),
    measured.filter((_, i) => keep[i]),
  );
  const presumedRootKept = !info.reachable && model.filesystems.some((r) => r.roles.includes('docker-data-root'));
  const presumedSource = remembered ? 'history' : 'default';
  const docker: DockerRootInfo = info.reachable
    ? { path: info.rootDir, source: 'api', driver: info.driver, unreachable: null }
    : {
        path: presumedRootKept ? dockerTarget.path : null,
        source: presumedRootKept ? presumedSource : null,
        driver: null,
        unreachable: info.reason,
      };

  const stuck = model.filesystems.filter((r) => r.stuck).length;
  const problems = [
    stuck ? `${stuck} mount${stuck > 1 ? 's' : ''} stuck` : '',
    model.unmeasured.length
      ? `${model.unmeasured.length} path${model.unmeasured.length > 1 ? 's' : ''} not measured`
      : '',
  ].filter(Boolean);
  return {
    status: problems.length ? 'degraded' : 'ok',
    reason: problems.length ? problems.join(', ') : undefined,
    data: { ...model, docker },
  };
}

/** The data root of the latest run that knew one. */
function lastDataRoot(history: HistoryWindow): string | null {
  for (let i = history.records.length - 1; i >= 0; i -= 1) {
    const root = history.records[i]!.dockerRoot;
    if (root) return root;
  }
  return null;
}

/** `/`, then every distinct --path and (with --all-mounts) every real mount: none needs the daemon. */
function fixedTargets(ctx: SectionContext, table: Parameters<typeof realMounts>[0]): Target[] {
  const targets: Target[] = [{ path: '/', role: 'root' }];
  for (const path of new Set(ctx.options.paths)) targets.push({ path, role: 'path' });
  if (ctx.options.allMounts) {
    for (const m of realMounts(table))
      targets.push({ path: m.mountpoint, role: 'mount', ...(m.rawMountpoint ? { rawPath: m.rawMountpoint } : {}) });
  }
  return targets;
}

function markdown(data: FilesystemData): string[] {
  const lines = [diskLine(data), dockerLine(data.docker), ''];
  const rows = tableOrder(data);
  lines.push(
    ...table(
      ['Mount', 'Device', 'Type', 'Size', 'Used', 'Avail', 'Use%', 'Reserved', 'Inodes', 'Notes'],
      rows.slice(0, MAX_TABLE_ROWS).map(tableRow),
    ),
  );
  if (rows.length > MAX_TABLE_ROWS)
    lines.push(`… and ${rows.length - MAX_TABLE_ROWS} more filesystems (see --format json)`);
  for (const u of data.unmeasured.slice(0, MAX_UNMEASURED_LINES)) {
    lines.push(`Not measured: ${inline(u.path)} (${roleLabel(u.role)}): ${inline(u.reason)}`);
  }
  if (data.unmeasured.length > MAX_UNMEASURED_LINES)
    lines.push(`… and ${data.unmeasured.length - MAX_UNMEASURED_LINES} more not measured`);
  return lines;
}

/**
 * Rows as the table shows them, so the cap cuts the least telling: the Disk
 * line's row, the data root and `/`, stuck mounts, then fullest first.
 */
export function tableOrder(model: FilesystemModel): FilesystemRow[] {
  const summary = summaryRow(model);
  const rank = (r: FilesystemRow) =>
    r === summary
      ? 0
      : r.roles.includes('docker-data-root') || r.roles.includes('containerd-root')
        ? 1
        : r.roles.includes('root')
          ? 2
          : r.stuck
            ? 3
            : 4;
  return model.filesystems
    .map((row, i) => ({ row, i }))
    .sort((a, b) => rank(a.row) - rank(b.row) || (b.row.usedPct ?? -1) - (a.row.usedPct ?? -1) || a.i - b.i)
    .map(({ row }) => row);
}

/** The line recipe evaluators grep with `Disk:\s+([0-9]+)`. */
function diskLine(data: FilesystemData): string {
  const row = summaryRow(data);
  if (!row || row.usedPct === undefined) {
    return 'Disk: unknown (neither the Docker data root nor / could be measured)';
  }
  return `Disk: ${row.usedPct}% used (${formatBytes(row.usedBytes!)}/${formatBytes(row.sizeBytes!)} on ${inline(row.mountpoint)})`;
}

function dockerLine(docker: DockerRootInfo): string {
  if (docker.source === 'api') {
    return `Docker data root: ${inline(docker.path ?? '')} (driver ${inline(docker.driver ?? '?')}, from the Engine API)`;
  }
  const why = inline(docker.unreachable ?? 'unknown');
  if (docker.source === 'history') {
    return `Docker: not reachable (${why}); measuring its data root as last seen, ${inline(docker.path ?? '')}.`;
  }
  if (docker.source === 'default') {
    return `Docker: not reachable (${why}); measuring its default data root ${DEFAULT_DOCKER_ROOT}.`;
  }
  return `Docker: not reachable (${why}); no data root found, so Disk is for /.`;
}

function tableRow(r: FilesystemRow): string[] {
  const measured = r.sizeBytes !== undefined;
  const bytes = (n: number | undefined) => (measured && n !== undefined ? formatBytes(n) : '—');
  const notes = [
    ...r.roles.map(roleLabel),
    r.readonly ? 'read-only' : '',
    r.stuck ? `STUCK: ${r.problem ?? ''}` : '',
  ].filter(Boolean);
  return [
    cell(r.mountpoint),
    cell(r.device),
    cell(r.fstype),
    bytes(r.sizeBytes),
    bytes(r.usedBytes),
    bytes(r.availBytes),
    measured ? `${r.usedPct}%` : '—',
    bytes(r.reservedBytes),
    r.inodesUsedPct === undefined || r.inodesUsedPct === null ? '—' : `${r.inodesUsedPct}%`,
    inline(notes.join(', ')),
  ];
}

export function roleLabel(role: TargetRole): string {
  return {
    root: '/',
    'docker-data-root': 'docker data root',
    'containerd-root': "containerd's root",
    path: '--path',
    mount: 'mount',
  }[role];
}

/** The JSON contract's filesystem object (docs/json.md); figures are null when not measured. */
function filesystemJson(r: FilesystemRow) {
  return {
    mountpoint: r.mountpoint,
    device: r.device,
    fstype: r.fstype,
    sizeBytes: r.sizeBytes ?? null,
    usedBytes: r.usedBytes ?? null,
    availBytes: r.availBytes ?? null,
    reservedBytes: r.reservedBytes ?? null,
    usedPct: r.usedPct ?? null,
    inodesUsedPct: r.inodesUsedPct ?? null,
    readonly: r.readonly,
    stuck: r.stuck,
    problem: r.problem ?? null,
    deviceNumber: r.deviceNumber,
    roles: r.roles,
    paths: r.paths,
  };
}
