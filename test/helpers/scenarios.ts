import { randomBytes } from 'node:crypto';
import type { DockerSandbox } from './dockerd.js';

/** What the "everything at once" scenario created, for assertions. */
export interface MixedScenario {
  inUseImage: string;
  unusedImage: string;
  rebuiltRepository: string;
  danglingVersions: number;
  stoppedContainer: string;
  runningContainer: string;
  unusedVolume: string;
  chattyContainer: string;
}

const MiB = 1024 * 1024;

/** Markdown-breaking text in a RUN step (pipe, backticks, a fake header, an ESC byte). */
export const HOSTILE_RUN_TEXT = '## Fake | `tick` \u001b[31m red';

/**
 * Issue 3's acceptance scenario on a real daemon: an image in use, an unused
 * image, three dangling versions of one repository (four BuildKit rebuilds),
 * a stopped container with a 50 MB writable layer, a running container, an
 * unused volume holding 30 MB, BuildKit cache, and 40 MB of json-file logs.
 */
export async function buildMixedScenario(s: DockerSandbox): Promise<MixedScenario> {
  await s.buildImage('pf-base:1');
  // A BuildKit cache mount (exec.cachemount, as apt/npm caches are) whose RUN line becomes
  // a build-cache description: hostile text the report must escape. 8 MB, so it is listed.
  await s.buildImage(
    'pf-unused:1',
    [
      'COPY blob /blob',
      `RUN --mount=type=cache,target=/cache echo '${HOSTILE_RUN_TEXT}' > /cache/note && head -c 8000000 /dev/urandom > /cache/big`,
    ],
    {
      blob: randomBytes(3 * MiB).toString('base64'),
    },
  );
  for (let version = 0; version < 4; version += 1) {
    // A RUN step makes BuildKit cache records; a new stamp makes a new image each time.
    await s.buildImage(
      'pf-app:latest',
      ['COPY stamp /stamp', 'RUN ["/bin/sh", "-c", "cat /stamp /stamp > /doubled"]'],
      {
        stamp: randomBytes(MiB).toString('base64'),
      },
    );
  }
  await s.docker(['run', '-d', '--network', 'none', '--name', 'pf-running', 'pf-base:1', 'sleep', '3600']);
  await s.writeIn({ image: 'pf-base:1', name: 'pf-stopped50', file: '/fill', mib: 50 });
  await s.docker(['volume', 'create', 'pf-data30']);
  await s.writeIn({ image: 'pf-base:1', volume: 'pf-data30:/v', file: '/v/fill', mib: 30 });
  // ~118 bytes of json-file per 41-byte line: 360k lines is a little over 40 MB.
  await logLines(s, 'pf-chatty', 360_000);
  return {
    inUseImage: 'pf-base:1',
    unusedImage: 'pf-unused:1',
    rebuiltRepository: 'pf-app',
    danglingVersions: 3,
    stoppedContainer: 'pf-stopped50',
    runningContainer: 'pf-running',
    unusedVolume: 'pf-data30',
    chattyContainer: 'pf-chatty',
  };
}

/**
 * A stopped container `name` (from pf-base:1) whose json-file log holds `lines` lines of 41 bytes (~118 bytes each
 * on disk); with `running`, started detached and left running (asleep) once it wrote them, its log still open.
 */
export async function logLines(s: DockerSandbox, name: string, lines: number, running = false): Promise<void> {
  await s.docker([
    'run',
    ...(running ? ['-d'] : []),
    '--network',
    'none',
    '--name',
    name,
    'pf-base:1',
    'sh',
    '-c',
    `yes 0123456789012345678901234567890123456789 | head -n ${lines}${running ? '; exec sleep 600' : ''}`,
  ]);
}
