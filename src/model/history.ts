import path from 'node:path';
import { FINDING_SEVERITY, type Severity } from './findings.js';
import { SOURCE_LABELS } from './attribution.js';
import { validObjects, type ObjectFigures } from './history-objects.js';

/**
 * What one run leaves in the history: the figures trends, alert state and
 * hysteresis read. Only this tool writes it (DESIGN: the shared day journal
 * is the LLM's, and nothing in it decides a figure, a finding or a state).
 */
export interface HistoryRecord {
  v: 2;
  /** ISO time of the run. */
  at: string;
  /** Tells apart runs that start in the same millisecond (two supervisor loops). */
  id: string;
  host: string;
  /** What this run really measured: an alert can only start, go on or clear where it looked. */
  observed: Observed;
  /** The filesystem the Disk line is about (Docker's data root, else /). */
  summaryMount: string | null;
  /** Docker's data root as last known: a daemon that is down keeps it. */
  dockerRoot: string | null;
  filesystems: FilesystemFigures[];
  /** Attribution of the summary filesystem: kind → bytes. */
  sources: Record<string, number>;
  driver: string | null;
  counts: { images: number; containers: number; volumes: number; buildCache: number } | null;
  churn: { repository: string; builds24h: number; danglingVersions: number; danglingBytes: number }[];
  fired: FiredFinding[];
  /** Clean-up applied by this run (remediation adds to it). */
  remediation: { action: string; reclaimedBytes: number }[];
  /** Ids of the images running containers used this run: the last-use time Docker does not keep. */
  imagesInUse: string[];
  /** Conditions a person was asked to act on (vault items) that held after this run. */
  escalations: ActiveEscalation[];
  /** Alert notifications (--notify) this run delivered: re-alert cooldowns count from them across restarts. */
  notified?: NotifiedAlert[];
  /** The biggest Docker objects of each kind this run measured (per-object growth); absent in older records. */
  objects?: ObjectFigures;
}

export type NotifyKind = 'raise' | 're-alert' | 'recovered';

export interface NotifiedAlert {
  /** alertKey: `disk-high@/var/lib/docker`. */
  key: string;
  kind: NotifyKind;
}

export interface ActiveEscalation {
  slug: string;
  kind: 'disk-space' | 'btrfs-metadata';
  mountpoint: string;
}

export interface Observed {
  /** Storage Pressure ran to its end: the findings list is whole. */
  assessed: boolean;
  /** Mounts with figures this run (disk and inode findings). */
  filesystems: string[];
  /** Mounts looked at, measured or stuck (mount-stuck). */
  looked: string[];
  /** btrfs mounts whose allocation was assessed. */
  btrfs: string[];
  /** /system/df answered with sizes. */
  dockerSizes: boolean;
}

export interface FilesystemFigures {
  mountpoint: string;
  usedBytes: number;
  sizeBytes: number;
  availBytes: number;
  usedPct: number;
  inodesUsedPct: number | null;
}

export interface FiredFinding {
  name: string;
  severity: Severity;
  mountpoint?: string;
}

/** Which part of a run must have looked for a finding's absence to mean it cleared. */
export function observedFor(f: { name: string; mountpoint?: string }, o: Observed): boolean {
  if (!o.assessed) return false;
  const m = f.mountpoint ?? '';
  switch (f.name) {
    case 'mount-stuck':
      return o.looked.includes(m);
    case 'btrfs-metadata-enospc':
      return o.btrfs.includes(m);
    case 'docker-unreachable':
      return true;
    default:
      return f.mountpoint === undefined || o.filesystems.includes(m);
  }
}

export function formatRecord(r: HistoryRecord): string {
  return `${JSON.stringify(r)}\n`;
}

export interface ParsedHistory {
  records: HistoryRecord[];
  /** Lines that are not a valid record (cut by a full disk, edited, forged). */
  unreadable: number;
}

/**
 * Most records a day file gives: 72 runs at 20 minutes, 1,000 is a run every
 * 90 s; more is a loop gone wrong, and parsing it all would cost the run its
 * budget. The newest are kept.
 */
export const MAX_RECORDS_PER_FILE = 1000;

/** Pure: a history file's text → its valid records (the newest MAX_RECORDS_PER_FILE, oldest first); never throws. */
export function parseHistory(text: string): ParsedHistory {
  const records: HistoryRecord[] = [];
  let unreadable = 0;
  const lines = text.split('\n');
  // From the end: a file far past the bound is never parsed whole.
  for (let i = lines.length - 1; i >= 0 && records.length < MAX_RECORDS_PER_FILE; i -= 1) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const r = readRecord(line);
    if (r) records.push(r);
    else unreadable += 1;
  }
  return { records: records.reverse(), unreadable };
}

