import { createHash } from 'node:crypto';
import { formatDuration } from '../text/duration.js';
import { plain, shellQuote } from '../text/escape.js';
import { freedText, type ApplyResult } from './remediation/applied.js';
import { forecastTrusted, type FilesystemTrend } from './trend/assess.js';
import type { AlertState } from './trend/alerts.js';
import type { Attribution } from './attribution.js';
import type { ActiveEscalation } from './history.js';
import type { Finding } from './findings.js';
import type { FilesystemRow } from './filesystems.js';
import { growStep } from './grow-filesystem.js';
import type { PlanStep, RemediationPlan } from './remediation/plan.js';

/*
 * When a human must act, and what to tell them: a pure function of the
 * measured run. One condition per problem and filesystem, under a stable
 * slug, so later runs update one vault item instead of filing new ones.
 */

export type EscalationKind = 'disk-space' | 'btrfs-metadata';

export interface Escalation {
  slug: string;
  kind: EscalationKind;
  mountpoint: string;
  /** `# <what is needed>`: one line of plain text. */
  title: string;
  /** Figures: where the bytes are, how fast they grow. Plain text lines. */
  facts: string[];
  /** Why a person is needed now. */
  reasons: string[];
  /** What the tool already did, and what it freed. */
  tried: string[];
  /** Concrete: which finding clears, which recipe stops firing, what disk figure it takes. */
  unblocks: string;
  /** Exact steps, in order, each with its command (shell words already quoted) and where to run it. */
  humanAction: HumanStep[];
  factoryWillThen: string;
  /** Destructive plan steps a runner could carry out after approval (the action TOMLs). */
  approvable: PlanStep[];
}

/** Where a person runs a step's command. */
export type RunWhere = 'docker-host' | 'agents' | 'checkout';
export interface HumanStep {
  text: string;
  command: string;
  where: RunWhere;
  /** The plan step it carries out, when a vault action could do it instead. */
  step?: PlanStep['kind'];
}

export interface EscalationPolicy {
  /** Escalate when a filesystem is forecast full sooner than this. */
  horizonMs: number;
  /** …or when a P1 disk finding has held for this many consecutive runs. */
  persistRuns: number;
}

export const DEFAULT_ESCALATION: EscalationPolicy = Object.freeze({ horizonMs: 24 * 3_600_000, persistRuns: 3 });

export interface EscalationInput {
  findings: readonly Finding[];
  filesystems: readonly FilesystemRow[];
  attribution: Attribution | null;
  plan: RemediationPlan | null;
  /** This run's safe apply, when it ran one. */
  applied: ApplyResult | null;
  trend: {
    filesystems: readonly FilesystemTrend[];
    alerts: readonly AlertState[];
    remediations: readonly { at: string; action: string; reclaimedBytes: number }[];
  } | null;
  diskHighPct: number;
}

type Bytes = (n: number) => string;
const P1_DISK = new Set(['disk-high', 'disk-critical']);
const MAX_COMMAND = 600;

/**
 * A file-name-safe, stable slug: `storage-disk-space-var-lib-docker`. A mount
 * whose path does not map one-to-one onto the slug's alphabet (case, `-`,
 * `_`, anything else, or a long one) gets a hash of the raw path, so two
 * mounts never share an item and no name can leave the vault folder.
 */
export function escalationSlug(kind: EscalationKind, mountpoint: string): string {
  const words = mountpoint.split('/').filter(Boolean).join('-') || 'root';
  const lossless = /^[a-z0-9/]*$/.test(mountpoint) && !mountpoint.includes('//') && words.length <= 60;
  const hash = createHash('sha256').update(mountpoint).digest('hex').slice(0, 10);
  const readable = words
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
  return `storage-${kind}-${lossless ? words : `${readable || 'path'}-${hash}`}`;
}

const pctOf = (used: number, capacity: number) => (capacity > 0 ? Math.ceil((used * 100) / capacity) : 0);

