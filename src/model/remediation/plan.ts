import { formatBytes } from '../../text/bytes.js';
import { formatDuration } from '../../text/duration.js';
import { shellQuote } from '../../text/escape.js';
import type { DfBuildRecord, DfContainer, DfImage, DfVolume, SystemDf } from '../../parse/docker-df.js';
import type { BtrfsFilesystem } from '../btrfs.js';
import { isDangling, isRunning, uniqueOf, type DockerStorage } from '../docker-storage.js';
import { buildCacheReserve, protectedByLabel, protectedByPattern, type RemediationPolicy } from './policy.js';
import type { Recheck } from './recheck.js';
import { compileTagPattern } from './tag-pattern.js';
import { byText } from '../../text/order.js';
import { count } from '../../text/plural.js';

export type { Tier } from './tier.js';
import type { Tier } from './tier.js';
import type { RuleTarget } from './rules.js';

export type StepKind =
  | 'remove-containers'
  | 'remove-dangling-images'
  | 'prune-build-cache'
  | 'btrfs-balance-empty'
  | 'remove-unused-images'
  | 'prune-all-build-cache'
  | 'btrfs-balance-stepped'
  | 'remove-volumes'
  | 'remove-btrfs-orphans'
  | 'remove-overlay2-orphans'
  | 'bound-logs'
  | 'cleanup-rule'
  | 'release-deleted-files';

export interface PlanObject {
  id: string;
  name: string;
  bytes: number;
}

export interface PlanStep {
  kind: StepKind;
  tier: Tier;
  title: string;
  /** The Engine API calls (or command) this step makes, one per object where it deletes by id. */
  action: string;
  /** What a person would type for the same effect. */
  cli: string;
  objects: PlanObject[];
  /** From the measured figures: what the filesystem's used bytes should drop by. */
  expectedBytes: number;
  why: string;
  /**
   * Image steps: the BuildKit records shared with images and not in use when
   * planned. BuildKit-built layers are held by these records as well as by
   * the images, so removing an image alone frees nothing; each record is
   * pruned by id after the images, and BuildKit keeps any still shared.
   */
  cacheRecords?: PlanObject[];
  /**
   * Docker deletions: what each object must still meet right before it is
   * deleted (the plan's reason, thresholds and moment); one that no longer
   * does is kept. A Docker deletion step without it is not applied.
   */
  recheck?: Recheck;
  /** An operator's clean-up rule: the files by dev:ino under its root, and what each must still meet. */
  rule?: RuleTarget;
}

export interface CannotFree {
  reason: string;
  bytes: number;
}

export interface RemediationPlan {
  mountpoint: string;
  usedBytes: number;
  capacityBytes: number;
  usedPct: number;
  targetPct: number;
  /** used − target × capacity: what must go to reach the target (0 when already below). */
  wantBytes: number;
  steps: PlanStep[];
  /** Σ expected bytes per tier. */
  byTier: Record<Tier, number>;
  cannotFree: CannotFree[];
  /** Hours of history behind last-use times; null without history. */
  historyHours: number | null;
  notes: string[];
}

export interface PlanInput {
  now: number;
  filesystem: { mountpoint: string; usedBytes: number; availBytes: number; usedPct: number };
  docker: DockerStorage | null;
  /** Container id → when it exited (ms), for stopped containers whose inspect answered. */
  exitedAt: ReadonlyMap<string, number>;
  /** Image id → the last run that saw a running container use it (ms). */
  imageLastUsed: ReadonlyMap<string, number>;
  /** When the history starts (ms), or null without one. */
  historySince: number | null;
  btrfs: BtrfsFilesystem | null;
  /** Bytes outside Docker on this filesystem (attribution). */
  outsideDockerBytes: number;
  /** The operator's clean-up rules, planned (rule-steps.ts); their notes say what a rule could not plan. */
  rules?: { steps: PlanStep[]; notes: string[] };
  /** The step releasing deleted files still held open on this filesystem (release-deleted.ts). */
  releaseDeleted?: PlanStep | null;
}

