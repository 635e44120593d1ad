import type { Runner } from '../host/exec.js';
import type { DockerCliSettings } from '../model/options.js';
import { readSmallFile } from './files.js';

/**
 * Would the docker CLI reach a daemon the socket cannot? Only through a
 * context (DOCKER_CONTEXT, or a current context in the CLI config) or a
 * DOCKER_HOST this client does not speak (ssh://). Otherwise spawning the
 * CLI (~50 ms) would only fail the same way. The settings come from the
 * environment through the run's options, never read here.
 */
export async function dockerCliMightWork(run: Runner, cli: DockerCliSettings | undefined): Promise<boolean> {
  if (!cli) return false;
  if (cli.context || (cli.host && !/^(unix|tcp):\/\//.test(cli.host))) return true;
  try {
    // HOME may sit on a hung NFS mount: read in a child under a deadline.
    const config = JSON.parse(await readSmallFile(run, `${cli.configDir}/config.json`, 1024 * 1024, 1000)) as {
      currentContext?: unknown;
    };
    return (
      typeof config.currentContext === 'string' && config.currentContext !== '' && config.currentContext !== 'default'
    );
  } catch {
    return false;
  }
}
