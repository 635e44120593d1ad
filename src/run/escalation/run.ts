import path from 'node:path';
import { hostname } from 'node:os';
import { errorMessage } from '../../model/errors.js';
import { observedOf } from '../../model/history-build.js';
import type { ActiveEscalation, HistoryRecord } from '../../model/history.js';
import {
  DAMAGED,
  escalations,
  itemName,
  type Escalation,
  type EscalationData,
  type ItemOutcome,
  type ItemState,
} from '../../model/escalation.js';
import { settleEscalations } from '../../model/escalation-settle.js';
import type { RunOptions } from '../../model/options.js';
import type { Runner } from '../../host/exec.js';
import { formatBytes } from '../../text/bytes.js';
import { renderResolvedItem, renderVaultItem, type ItemStamp } from '../../render/vault-item.js';
import { actionId, RUNNER_STEPS } from '../../model/vault-action.js';
import type { ApplyResult } from '../../model/remediation/applied.js';
import { callTimeout } from '../../host/deadline.js';
import type { RunResult } from '../../model/results.js';
import { actionFiles } from './actions.js';
import { writeItem, type ItemWrite } from './item.js';

const WRITE_TIMEOUT_MS = 3000;

/**
 * File, update or resolve the vault items for this run's conditions. The
 * previous run's conditions come from our own history (never from the
 * vault's text, which people and the LLM edit): one that this run looked at
 * and found gone gets its pending item marked resolved; one it could not
 * look at (a stuck mount, a path left out) stands, its item untouched.
 */
export async function escalateRun(
  run: Runner,
  options: RunOptions,
  measured: RunResult,
  applied: ApplyResult | null,
  history: readonly HistoryRecord[],
  at: Date,
  deadline: number,
): Promise<EscalationData> {
  const pressure = measured.pressure?.data;
  const assessed = measured.pressure?.status === 'ok' && pressure !== undefined;
  const previous = [...history].reverse().find((r) => r.observed.assessed)?.escalations ?? [];
  const trend = measured.trend?.data ?? null;
  const conditions = assessed
    ? escalations(
        {
          findings: pressure.findings,
          filesystems: measured.filesystem?.data?.filesystems ?? [],
          attribution: pressure.attribution,
          plan: measured.remediation?.data?.plan ?? null,
          applied,
          trend,
          diskHighPct: options.diskThresholdPct,
        },
        options.escalation,
        formatBytes,
      )
    : [];
  const settled = settleEscalations(previous, conditions, observedOf(measured));
  const active = settled.active;
  const pending = options.vault.pending;
  if (!pending) {
    const problem = conditions.length
      ? 'no vault folder (--vault, OPS_VAULT_ROOT or OPS_REPO_ROOT): nothing filed'
      : null;
    return { pending: null, problem, items: conditions.map((c) => outcome(c, 'failed', null, problem)), active };
  }
  const timeout = () => callTimeout(deadline, WRITE_TIMEOUT_MS);
  const stamp = (slug: string, actions: ItemStamp['actions'] = []): ItemStamp => ({
    host: hostname(),
    at,
    since: since(history, slug) ?? at.toISOString(),
    actions,
  });
  const items: ItemOutcome[] = [];
  for (const c of conditions) {
    const was = previous.some((p) => p.slug === c.slug);
    // The item names the action files of this streak and these objects (the same ids run after run).
    const streak = new Date(since(history, c.slug) ?? at.toISOString());
    const planned = options.vault.actions ? plannedActions(c, options.vault.actions, streak) : [];
    const write = await attempt(() =>
      writeItem(run, pending, itemName(c.slug), renderVaultItem(c, stamp(c.slug, planned)), 'create', timeout),
    );
    const item = fromWrite(c, write, was ? 'updated' : 'filed');
    if ((item.state === 'filed' || item.state === 'updated') && options.vault.actions)
      item.actions = await actionFiles(run, options.vault.actions, c, item.file!, streak, timeout);
    items.push(item);
  }
  for (const p of settled.resolved) {
    const figures = figuresNow(measured, p.mountpoint);
    const write = await attempt(() =>
      writeItem(
        run,
        pending,
        itemName(p.slug),
        renderResolvedItem(p.kind, p.mountpoint, figures, stamp(p.slug)),
        'existing',
        timeout,
      ),
    );
    // Nothing pending to mark (a person already moved it on): nothing to say either.
    if ('kind' in write && write.kind === 'absent') continue;
    items.push(
      fromWrite(
        { slug: p.slug, kind: p.kind, mountpoint: p.mountpoint, title: `resolved: ${figures}` },
        write,
        'resolved',
      ),
    );
  }
  for (const p of settled.unobserved)
    items.push(outcome({ ...p, title: 'not measured this run' }, 'unobserved', null, null));
  return { pending, problem: problemOf(items), items, active };
}

function plannedActions(c: Escalation, dir: string, streak: Date): NonNullable<ItemStamp['actions']> {
  return c.approvable
    .filter((s) => RUNNER_STEPS.has(s.kind))
    .map((s) => {
      const id = actionId(
        c.slug,
        s.kind,
        streak,
        s.objects.map((o) => o.id),
      );
      return { id, kind: s.kind, file: path.join(dir, `${id}.toml`) };
    });
}

type Written = ItemWrite | { error: string };

async function attempt(f: () => Promise<ItemWrite>): Promise<Written> {
  try {
    return await f();
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

/** The section's one-line reason to be degraded: the first item not written, or left alone for its marks. */
function problemOf(items: readonly ItemOutcome[]): string | null {
  const bad = items.find((i) => i.state === 'failed' || i.state === 'damaged');
  if (!bad) return null;
  return bad.state === 'damaged' ? `vault: ${itemName(bad.slug)}: ${DAMAGED}: ${bad.detail}` : `vault: ${bad.detail}`;
}

function fromWrite(
  c: Pick<Escalation, 'slug' | 'kind' | 'mountpoint' | 'title'>,
  w: Written,
  state: ItemState,
): ItemOutcome {
  if ('error' in w) return outcome(c, 'failed', null, w.error);
  if (w.kind === 'held') return outcome(c, 'held', null, w.where);
  if (w.kind === 'damaged') return outcome(c, 'damaged', w.file, w.problem);
  return outcome(c, state, w.file, null);
}

function outcome(
  c: Pick<Escalation, 'slug' | 'kind' | 'mountpoint' | 'title'>,
  state: ItemState,
  file: string | null,
  detail: string | null,
): ItemOutcome {
  return { slug: c.slug, kind: c.kind, mountpoint: c.mountpoint, state, file, detail, title: c.title, actions: [] };
}

/** The first run of the current streak that held this condition (ISO), from our history. */
function since(history: readonly HistoryRecord[], slug: string): string | null {
  let first: string | null = null;
  for (let i = history.length - 1; i >= 0; i -= 1) {
    const r = history[i]!;
    if (!r.observed.assessed) continue;
    if (!r.escalations.some((e) => e.slug === slug)) break;
    first = r.at;
  }
  return first;
}

function figuresNow(measured: RunResult, mountpoint: string): string {
  const row = measured.filesystem?.data?.filesystems.find((f) => f.mountpoint === mountpoint);
  return row?.usedBytes !== undefined
    ? `${mountpoint} is ${row.usedPct}% used (${formatBytes(row.usedBytes)} of ${formatBytes(row.sizeBytes ?? 0)}, ${formatBytes(row.availBytes ?? 0)} available).`
    : `${mountpoint}: the condition no longer holds.`;
}
