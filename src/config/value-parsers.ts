import { UsageError } from '../model/errors.js';
import { notifyUrlProblem, redactUrl } from '../model/notify.js';

/*
 * Pure parsers for flag and config values: each returns the typed value or
 * throws a one-line UsageError naming the flag (or config key) it read.
 */

export const MAX_BUDGET_SECONDS = 3600;

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `0s`, `90m`, `2h`, `7d`. */
export function parseDuration(value: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)([smhd])\s*$/.exec(value);
  if (!m) throw new UsageError(`${flag} must be a duration such as 0s, 90m, 2h or 7d (got '${value}')`);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
}

export function parseCount(value: string, flag: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1 || Number(value) > 3660)
    throw new UsageError(`${flag} must be a whole number of days from 1 to 3660 (got '${value}')`);
  return Number(value);
}

export function parsePct(value: string | number, flag: string): number {
  const n = typeof value === 'number' ? value : /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > 100)
    throw new UsageError(`${flag} must be a percentage in (0, 100] (got '${value}')`);
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  K: 2 ** 10,
  KI: 2 ** 10,
  KIB: 2 ** 10,
  M: 2 ** 20,
  MI: 2 ** 20,
  MIB: 2 ** 20,
  G: 2 ** 30,
  GI: 2 ** 30,
  GIB: 2 ** 30,
  T: 2 ** 40,
  TI: 2 ** 40,
  TIB: 2 ** 40,
  P: 2 ** 50,
  PI: 2 ** 50,
  PIB: 2 ** 50,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  PB: 1e15,
};

/**
 * `12G`, `12GiB`, `1.5T`, `500M`, `1048576`: K/M/G/T/P are powers of 1024
 * (as df -h and du -h mean them); `KB`/`MB`/`GB`… are powers of 1000.
 */
export function parseSize(value: string, flag = '--need'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value);
  const factor = m ? SIZE_UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || factor === undefined)
    throw new UsageError(`${flag} must be a size such as 12G, 500M or 1048576 (got '${value}')`);
  const bytes = Math.ceil(Number(m[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${flag} is too large (got '${value}')`);
  return bytes;
}

export function parseBudget(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > MAX_BUDGET_SECONDS) {
    throw new UsageError(`--budget must be a number of seconds in (0, ${MAX_BUDGET_SECONDS}] (got '${value}')`);
  }
  return n;
}

export function parsePathArg(value: string): string {
  if (value === '') throw new UsageError('--path must not be empty');
  return value;
}

export function parseTier(value: string): 'safe' | 'moderate' {
  if (value === 'safe' || value === 'moderate') return value;
  throw new UsageError(
    `--max-tier must be safe or moderate (destructive steps are never applied by this tool; got '${value}')`,
  );
}

/** The textfile collector reads only `*.prom`: any other name would be written and never scraped. */
export function parsePromFile(value: string, what = '--prom-file'): string {
  if (!/[^/]\.prom$/.test(value))
    throw new UsageError(
      `${what} must name a file ending in .prom (node_exporter's textfile collector reads only those; got '${value}')`,
    );
  return value;
}

/** --notify: the problem is said, the URL never (it holds the webhook's token). */
export function parseNotifyUrl(value: string, what = '--notify'): string {
  const problem = notifyUrlProblem(value);
  if (problem) throw new UsageError(`${what} must be an http, https or ntfy URL (${redactUrl(value)}: ${problem})`);
  return value;
}

/** PREFLIGHT_NOTIFY: URLs separated by spaces; unset or blank: undefined. */
export function notifyFromEnv(value: string | undefined): string[] | undefined {
  const urls = (value ?? '').split(/\s+/).filter((u) => u !== '');
  return urls.length > 0 ? urls.map((u) => parseNotifyUrl(u, 'PREFLIGHT_NOTIFY')) : undefined;
}

/** trend --svg: a file, or `-` for stdout. */
export function parseSvgTarget(value: string): string {
  if (value === '') throw new UsageError('--svg must name a file (or - for stdout)');
  return value;
}

/** watch: at least a second between run starts (a tighter loop is a benchmark, not a watch). */
export function parseInterval(value: string, flag: string): number {
  const ms = parseDuration(value, flag);
  if (ms < 1000) throw new UsageError(`${flag} must be at least 1s (got '${value}')`);
  return ms;
}