/** Pure: the run → the conditions a person must act on, one per kind and filesystem. */
export function escalations(input: EscalationInput, policy: EscalationPolicy, bytes: Bytes): Escalation[] {
  const out: Escalation[] = [];
  const mounts = new Set<string>();
  for (const f of input.findings) if (P1_DISK.has(f.name) && f.mountpoint) mounts.add(f.mountpoint);
  for (const t of input.trend?.filesystems ?? []) if (filling(t, policy)) mounts.add(t.mountpoint);
  for (const m of [...mounts].sort()) {
    const e = diskSpace(m, input, policy, bytes);
    if (e) out.push(e);
  }
  for (const f of input.findings) {
    if (f.name !== 'btrfs-metadata-enospc' || !f.mountpoint) continue;
    // A balance that just ran changed the allocation: the next run judges it afresh.
    const balanced =
      input.applied?.mountpoint === f.mountpoint &&
      input.applied.steps.some((s) => s.kind === 'btrfs-balance-empty' && s.problem === null);
    if (!balanced) out.push(btrfsMetadata(f, input, bytes));
  }
  return out;
}

/** A trusted forecast under the horizon. */
function filling(t: FilesystemTrend, policy: EscalationPolicy): boolean {
  return t.timeToFullMs !== null && t.timeToFullMs < policy.horizonMs && forecastTrusted(t);
}

function diskSpace(m: string, input: EscalationInput, policy: EscalationPolicy, bytes: Bytes): Escalation | null {
  const row = input.filesystems.find((f) => f.mountpoint === m);
  const plan = input.plan?.mountpoint === m ? input.plan : null;
  const applied = input.applied?.mountpoint === m ? input.applied : null;
  const p1 = input.findings.find((f) => P1_DISK.has(f.name) && f.mountpoint === m);
  const trend = input.trend?.filesystems.find((t) => t.mountpoint === m);
  const reasons: string[] = [];
  const where = plain(m, 200);
  if (applied && applied.usedAfterBytes !== null && applied.capacityBytes) {
    const after = pctOf(applied.usedAfterBytes, applied.capacityBytes);
    if (after > input.diskHighPct)
      reasons.push(
        `Still ${after}% used after the safe clean-up${(applied.freedBytes ?? 0) < 0 ? ':' : ''} ${freedText(applied.freedBytes, bytes)} (P1 above ${input.diskHighPct}%).`,
      );
  }
  const alert = input.trend?.alerts.find(
    (a) => P1_DISK.has(a.name) && a.mountpoint === m && (a.state === 'new' || a.state === 'ongoing'),
  );
  if (p1 && alert && alert.runs >= policy.persistRuns)
    reasons.push(
      `Above ${input.diskHighPct}% for ${alert.runs} consecutive runs, since ${alert.since.slice(0, 16).replace('T', ' ')} UTC.`,
    );
  if (
    p1 &&
    plan &&
    plan.wantBytes > plan.byTier.safe + plan.byTier.moderate &&
    plan.steps.some((s) => s.tier === 'destructive' && s.expectedBytes > 0)
  ) {
    reasons.push(
      `Reaching ${plan.targetPct}% means freeing ${bytes(plan.wantBytes)}; the safe and moderate steps free ${bytes(plan.byTier.safe + plan.byTier.moderate)}: the rest needs steps only a person may approve.`,
    );
  }
  if (trend && filling(trend, policy)) {
    // The rate of the window that has one, named as that window: never a 1 h rate called 24 h.
    const w = (['24h', '1h'] as const).find((x) => trend.bytesPerHour[x] !== null);
    const rate = w ? `, ${bytes(Math.round(trend.bytesPerHour[w]!))}/h over ${w.replace('h', ' h')}` : '';
    reasons.push(`Forecast full in ${formatDuration(trend.timeToFullMs!)} (${trend.forecastWindow} fit${rate}).`);
  }
  if (reasons.length === 0) return null;

  const facts: string[] = [];
  if (row?.usedBytes !== undefined)
    facts.push(
      `${where}: ${row.usedPct}% used, ${bytes(row.usedBytes)} of ${bytes(row.sizeBytes ?? 0)}, ${bytes(row.availBytes ?? 0)} available.`,
    );
  const a = input.attribution?.mountpoint === m ? input.attribution : null;
  for (const s of (a?.sources ?? []).filter((x) => x.countsInUsed).slice(0, 4)) {
    facts.push(
      `${plain(s.label, 80)}: ${bytes(s.bytes)}${s.reclaimableBytes > 0 ? ` (${bytes(s.reclaimableBytes)} reclaimable)` : ''}.`,
    );
  }
  if (trend)
    facts.push(
      `Growth: ${['1h', '24h', '7d'].map((w) => `${w} ${rate(trend.bytesPerHour[w as '1h'], bytes)}`).join(', ')}.`,
    );

  const tried: string[] = [];
  for (const s of applied?.steps ?? [])
    tried.push(
      `This run: ${plain(s.title, 200)}: ${s.measuredBytes === null ? 'freed an unmeasured amount' : freedText(s.measuredBytes, bytes)} (statfs).`,
    );
  const earlier = input.trend?.remediations ?? [];
  if (earlier.length)
    tried.push(
      `Last 7 days: ${earlier.length} clean-up steps freed ${bytes(earlier.reduce((x, r) => x + r.reclaimedBytes, 0))} in all.`,
    );
  for (const c of plan?.cannotFree ?? [])
    tried.push(`Cannot be freed by this tool: ${plain(c.reason, 200)}: ${bytes(c.bytes)}.`);
  if (tried.length === 0) tried.push('Nothing was applied yet: no safe step was available.');

  const humanAction: Escalation['humanAction'] = [];
  if (plan && plan.byTier.moderate > 0) {
    humanAction.push({
      text: `Approve the moderate steps (${bytes(plan.byTier.moderate)}: ${plan.steps
        .filter((s) => s.tier === 'moderate')
        .map((s) => plain(s.title, 120))
        .join('; ')}):`,
      command: 'preflight remediate --apply --max-tier moderate',
      where: 'checkout',
    });
  }
  const approvable = (plan?.steps ?? []).filter((s) => s.tier === 'destructive' && s.expectedBytes > 0);
  for (const s of approvable)
    humanAction.push({
      text: `${plain(s.title, 160)} (${bytes(s.expectedBytes)}): ${plain(s.why, 200)}.`,
      command: clipCommand(plain(s.cli, MAX_COMMAND * 2)),
      where: 'docker-host',
      step: s.kind,
    });
  const outside = a?.sources.find((s) => s.kind === 'outside-docker');
  if (outside && outside.bytes > 0)
    humanAction.push({
      text: `Find what fills ${where} outside Docker (${bytes(outside.bytes)}):`,
      command: `du -xh --max-depth=2 ${shellQuote(plain(m, 200))} 2>/dev/null | sort -h | tail -n 15`,
      where: 'docker-host',
    });
  humanAction.push({ ...growStep(m, row), where: 'docker-host' });

  return {
    slug: escalationSlug('disk-space', m),
    kind: 'disk-space',
    mountpoint: m,
    title: `Free space on ${where}: ${row?.usedPct ?? '?'}% used, ${trend && filling(trend, policy) ? `forecast full in ${formatDuration(trend.timeToFullMs!)}` : 'beyond what the safe clean-up can free'}`,
    facts,
    reasons,
    tried,
    unblocks: diskUnblocks(
      where,
      p1?.name ?? null,
      row,
      input.diskHighPct,
      trend && filling(trend, policy) ? trend : null,
      bytes,
    ),
    humanAction,
    factoryWillThen: `Re-measure every run, apply the safe clean-up when the gate fires, and mark this item resolved once ${where} is below ${input.diskHighPct}% with no forecast of filling within ${formatDuration(policy.horizonMs)}.`,
    approvable,
  };
}