const TIER_ORDER: Record<Tier, number> = { safe: 0, moderate: 1, destructive: 2 };
/** BuildKit collects these first: they are rebuilt from their sources for free. */
const TEMPORARY_CACHE = new Set(['source.local', 'exec.cachemount', 'source.git.checkout']);
const BUILDKIT_OWN = new Set(['internal', 'frontend']);
const ms = (seconds: number) => seconds * 1000;
const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
/** `1 volume`, `3 volumes`, `2 processes`. */

/**
 * Pure: the measured model and a policy → ordered clean-up steps with their
 * expected reclaim, and what cannot be freed, in figures. Safe steps first,
 * then moderate ones (applied only when asked), then destructive ones (never
 * applied: a human decides). Like kubelet's image GC: what to free is
 * computed here; the shell deletes by id and the daemon re-checks.
 */
export function planRemediation(input: PlanInput, policy: RemediationPolicy): RemediationPlan {
  const { filesystem: fs, docker, now } = input;
  const capacityBytes = fs.usedBytes + fs.availBytes;
  const wantBytes = Math.max(0, fs.usedBytes - Math.floor((capacityBytes * policy.targetPct) / 100));
  const steps: PlanStep[] = [];
  const cannotFree: CannotFree[] = [];
  const notes: string[] = [];
  const df = docker?.df ?? null;
  if (!df || !docker?.images) {
    notes.push(
      docker?.dfProblem
        ? `Docker sizes are unknown this run (${docker.dfProblem}): no Docker step can be planned.`
        : 'No Docker figures this run: no Docker step can be planned.',
    );
  } else {
    const planned = planDocker(input, policy, df, capacityBytes);
    steps.push(...planned.steps);
    cannotFree.push(...planned.cannotFree);
    notes.push(...planned.notes);
  }
  if (input.btrfs) planBtrfs(input.btrfs, steps);
  steps.push(...(input.rules?.steps ?? []));
  notes.push(...(input.rules?.notes ?? []));
  if (input.releaseDeleted) steps.push(input.releaseDeleted);
  // Safe, then moderate, then destructive; within a tier, returning empty chunks first: on a
  // filesystem short of metadata space even deletions need some, and it moves no data.
  steps.sort(
    (a, b) =>
      TIER_ORDER[a.tier] - TIER_ORDER[b.tier] ||
      Number(b.kind === 'btrfs-balance-empty') - Number(a.kind === 'btrfs-balance-empty'),
  );
  const driverNote = docker?.engine ? driverNotes(docker.engine.driver, docker.engine.imageStore) : null;
  if (driverNote) notes.push(driverNote);
  // What the operator's rules free here is outside Docker too: the rest is not this tool's to delete.
  const ruledHere = (input.rules?.steps ?? []).filter((s) => s.rule?.mountpoint === fs.mountpoint);
  const outside = input.outsideDockerBytes - ruledHere.reduce((a, s) => a + s.expectedBytes, 0);
  if (outside > 0)
    cannotFree.push({
      reason: ruledHere.length
        ? "outside Docker, beyond the operator's clean-up rules (not this tool's to delete)"
        : "outside Docker (not this tool's to delete)",
      bytes: outside,
    });
  const byTier = { safe: 0, moderate: 0, destructive: 0 };
  // A rule on another filesystem frees nothing here: its bytes are its own step's, not the target's.
  for (const s of steps) if (!s.rule || s.rule.mountpoint === fs.mountpoint) byTier[s.tier] += s.expectedBytes;
  return {
    mountpoint: fs.mountpoint,
    usedBytes: fs.usedBytes,
    capacityBytes,
    usedPct: fs.usedPct,
    targetPct: policy.targetPct,
    wantBytes,
    steps,
    byTier,
    cannotFree: cannotFree.filter((c) => c.bytes > 0),
    historyHours: input.historySince === null ? null : (now - input.historySince) / 3_600_000,
    notes,
  };
}

/** What one planning step decided: its step (none when nothing qualifies), and what it leaves and why. */
interface Decision {
  step: PlanStep | null;
  cannotFree: CannotFree[];
  /** Bytes it leaves because they are younger than the minimum ages. */
  young: number;
  /** Bytes it leaves because a keep label or image pattern protects them. */
  kept: number;
}

