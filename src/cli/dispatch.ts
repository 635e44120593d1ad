import path from 'node:path';
import { parseCliArgs } from './args.js';
import { type CliArgs } from './flags.js';
import { loadConfig } from '../config/load.js';
import type { FileConfig } from '../config/schema.js';
import { exitCodeFor } from './exit.js';
import { commandHelp, overviewHelp } from './help.js';
import { EXIT, type Io } from '../commands/io.js';
import type { RunOptions } from '../model/options.js';
import { parseDockerHost } from '../parse/docker-host.js';
import { DEFAULT_ESCALATION } from '../model/escalation.js';
import { DEFAULT_NOTIFY_COOLDOWN_MS } from '../model/notify.js';
import { notifyFromEnv } from '../config/value-parsers.js';
import { CLEANUP_SCRIPT } from '../model/gate.js';
import { installRoot, packageVersion } from './version.js';
import { DEFAULT_POLICY, withMinAge, type RemediationPolicy } from '../model/remediation/policy.js';

const DEFAULT_BUDGET_SECONDS = 60;
const DEFAULT_DISK_THRESHOLD_PCT = 80;
/** The longest trend window is 7 days. */
const DEFAULT_TREND_DAYS = 7;
/** watch: the supervisor's own cadence. */
export const DEFAULT_INTERVAL_MS = 20 * 60_000;

/** Parse, resolve the options, run the command; whatever it throws becomes an exit code through exitCodeFor (cli/exit.ts). */
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
      const { guard } = await import('../commands/guard.js');
      return await guard(args.paths[0]!, args.needBytes!, args.maxPct!, io);
    }
    if (args.command === 'host') {
      const { hostCheck, hostInstall } = await import('../commands/host/index.js');
      const { execRunner } = await import('../host/exec.js');
      return args.hostAction === 'check'
        ? await hostCheck(args.factoryRoot!, installRoot(), execRunner, io)
        : await hostInstall(args.factoryRoot!, installRoot(), args.dryRun ?? false, execRunner, io);
    }
    const configFile = args.configFile ?? io.env.PREFLIGHT_CONFIG;
    const config = configFile ? await loadConfig(configFile) : {};
    const options = resolveOptions(args, config, io.env);
    if (args.command === 'trend') return await (await import('../commands/trend.js')).trend(options, io);
    if (args.command === 'remediate') return await (await import('../commands/remediate.js')).remediate(options, io);
    if (args.command === 'watch') {
      const plan = {
        intervalMs: args.intervalMs ?? DEFAULT_INTERVAL_MS,
        budgetMs: options.budgetMs,
        runArgv: args.runArgv ?? [],
        notify: args.notify ?? [],
      };
      return await (await import('../commands/watch.js')).watch(plan, io);
    }
    return await (await import('../commands/report.js')).report(options, io);
  } catch (err) {
    return exitCodeFor(err, io);
  }
}

/**
 * Precedence: flag > environment > config file > default. A variable that
 * names the setting itself (DOCKER_HOST, OPS_JOURNAL_ROOT, OPS_VAULT_ROOT)
 * overrides the file, as the host sets it for every tool; a default derived
 * from another variable (OPS_REPO_ROOT, FACTORY_ROOT) is only a default, and
 * the file overrides it. An empty variable counts as unset.
 */
export function resolveOptions(args: CliArgs, config: FileConfig, env: NodeJS.ProcessEnv): RunOptions {
  const diskThresholdPct = args.diskThresholdPct ?? config.diskThresholdPct ?? DEFAULT_DISK_THRESHOLD_PCT;
  const fromEnv = (name: string) => env[name] || undefined;
  const repoRoot = fromEnv('OPS_REPO_ROOT');
  return {
    format: args.format ?? 'markdown',
    budgetMs: (args.budgetSeconds ?? config.budgetSeconds ?? DEFAULT_BUDGET_SECONDS) * 1000,
    // --path adds to the file's paths; --all-mounts can only turn it on.
    paths: [...(config.paths ?? []), ...args.paths],
    allMounts: args.allMounts || (config.allMounts ?? false),
    docker: parseDockerHost(fromEnv('DOCKER_HOST') ?? config.dockerHost),
    dockerCli: {
      context: fromEnv('DOCKER_CONTEXT') ?? null,
      host: fromEnv('DOCKER_HOST') ?? null,
      configDir: fromEnv('DOCKER_CONFIG') ?? `${env.HOME ?? '/root'}/.docker`,
    },
    diskThresholdPct,
    scanOutside: args.scanOutside ?? false,
    journalRoot: args.noJournal
      ? null
      : (args.journalDir ??
        fromEnv('OPS_JOURNAL_ROOT') ??
        config.journalRoot ??
        (repoRoot ? path.join(repoRoot, 'journal', 'supervisor') : './journal')),
    journalKeepDays: args.journalKeepDays ?? config.journalKeepDays ?? null,
    trendDays: args.trendDays ?? DEFAULT_TREND_DAYS,
    trendSvg: args.svgFile,
    actionScript: args.actionScript ?? config.actionScript ?? defaultActionScript(fromEnv('FACTORY_ROOT')),
    escalate: args.escalate ?? false,
    escalation: {
      ...DEFAULT_ESCALATION,
      ...config.escalation,
      ...(args.horizonMs === undefined ? {} : { horizonMs: args.horizonMs }),
    },
    // The host's OPS_VAULT_ROOT is the pending folder itself.
    vault: {
      pending:
        args.vaultDir ??
        fromEnv('OPS_VAULT_ROOT') ??
        config.vaultPending ??
        (repoRoot ? path.join(repoRoot, 'vault', 'pending') : null),
      actions: args.vaultActionsDir ?? config.vaultActions ?? null,
    },
    remediation: {
      policy: remediationPolicy(args, config, diskThresholdPct),
      always: args.command === 'remediate',
      apply: args.apply ?? false,
      applySafe: args.applySafe ?? false,
      maxTier: args.maxTier ?? 'safe',
    },
    // trend measures nothing: it never writes the textfile, whatever the config says.
    promFile: args.command === 'trend' ? null : (args.promFile ?? config.promFile ?? null),
    notify:
      args.command === 'trend'
        ? []
        : args.notify && args.notify.length > 0
          ? args.notify
          : (notifyFromEnv(fromEnv('PREFLIGHT_NOTIFY')) ?? config.notify ?? []),
    notifyCooldownMs: config.notifyCooldownMs ?? DEFAULT_NOTIFY_COOLDOWN_MS,
  };
}

/** The default low watermark sits 5 points under the disk threshold (80 → 75, as kubelet frees 85 → 80). */
function remediationPolicy(args: CliArgs, config: FileConfig, diskThresholdPct: number): RemediationPolicy {
  const fromFile = config.remediation ?? {};
  const policy = {
    ...DEFAULT_POLICY,
    ...fromFile,
    targetPct: args.targetPct ?? fromFile.targetPct ?? Math.max(1, diskThresholdPct - 5),
  };
  return args.minAgeMs === undefined ? policy : withMinAge(policy, args.minAgeMs);
}

/**
 * The host runs `bash "$FACTORY_ROOT/<action_script>"`: our script's path from
 * there (`../` where we live outside it). Without FACTORY_ROOT, the path inside
 * this checkout, as when it is the host's root.
 */
export function defaultActionScript(factoryRoot: string | undefined): string {
  if (!factoryRoot) return CLEANUP_SCRIPT;
  return path.relative(path.resolve(factoryRoot), path.join(installRoot(), CLEANUP_SCRIPT));
}
