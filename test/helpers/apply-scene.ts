import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DockerSandbox } from './dockerd.js';

const MiB = 1024 * 1024;

/** A config whose minimum ages are all 0 s: objects made a minute ago are old enough to be safe. Returns its path. */
export async function noAgesConfig(dir: string): Promise<string> {
  const config = path.join(dir, 'no-ages.toml');
  await writeFile(
    config,
    '[remediation]\n' +
      ['dangling_image_min_age', 'exited_container_grace', 'build_cache_min_age', 'unused_image_min_age']
        .map((k) => `${k} = "0s"\n`)
        .join(''),
  );
  return config;
}

/**
 * What a safe apply must leave and what it may free: pf-base:1, three
 * builds of pf-app:latest (two dangling rebuilds of 8 MiB each) and a
 * container running from the last one, pf-running.
 */
export async function rebuildsAndRunning(s: DockerSandbox): Promise<void> {
  await s.buildImage('pf-base:1');
  for (let v = 0; v < 3; v += 1)
    await s.buildImage('pf-app:latest', ['COPY stamp /stamp'], { stamp: randomBytes(6 * MiB).toString('base64') });
  await s.docker(['run', '-d', '--network', 'none', '--name', 'pf-running', 'pf-app:latest', 'sleep', '3600']);
}
