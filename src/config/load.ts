import path from 'node:path';
import { UsageError } from '../model/errors.js';
import { execRunner } from '../host/exec.js';
import { readSmallFile } from '../probes/files.js';
import { tooManyEntries } from './bounds.js';
import type { FileConfig } from './schema.js';
import { configFromDocument } from './validate.js';

/** The example config is 3 KiB; a config is read whole and parsed in process. */
export const CONFIG_MAX_BYTES = 64 * 1024;
const CONFIG_READ_TIMEOUT_MS = 3000;
/** A config needs few aliases, if any; a handful of nested ones can expand to gigabytes (a "billion laughs"). */
export const MAX_YAML_ALIASES = 50;

export type ConfigFormat = 'yaml' | 'toml';

/** Read `--config FILE` (or $PREFLIGHT_CONFIG): YAML, or TOML as older configs are. */
export async function loadConfig(file: string): Promise<FileConfig> {
  let text: string;
  try {
    // In a child under a deadline: a config on a hung mount must not hold the process.
    text = await readSmallFile(execRunner, file, CONFIG_MAX_BYTES, CONFIG_READ_TIMEOUT_MS);
  } catch (err) {
    throw new UsageError(`--config ${file}: ${(err as Error).message}`);
  }
  return configFromText(text, file);
}

export async function configFromText(text: string, file: string): Promise<FileConfig> {
  // Counted before the parser sees it: parsing many keys is quadratic (bounds.ts).
  const tooBig = tooManyEntries(text);
  if (tooBig) throw new UsageError(`${file}: ${tooBig}`);
  return configFromDocument(await parseConfigText(text, configFormat(file, text), file), file);
}

/**
 * By extension; otherwise by the first statement: TOML's is `key = value` or
 * a `[table]` header, YAML's is `key: value`.
 */
export function configFormat(file: string, text: string): ConfigFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.toml') return 'toml';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  const first = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
  return first !== undefined && /^(\[|[\w."'-]+\s*=)/.test(first) ? 'toml' : 'yaml';
}

export async function parseConfigText(text: string, format: ConfigFormat, file: string): Promise<unknown> {
  return format === 'toml' ? parseToml(text, file) : parseYaml(text, file);
}

async function parseToml(text: string, file: string): Promise<unknown> {
  const { parse } = await import('smol-toml');
  try {
    return parse(text); // rejects duplicate keys and tables itself, as TOML requires
  } catch (err) {
    const e = err as Error & { line?: number; column?: number };
    const where = e.line ? `line ${e.line}, column ${e.column}: ` : '';
    throw new UsageError(`${file}: ${where}${firstLine(e.message).replace(/^Invalid TOML document: /, '')}`);
  }
}

async function parseYaml(text: string, file: string): Promise<unknown> {
  const { parseDocument } = await import('yaml');
  // The core schema even under a `%YAML 1.1` directive: `yes`, `on` and `0777` stay what they look like in 1.2.
  // No merge keys (`<<` is then an unknown key); duplicate keys are errors; logLevel keeps the package off stderr.
  const doc = parseDocument(text, { schema: 'core', merge: false, uniqueKeys: true, logLevel: 'error' });
  // Warnings too (an unknown `!tag`): a config that does not say one plain thing is refused.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new UsageError(`${file}: ${yamlProblem(problem, text)}`);
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // An alias bomb, or an alias to an anchor not yet set.
    throw new UsageError(`${file}: ${firstLine((err as Error).message)}`);
  }
}

/** `line 4, column 3: duplicate key 'keep_labels'`, from the package's several-line message. */
function yamlProblem(
  problem: { code: string; message: string; linePos?: [{ line: number; col: number }, ...unknown[]] },
  text: string,
): string {
  const pos = problem.linePos?.[0];
  const where = pos ? `line ${pos.line}, column ${pos.col}: ` : '';
  if (problem.code === 'DUPLICATE_KEY' && pos) {
    const key = /^\s*(?:"([^"]*)"|'([^']*)'|([^:,{}\s]+))/.exec(
      text.split('\n')[pos.line - 1]?.slice(pos.col - 1) ?? '',
    );
    const name = key?.[1] ?? key?.[2] ?? key?.[3];
    return `${where}duplicate key${name ? ` '${JSON.stringify(name).slice(1, -1)}'` : ''} (each key may appear once)`;
  }
  return where + firstLine(problem.message).replace(/ at line \d+, column \d+:?$/, '');
}

const firstLine = (s: string) => s.split('\n')[0] ?? '';
