import { MAX_BUDGET_SECONDS, parseDuration, parsePromFile, parseSize } from './value-parsers.js';
import { parseDockerHost } from '../parse/docker-host.js';
import { notifyUrlProblem, redactUrl } from '../model/notify.js';
import { PatternRefused, compileTagPattern } from '../model/remediation/tag-pattern.js';

/*
 * How a config value is read: what it must be (said in the error) and how to
 * turn it into what RunOptions holds. YAML and TOML both arrive here as plain
 * values, so one set of checks serves both formats.
 */

/** A value that is not what its key expects; `at` names the list item (`[2]`). */
export class NotValid extends Error {
  constructor(
    readonly expected: string,
    readonly got: unknown,
    readonly at = '',
    readonly detail = '',
  ) {
    super(expected);
  }
}

export interface ValueType<T> {
  expected: string;
  /** The value as RunOptions holds it; throws NotValid. */
  read(value: unknown): T;
}

function check<T>(expected: string, read: (value: unknown) => T | undefined): ValueType<T> {
  return {
    expected,
    read(value) {
      const out = read(value);
      if (out === undefined) throw new NotValid(expected, value);
      return out;
    },
  };
}

/** args.ts's flag parsers throw a flag-worded UsageError; here only whether it parsed matters. */
function attempt<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export const percentage = check('a percentage in (0, 100]', (v) => (isNumber(v) && v > 0 && v <= 100 ? v : undefined));

export const seconds = check(`a number of seconds in (0, ${MAX_BUDGET_SECONDS}]`, (v) =>
  isNumber(v) && v > 0 && v <= MAX_BUDGET_SECONDS ? v : undefined,
);

export function wholeNumber(min: number, max: number, unit: string): ValueType<number> {
  return check(`a whole number of ${unit} from ${min} to ${max}`, (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : undefined,
  );
}

/** YAML 1.2 (the core schema we parse with) has only true and false: `yes` and `on` are strings, and land here. */
export const boolean = check('true or false', (v) => (typeof v === 'boolean' ? v : undefined));

export const text = check('a non-empty string', (v) => (typeof v === 'string' && v.trim() !== '' ? v : undefined));

/** node_exporter's textfile collector reads only `*.prom`. */
export const promFile = check('a file name ending in .prom', (v) =>
  typeof v === 'string' ? attempt(() => parsePromFile(v)) : undefined,
);

export const duration = check('a duration such as 0s, 90m, 24h or 7d', (v) => {
  const ms = typeof v === 'string' ? attempt(() => parseDuration(v, '')) : undefined;
  return ms !== undefined && Number.isSafeInteger(ms) ? ms : undefined;
});

/** `10G`, `500M`, or a whole number of bytes (TOML and YAML both write 0 unquoted). */
export const size = check('a size such as 10G, 500M or 1048576', (v) =>
  typeof v === 'string' || (Number.isSafeInteger(v) && (v as number) >= 0)
    ? attempt(() => parseSize(String(v), ''))
    : undefined,
);

/** Checked here rather than at connect time: a config can be fixed before the run, an environment may not be ours. */
export const dockerAddress = check('a unix:///path or tcp://host:port address', (v) =>
  typeof v === 'string' && v.trim() !== '' && parseDockerHost(v).kind !== 'unsupported' ? v : undefined,
);

/**
 * A keep pattern: what JavaScript's RegExp would accept, and within the
 * subset tag-pattern.ts matches in linear time (no backreferences or
 * lookarounds); the detail says why one is refused.
 */
export const regex: ValueType<string> = {
  expected: 'a regular expression',
  read(value) {
    if (typeof value !== 'string' || value === '') throw new NotValid(this.expected, value);
    try {
      // Only compiled, never run here: RegExp's syntax errors for what the subset's parser lets through.
      new RegExp(value);
      compileTagPattern(value);
    } catch (err) {
      const why =
        err instanceof PatternRefused
          ? `${err.message}: keep patterns are matched in linear time, see the README`
          : (err as Error).message;
      throw new NotValid(this.expected, value, '', why);
    }
    return value;
  },
};

/** A notification URL: the error names its scheme and host only (its path holds the token). */
export const notifyUrl: ValueType<string> = {
  expected: 'an http, https or ntfy URL',
  read(value) {
    if (typeof value !== 'string') throw new NotValid(this.expected, value);
    const problem = notifyUrlProblem(value);
    if (problem) throw new NotValid(this.expected, redactUrl(value), '', problem);
    return value;
  },
};

export function listOf<T>(item: ValueType<T>, expected: string, max = Infinity): ValueType<T[]> {
  return {
    expected,
    read(value) {
      if (!Array.isArray(value)) throw new NotValid(expected, value);
      if (value.length > max) throw new NotValid(expected, value, '', `${value.length} items; at most ${max}`);
      return value.map((v, i) => {
        try {
          return item.read(v);
        } catch (err) {
          if (!(err instanceof NotValid)) throw err;
          throw new NotValid(err.expected, err.got, `[${i}]${err.at}`, err.detail);
        }
      });
    },
  };
}

/** A YAML mapping or TOML table: a plain object (smol-toml's have no prototype). */
export function isMapping(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

const MAX_SHOWN = 60;

/** The offending value on one line: strings quoted and escaped, long ones cut. */
export function shown(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (v instanceof Date) return `a date (${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  if (ArrayBuffer.isView(v)) return 'binary data';
  const json = JSON.stringify(v) ?? String(v);
  const cut = json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN)}…` : json;
  return isMapping(v) ? `a mapping ${cut}` : cut;
}
