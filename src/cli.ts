import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCliArgs, type CliArgs } from './args.js';
import { loadConfig, type FileConfig } from './config.js';
import { exitCodeFor } from './exit.js';
import { commandHelp, overviewHelp } from './help.js';
import { EXIT, type Io } from './io.js';
import type { RunOptions } from './options.js';
import { parseDockerHost } from './parse/docker-host.js';
import { DEFAULT_ESCALATION } from './model/escalation.js';
import { CLEANUP_SCRIPT } from './model/gate.js';
import { packageVersion } from './version.js';
import { DEFAULT_POLICY, withMinAge, type RemediationPolicy } from './model/remediation/policy.js';

const DEFAULT_BUDGET_SECONDS = 60;
/** The longest trend window is 7 days. */
const DEFAULT_TREND_DAYS = 7;
/** watch: the supervisor's own cadence. */
export const DEFAULT_INTERVAL_MS = 20 * 60_000;


/** The one place typed errors become exit codes. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    const args = parseCliArgs(argv);
    if (args.command === 'help') {
      io.stdout(args.helpFor ? commandHelp(args.helpFor) : overviewHelp());
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
    if (args.command === 'trend') return await (await import('./commands/trend.js')).trend(options, io);
    if (args.command === 'remediate') return await (await import('./commands/remediate.js')).remediate(options, io);
    if (args.command === 'watch') {
      const plan = { intervalMs: args.intervalMs ?? DEFAULT_INTERVAL_MS, budgetMs: options.budgetMs, runArgv: args.runArgv ?? [] };
      return await (await import('./commands/watch.js')).watch(plan, io);
    }
    return await (await import('./commands/report.js')).report(options, io);
  } catch (err) {
    return exitCodeFor(err, io);
  }
}

export function resolveOptions(args: CliArgs, config: FileConfig, env: NodeJS.ProcessEnv): RunOptions {
  const diskThresholdPct = args.diskThresholdPct ?? config.diskThresholdPct ?? 80;
  return {
    format: args.format ?? 'markdown',
    budgetMs: (args.budgetSeconds ?? config.budgetSeconds ?? DEFAULT_BUDGET_SECONDS) * 1000,
    paths: [...config.paths, ...args.paths],
    allMounts: args.allMounts || (config.allMounts ?? false),
    docker: parseDockerHost(env.DOCKER_HOST ?? config.dockerHost),
    diskThresholdPct,
    scanOutside: args.scanOutside ?? false,
    journalRoot: args.noJournal ? null : args.journalDir ?? env.OPS_JOURNAL_ROOT ?? (env.OPS_REPO_ROOT ? path.join(env.OPS_REPO_ROOT, 'journal', 'supervisor') : './journal'),
    journalKeepDays: args.journalKeepDays ?? null,
    trendDays: args.trendDays ?? DEFAULT_TREND_DAYS,
    actionScript: args.actionScript ?? defaultActionScript(env.FACTORY_ROOT),
    escalate: args.escalate ?? false,
    escalation: { ...DEFAULT_ESCALATION, ...(args.horizonMs === undefined ? {} : { horizonMs: args.horizonMs }) },
    // The host's OPS_VAULT_ROOT is the pending folder itself.
    vault: {
      pending: args.vaultDir ?? (env.OPS_VAULT_ROOT || null) ?? (env.OPS_REPO_ROOT ? path.join(env.OPS_REPO_ROOT, 'vault', 'pending') : null),
      actions: args.vaultActionsDir ?? null,
    },
    remediation: {
      policy: remediationPolicy(args, config, diskThresholdPct),
      always: args.command === 'remediate',
      apply: args.apply ?? false,
      maxTier: args.maxTier ?? 'safe',
    },
  };
}

/** The default low watermark sits 5 points under the disk threshold (80 → 75, as kubelet frees 85 → 80). */
function remediationPolicy(args: CliArgs, config: FileConfig, diskThresholdPct: number): RemediationPolicy {
  const fromFile = config.remediation ?? {};
  const policy = { ...DEFAULT_POLICY, ...fromFile, targetPct: args.targetPct ?? fromFile.targetPct ?? Math.max(1, diskThresholdPct - 5) };
  return args.minAgeMs === undefined ? policy : withMinAge(policy, args.minAgeMs);
}

/**
 * The host runs `bash "$FACTORY_ROOT/<action_script>"`: our script's path from
 * there (`../` where we live outside it). Without FACTORY_ROOT, the path inside
 * this checkout, as when it is the host's root.
 */
export function defaultActionScript(factoryRoot: string | undefined): string {
  if (!factoryRoot) return CLEANUP_SCRIPT;
  const installRoot = fileURLToPath(new URL('..', import.meta.url));
  return path.relative(path.resolve(factoryRoot), path.join(installRoot, CLEANUP_SCRIPT));
}
