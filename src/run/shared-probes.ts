import { errorMessage } from '../errors.js';
import { dockerGet } from '../probes/docker-api.js';
import type { RunOptions } from '../options.js';
import { remainingMs } from './deadline.js';

export type DockerInfo =
  | { reachable: true; rootDir: string; driver: string; serverVersion: string }
  | { reachable: false; reason: string };

export interface SharedProbes {
  dockerInfo(deadline: number): Promise<DockerInfo>;
}

/** Cheap calls (GET /info) answer in milliseconds; past this the daemon is in trouble. */
const DOCKER_INFO_TIMEOUT_MS = 3000;

/**
 * Probes more than one section needs, memoised for the lifetime of one run
 * (not the module), so a report makes each call once.
 */
export function createSharedProbes(options: RunOptions): SharedProbes {
  let info: Promise<DockerInfo> | undefined;
  return {
    dockerInfo(deadline) {
      info ??= fetchDockerInfo(options, Math.min(DOCKER_INFO_TIMEOUT_MS, remainingMs(deadline)));
      return info;
    },
  };
}

async function fetchDockerInfo(options: RunOptions, timeoutMs: number): Promise<DockerInfo> {
  try {
    const body = (await dockerGet(options.docker, '/info', timeoutMs)) as Record<string, unknown>;
    return {
      reachable: true,
      rootDir: String(body.DockerRootDir ?? ''),
      driver: String(body.Driver ?? ''),
      serverVersion: String(body.ServerVersion ?? ''),
    };
  } catch (err) {
    return { reachable: false, reason: errorMessage(err) };
  }
}
