import type { Tier } from './tier.js';

/*
 * Clean-up rules an operator declares for the host's own data (its logs,
 * its media): what no Docker step can free. Checked at config load
 * (config/cleanup-rules.ts), planned here, applied by actuators/rule-files.ts.
 */

export type RuleAction =
  | { kind: 'delete'; olderThanMs: number; pressure: { abovePct: number; olderThanMs: number } | null }
  | { kind: 'rotate'; largerThanBytes: number; keep: { lines: number } | { bytes: number } }
  | { kind: 'truncate'; largerThanBytes: number };

export interface CleanupRule {
  name: string;
  /** An absolute folder, its real path (no symlink on the way), never a system one. */
  root: string;
  /** A glob relative to the root (rule-glob.ts). */
  match: string;
  action: RuleAction;
  /** Globs never touched, even when they match. */
  protect: string[];
  tier: Tier;
}

/** At most this many rules; each walk is a child of its own. */
export const MAX_RULES = 16;
/** At most this many files per rule in a plan (and in the JSON): the oldest or largest first. */
export const MAX_FILES_PER_RULE = 1000;

/** One regular file a rule's walk found matching (and not protected). */
export interface ScannedFile {
  /** Relative to the rule root. */
  rel: string;
  dev: number;
  ino: number;
  size: number;
  /** st_blocks × 512: what deleting it frees. */
  allocated: number;
  mtimeMs: number;
  /** Rotate: what the kept tail would weigh. */
  keptBytes?: number;
}

/** What a rule's walk saw, or why it saw nothing. */
export type RuleScan =
  | {
      kind: 'ok';
      rule: CleanupRule;
      rootDev: number;
      rootIno: number;
      /** The root's filesystem, and its df Use%. */
      mountpoint: string;
      usedPct: number;
      files: ScannedFile[];
      /** Why the walk stopped before the end (time, entries), or null. */
      cut: string | null;
    }
  | { kind: 'refused'; rule: CleanupRule; reason: string };

/** The rule's bounds on each file, as planned; the apply re-checks them against the file as it is then. */
export interface RuleCriteria {
  /** Delete: older than this (ms before `plannedAt`). */
  olderThanMs: number | null;
  /** Rotate, truncate: larger than this. */
  largerThanBytes: number | null;
  keep: { lines: number } | { bytes: number } | null;
}

/** Which age applies: the shorter one when the root's filesystem is above the rule's pressure threshold. */
export function effectiveAge(action: Extract<RuleAction, { kind: 'delete' }>, usedPct: number): number {
  return action.pressure && usedPct > action.pressure.abovePct ? action.pressure.olderThanMs : action.olderThanMs;
}

export function criteriaOf(action: RuleAction, usedPct: number): RuleCriteria {
  switch (action.kind) {
    case 'delete':
      return { olderThanMs: effectiveAge(action, usedPct), largerThanBytes: null, keep: null };
    case 'rotate':
      return { olderThanMs: null, largerThanBytes: action.largerThanBytes, keep: action.keep };
    case 'truncate':
      return { olderThanMs: null, largerThanBytes: action.largerThanBytes, keep: null };
  }
}

/** Pure: whether a file (as found now) meets the rule's bounds at `now`. */
export function qualifies(c: RuleCriteria, f: { size: number; mtimeMs: number }, now: number): boolean {
  if (c.olderThanMs !== null && now - f.mtimeMs < c.olderThanMs) return false;
  if (c.largerThanBytes !== null && f.size <= c.largerThanBytes) return false;
  return true;
}

/** What acting on a file frees: its blocks (delete, truncate), or all but the kept tail's (rotate). */
export function freedBy(action: RuleAction, f: ScannedFile): number {
  if (action.kind !== 'rotate') return f.allocated;
  const kept = f.keptBytes ?? ('bytes' in action.keep ? Math.min(f.size, action.keep.bytes) : f.size);
  // The kept tail takes whole blocks (4 KiB on ext4 and xfs, as mkfs makes them).
  return Math.max(0, f.allocated - Math.ceil(kept / 4096) * 4096);
}

/** Pure: the files a rule selects, oldest first for deletion and largest first otherwise, at most MAX_FILES_PER_RULE. */
export function selectFiles(
  scan: Extract<RuleScan, { kind: 'ok' }>,
  now: number,
): { criteria: RuleCriteria; files: ScannedFile[]; more: number } {
  const criteria = criteriaOf(scan.rule.action, scan.usedPct);
  const picked = scan.files
    .filter((f) => qualifies(criteria, f, now))
    .sort((a, b) =>
      scan.rule.action.kind === 'delete'
        ? a.mtimeMs - b.mtimeMs || (a.rel < b.rel ? -1 : 1)
        : b.size - a.size || (a.rel < b.rel ? -1 : 1),
    );
  return {
    criteria,
    files: picked.slice(0, MAX_FILES_PER_RULE),
    more: Math.max(0, picked.length - MAX_FILES_PER_RULE),
  };
}

/** What the apply needs beyond the step's objects (id `dev:ino`, name the file's path): where, what, and the plan's bounds. */
export interface RuleTarget {
  name: string;
  root: string;
  rootDev: number;
  rootIno: number;
  /** The root's filesystem: the apply measures it before and after. */
  mountpoint: string;
  action: RuleAction['kind'];
  criteria: RuleCriteria;
  plannedAt: string;
}