const decided = (step: PlanStep | null, left: Partial<Omit<Decision, 'step'>> = {}): Decision => ({
  step,
  cannotFree: [],
  young: 0,
  kept: 0,
  ...left,
});

/** What every Docker step reads: the measured objects, the policy, and the facts several steps share. */
interface DockerScene {
  input: PlanInput;
  policy: RemediationPolicy;
  containers: readonly DfContainer[];
  images: readonly DfImage[];
  cache: readonly DfBuildRecord[];
  volumes: readonly DfVolume[];
  plannedAt: string;
  /** A container's writable layer and its logs. */
  containerBytes: (c: DfContainer) => number;
}

function dockerScene(input: PlanInput, policy: RemediationPolicy, df: SystemDf): DockerScene {
  const logBytes = new Map((input.docker?.logs.entries ?? []).map((e) => [e.id, e.bytes]));
  return {
    input,
    policy,
    containers: df.containers,
    images: df.images,
    cache: df.buildCache,
    volumes: df.volumes,
    plannedAt: new Date(input.now).toISOString(),
    containerBytes: (c) => c.sizeRw + (logBytes.get(c.id) ?? 0),
  };
}

/** Safe: containers that exited more than the grace period ago, by their exit time (the API's `until` is creation time). */
function exitedContainers(s: DockerScene): Decision & { removed: ReadonlySet<string> } {
  const { input, policy, containerBytes } = s;
  let young = 0;
  let kept = 0;
  const old = s.containers
    .filter((c) => !isRunning(c))
    .filter((c) => {
      if (protectedByLabel(c.labels, policy.keepLabels)) return ((kept += containerBytes(c)), false);
      const exited = input.exitedAt.get(c.id);
      if (exited === undefined || input.now - exited < policy.exitedContainerGraceMs)
        return ((young += containerBytes(c)), false);
      return true;
    });
  const step: PlanStep | null = old.length
    ? {
        kind: 'remove-containers',
        tier: 'safe',
        title: `remove ${count(old.length, 'container')} that exited more than ${formatDuration(policy.exitedContainerGraceMs)} ago`,
        action: 'DELETE /containers/{id} (no force: the daemon refuses one that runs again)',
        cli: `docker rm ${old.map((c) => c.name || short(c.id)).join(' ')}`,
        objects: old.map((c) => ({ id: c.id, name: c.name, bytes: containerBytes(c) })),
        expectedBytes: sum(old, containerBytes),
        why: 'their writable layers and logs go with them; nothing runs from them',
        recheck: { what: 'exited-container', plannedAt: s.plannedAt, graceMs: policy.exitedContainerGraceMs },
      }
    : null;
  return { ...decided(step, { young, kept }), removed: new Set(old.map((c) => c.id)) };
}

/** What the image steps share: which images the container step leaves unused, which are protected, and the BuildKit records their removal frees. */
interface ImageScene {
  unusedAfter: (i: DfImage) => boolean;
  isProtected: (i: DfImage) => string | null;
  withHeld: Pick<PlanStep, 'cacheRecords'>;
  thenRecords: string;
}

function imageScene(s: DockerScene, removedContainers: ReadonlySet<string>): ImageScene {
  const users = new Map<string, DfContainer[]>();
  for (const c of s.containers) users.set(c.imageId, [...(users.get(c.imageId) ?? []), c]);
  // Compiled once per plan; the config has already refused any pattern this would.
  const keepPatterns = s.policy.keepImagePatterns.map(compileTagPattern);
  // Measured on 20.10: deleting a BuildKit-built dangling image freed 24 KiB of its 16 MiB until these records were pruned too.
  const heldRecords = s.cache
    .filter((r) => r.shared && !r.inUse)
    .map((r) => ({ id: r.id, name: `${r.type} ${r.description}`.trim(), bytes: 0 }));
  return {
    unusedAfter: (i) => (users.get(i.id) ?? []).every((c) => removedContainers.has(c.id)),
    isProtected: (i) => protectedByLabel(i.labels, s.policy.keepLabels) ?? protectedByPattern(i.repoTags, keepPatterns),
    withHeld: heldRecords.length ? { cacheRecords: heldRecords } : {},
    thenRecords: heldRecords.length
      ? `; then POST /build/prune id=^(…)$ for those of ${count(heldRecords.length, 'BuildKit record')} shared with images that the removals freed (BuildKit keeps those still shared)`
      : '',
  };
}