function btrfsMetadata(f: Finding, input: EscalationInput, bytes: Bytes): Escalation {
  const m = f.mountpoint!;
  const where = plain(m, 200);
  const q = shellQuote(plain(m, 200));
  const plan = input.plan?.mountpoint === m ? input.plan : null;
  const orphans = plan?.steps.filter((s) => s.kind === 'remove-btrfs-orphans') ?? [];
  return {
    slug: escalationSlug('btrfs-metadata', m),
    kind: 'btrfs-metadata',
    mountpoint: m,
    title: `Make room for btrfs metadata on ${where}: writes may fail with ENOSPC while df shows free space`,
    facts: [plain(f.evidence, 400)],
    reasons: [
      'Metadata chunks are nearly full and little unallocated space is left to grow them: btrfs then refuses writes (and even deletions) with ENOSPC.',
    ],
    tried: input.applied?.steps
      .filter((s) => s.kind.startsWith('btrfs-'))
      .map((s) => `This run: ${plain(s.title, 160)}: ${plain(s.problem ?? s.detail ?? 'done', 200)}.`) ?? [
      'Nothing was applied yet.',
    ],
    unblocks: `Clears the btrfs-metadata-enospc finding for ${where} (the Btrfs section's metadata risk falls back to ok, so the recipes storage-btrfs-metadata-risk and storage-btrfs-metadata-critical stop firing) once unallocated space can hold new metadata chunks again; until then any write to ${where}, Docker's included, may fail with ENOSPC.`,
    humanAction: [
      {
        text: 'Compact nearly empty data chunks (moves data, takes I/O):',
        command: `btrfs balance start -dusage=5 ${q} && btrfs balance start -dusage=10 ${q}`,
        where: 'docker-host',
      },
      ...orphans.map((s) => ({
        text: `${plain(s.title, 160)} (${bytes(s.expectedBytes)}):`,
        command: clipCommand(plain(s.cli, MAX_COMMAND * 2)),
        where: 'docker-host' as const,
      })),
      {
        text: `If unallocated space stays low: grow the device under ${where} (disk, partition or logical volume), then let btrfs use it:`,
        command: `btrfs filesystem resize max ${q}`,
        where: 'docker-host',
      },
      {
        text: `Or add a device to the filesystem at ${where} (DEVICE: an empty disk or partition):`,
        command: `btrfs device add DEVICE ${q}`,
        where: 'docker-host',
      },
    ],
    factoryWillThen: `Re-assess the allocation every run and mark this item resolved once the metadata verdict for ${where} is ok.`,
    approvable: orphans,
  };
}

