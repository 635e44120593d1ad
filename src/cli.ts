import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { HELP, parseCliArgs, type CliArgs } from './args.js';
import { loadConfig, type FileConfig } from './config.js';
import { UsageError, errorMessage } from './errors.js';
import { EXIT, type Io } from './io.js';
import type { RunOptions } from './options.js';
import { parseDockerHost } from './parse/docker-host.js';
import { execRunner } from './probes/exec.js';
import { renderFired } from './render/fired.js';
import { renderJson } from './render/json.js';
import { renderMarkdown } from './render/markdown.js';
import { makeReport, type JournalStatus } from './report.js';
import { buildEntry } from './journal/build.js';
import { appendEntry, pruneJournal, readWindow } from './journal/store.js';
import { trendFromHistory, trendSection } from './sections/trend/index.js';
import type { Section, SectionResult } from './sections/types.js';
import { runSections } from './run/sections.js';
import { createSharedProbes } from './run/shared-probes.js';
import { SECTIONS } from './sections/registry.js';


const DEFAULT_BUDGET_SECONDS = 60;
/** The longest trend window is 7 days. */
const DEFAULT_TREND_DAYS = 7;
/** Kept back from the budget for rendering and writing the report. */
const RENDER_RESERVE_MS = 300;


/** The one place typed errors become exit codes. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    const args = parseCliArgs(argv);
    if (args.command === 'help') {
      io.stdout(HELP);
      return EXIT.ok;
    }
    if (args.command === 'version') {
      io.stdout(`${packageVersion()}\n`);
      return EXIT.ok;
    }
    if (args.command === 'guard') {
      // Hot path: loaded only here, and it touches no Docker API.
      const { guard } = await import('./guard.js');
      return await guard(args.paths[0]!, args.needBytes!, args.maxPct!, io);
    }
    const configFile = args.configFile ?? io.env.PREFLIGHT_CONFIG;
    const config = configFile ? await loadConfig(configFile) : { paths: [] };
    const options = resolveOptions(args, config, io.env);
    if (args.command === 'trend') return await trendOnly(options, io);
    return await report(options, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`preflight: ${err.message}\n`);
      return EXIT.usage;
    }
    io.stderr(`preflight: internal error: ${errorMessage(err)}\n`);
    return EXIT.internal;
  }
}

export function resolveOptions(args: CliArgs, config: FileConfig, env: NodeJS.ProcessEnv): RunOptions {
  return {
    format: args.format ?? 'markdown',
    budgetMs: (args.budgetSeconds ?? config.budgetSeconds ?? DEFAULT_BUDGET_SECONDS) * 1000,
    paths: [...config.paths, ...args.paths],
    allMounts: args.allMounts || (config.allMounts ?? false),
    docker: parseDockerHost(env.DOCKER_HOST ?? config.dockerHost),
    diskThresholdPct: args.diskThresholdPct ?? config.diskThresholdPct ?? 80,
    scanOutside: args.scanOutside ?? false,
    journalRoot: args.noJournal ? null : args.journalDir ?? env.OPS_JOURNAL_ROOT ?? './journal',
    journalKeepDays: args.journalKeepDays ?? null,
    trendDays: args.trendDays ?? DEFAULT_TREND_DAYS,
  };
}

async function report(options: RunOptions, io: Io): Promise<number> {
  const startedAt = new Date();
  const runDeadline = startedAt.getTime() + Math.max(0, options.budgetMs - RENDER_RESERVE_MS);
  const results = await runSections(SECTIONS, runDeadline, {
    startedAt,
    options,
    run: execRunner,
    shared: createSharedProbes(options),
  });
  // The append gets what is left of the budget (a hung journal disk must not stretch the run).
  const journal = options.journalRoot ? await recordRun(options, results, startedAt, runDeadline + RENDER_RESERVE_MS / 2 - Date.now()) : null;
  const rep = makeReport(results, startedAt, new Date(), journal);
  const render = { json: renderJson, markdown: renderMarkdown, fired: renderFired }[options.format];
  io.stdout(render(rep));
  return EXIT.ok;
}

/** Append this run to the journal (and apply retention); a failure is reported, never fatal. */
async function recordRun(options: RunOptions, results: SectionResult[], startedAt: Date, timeoutMs: number): Promise<JournalStatus> {
  const entry = buildEntry(results, hostname(), startedAt);
  const res = await appendEntry(options.journalRoot!, entry, timeoutMs);
  if (res.ok && options.journalKeepDays !== null) await pruneJournal(options.journalRoot!, options.journalKeepDays, startedAt);
  return res.ok ? { written: true, file: res.file, reason: null } : { written: false, file: res.file, reason: res.reason };
}

/** `preflight trend`: the trend section alone, from the journal, with no probes. */
async function trendOnly(options: RunOptions, io: Io): Promise<number> {
  const startedAt = new Date();
  const history = await readWindow(options.journalRoot ?? './journal', options.trendDays, startedAt);
  const data = trendFromHistory(history, null, options.diskThresholdPct);
  const result: SectionResult = { section: trendSection as Section, status: 'ok', data, durationMs: Date.now() - startedAt.getTime() };
  const rep = makeReport([result], startedAt, new Date(), null);
  io.stdout(options.format === 'json' ? renderJson(rep) : renderMarkdown(rep));
  return EXIT.ok;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
