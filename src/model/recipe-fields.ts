import type { Attribution, SourceKind } from './attribution.js';
import type { MetadataVerdict } from './btrfs.js';
import type { Finding } from './findings.js';
import { safelyFixable } from './gate.js';
import type { RemediationPlan } from './remediation/plan.js';

/*
 * The one-value lines the host's recipes read with field_eq: the first line
 * matching `^<field>:`, its value after `: ` compared for equality. Names and
 * values are a contract (docs/operations.md "Recipe fields", integrations/recipes.yaml):
 * every value comes from a closed set of our own words, never system text.
 */
export const FIELDS = {
  topSource: 'Top source',
  diskPressure: 'Disk pressure',
  metadataRisk: 'Metadata risk',
  safeCleanup: 'Safe clean-up',
} as const;

/**
 * Each value is what our own gate (model/gate.ts) decides for the disk
 * findings, so one recipe per value can act on it: `clean-up` is what the safe
 * apply can fix (the cleanup recipe acts), `high` is what it cannot. Later
 * outranks earlier when filesystems differ.
 */
export const DISK_PRESSURE = ['ok', 'warning', 'clean-up', 'unknown', 'high', 'critical'] as const;
export type DiskPressure = (typeof DISK_PRESSURE)[number];
/** The btrfs verdict, with `balance` where the safe apply's balance -dusage=0 can ease it. */
export const METADATA_RISK = ['unknown', 'ok', 'balance', 'risk', 'critical'] as const;
export type MetadataRisk = (typeof METADATA_RISK)[number];
export const SAFE_CLEANUP = ['available', 'none'] as const;
export type SafeCleanup = (typeof SAFE_CLEANUP)[number];

const worse = <T extends string>(order: readonly T[], a: T, b: T): T => (order.indexOf(b) > order.indexOf(a) ? b : a);

/**
 * Over every disk finding (any measured filesystem): what the safe apply can
 * fix is `clean-up`, whatever its tier; else the tier. A Storage Pressure
 * that did not finish is `unknown` unless it saw worse.
 */
export function diskPressure(
  findings: readonly Finding[],
  plan: RemediationPlan | null,
  complete: boolean,
): DiskPressure {
  let out: DiskPressure = complete ? 'ok' : 'unknown';
  for (const f of findings) {
    if (f.name !== 'disk-critical' && f.name !== 'disk-high' && f.name !== 'disk-warning') continue;
    // As the gate: what the safe apply can fix runs it alone (what it leaves goes to the vault, --escalate).
    const tier = f.name === 'disk-critical' ? 'critical' : f.name === 'disk-high' ? 'high' : 'warning';
    out = worse(DISK_PRESSURE, out, safelyFixable(f, plan) ? 'clean-up' : tier);
  }
  return out;
}

/** Over the assessed btrfs filesystems; `unknown` when none could be (no btrfs-progs, not root). */
export function metadataRisk(
  filesystems: readonly { mountpoint: string; assessment: { verdict: MetadataVerdict } | null }[],
  plan: RemediationPlan | null,
): MetadataRisk {
  const assessed = filesystems.filter((b) => b.assessment);
  let out: MetadataRisk = assessed.length ? 'ok' : 'unknown';
  for (const b of assessed) {
    const verdict = b.assessment!.verdict;
    if (verdict === 'ok') continue;
    const eased = safelyFixable({ name: 'btrfs-metadata-enospc', mountpoint: b.mountpoint }, plan);
    out = worse(METADATA_RISK, out, eased ? 'balance' : verdict === 'exhausted' ? 'critical' : 'risk');
  }
  return out;
}

/** `available` exactly when our gate fires something `direct`: the safe apply would act on a finding. */
export function safeCleanup(findings: readonly Finding[], plan: RemediationPlan | null): SafeCleanup {
  return findings.some((f) => safelyFixable(f, plan)) ? 'available' : 'none';
}

/** The biggest source in df's used bytes, as the Verdict line names it. */
export function topSourceKind(a: Attribution | null): SourceKind | 'none' | 'unknown' {
  if (!a) return 'unknown';
  const top = a.sources.find((s) => s.countsInUsed && s.bytes > 0)?.kind ?? 'none';
  // That remainder holds what Docker did not size this run: no recipe may read it as outside Docker.
  return top === 'outside-docker' && a.stale.length > 0 ? 'unknown' : top;
}