/** Safe: dangling images no container uses (after the container step), older than the minimum age. */
function danglingImages(s: DockerScene, im: ImageScene): Decision {
  const { input, policy } = s;
  const dangling = s.images.filter((i) => isDangling(i) && im.unusedAfter(i) && !im.isProtected(i));
  const old = dangling.filter((i) => input.now - ms(i.created) >= policy.danglingImageMinAgeMs);
  const step: PlanStep | null = old.length
    ? {
        kind: 'remove-dangling-images',
        tier: 'safe',
        title: `remove ${count(old.length, 'dangling image')} older than ${formatDuration(policy.danglingImageMinAgeMs)}`,
        action: `DELETE /images/{id} (no force: the daemon refuses one a container uses)${im.thenRecords}`,
        cli: `docker rmi ${old.map((i) => short(i.id)).join(' ')}`,
        objects: old.map((i) => ({ id: i.id, name: `<dangling ${short(i.id)}>`, bytes: uniqueOf(i) })),
        expectedBytes: sum(old, uniqueOf),
        why: 'untagged old builds no container uses',
        ...im.withHeld,
        recheck: {
          what: 'unused-image',
          plannedAt: s.plannedAt,
          minAgeMs: policy.danglingImageMinAgeMs,
          dangling: true,
        },
      }
    : null;
  return decided(step, {
    young: sum(
      dangling.filter((i) => !old.includes(i)),
      uniqueOf,
    ),
  });
}

/** What the build-cache steps share: our own records, the idle ones in the order BuildKit collects them, and the reserve. */
interface CacheScene {
  own: DfBuildRecord[];
  idle: DfBuildRecord[];
  reserve: number;
  lastUsed: (r: DfBuildRecord) => number;
}

function cacheScene(s: DockerScene, capacityBytes: number): CacheScene {
  const own = s.cache.filter((r) => !r.shared);
  const lastUsed = (r: DfBuildRecord) => (r.lastUsedAt ? Date.parse(r.lastUsedAt) : 0);
  // BuildKit never prunes its own internal and frontend records without `all`: planning them would promise bytes it keeps.
  const idle = own
    .filter((r) => !r.inUse && !BUILDKIT_OWN.has(r.type))
    .sort(
      (a, b) =>
        Number(TEMPORARY_CACHE.has(b.type)) - Number(TEMPORARY_CACHE.has(a.type)) ||
        lastUsed(a) - lastUsed(b) ||
        a.usageCount - b.usageCount ||
        byText(a.id, b.id),
    );
  return { own, idle, reserve: buildCacheReserve(s.policy, capacityBytes), lastUsed };
}

/** Safe: build cache not in use, unused for the minimum age, temporary types first, then least recently used, down to the reserve. */
function idleBuildCache(s: DockerScene, c: CacheScene): Decision & { picked: DfBuildRecord[] } {
  const { input, policy } = s;
  let removable = Math.max(0, sum(c.own, (r) => r.size) - c.reserve);
  const candidates: DfBuildRecord[] = [];
  for (const r of c.idle) {
    // Empty records free nothing: they are left to the moderate step.
    if (input.now - c.lastUsed(r) < policy.buildCacheMinAgeMs || r.size === 0 || r.size > removable) continue;
    candidates.push(r);
    removable -= r.size;
  }
  const held = heldByKeptChildren(candidates, s.cache);
  const picked = childrenFirst(candidates.filter((r) => !held.has(r.id)));
  const step: PlanStep | null = picked.length
    ? {
        kind: 'prune-build-cache',
        tier: 'safe',
        title: `prune ${count(picked.length, 'build-cache record')} unused for ${formatDuration(policy.buildCacheMinAgeMs)}, keeping a ${formatBytes(c.reserve)} reserve`,
        action:
          'POST /build/prune with filters id=^(<record>|<record>|…)$, 100 records a call (records in use are refused by BuildKit)',
        cli: `docker builder prune -f --filter 'id=^(${picked
          .slice(0, 20)
          .map((r) => r.id)
          .join('|')}${picked.length > 20 ? '|…' : ''})$'`,
        objects: picked.map((r) => ({ id: r.id, name: `${r.type} ${r.description}`.trim(), bytes: r.size })),
        expectedBytes: sum(picked, (r) => r.size),
        why: 'BuildKit rebuilds them on demand; temporary types (local sources, cache mounts) first',
        recheck: { what: 'idle-record', plannedAt: s.plannedAt, minAgeMs: policy.buildCacheMinAgeMs },
      }
    : null;
  return { ...decided(step), picked };
}

