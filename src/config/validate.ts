import { UsageError } from '../model/errors.js';
import { CONFIG_KEYS, SECTIONS, type FileConfig } from './schema.js';
import { NotValid, isMapping, shown } from './values.js';

const EXAMPLE = 'integrations/preflight.example.yaml';

/**
 * A parsed YAML or TOML document → what it sets. Every problem is a
 * UsageError of one line naming the file, the dotted key, the value and what
 * was expected; nothing unknown or malformed is ignored.
 */
export function configFromDocument(doc: unknown, file: string): FileConfig {
  // A file of comments only (or empty) sets nothing.
  if (doc === null || doc === undefined) return {};
  if (!isMapping(doc))
    throw new UsageError(
      `${file}: expected a mapping of keys such as 'disk_threshold: 80' at the top, got ${shown(doc)}`,
    );
  checkKeys(doc, '', file);
  const config: FileConfig = {};
  for (const k of CONFIG_KEYS) {
    const value = lookup(doc, k.key);
    if (value === undefined || (value === null && k.nullIsDefault)) continue;
    try {
      k.set(config, k.type.read(value));
    } catch (err) {
      if (!(err instanceof NotValid)) throw err;
      const detail = err.detail ? ` (${err.detail})` : '';
      throw new UsageError(`${file}: ${k.key}${err.at}: expected ${err.expected}, got ${shown(err.got)}${detail}`);
    }
  }
  return config;
}

function checkKeys(map: Record<string, unknown>, prefix: string, file: string): void {
  for (const [name, value] of Object.entries(map)) {
    const key = prefix + name;
    if (SECTIONS.has(key)) {
      // `remediation:` with every key under it commented out is null: an empty section.
      if (value === null) continue;
      if (!isMapping(value))
        throw new UsageError(
          `${file}: ${key}: expected a mapping of keys (a [${key}] table in TOML), got ${shown(value)}`,
        );
      checkKeys(value, `${key}.`, file);
    } else if (!CONFIG_KEYS.some((k) => k.key === key)) {
      const near = key.length <= MAX_KEY ? closestKey(key) : null;
      throw new UsageError(
        `${file}: unknown key '${keyShown(key)}' (${near ? `did you mean '${near}'?` : `${EXAMPLE} lists every key`})`,
      );
    }
  }
}

const MAX_KEY = 100;

/** A key as the file wrote it, on one line: `"a\nb": 1` is a legal YAML key. */
function keyShown(key: string): string {
  const escaped = JSON.stringify(key).slice(1, -1);
  return escaped.length > MAX_KEY ? `${escaped.slice(0, MAX_KEY)}…` : escaped;
}

function lookup(doc: Record<string, unknown>, dotted: string): unknown {
  let at: unknown = doc;
  for (const part of dotted.split('.')) {
    // Own keys only: a `__proto__` key must not lend a value through the prototype.
    if (!isMapping(at) || !Object.hasOwn(at, part)) return undefined;
    at = at[part];
  }
  return at;
}

/**
 * The known key a typo most likely meant: by edit distance on the whole
 * dotted path, or on the last part when the key sits in the wrong section
 * (`target_pct` at the top means `remediation.target_pct`).
 */
export function closestKey(key: string): string | null {
  const leaf = key.slice(key.lastIndexOf('.') + 1);
  let best: { key: string; score: number } | null = null;
  for (const { key: known } of CONFIG_KEYS) {
    const score = Math.min(editDistance(key, known), editDistance(leaf, known.slice(known.lastIndexOf('.') + 1)) + 1);
    if (!best || score < best.score) best = { key: known, score };
  }
  // Beyond a third of the name it is a different word, not a typo.
  return best && best.score <= Math.max(2, Math.floor(leaf.length / 3)) ? best.key : null;
}

/** Optimal string alignment: Levenshtein plus a swap of two neighbours as one edit (`lables`). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
