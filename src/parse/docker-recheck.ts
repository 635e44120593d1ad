/**
 * The answers the apply's re-check reads, as facts for stillPlanned():
 * GET /containers/{id}/json, GET /images/{id}/json with GET
 * /containers/json?all=1, and /system/df's build cache. Pure.
 */
import type { DfBuildRecord } from './docker-df.js';

/** A container as inspect shows it now (times in ms; null for Docker's zero time). */
export interface ContainerNow {
  kind: 'container';
  status: string;
  startedAt: number | null;
  finishedAt: number | null;
}

/** An image as inspect shows it now, with the names of the containers that use it (one listing). */
export interface ImageNow {
  kind: 'image';
  repoTags: string[];
  createdAt: number | null;
  lastTagAt: number | null;
  users: string[];
}

/** A build-cache record as /system/df lists it now. */
export interface RecordNow {
  kind: 'record';
  inUse: boolean;
  shared: boolean;
  lastUsedAt: number | null;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/**
 * Sample: `"FinishedAt": "2026-12-06T14:27:59.528455334Z"`; a container never
 * started says `"0001-01-01T00:00:00Z"` (Go's zero time): null.
 */
export function dockerTime(v: unknown): number | null {
  const at = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(at) && at > 0 ? at : null;
}

/** Sample State: `{"Status":"exited","Running":false,"Paused":false,"Restarting":false,…,"StartedAt":"…","FinishedAt":"…"}`. */
export function containerNow(body: unknown): ContainerNow {
  const s = obj(obj(body).State);
  // Status is the daemon's one word (running, paused, restarting, removing, exited, dead, created); the flags back it up.
  const status =
    s.Restarting === true
      ? 'restarting'
      : s.Paused === true
        ? 'paused'
        : s.Running === true
          ? 'running'
          : str(s.Status) || 'unknown';
  return { kind: 'container', status, startedAt: dockerTime(s.StartedAt), finishedAt: dockerTime(s.FinishedAt) };
}

/**
 * Image inspect (`RepoTags` is `[]` when dangling; `Metadata.LastTagTime` moves
 * with every `docker tag`) and the names of the listed containers whose
 * `ImageID` is this image: sample listing entry `{"Names":["/exited"],"ImageID":"sha256:435d…",…}`.
 */
export function imageNow(body: unknown, listing: unknown): ImageNow {
  const i = obj(body);
  const id = str(i.Id);
  const users = (Array.isArray(listing) ? listing : [])
    .map(obj)
    .filter((c) => id !== '' && c.ImageID === id)
    .map((c) => str((Array.isArray(c.Names) ? c.Names : [])[0]).replace(/^\//, '') || str(c.Id).slice(0, 12));
  const tags = Array.isArray(i.RepoTags)
    ? i.RepoTags.filter((t): t is string => typeof t === 'string' && t !== '<none>:<none>')
    : [];
  return {
    kind: 'image',
    repoTags: tags,
    createdAt: dockerTime(i.Created),
    lastTagAt: dockerTime(obj(i.Metadata).LastTagTime),
    users,
  };
}

/** A record of /system/df (parsed by parseSystemDf), as the re-check reads it. */
export function recordNow(r: DfBuildRecord): RecordNow {
  return { kind: 'record', inUse: r.inUse, shared: r.shared, lastUsedAt: dockerTime(r.lastUsedAt) };
}