/** Moderate: unused tagged images, least recently used first (the history knows last use; Docker does not). */
function unusedImages(s: DockerScene, im: ImageScene): Decision {
  const { input, policy } = s;
  const since = input.historySince;
  const cannotFree: CannotFree[] = [];
  let young = 0;
  let kept = 0;
  const candidates: { image: DfImage; last: number }[] = [];
  for (const i of s.images.filter((i) => !isDangling(i) && im.unusedAfter(i))) {
    if (im.isProtected(i)) {
      kept += uniqueOf(i);
      continue;
    }
    // DELETE /images/{id} without force refuses an image with more than one tag, even in one repository
    // (seen on 20.10: 409 "image is referenced in multiple repositories").
    if (i.repoTags.length > 1) {
      cannotFree.push({
        reason: `unused image ${i.repoTags.join(', ')}: more than one tag (remove its tags one by one)`,
        bytes: uniqueOf(i),
      });
      continue;
    }
    const seen = input.imageLastUsed.get(i.id);
    const last = seen ?? Math.max(ms(i.created), since ?? Infinity);
    // Never seen in use, and the history is younger than the minimum age: its last use is unknown.
    if (
      seen === undefined &&
      (since === null || input.now - since < policy.unusedImageMinAgeMs) &&
      input.now - ms(i.created) >= policy.unusedImageMinAgeMs
    ) {
      cannotFree.push({
        reason: `unused image ${i.repoTags[0]}: history too short (${since === null ? 'none' : formatDuration(input.now - since)}) to know its last use`,
        bytes: uniqueOf(i),
      });
      continue;
    }
    if (input.now - last < policy.unusedImageMinAgeMs) {
      young += uniqueOf(i);
      continue;
    }
    candidates.push({ image: i, last });
  }
  candidates.sort((a, b) => a.last - b.last || byText(a.image.id, b.image.id));
  const step: PlanStep | null = candidates.length
    ? {
        kind: 'remove-unused-images',
        tier: 'moderate',
        title: `remove ${count(candidates.length, 'unused image')}, least recently used first`,
        action: `DELETE /images/{id} (no force: refused for an image a container uses)${im.thenRecords}`,
        cli: `docker rmi ${candidates.map((c) => c.image.repoTags[0]).join(' ')}`,
        objects: candidates.map((c) => ({
          id: c.image.id,
          name: c.image.repoTags.join(', '),
          bytes: uniqueOf(c.image),
        })),
        expectedBytes: sum(candidates, (c) => uniqueOf(c.image)),
        why: 'no container uses them; a later pull or build brings them back',
        ...im.withHeld,
        // Their last use is known from the history, which the daemon cannot re-check: the creation time and tags it can.
        recheck: {
          what: 'unused-image',
          plannedAt: s.plannedAt,
          minAgeMs: policy.unusedImageMinAgeMs,
          dangling: false,
        },
      }
    : null;
  return decided(step, { cannotFree, young, kept });
}

