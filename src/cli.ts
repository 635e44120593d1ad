import { readFileSync } from 'node:fs';
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
import { makeReport } from './report.js';
import { runSections } from './run/sections.js';
import { createSharedProbes } from './run/shared-probes.js';
import { SECTIONS } from './sections/registry.js';


const DEFAULT_BUDGET_SECONDS = 60;
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
    return await report(resolveOptions(args, config, io.env), io);
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
  };
}

async function report(options: RunOptions, io: Io): Promise<number> {
  const startedAt = new Date();
  const runDeadline = startedAt.getTime() + Math.max(0, options.budgetMs - RENDER_RESERVE_MS);
  const results = await runSections(SECTIONS, runDeadline, {
    options,
    run: execRunner,
    shared: createSharedProbes(options),
  });
  const rep = makeReport(results, startedAt, new Date());
  const render = { json: renderJson, markdown: renderMarkdown, fired: renderFired }[options.format];
  io.stdout(render(rep));
  return EXIT.ok;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
