import type { ContainerNow, ImageNow, RecordNow } from '../../parse/docker-recheck.js';
import { formatDuration } from '../../text/duration.js';

export type { ContainerNow, ImageNow, RecordNow };

/*
 * The plan's reason for each object, carried to the apply so that, right
 * before each deletion, the object is inspected again and must still meet it
 * (kubelet-style). Pure: the facts come from the actuators' inspect calls.
 */

/** What a step's objects must still meet, with the plan's thresholds and the moment it was made. */
export type Recheck =
  /** Stopped, and exited before the grace by its current exit time; not started again since the plan. */
  | { what: 'exited-container'; plannedAt: string; graceMs: number }
  /** No container uses it, created before the minimum age, not tagged since the plan; `dangling`: still untagged. */
  | { what: 'unused-image'; plannedAt: string; minAgeMs: number; dangling: boolean }
  /** Not in use, not shared with an image, last used before the minimum age (0: before the plan). */
  | { what: 'idle-record'; plannedAt: string; minAgeMs: number };

export type Inspected = ContainerNow | ImageNow | RecordNow;

export type Verdict = { ok: true } | { ok: false; changed: string };

/** The detail of an object the re-check kept; JSON readers also get `changed: true`. */
export const CHANGED = 'changed since the plan';

const RUNNING = new Set(['running', 'paused', 'restarting']);
const go: Verdict = { ok: true };
const kept = (why: string): Verdict => ({ ok: false, changed: `${CHANGED}: ${why}` });
const d = formatDuration;

/**
 * Pure: does the object still meet the plan's reason at `now` (ms)? The
 * plan's moment matters as much as the grace: with a grace of 0 s, a
 * container started and exited again after the plan is past its grace,
 * yet it is not the one the plan saw.
 */
export function stillPlanned(recheck: Recheck, inspected: Inspected, now: number): Verdict {
  const plannedAt = Date.parse(recheck.plannedAt);
  const since = (at: number | null) => at !== null && at > plannedAt;
  if (recheck.what === 'exited-container' && inspected.kind === 'container') {
    const c = inspected;
    if (RUNNING.has(c.status)) return kept(c.status);
    // Docker records FinishedAt a moment before StartedAt for a quick run: either one after the plan means it ran since.
    if (since(c.startedAt)) return kept(`started again ${d(c.startedAt! - plannedAt)} after the plan`);
    if (since(c.finishedAt)) return kept(`exited again ${d(c.finishedAt! - plannedAt)} after the plan`);
    if (c.finishedAt === null) return kept(`no exit time (${c.status})`);
    if (now - c.finishedAt < recheck.graceMs)
      return kept(`exited ${d(now - c.finishedAt)} ago, within the ${d(recheck.graceMs)} grace`);
    return go;
  }
  if (recheck.what === 'unused-image' && inspected.kind === 'image') {
    const i = inspected;
    if (i.users.length)
      return kept(`used by container ${i.users[0]}${i.users.length > 1 ? ` and ${i.users.length - 1} more` : ''}`);
    if (recheck.dangling && i.repoTags.length) return kept(`tagged ${i.repoTags.join(', ')}`);
    if (since(i.lastTagAt)) return kept(`tagged ${d(i.lastTagAt! - plannedAt)} after the plan`);
    // No creation time (reproducible builds stamp 1970-01-01): as old as the plan took it, not a change.
    if (i.createdAt !== null && now - i.createdAt < recheck.minAgeMs)
      return kept(`created ${d(now - i.createdAt)} ago, within the ${d(recheck.minAgeMs)} minimum age`);
    return go;
  }
  if (recheck.what === 'idle-record' && inspected.kind === 'record') {
    const r = inspected;
    if (r.inUse) return kept('in use');
    if (r.shared) return kept('shared with an image');
    const last = r.lastUsedAt ?? 0;
    if (since(last)) return kept(`used ${d(last - plannedAt)} after the plan`);
    if (now - last < recheck.minAgeMs)
      return kept(`used ${d(now - last)} ago, within the ${d(recheck.minAgeMs)} minimum age`);
    return go;
  }
  return kept(`a ${inspected.kind} answered where the plan re-checks ${recheck.what}`);
}
