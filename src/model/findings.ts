import { guardDiskFigure, plain } from '../text/escape.js';
import type { BtrfsFilesystem } from './btrfs.js';
import type { Attribution } from './attribution.js';
import type { FilesystemRow } from './filesystems.js';

export type Severity = 'P0' | 'P1' | 'P2' | 'P3' | 'P4';
export type Action = 'direct' | 'vault' | 'incident' | 'llm';

/** Every finding this tool raises, with its one severity: the history accepts no other pair. */
export const FINDING_SEVERITY = Object.freeze({
  'disk-critical': 'P1',
  'disk-high': 'P1',
  'disk-warning': 'P4',
  'inodes-high': 'P1',
  'filesystem-readonly': 'P1',
  'mount-stuck': 'P3',
  'btrfs-metadata-enospc': 'P1',
  'docker-unreachable': 'P2',
} as const);
export const FINDING_NAMES = Object.keys(FINDING_SEVERITY) as (keyof typeof FINDING_SEVERITY)[];

/** A finding, with the action it needs when no safe clean-up applies (model/gate.ts settles what fires). */
export interface Finding {
  name: string;
  severity: Severity;
  evidence: string;
  action: Action;
  /** The filesystem it is about (alert state is kept per finding and mount). */
  mountpoint?: string;
}

/** One key per finding and filesystem: alert state, hysteresis and the journal all use it. */
export function alertKey(f: { name: string; mountpoint?: string }): string {
  return f.mountpoint ? `${f.name}@${f.mountpoint}` : f.name;
}

/** Points below a tier a value must fall before its finding clears, so 80% ± 1 does not flap. */
export const HYSTERESIS_PCT = 3;

export interface Thresholds {
  /** P1 above this used % (the formula's disk priority). */
  diskHighPct: number;
}

/**
 * Tiers around the configured threshold: warn 10 points below it; critical
 * 10 points above it, kept within 90–95, and never below the threshold itself.
 */
export function tiers(t: Thresholds) {
  const high = t.diskHighPct;
  return { warn: high - 10, high, critical: Math.max(high, Math.min(95, Math.max(90, high + 10))) };
}

/** The biggest source that counts in used bytes (allocated-but-unused btrfs chunks do not). */
export function topSource(a: Attribution | null) {
  return a?.sources.find((s) => s.countsInUsed) ?? null;
}

type Bytes = (n: number) => string;

export function findFindings(
  filesystems: readonly FilesystemRow[],
  attribution: Attribution | null,
  btrfs: readonly BtrfsFilesystem[],
  dockerProblem: string | null,
  thresholds: Thresholds,
  bytes: Bytes,
  /** alertKey() of what fired last run: a tier holds until the value falls HYSTERESIS_PCT below it. */
  previous: ReadonlySet<string> = new Set(),
): Finding[] {
  const out: Finding[] = [];
  const t = tiers(thresholds);
  const held = (name: string, mount: string, pct: number, tier: number, strict: boolean) =>
    (strict ? pct > tier : pct >= tier) ||
    (previous.has(alertKey({ name, mountpoint: mount })) && pct > tier - HYSTERESIS_PCT);
  for (const fs of filesystems) {
    if (fs.stuck) {
      out.push({
        name: 'mount-stuck',
        severity: 'P3',
        evidence: `${plain(fs.mountpoint)}: ${plain(fs.problem ?? 'statfs did not answer')}`,
        action: 'llm',
        mountpoint: fs.mountpoint,
      });
      continue;
    }
    if (fs.usedPct === undefined) continue;
    const where = `${plain(fs.mountpoint)} ${fs.usedPct}% used (${bytes(fs.usedBytes ?? 0)} of ${bytes(fs.sizeBytes ?? 0)}, ${bytes(fs.availBytes ?? 0)} available)`;
    const top = attribution && attribution.mountpoint === fs.mountpoint ? topSource(attribution) : null;
    const lead = top ? `; top source: ${top.label} ${bytes(top.bytes)}` : '';
    const m = fs.mountpoint;
    const pct = fs.usedPct;
    if (held('disk-critical', m, pct, t.critical, true)) {
      out.push({
        name: 'disk-critical',
        severity: 'P1',
        evidence: `${where} > ${t.critical}%${lead}`,
        action: 'incident',
        mountpoint: m,
      });
    } else if (held('disk-high', m, pct, t.high, true)) {
      out.push({
        name: 'disk-high',
        severity: 'P1',
        evidence: `${where} > ${t.high}%${lead}`,
        action: 'llm',
        mountpoint: m,
      });
    } else if (held('disk-warning', m, pct, t.warn, false)) {
      out.push({
        name: 'disk-warning',
        severity: 'P4',
        evidence: `${where} ≥ ${t.warn}%${lead}`,
        action: 'llm',
        mountpoint: m,
      });
    }
    const inodes = fs.inodesUsedPct;
    if (inodes !== null && inodes !== undefined && held('inodes-high', m, inodes, t.high, true)) {
      out.push({
        name: 'inodes-high',
        severity: 'P1',
        evidence: `${plain(m)} inodes ${inodes}% used > ${t.high}%`,
        action: 'llm',
        mountpoint: m,
      });
    }
    if (fs.readonly) {
      out.push({
        name: 'filesystem-readonly',
        severity: 'P1',
        evidence: `${plain(m)} is mounted read-only`,
        action: 'incident',
        mountpoint: m,
      });
    }
  }
  for (const b of btrfs) {
    if (b.assessment && b.assessment.verdict !== 'ok') {
      out.push({
        name: 'btrfs-metadata-enospc',
        severity: 'P1',
        evidence: `${plain(b.mountpoint)}: ${plain(b.assessment.verdictText ?? b.assessment.verdict)}`,
        action: 'llm',
        mountpoint: b.mountpoint,
      });
    }
  }
  if (dockerProblem) {
    out.push({ name: 'docker-unreachable', severity: 'P2', evidence: plain(dockerProblem), action: 'llm' });
  }
  // Evidence is one line of text the host passes on: no system string may form a `Disk:` figure in it.
  return out.map((f) => ({ ...f, evidence: guardDiskFigure(f.evidence) }));
}