/** Moderate: every other idle build-cache record, whatever its age. */
function otherBuildCache(
  s: DockerScene,
  c: CacheScene,
  alreadyPicked: readonly DfBuildRecord[],
): Decision & { picked: DfBuildRecord[] } {
  const rest = c.idle.filter((r) => !alreadyPicked.includes(r));
  const held = heldByKeptChildren([...alreadyPicked, ...rest], s.cache);
  const picked = childrenFirst(rest.filter((r) => !held.has(r.id)));
  const step: PlanStep | null = picked.length
    ? {
        kind: 'prune-all-build-cache',
        tier: 'moderate',
        title: `prune the other ${count(picked.length, 'unused build-cache record')}`,
        action: 'POST /build/prune with filters id=^(<record>|<record>|…)$, 100 records a call',
        cli: 'docker builder prune -a -f',
        objects: picked.map((r) => ({ id: r.id, name: `${r.type} ${r.description}`.trim(), bytes: r.size })),
        expectedBytes: sum(picked, (r) => r.size),
        why: 'the next builds are slower until the cache is warm again',
        // Any age: not used since the plan.
        recheck: { what: 'idle-record', plannedAt: s.plannedAt, minAgeMs: 0 },
      }
    : null;
  return { ...decided(step), picked };
}

/** Destructive (a human decides, in the vault; never this tool): volumes no container uses. */
function unusedVolumes(s: DockerScene): Decision {
  const unused = s.volumes.filter((v) => v.refCount === 0 && !protectedByLabel(v.labels, s.policy.keepLabels));
  return decided(
    unused.length
      ? {
          kind: 'remove-volumes',
          tier: 'destructive',
          title: `remove ${count(unused.length, 'volume')} no container uses`,
          action: 'DELETE /volumes/{name} (after a person checked the data is not needed)',
          cli: `docker volume rm ${unused.map((v) => v.name).join(' ')}`,
          objects: unused.map((v) => ({ id: v.name, name: v.name, bytes: Math.max(0, v.size) })),
          expectedBytes: sum(unused, (v) => Math.max(0, v.size)),
          why: 'volumes hold data: only a person can say it is not needed',
        }
      : null,
  );
}

/** Destructive: running containers whose json-file logs have no max-size. */
function unboundedLogs(s: DockerScene): Decision {
  const unbounded = (s.input.docker?.logs.entries ?? []).filter(
    (e) => e.unbounded && s.containers.some((c) => c.id === e.id && isRunning(c)),
  );
  return decided(
    unbounded.length
      ? {
          kind: 'bound-logs',
          tier: 'destructive',
          title: `bound the logs of ${count(unbounded.length, 'running container')} (json-file without max-size)`,
          action:
            'set "log-opts": {"max-size": "50m", "max-file": "3"} in /etc/docker/daemon.json, then recreate each container (new options apply only to new containers)',
          cli: 'docker run --log-opt max-size=50m --log-opt max-file=3 … (recreate; a live log is never truncated)',
          objects: unbounded.map((e) => ({ id: e.id, name: e.name, bytes: e.bytes })),
          expectedBytes: sum(unbounded, (e) => e.bytes),
          why: 'an unbounded log grows until the disk is full; recreating the container stops a service, so a person schedules it',
        }
      : null,
  );
}

/** Destructive: overlay2 layer directories nothing references, deleted with the daemon stopped. */
function overlayOrphans(s: DockerScene): Decision {
  const docker = s.input.docker;
  const orphans = docker?.overlayOrphans;
  if (!orphans || !orphans.dirs.length) return decided(null);
  const root = docker?.engine?.rootDir ?? '<data root>';
  return decided({
    kind: 'remove-overlay2-orphans',
    tier: 'destructive',
    title: `delete ${orphans.dirs.length} orphaned overlay2 layer ${orphans.dirs.length === 1 ? 'directory' : 'directories'}, with the daemon stopped`,
    action: `systemctl stop docker; rm -rf ${shellQuote(`${root}/overlay2`)}/<each>; systemctl start docker`,
    cli: `rm -rf ${orphans.dirs
      .slice(0, 3)
      .map((d) => shellQuote(`${root}/overlay2/${d.name}`))
      .join(' ')}`,
    objects: orphans.dirs.map((d) => ({ id: d.name, name: d.name, bytes: d.bytes })),
    expectedBytes: orphans.bytes,
    why: 'no image or container references them (moby#43586), but only a stopped daemon guarantees none is being written',
  });
}

/**
 * The Docker part of the plan, kubelet-style: each step kind decides on its
 * own (what it frees, what it leaves and why), in the order a clean-up runs
 * them; what no step may free is summed up last.
 */
