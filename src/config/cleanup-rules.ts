import path from 'node:path';
import { MAX_RULES, type CleanupRule, type RuleAction } from '../model/remediation/rules.js';
import { globProblem } from '../model/remediation/rule-glob.js';
import type { Tier } from '../model/remediation/tier.js';
import {
  NotValid,
  duration,
  isMapping,
  listOf,
  percentage,
  size,
  text,
  wholeNumber,
  type ValueType,
} from './values.js';

/*
 * `remediation.rules`: the operator's clean-up rules, each checked whole
 * before anything runs. A root is refused when it is, holds or lies in the
 * system's folders, Docker's or containerd's default roots, or this tool's
 * state: a rule there could delete what the host needs to boot or run.
 */

/** Folders no rule may be rooted at, in, or above. Docker's and containerd's measured roots are refused at planning. */
export const FORBIDDEN_ROOTS: readonly string[] = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/proc',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var/lib/docker',
  '/var/lib/containerd',
  '/var/lib/dpkg',
  '/var/lib/apt',
];

const within = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

/** Why a root is refused, or null: absolute, plain (no `.`, `..`, `//`, trailing `/`), and clear of FORBIDDEN_ROOTS. */
export function rootProblem(root: string): string | null {
  if (!path.isAbsolute(root)) return 'an absolute path';
  if (root === '/') return '/ holds the whole system';
  if (path.posix.normalize(root) !== root || root.endsWith('/') || root.split('/').includes('..'))
    return 'a plain path (no ., .., // or trailing /)';
  if (/[\0-\x1f]/.test(root)) return 'no control characters';
  const hit = FORBIDDEN_ROOTS.find((f) => within(root, f) || within(f, root));
  return hit ? `${hit} belongs to the system, Docker or this tool: no rule may clean it up, in it or above it` : null;
}

const TIERS: readonly Tier[] = ['safe', 'moderate', 'destructive'];
const ACTIONS = ['delete', 'rotate', 'truncate'] as const;
const KEYS = new Set([
  'name',
  'root',
  'match',
  'action',
  'older_than',
  'pressure_pct',
  'pressure_older_than',
  'larger_than',
  'keep_lines',
  'keep_bytes',
  'protect',
  'tier',
]);
const globs = listOf(text, 'a list of globs', 32);
const lines = wholeNumber(1, 10_000_000, 'lines');

function oneOf<T extends string>(values: readonly T[], expected: string): ValueType<T> {
  return {
    expected,
    read(v) {
      const hit = values.find((x) => x === v);
      if (hit === undefined) throw new NotValid(expected, v);
      return hit;
    },
  };
}

/** One field of a rule, its problem named at `.field`. */
function field<T>(rule: Record<string, unknown>, key: string, type: ValueType<T>): T | undefined {
  const v = rule[key];
  if (v === undefined) return undefined;
  try {
    return type.read(v);
  } catch (err) {
    if (!(err instanceof NotValid)) throw err;
    throw new NotValid(err.expected, err.got, `.${key}${err.at}`, err.detail);
  }
}

function required<T>(rule: Record<string, unknown>, key: string, type: ValueType<T>, why: string): T {
  const v = field(rule, key, type);
  if (v === undefined) throw new NotValid(type.expected, undefined, `.${key}`, why);
  return v;
}

function actionOf(r: Record<string, unknown>, kind: (typeof ACTIONS)[number]): RuleAction {
  const sizeFor = (what: string) => required(r, 'larger_than', size, `${what} needs larger_than`);
  const only = (allowed: string[]) => {
    const extra = ['older_than', 'pressure_pct', 'pressure_older_than', 'larger_than', 'keep_lines', 'keep_bytes'].find(
      (k) => r[k] !== undefined && !allowed.includes(k),
    );
    if (extra) throw new NotValid(`no ${extra} for action ${kind}`, r[extra], `.${extra}`);
  };
  if (kind === 'delete') {
    only(['older_than', 'pressure_pct', 'pressure_older_than']);
    const olderThanMs = required(r, 'older_than', duration, 'delete needs older_than');
    const abovePct = field(r, 'pressure_pct', percentage);
    const shorter = field(r, 'pressure_older_than', duration);
    if ((abovePct === undefined) !== (shorter === undefined))
      throw new NotValid('pressure_pct and pressure_older_than together', abovePct ?? shorter, '.pressure_pct');
    if (shorter !== undefined && shorter >= olderThanMs)
      throw new NotValid('an age shorter than older_than', r.pressure_older_than, '.pressure_older_than');
    return {
      kind,
      olderThanMs,
      pressure: abovePct === undefined ? null : { abovePct, olderThanMs: shorter! },
    };
  }
  if (kind === 'truncate') {
    only(['larger_than']);
    return { kind, largerThanBytes: sizeFor('truncate') };
  }
  only(['larger_than', 'keep_lines', 'keep_bytes']);
  const keepLines = field(r, 'keep_lines', lines);
  const keepBytes = field(r, 'keep_bytes', size);
  if ((keepLines === undefined) === (keepBytes === undefined))
    throw new NotValid('keep_lines or keep_bytes (one of them)', r.keep_lines ?? r.keep_bytes, '.keep_lines');
  return {
    kind,
    largerThanBytes: sizeFor('rotate'),
    keep: keepLines !== undefined ? { lines: keepLines } : { bytes: keepBytes! },
  };
}

function ruleOf(value: unknown): CleanupRule {
  if (!isMapping(value)) throw new NotValid('a mapping with root, match and action', value);
  const unknown = Object.keys(value).find((k) => !KEYS.has(k));
  if (unknown !== undefined) throw new NotValid(`one of ${[...KEYS].join(', ')}`, unknown, '', 'unknown key');
  const name = required(value, 'name', text, 'every rule has a name');
  const root = required(value, 'root', text, 'every rule has a root');
  const rootWhy = rootProblem(root);
  if (rootWhy) throw new NotValid("a folder of the host's own data", root, '.root', rootWhy);
  const match = required(value, 'match', text, 'every rule has a match glob');
  const protect = field(value, 'protect', globs) ?? [];
  for (const [i, g] of [match, ...protect].entries()) {
    const why = globProblem(g);
    if (why) throw new NotValid('a glob', g, i === 0 ? '.match' : `.protect[${i - 1}]`, why);
  }
  const kind = required(value, 'action', oneOf(ACTIONS, 'delete, rotate or truncate'), 'every rule has an action');
  const tier = field(value, 'tier', oneOf(TIERS, 'safe, moderate or destructive'));
  return { name, root, match, action: actionOf(value, kind), protect, tier: tier ?? 'moderate' };
}

/** The rules list: at most MAX_RULES, names unique (they title the plan's steps). */
export const cleanupRules: ValueType<CleanupRule[]> = {
  expected: 'a list of clean-up rules',
  read(value) {
    const rules = listOf({ expected: 'a clean-up rule', read: ruleOf }, this.expected, MAX_RULES).read(value);
    const seen = new Set<string>();
    for (const [i, r] of rules.entries()) {
      if (seen.has(r.name)) throw new NotValid('a name no other rule has', r.name, `[${i}].name`);
      seen.add(r.name);
    }
    return rules;
  },
};
