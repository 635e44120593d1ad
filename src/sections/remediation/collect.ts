import { isRunning } from '../../model/docker-storage.js';
import type { Finding } from '../../model/findings.js';
import { summaryRow } from '../../model/filesystems.js';
import { DEFAULT_POLICY, type RemediationPolicy } from '../../model/remediation/policy.js';
import { planRemediation, type RemediationData, type RemediationPlan } from '../../model/remediation/plan.js';
import type { HistoryWindow } from '../../model/history.js';
import { getExitTimes } from '../../probes/docker-inspect.js';
import { getRuleScans } from '../../probes/rule-scan.js';
import { planRuleSteps } from '../../model/remediation/rule-steps.js';
import { releaseDeletedFiles } from '../../model/remediation/release-deleted.js';
import { type Collected, type SectionContext } from '../types.js';

/** Findings that call for clean-up on the filesystem the plan is about. */
const PRESSURE_FINDINGS = new Set(['disk-warning', 'disk-high', 'disk-critical', 'btrfs-metadata-enospc']);

/** Image id → the last run (ms) whose running containers used it; and when the history starts. */
export function lastUse(history: HistoryWindow): { byImage: Map<string, number>; since: number | null } {
  const byImage = new Map<string, number>();
  for (const r of history.records) for (const id of r.imagesInUse) byImage.set(id, Date.parse(r.at));
  return { byImage, since: history.records.length ? Date.parse(history.records[0]!.at) : null };
}

/**
 * The plan for the summary filesystem (Docker's data root, else /), from
 * what the measuring sections found; `always` plans even without pressure.
 */
export async function collectRemediation(
  ctx: SectionContext,
  policy: RemediationPolicy = DEFAULT_POLICY,
  always = false,
): Promise<Collected<RemediationData>> {
  const fs = ctx.measured.filesystem?.data;
  const docker = ctx.measured.docker?.data ?? null;
  const pressure = ctx.measured.pressure?.data;
  const btrfs = ctx.measured.btrfs?.data;
  const row = fs ? summaryRow(fs) : undefined;
  if (!row || row.usedBytes === undefined || row.availBytes === undefined || row.usedPct === undefined) {
    return {
      status: 'ok',
      data: { shown: false, reason: 'neither the Docker data root nor / could be measured', plan: null },
    };
  }
  const pressing = (pressure?.findings ?? []).filter(
    (f: Finding) => PRESSURE_FINDINGS.has(f.name) && f.mountpoint === row.mountpoint,
  );
  if (!always && pressing.length === 0) {
    return {
      status: 'ok',
      data: {
        shown: false,
        reason: `no disk or btrfs finding on ${row.mountpoint} at warning tier or above`,
        plan: null,
      },
    };
  }
  const dockerHere = docker?.source === 'api' && row.roles.includes('docker-data-root');
  const stopped = dockerHere ? (docker?.df?.containers ?? []).filter((c) => !isRunning(c)).map((c) => c.id) : [];
  const exitedAt =
    stopped.length && docker?.engine
      ? await getExitTimes(ctx.options.docker, docker.engine.apiVersion, stopped, ctx.deadline - 100)
      : new Map<string, number>();
  const { byImage, since } = lastUse(await ctx.shared.history(ctx.deadline - 50));
  // Started since the last run (short jobs the daemon's events name): used, at the latest, now.
  for (const id of docker?.startedSinceLastRun?.imageIds ?? []) byImage.set(id, ctx.startedAt.getTime());
  const rules = policy.rules.length ? planRuleSteps(await scanRules(ctx, policy), ctx.startedAt.getTime()) : undefined;
  const outside = pressure?.attribution?.sources.find((s) => s.kind === 'outside-docker')?.bytes ?? 0;
  const plan = planRemediation(
    {
      now: ctx.startedAt.getTime(),
      filesystem: {
        mountpoint: row.mountpoint,
        usedBytes: row.usedBytes,
        availBytes: row.availBytes,
        usedPct: row.usedPct,
      },
      docker: dockerHere ? docker : null,
      exitedAt,
      imageLastUsed: byImage,
      historySince: since,
      btrfs: btrfs?.filesystems.find((b) => b.mountpoint === row.mountpoint) ?? null,
      outsideDockerBytes: outside,
      rules,
      releaseDeleted: releaseDeletedFiles(
        (pressure?.deletedOpen?.files ?? []).filter((f) => f.mountpoint === row.mountpoint),
      ),
    },
    policy,
  );
  return { status: 'ok', data: { shown: true, reason: null, plan } };
}

/** The operator's rules walked by the section's deadline; Docker's, containerd's and this tool's own folders are never theirs. */
async function scanRules(ctx: SectionContext, policy: RemediationPolicy) {
  const docker = ctx.measured.docker?.data;
  const owned = [
    { what: "Docker's data root", path: docker?.engine?.rootDir },
    { what: "containerd's root", path: docker?.containerd?.root },
    { what: "this tool's journal", path: ctx.options.journalRoot },
    { what: 'the vault', path: ctx.options.vault.pending },
  ].flatMap((o) => (o.path ? [{ what: o.what, path: o.path }] : []));
  const table = await ctx.shared.mountTable().catch(() => []);
  return getRuleScans(ctx.run, policy.rules, table, owned, ctx.deadline - 50);
}