function planDocker(
  input: PlanInput,
  policy: RemediationPolicy,
  df: SystemDf,
  capacityBytes: number,
): { steps: PlanStep[]; cannotFree: CannotFree[]; notes: string[] } {
  const s = dockerScene(input, policy, df);
  const exited = exitedContainers(s);
  const im = imageScene(s, exited.removed);
  const cache = cacheScene(s, capacityBytes);
  const idle = idleBuildCache(s, cache);
  const other = otherBuildCache(s, cache, idle.picked);
  const decisions = [
    exited,
    danglingImages(s, im),
    idle,
    unusedImages(s, im),
    other,
    unusedVolumes(s),
    unboundedLogs(s),
    overlayOrphans(s),
  ];
  const stopped = s.containers.filter((c) => !isRunning(c));
  const inUseImages = s.images.filter((i) => !im.unusedAfter(i));
  const cannotFree: CannotFree[] = [
    ...decisions.flatMap((d) => d.cannotFree),
    // Every layer an image in use needs stays, shared ones included (at most all layers).
    {
      reason: 'in use by containers (their images)',
      bytes: Math.min(
        input.docker?.images?.totalBytes ?? Infinity,
        sum(inUseImages, (i) => i.size),
      ),
    },
    {
      reason: 'writable layers and logs of running containers',
      bytes: sum(s.containers.filter(isRunning), s.containerBytes),
    },
    { reason: 'younger than the minimum ages', bytes: sum(decisions, (d) => d.young) },
    { reason: 'protected by a keep label or image pattern', bytes: sum(decisions, (d) => d.kept) },
    {
      reason:
        "build cache in use, within the reserve, BuildKit's own (internal, frontend), or under a record that stays",
      bytes: sum(cache.own, (r) => r.size) - sum([...idle.picked, ...other.picked], (r) => r.size),
    },
    {
      reason: 'volumes in use',
      bytes: sum(
        s.volumes.filter((v) => v.refCount !== 0),
        (v) => Math.max(0, v.size),
      ),
    },
  ];
  const notes =
    input.exitedAt.size < stopped.length
      ? [
          `${stopped.length - input.exitedAt.size} stopped containers have no known exit time (never started, or inspect did not answer): kept.`,
        ]
      : [];
  return { steps: decisions.flatMap((d) => (d.step ? [d.step] : [])), cannotFree, notes };
}

/**
 * Ids of picked records that a record not picked builds on (directly or
 * through picked ones): BuildKit frees a parent only after every child, so
 * pruning them would free nothing while the child stays.
 */
export function heldByKeptChildren(picked: readonly DfBuildRecord[], all: readonly DfBuildRecord[]): Set<string> {
  const pickedIds = new Set(picked.map((r) => r.id));
  const held = new Set<string>();
  const hold = (id: string): void => {
    if (!pickedIds.has(id) || held.has(id)) return;
    held.add(id);
    for (const p of parentsOf.get(id) ?? []) hold(p);
  };
  const parentsOf = new Map(all.map((r) => [r.id, r.parents]));
  for (const r of all) if (!pickedIds.has(r.id)) for (const p of r.parents) hold(p);
  return held;
}

