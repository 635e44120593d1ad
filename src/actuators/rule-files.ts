import { formatBytes } from '../text/bytes.js';
import type { Runner } from '../host/exec.js';
import { remainingMs } from '../host/deadline.js';
import { runRuleWorker, type WorkerStatfs } from '../host/rule-worker.js';
import { objectResult, type StepRun } from '../model/remediation/applied.js';
import type { PlanObject } from '../model/remediation/plan.js';
import type { RuleTarget } from '../model/remediation/rules.js';
import { usageFromStatfs } from '../parse/statfs.js';

/** Kept back from the step's deadline for the child to print its results and exit. */
const PRINT_RESERVE_MS = 300;

const usedOf = (s: WorkerStatfs) => usageFromStatfs({ frsize: s.bsize, ...s, files: 0, ffree: 0 }).usedBytes;

/**
 * One rule's files, acted on in a child by `deadline`: each re-checked right
 * before (same file by dev and inode, no symlink on the way, the rule's
 * bounds still met), then deleted, truncated or rotated (rule-worker.ts).
 * On another filesystem than the plan's (`planMountpoint`), the step's
 * measured bytes are its own statfs before and after.
 */
export async function applyRule(
  run: Runner,
  rule: RuleTarget,
  objects: readonly PlanObject[],
  planMountpoint: string,
  deadline: number,
): Promise<StepRun> {
  const files = objects.map((o) => {
    const [dev, ino] = o.id.split(':').map(Number) as [number, number];
    return { rel: o.name.slice(rule.root.length + 1), dev, ino };
  });
  const out = await runRuleWorker(
    run,
    {
      mode: 'act',
      root: rule.root,
      rootDev: rule.rootDev,
      rootIno: rule.rootIno,
      action: rule.action,
      ...rule.criteria,
      files,
      softDeadline: deadline - PRINT_RESERVE_MS,
    },
    Math.max(1, remainingMs(deadline)),
  );
  const none = (problem: string): StepRun => ({ objects: [], daemonReclaimedBytes: null, problem, detail: null });
  if ('problem' in out) return none(`the files' child: ${out.problem}`);
  if ('refused' in out) return none(`${rule.root}: ${out.refused}; nothing touched`);
  const results = objects.map((o, i) =>
    objectResult(o, out.results[i] ?? { result: 'failed', detail: 'no answer for this file' }),
  );
  const freed = out.results.reduce((a, r) => a + r.freed, 0);
  return {
    objects: results,
    daemonReclaimedBytes: null,
    problem: null,
    detail: `fstat saw ${formatBytes(freed)} of blocks go`,
    ...(out.before && out.after && rule.mountpoint !== planMountpoint
      ? {
          ownFilesystem: {
            mountpoint: rule.mountpoint,
            usedBeforeBytes: usedOf(out.before),
            usedAfterBytes: usedOf(out.after),
          },
        }
      : {}),
  };
}