/*
 * An append cut short (ENOSPC) leaves a fragment that the next record is
 * appended to: `{"v":2,"at":"…","fil{"v":2,"at":…}`. The last record start
 * on a line is tried when the whole line is not one.
 */
const RECORD_START = '{"v":2,';

function readRecord(line: string): HistoryRecord | null {
  const whole = validRecord(parseJson(line));
  if (whole) return whole;
  const start = line.lastIndexOf(RECORD_START);
  return start > 0 ? validRecord(parseJson(line.slice(start))) : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const KINDS = new Set(Object.keys(SOURCE_LABELS));
/** A byte count: a whole number a double holds exactly (8 PiB), never negative. */
const isBytes = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isPct = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100;
const isCount = (v: unknown): v is number =>
  Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 10_000_000;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max && !v.includes('\0');
const isMount = (v: unknown): v is string => isText(v, 4096) && v.startsWith('/');
const arrayOf = <T>(v: unknown, ok: (x: unknown) => x is T, max = 10_000): v is T[] =>
  Array.isArray(v) && v.length <= max && v.every(ok);

/** df's Use%: used / (used + avail), rounded up (as the Filesystem section computes it). */
function dfPct(used: number, avail: number): number {
  return used + avail > 0 ? Math.ceil((used * 100) / (used + avail)) : 0;
}

function isFigures(f: unknown): f is FilesystemFigures {
  return (
    isObj(f) &&
    isMount(f.mountpoint) &&
    isBytes(f.usedBytes) &&
    isBytes(f.sizeBytes) &&
    isBytes(f.availBytes) &&
    f.usedBytes <= f.sizeBytes &&
    f.availBytes <= f.sizeBytes &&
    isPct(f.usedPct) &&
    // Figures that do not add up were not measured by us.
    f.usedPct === dfPct(f.usedBytes, f.availBytes) &&
    (f.inodesUsedPct === null || isPct(f.inodesUsedPct))
  );
}

const isFired = (f: unknown): f is FiredFinding =>
  isObj(f) &&
  typeof f.name === 'string' &&
  Object.hasOwn(FINDING_SEVERITY, f.name) &&
  f.severity === FINDING_SEVERITY[f.name as keyof typeof FINDING_SEVERITY] &&
  (f.mountpoint === undefined || isMount(f.mountpoint));

const isChurn = (c: unknown): c is HistoryRecord['churn'][number] =>
  isObj(c) &&
  isText(c.repository, 512) &&
  isCount(c.builds24h) &&
  isCount(c.danglingVersions) &&
  isBytes(c.danglingBytes);

// Sample: `sha256:0b3d8e4f…` (64 hex), as /system/df and /containers/json give image ids.
const isImageId = (v: unknown): v is string => typeof v === 'string' && /^sha256:[0-9a-f]{64}$/.test(v);

// Sample: `storage-disk-space-var-lib-docker` (model/escalation.ts escalationSlug).
const isEscalation = (x: unknown): x is ActiveEscalation =>
  isObj(x) &&
  typeof x.slug === 'string' &&
  /^storage-[a-z0-9-]{1,120}$/.test(x.slug) &&
  (x.kind === 'disk-space' || x.kind === 'btrfs-metadata') &&
  isMount(x.mountpoint);

const NOTIFY_KINDS = new Set<unknown>(['raise', 're-alert', 'recovered']);
const isNotified = (x: unknown): x is NotifiedAlert =>
  isObj(x) && isText(x.key, 4400) && x.key !== '' && NOTIFY_KINDS.has(x.kind);

const isRemediation = (r: unknown): r is HistoryRecord['remediation'][number] =>
  isObj(r) && isText(r.action, 200) && isBytes(r.reclaimedBytes);

function isObserved(o: unknown): o is Observed {
  return (
    isObj(o) &&
    typeof o.assessed === 'boolean' &&
    typeof o.dockerSizes === 'boolean' &&
    arrayOf(o.filesystems, isMount) &&
    arrayOf(o.looked, isMount) &&
    arrayOf(o.btrfs, isMount)
  );
}

/**
 * Every field is checked for type and sense (known finding names and source
 * kinds, whole non-negative bytes, a Use% that matches its bytes); a record
 * that fails any check is unreadable, never half-used. Unknown keys are
 * dropped: later versions may add some.
 */
export function validRecord(e: unknown): HistoryRecord | null {
  if (!isObj(e) || e.v !== 2 || !isText(e.at, 40) || !ISO_TIME.test(e.at) || Number.isNaN(Date.parse(e.at)))
    return null;
  if (!isText(e.id, 64) || !isText(e.host, 255) || !isObserved(e.observed)) return null;
  if (!arrayOf(e.filesystems, isFigures, 1000)) return null;
  const mounts = new Set(e.filesystems.map((f) => f.mountpoint));
  // One row per filesystem, and nothing said measured that has no figures.
  if (mounts.size !== e.filesystems.length || !e.observed.filesystems.every((m) => mounts.has(m))) return null;
  if (e.summaryMount !== null && !(isMount(e.summaryMount) && mounts.has(e.summaryMount))) return null;
  if (e.dockerRoot !== null && !isMount(e.dockerRoot)) return null;
  if (!isObj(e.sources) || !Object.entries(e.sources).every(([k, v]) => KINDS.has(k) && isBytes(v))) return null;
  if (e.driver !== null && !(isText(e.driver, 64) && /^[\w.-]+$/.test(e.driver))) return null;
  const c = e.counts;
  if (
    c !== null &&
    !(isObj(c) && isCount(c.images) && isCount(c.containers) && isCount(c.volumes) && isCount(c.buildCache))
  )
    return null;
  if (
    !arrayOf(e.churn, isChurn, 1000) ||
    !arrayOf(e.fired, isFired, 1000) ||
    !arrayOf(e.remediation, isRemediation, 1000)
  )
    return null;
  const imagesInUse = e.imagesInUse ?? [];
  if (!arrayOf(imagesInUse, isImageId, 10_000)) return null;
  const escalations = e.escalations ?? [];
  if (!arrayOf(escalations, isEscalation, 100)) return null;
  // Records from before notifications have none.
  const notified = e.notified ?? [];
  if (!arrayOf(notified, isNotified, 1000)) return null;
  // Records from before per-object figures have none.
  const objects = e.objects === undefined ? undefined : validObjects(e.objects);
  if (objects === null) return null;
  return {
    v: 2,
    at: e.at,
    id: e.id,
    host: e.host,
    observed: {
      assessed: e.observed.assessed,
      filesystems: e.observed.filesystems,
      looked: e.observed.looked,
      btrfs: e.observed.btrfs,
      dockerSizes: e.observed.dockerSizes,
    },
    summaryMount: e.summaryMount as string | null,
    dockerRoot: e.dockerRoot as string | null,
    filesystems: e.filesystems.map((f) => ({
      mountpoint: f.mountpoint,
      usedBytes: f.usedBytes,
      sizeBytes: f.sizeBytes,
      availBytes: f.availBytes,
      usedPct: f.usedPct,
      inodesUsedPct: f.inodesUsedPct,
    })),
    sources: e.sources as Record<string, number>,
    driver: e.driver as string | null,
    counts:
      c === null
        ? null
        : {
            images: c.images as number,
            containers: c.containers as number,
            volumes: c.volumes as number,
            buildCache: c.buildCache as number,
          },
    churn: e.churn.map((x) => ({
      repository: x.repository,
      builds24h: x.builds24h,
      danglingVersions: x.danglingVersions,
      danglingBytes: x.danglingBytes,
    })),
    fired: e.fired.map((f) => ({
      name: f.name,
      severity: f.severity,
      ...(f.mountpoint === undefined ? {} : { mountpoint: f.mountpoint }),
    })),
    remediation: e.remediation.map((r) => ({ action: r.action, reclaimedBytes: r.reclaimedBytes })),
    imagesInUse,
    escalations: escalations.map((x) => ({ slug: x.slug, kind: x.kind, mountpoint: x.mountpoint })),
    // Absent when none, as records before notifications were: they read back unchanged.
    ...(notified.length > 0 ? { notified: notified.map((x) => ({ key: x.key, kind: x.kind })) } : {}),
    ...(objects ? { objects } : {}),
  };
}

export interface HistoryWindow {
  records: HistoryRecord[];
  unreadable: number;
  files: number;
  /** Why (part of) the history could not be read, if it could not. */
  problem: string | null;
}

export const EMPTY_HISTORY: HistoryWindow = Object.freeze({
  records: [],
  unreadable: 0,
  files: 0,
  problem: null,
}) as HistoryWindow;

/**
 * The history lives under the journal root in a folder of its own, which
 * the LLM's `cat` of the day file never reads: one JSON line per run, one
 * file per UTC day.
 */
export const HISTORY_DIR = '.storage-preflight';

export function historyDir(root: string): string {
  return path.join(root, HISTORY_DIR);
}

export function historyFile(root: string, at: Date): string {
  return path.join(historyDir(root), `${at.toISOString().slice(0, 10)}.jsonl`);
}

/** A day at 72 runs is ~300 KiB; more than this is read from its end only. */
export const MAX_HISTORY_FILE_BYTES = 4 * 1024 * 1024;