/** Children before their parents (the apply prunes in this order), otherwise the order given. */
export function childrenFirst(records: readonly DfBuildRecord[]): DfBuildRecord[] {
  const ids = new Set(records.map((r) => r.id));
  const depth = new Map<string, number>();
  const byId = new Map(records.map((r) => [r.id, r]));
  // Depth = longest chain of picked children below a record; cycles (never seen) are cut by the visiting mark.
  const visiting = new Set<string>();
  const childrenOf = new Map<string, string[]>();
  for (const r of records)
    for (const p of r.parents) if (ids.has(p)) childrenOf.set(p, [...(childrenOf.get(p) ?? []), r.id]);
  const below = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const d = Math.max(0, ...(childrenOf.get(id) ?? []).map((c) => below(c) + 1));
    depth.set(id, d);
    return d;
  };
  return records
    .map((r, i) => ({ r, i, d: below(r.id) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((x) => byId.get(x.r.id)!);
}

/**
 * What the storage driver changes about clean-up (detected from /info, never
 * assumed). Sources: moby's storage driver docs; devicemapper left in Engine 25.
 */
export function driverNotes(driver: string, imageStore: 'graphdriver' | 'containerd'): string | null {
  if (imageStore === 'containerd')
    return `Image store: containerd (snapshotter ${driver}): sizes are containerd's own (its records, read-only); an image built here shares its compressed layers with BuildKit's cache, so deleting it frees its unpacked layers only, the rest when the build-cache records go; content and snapshots nothing references are containerd's garbage collector's to remove, never this tool's.`;
  switch (driver) {
    case 'overlay2':
      return null;
    case 'btrfs':
      // Measured on 20.10: deleting a COPY-built dangling image freed 0.4 of 16 MiB; pruning the context records freed the rest.
      return "btrfs: a layer BuildKit built with COPY shares its extents with the build context's cache record (a reflink), so removing such an image frees little until that record is pruned too (the build-cache steps); expected figures may count those bytes twice.";
    case 'zfs':
      return 'zfs frees destroyed datasets in the background (pool property `freeing`): measured reclaim can lag behind; check `zpool get freeing` before judging a step.';
    case 'vfs':
      return 'vfs keeps every layer as a full copy: each image and container costs its whole size, so removing one frees all of it, and nothing is shared.';
    case 'devicemapper':
      return 'devicemapper was removed in Engine 25: only the generic Docker steps apply; migrate the data root to overlay2.';
    default:
      return `Storage driver ${driver}: only the generic Docker steps are planned.`;
  }
}

function planBtrfs(b: BtrfsFilesystem, steps: PlanStep[]): void {
  const a = b.assessment;
  // Shell words a person may paste: a hostile mount point stays one argument.
  const mount = shellQuote(b.mountpoint);
  if (a && a.verdict !== 'ok' && a.unusedDataChunkBytes > 0) {
    steps.push({
      kind: 'btrfs-balance-empty',
      tier: 'safe',
      title: 'return empty data chunks to unallocated space (balance -dusage=0)',
      action: `btrfs balance start -dusage=0 ${mount}`,
      cli: `btrfs balance start -dusage=0 ${mount}`,
      objects: [],
      expectedBytes: 0,
      why: 'needs no working space and moves no data; metadata needs unallocated space to grow (df does not change)',
    });
    steps.push({
      kind: 'btrfs-balance-stepped',
      tier: 'moderate',
      title: 'compact nearly empty data chunks (balance -dusage=5, then 10)',
      action: `btrfs balance start -dusage=5 ${mount}; btrfs balance start -dusage=10 ${mount}`,
      cli: `btrfs balance start -dusage=5 ${mount} && btrfs balance start -dusage=10 ${mount}`,
      objects: [],
      expectedBytes: 0,
      why: `up to ${a.unusedDataChunkBytes} bytes of allocated but unused data chunks; moves data, so it takes I/O`,
    });
  }
  const orphans = b.docker?.orphans ?? [];
  if (orphans.length) {
    steps.push({
      kind: 'remove-btrfs-orphans',
      tier: 'destructive',
      title: `delete ${count(orphans.length, 'orphaned Docker subvolume')}, with the daemon stopped`,
      action: `systemctl stop docker; btrfs subvolume delete <each>; btrfs subvolume sync ${mount}; systemctl start docker`,
      cli: `btrfs subvolume delete ${orphans
        .slice(0, 5)
        .map((o) => shellQuote(`${b.docker!.dataRoot}/btrfs/subvolumes/${o.name}`))
        .join(' ')}`,
      objects: orphans.map((o) => ({ id: o.name, name: o.name, bytes: o.exclusiveBytes ?? 0 })),
      expectedBytes: b.docker!.orphanBytes,
      why: 'no image or container references them, but only a stopped daemon guarantees none is being created',
    });
  }
}

export interface RemediationData {
  /** Shown in full only when a disk or btrfs finding is at warning tier or above (or when asked: `remediate`). */
  shown: boolean;
  /** Why there is no plan, or why it is not shown. */
  reason: string | null;
  plan: RemediationPlan | null;
}
