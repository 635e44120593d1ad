import { mountFor, type MountEntry } from '../parse/mountinfo.js';
import { usageFromStatfs, type FsUsage, type StatfsFigures } from '../parse/statfs.js';
import { byText } from '../text/order.js';

/** Why a path is measured. */
export type TargetRole = 'root' | 'docker-data-root' | 'containerd-root' | 'path' | 'mount';

export interface Target {
  path: string;
  role: TargetRole;
  /** The path's bytes (latin1) when they are not valid UTF-8 (a mount point from the table). */
  rawPath?: string;
}

export interface FilesystemRow extends Partial<FsUsage> {
  mountpoint: string;
  device: string;
  fstype: string;
  /** major:minor from the mount table: the dedup key. */
  deviceNumber: string;
  readonly: boolean;
  stuck: boolean;
  /** Set when stuck or unmeasurable: the one-line reason. */
  problem?: string;
  roles: TargetRole[];
  /** The requested paths this filesystem holds. */
  paths: string[];
}

export interface UnmeasuredPath {
  path: string;
  role: TargetRole;
  reason: string;
}

export interface FilesystemModel {
  filesystems: FilesystemRow[];
  unmeasured: UnmeasuredPath[];
}

/**
 * node_exporter's default exclusions. Applied to mounts found by scanning the
 * table (--all-mounts); a path asked for by name is measured whatever it is on.
 */
const EXCLUDED_FSTYPES = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'fusectl',
  'hugetlbfs',
  'iso9660',
  'mqueue',
  'nsfs',
  'overlay',
  'proc',
  'pstore',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'squashfs',
  'erofs',
  'sysfs',
  'tracefs',
]);
const EXCLUDED_MOUNTPOINTS =
  /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;

export function isPseudoMount(m: MountEntry): boolean {
  return EXCLUDED_FSTYPES.has(m.fstype) || EXCLUDED_MOUNTPOINTS.test(m.mountpoint);
}

/** Real filesystems in the table, one mount per device (the first listed). */
export function realMounts(table: readonly MountEntry[]): MountEntry[] {
  const seen = new Set<string>();
  return table.filter((m) => {
    if (isPseudoMount(m) || seen.has(m.device)) return false;
    seen.add(m.device);
    return true;
  });
}

/**
 * The mount that shows a whole filesystem: among the table's mounts of the
 * same device, the one of its root (`/`), shortest mountpoint first. dockerd
 * bind-mounts its data root onto itself, so the mount holding a path is often
 * a bind of a subdirectory; the filesystem is better named by its own mount.
 */
export function canonicalMount(table: readonly MountEntry[], mount: MountEntry): MountEntry {
  const whole = table
    .filter((m) => m.device === mount.device && m.root === '/')
    .sort((a, b) => a.mountpoint.length - b.mountpoint.length || byText(a.mountpoint, b.mountpoint));
  return whole[0] ?? mount;
}

/** Combine targets, their measurements and the mount table into rows, one per device. */
export function buildFilesystemModel(
  table: readonly MountEntry[],
  targets: readonly Target[],
  measurements: readonly PathMeasurement[],
): FilesystemModel {
  const rows = new Map<string, FilesystemRow>();
  const unmeasured: UnmeasuredPath[] = [];
  targets.forEach((target, i) => {
    const m = measurements[i];
    if (!m) return;
    if (m.kind === 'missing' || m.kind === 'error') {
      unmeasured.push({ path: target.path, role: target.role, reason: m.reason });
      return;
    }
    // A stuck path was never resolved: place it lexically.
    const resolved = m.kind === 'ok' ? m.realpath : target.path;
    const mount = mountFor(table, resolved);
    if (!mount) {
      unmeasured.push({ path: target.path, role: target.role, reason: 'not found in the mount table' });
      return;
    }
    const row = rows.get(mount.device) ?? newRow(canonicalMount(table, mount));
    rows.set(mount.device, row);
    if (!row.roles.includes(target.role)) row.roles.push(target.role);
    if (!row.paths.includes(target.path)) row.paths.push(target.path);
    if (m.kind === 'ok' && row.sizeBytes === undefined) {
      Object.assign(row, usageFromStatfs(m.statfs), { stuck: false, problem: undefined });
    } else if (m.kind === 'stuck' && row.sizeBytes === undefined) {
      row.stuck = true;
      row.problem = m.reason;
    }
  });
  return { filesystems: [...rows.values()], unmeasured };
}

function newRow(mount: MountEntry): FilesystemRow {
  return {
    mountpoint: mount.mountpoint,
    device: mount.source,
    fstype: mount.fstype,
    deviceNumber: mount.device,
    readonly: mount.readonly,
    stuck: false,
    roles: [],
    paths: [],
  };
}

/** The row the `Disk:` summary line is about: Docker's data root, else `/`. */
export function summaryRow(model: FilesystemModel): FilesystemRow | undefined {
  const measured = model.filesystems.filter((r) => r.sizeBytes !== undefined);
  return measured.find((r) => r.roles.includes('docker-data-root')) ?? measured.find((r) => r.roles.includes('root'));
}

export interface DockerRootInfo {
  path: string | null;
  /** api: the daemon said so; history: daemon unreachable, the last data root the history knows; default: the default path exists. */
  source: 'api' | 'history' | 'default' | null;
  driver: string | null;
  /** Why the daemon could not say, when it could not. */
  unreachable: string | null;
}

export interface FilesystemData extends FilesystemModel {
  docker: DockerRootInfo;
}

export type PathMeasurement =
  | { kind: 'ok'; path: string; realpath: string; statfs: StatfsFigures }
  | { kind: 'missing'; path: string; reason: string }
  | { kind: 'stuck'; path: string; reason: string }
  | { kind: 'error'; path: string; reason: string };
