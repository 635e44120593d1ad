import { formatBytes } from '../../text/bytes.js';
import { formatDuration } from '../../text/duration.js';
import { shellQuote } from '../../text/escape.js';
import { count } from '../../text/plural.js';
import type { PlanStep } from './plan.js';
import { freedBy, selectFiles, type RuleAction, type RuleScan } from './rules.js';

/** Files named in a step's suggested command; the step's objects list them all. */
const CLI_FILES = 5;

function titleOf(action: RuleAction, olderThanMs: number | null, fileCount: number, name: string): string {
  const files = count(fileCount, 'file');
  switch (action.kind) {
    case 'delete':
      return `rule ${name}: delete ${files} older than ${formatDuration(olderThanMs ?? 0)}`;
    case 'rotate':
      return `rule ${name}: rotate ${files} larger than ${formatBytes(action.largerThanBytes)}, keeping the last ${'lines' in action.keep ? `${action.keep.lines} lines` : formatBytes(action.keep.bytes)}`;
    case 'truncate':
      return `rule ${name}: truncate ${files} larger than ${formatBytes(action.largerThanBytes)}`;
  }
}

function cliOf(action: RuleAction, paths: string[]): string {
  const shown = paths.slice(0, CLI_FILES).map(shellQuote).join(' ') + (paths.length > CLI_FILES ? ' …' : '');
  switch (action.kind) {
    case 'delete':
      return `rm -- ${shown}`;
    case 'rotate':
      // What one file's rotation does, by hand: the kept tail through a temporary file, renamed over it.
      return 'lines' in action.keep
        ? `tail -n ${action.keep.lines} -- FILE > FILE.tmp && mv -- FILE.tmp FILE  # for ${shown}`
        : `tail -c ${action.keep.bytes} -- FILE > FILE.tmp && mv -- FILE.tmp FILE  # for ${shown}`;
    case 'truncate':
      return `truncate -s 0 -- ${shown}`;
  }
}

/** Pure: each rule's step (none when no file qualifies), and a note for each rule that could not be planned. */
export function planRuleSteps(scans: readonly RuleScan[], now: number): { steps: PlanStep[]; notes: string[] } {
  const steps: PlanStep[] = [];
  const notes: string[] = [];
  for (const scan of scans) {
    const rule = scan.rule;
    if (scan.kind === 'refused') {
      notes.push(`Rule ${rule.name} (${rule.root}): ${scan.reason}; nothing planned.`);
      continue;
    }
    const { criteria, files, more } = selectFiles(scan, now);
    if (scan.cut)
      notes.push(
        `Rule ${rule.name}: the walk of ${rule.root} stopped early (${scan.cut}); files past it are not planned.`,
      );
    if (more) notes.push(`Rule ${rule.name}: ${more} more files qualify; a plan lists at most ${files.length}.`);
    if (!files.length) continue;
    const paths = files.map((f) => `${rule.root}/${f.rel}`);
    const pressured = rule.action.kind === 'delete' && criteria.olderThanMs !== rule.action.olderThanMs;
    steps.push({
      kind: 'cleanup-rule',
      tier: rule.tier,
      title: titleOf(rule.action, criteria.olderThanMs, files.length, rule.name),
      action: `${rule.action.kind} each file under ${rule.root}, re-checked right before (same file, no symlink on the way, still qualifies)`,
      cli: cliOf(rule.action, paths),
      objects: files.map((f, i) => ({ id: `${f.dev}:${f.ino}`, name: paths[i]!, bytes: freedBy(rule.action, f) })),
      expectedBytes: files.reduce((a, f) => a + freedBy(rule.action, f), 0),
      why: `declared by the operator (tier ${rule.tier})${pressured ? `; ${scan.mountpoint} is ${scan.usedPct}% used, above ${rule.action.kind === 'delete' ? rule.action.pressure?.abovePct : ''}%, so the shorter age applies` : ''}`,
      rule: {
        name: rule.name,
        root: rule.root,
        rootDev: scan.rootDev,
        rootIno: scan.rootIno,
        mountpoint: scan.mountpoint,
        action: rule.action.kind,
        criteria,
        plannedAt: new Date(now).toISOString(),
      },
    });
  }
  return { steps, notes };
}
