import { runRuleWorker } from '../host/rule-worker.js';
import type { Runner } from '../host/exec.js';
import { globSource } from '../model/remediation/rule-glob.js';
import type { CleanupRule, RuleScan } from '../model/remediation/rules.js';
import { mountFor, type MountEntry } from '../parse/mountinfo.js';
import { usageFromStatfs } from '../parse/statfs.js';

/** Names a walk looks at before it stops and says so: a rule's root is a log folder, not a filesystem. */
const MAX_WALK_ENTRIES = 200_000;
/** Kept back from the walk's own stop for the child to print and exit. */
const PRINT_RESERVE_MS = 300;

const within = (p: string, dir: string) => dir === '/' || p === dir || p.startsWith(`${dir}/`);

/**
 * Each rule's files, walked in a child of its own, all at once, by
 * `deadline`. A rule whose root is, holds or lies in a folder the run
 * knows to be Docker's, containerd's or this tool's (`ownedRoots`) is
 * refused without a walk.
 */
export async function getRuleScans(
  run: Runner,
  rules: readonly CleanupRule[],
  table: readonly MountEntry[],
  ownedRoots: readonly { what: string; path: string }[],
  deadline: number,
): Promise<RuleScan[]> {
  return Promise.all(rules.map((rule) => scanRule(run, rule, table, ownedRoots, deadline)));
}

async function scanRule(
  run: Runner,
  rule: CleanupRule,
  table: readonly MountEntry[],
  ownedRoots: readonly { what: string; path: string }[],
  deadline: number,
): Promise<RuleScan> {
  const owned = ownedRoots.find((o) => within(rule.root, o.path) || within(o.path, rule.root));
  if (owned) return { kind: 'refused', rule, reason: `${owned.what} ${owned.path} is there` };
  const left = deadline - Date.now();
  if (left < 2 * PRINT_RESERVE_MS) return { kind: 'refused', rule, reason: 'no time left to walk it' };
  const keep = rule.action.kind === 'rotate' ? rule.action.keep : null;
  const out = await runRuleWorker(
    run,
    {
      mode: 'scan',
      root: rule.root,
      match: globSource(rule.match),
      protect: rule.protect.map(globSource),
      mounts: table.map((m) => m.mountpoint).filter((mp) => mp.startsWith(`${rule.root}/`)),
      tail:
        keep && 'lines' in keep && rule.action.kind === 'rotate'
          ? { lines: keep.lines, largerThan: rule.action.largerThanBytes }
          : null,
      maxEntries: MAX_WALK_ENTRIES,
      softDeadline: deadline - PRINT_RESERVE_MS,
    },
    left,
  );
  if ('problem' in out) return { kind: 'refused', rule, reason: `the walk failed: ${out.problem}` };
  if ('refused' in out) return { kind: 'refused', rule, reason: out.refused };
  const mount = mountFor(table, rule.root);
  const usedPct = out.statfs
    ? usageFromStatfs({ frsize: out.statfs.bsize, ...out.statfs, files: 0, ffree: 0 }).usedPct
    : 0;
  return {
    kind: 'ok',
    rule,
    rootDev: out.rootDev,
    rootIno: out.rootIno,
    mountpoint: mount?.mountpoint ?? rule.root,
    usedPct,
    files: out.files,
    cut: out.cut,
  };
}