/** Which recipe a P1 finding fires (integrations/recipes.yaml). */
const RECIPE: Record<string, string> = { 'disk-high': 'storage-disk-high', 'disk-critical': 'storage-disk-critical' };

/** Concrete: the finding and recipe that clear, and the figure it takes to clear them. */
function diskUnblocks(
  where: string,
  finding: string | null,
  row: FilesystemRow | undefined,
  highPct: number,
  trend: FilesystemTrend | null,
  bytes: Bytes,
): string {
  const parts: string[] = [];
  if (finding) {
    const capacity = row?.usedBytes !== undefined ? row.usedBytes + (row.availBytes ?? 0) : null;
    const need = capacity !== null ? Math.max(0, row!.usedBytes! - Math.floor((capacity * highPct) / 100)) : null;
    parts.push(
      `Clears the P1 ${finding} finding for ${where} (its recipe ${RECIPE[finding] ?? finding} stops firing) once it is at ${highPct}% used or below: from ${row?.usedPct ?? '?'}% now${need !== null ? `, ${bytes(need)} to free` : ''}.`,
    );
  }
  if (trend)
    parts.push(
      `Ends the forecast of ${where} filling in ${formatDuration(trend.timeToFullMs!)} (the Storage Trend section's time-to-full).`,
    );
  parts.push(`Until then image pulls and builds, container writes and logs, and volumes on ${where} run out of space.`);
  return parts.join(' ');
}

function clipCommand(cmd: string): string {
  return cmd.length <= MAX_COMMAND
    ? cmd
    : `${cmd.slice(0, MAX_COMMAND)} …  # cut: the full list is in preflight remediate --format json`;
}

function rate(bytesPerHour: number | null, bytes: Bytes): string {
  return bytesPerHour === null ? '—' : `${bytesPerHour < 0 ? '-' : '+'}${bytes(Math.abs(Math.round(bytesPerHour)))}/h`;
}

/** unobserved: held before, not looked at this run; damaged: our marks in it were not found intact. Both left as they are. */
export type ItemState = 'filed' | 'updated' | 'resolved' | 'held' | 'unobserved' | 'damaged' | 'failed';

export interface ItemOutcome {
  slug: string;
  kind: Escalation['kind'];
  mountpoint: string;
  state: ItemState;
  /** The item's path, or null when nothing was written. */
  file: string | null;
  /** held: where a person moved it; damaged, failed: why. */
  detail: string | null;
  title: string;
  /** `submit`: the host command that sends the file through its pull-request flow (never run by this tool). */
  actions: { id: string; file: string | null; problem: string | null; submit: string | null }[];
}

export interface EscalationData {
  /** The pending folder; null when none is configured. */
  pending: string | null;
  problem: string | null;
  items: ItemOutcome[];
  /** What the history keeps: the conditions that hold after this run. */
  active: ActiveEscalation[];
}

export const itemName = (slug: string) => `supervisor-${slug}.md`;

/** What the report says of an item whose marks are not intact. */
export const DAMAGED = 'left as it is (repair our marks in it, or archive it)';
