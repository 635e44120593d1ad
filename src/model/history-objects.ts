import { clip } from '../text/escape.js';
import { byText } from '../text/order.js';

/*
 * The biggest Docker objects of each kind, as one run's history record
 * keeps them: enough to say which volume or log grows, bounded so a year
 * of history stays small.
 */

/** Volumes, containers' writable layers, container logs, images by repository, build cache by type. */
export const OBJECT_KINDS = ['volume', 'container', 'log', 'image', 'build-cache'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/** Per kind, the biggest objects as `[name, bytes]`, largest first. A kind not measured this run is absent. */
export type ObjectFigures = Partial<Record<ObjectKind, [string, number][]>>;

const KINDS: ReadonlySet<string> = new Set(OBJECT_KINDS);

/** Objects kept per kind and run: a growing one is soon among the biggest. */
export const OBJECTS_PER_KIND = 8;
/** Code points of a name the history keeps (volume names, container names, repositories). */
export const OBJECT_NAME_MAX = 100;

/** The biggest `OBJECTS_PER_KIND` of `items`, names capped (two names cut to one add up). */
export function topObjects(items: readonly { name: string; bytes: number }[]): [string, number][] {
  const byName = new Map<string, number>();
  for (const { name, bytes } of items) {
    const key = clip(name, OBJECT_NAME_MAX);
    if (key !== '' && Number.isSafeInteger(bytes) && bytes >= 0) byName.set(key, (byName.get(key) ?? 0) + bytes);
  }
  return [...byName]
    .sort((a, b) => b[1] - a[1] || byText(a[0], b[0]))
    .slice(0, OBJECTS_PER_KIND)
    .filter(([, bytes]) => Number.isSafeInteger(bytes));
}

// A name no longer than the cap in code units is within it in code points: most are, and need no count.
const isName = (v: unknown): v is string =>
  typeof v === 'string' &&
  v !== '' &&
  !v.includes('\0') &&
  (v.length <= OBJECT_NAME_MAX || [...v].length <= OBJECT_NAME_MAX);
const isBytes = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/*
 * Figures of one kind: pairs of a name and whole non-negative bytes, largest
 * first, each name once. Plain loops: a week of history holds 20,000 such
 * pairs, checked before the JIT warms up (every() and a callback a pair cost
 * twice as much).
 */
function validFigures(list: unknown): list is [string, number][] {
  if (!Array.isArray(list) || list.length > OBJECTS_PER_KIND) return false;
  for (let i = 0; i < list.length; i += 1) {
    const pair: unknown = list[i];
    if (!Array.isArray(pair) || pair.length !== 2 || !isName(pair[0]) || !isBytes(pair[1])) return false;
    if (i === 0) continue;
    const before = list[i - 1] as [string, number];
    if (pair[1] > before[1]) return false;
    for (let j = 0; j < i; j += 1) if ((list[j] as [string, number])[0] === pair[0]) return false;
  }
  return true;
}

/**
 * A record's `objects` checked as every field of it is: known kinds only, at
 * most OBJECTS_PER_KIND per kind, each a capped name once with whole
 * non-negative bytes, largest first. Anything else makes the record unreadable.
 */
export function validObjects(v: unknown): ObjectFigures | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const out: ObjectFigures = {};
  for (const kind in v) {
    if (!KINDS.has(kind)) return null;
    const list = (v as Record<string, unknown>)[kind];
    if (!validFigures(list)) return null;
    // Pairs of a name and a number carry nothing else: the parsed list is kept as it is.
    out[kind as ObjectKind] = list;
  }
  return out;
}
