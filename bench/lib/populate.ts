// Fills a sandboxed dockerd with a big host: real BuildKit rebuilds (so the
// dangling versions carry their repository's recipe and churn detection
// attributes them), cheap imported images to reach the image count, build
// cache, volumes holding data, running and stopped containers, json-file logs.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DockerSandbox } from '../../test/helpers/dockerd.js';
import { sh } from '../../test/helpers/tools.js';

export interface HostSpec {
  /** Repositories built with BuildKit, each `builds` times: builds - 1 dangling versions each. */
  repositories: number;
  builds: number;
  /** COPY steps per build (after one RUN): each is a build-cache record of its own, and needs no container. */
  copySteps: number;
  /** Further images made by `docker image import` (distinct small tarballs). */
  imported: number;
  volumes: number;
  /** Empty files in one more volume: /system/df walks every file, as on a real host. */
  volumeFiles: number;
  running: number;
  stopped: number;
  /** Stopped containers that wrote json-file logs, and how many MiB each. */
  chatty: number;
  logMiB: number;
}

const PARALLEL = 4;

/** A loaded machine sometimes fails a container start (runc: "read init-p: connection reset by peer"): try again. */
async function retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 3) throw err;
      log(`  ${what} failed (attempt ${attempt}), retrying: ${String(err).split('\n')[0]!.slice(0, 200)}`);
    }
  }
}

/** Run `fn` over items, `PARALLEL` at a time. */
async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next]!;
      next += 1;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function log(msg: string): void {
  process.stderr.write(`[big-host] ${new Date().toISOString().slice(11, 19)} ${msg}\n`);
}

/** One BuildKit build of repository r, version v: a shared base, then a stamp, a RUN and COPY steps of its own. */
async function buildVersion(s: DockerSandbox, scratch: string, r: number, v: number, copySteps: number): Promise<void> {
  const ctx = path.join(scratch, `ctx-${r}-${v}`);
  await mkdir(ctx, { recursive: true });
  await copyFile('/bin/busybox', path.join(ctx, 'busybox'));
  // Deterministic content: the same host every time it is built.
  await writeFile(path.join(ctx, 'stamp'), `repository ${r} version ${v}\n`.repeat(1000 + r * 50 + v));
  const lines = [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
    `LABEL bench.repository=app-${r}`,
    'COPY stamp /stamp',
    'RUN ["/bin/sh", "-c", "cat /stamp /stamp > /doubled"]',
    ...range(copySteps).map((i) => `COPY part${i} /part${i}`),
    'CMD ["/bin/sh"]',
  ];
  for (const i of range(copySteps)) await writeFile(path.join(ctx, `part${i}`), `part ${i}\n`);
  await writeFile(path.join(ctx, 'Dockerfile'), `${lines.join('\n')}\n`);
  await retry(`build of app-${r} version ${v}`, () =>
    s.docker(['build', '--network', 'none', '-q', '-t', `bench-app-${r}:latest`, ctx]),
  );
  await rm(ctx, { recursive: true, force: true });
}

/** A tiny image from a tarball of its own (import is far cheaper than a build). */
async function importImage(s: DockerSandbox, scratch: string, i: number): Promise<void> {
  const dir = path.join(scratch, `imp-${i}`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'data'), `imported ${i}\n`.repeat(100 + i * 10));
  const tar = `${dir}.tar`;
  await sh('tar', ['-cf', tar, '-C', dir, '.']);
  await retry(`import ${i}`, () =>
    s.docker(['image', 'import', '--change', 'CMD ["/bin/sh"]', tar, `bench-imported-${i}:1`]),
  );
  await rm(dir, { recursive: true, force: true });
  await rm(tar, { force: true });
}

export async function populateBigHost(s: DockerSandbox, spec: HostSpec): Promise<void> {
  const scratch = await mkdtemp(path.join(s.fs.dir, 'build-'));
  log(`building ${spec.repositories} repositories x ${spec.builds} versions (BuildKit, ${PARALLEL} at a time)`);
  await s.buildImage('bench-base:1');
  // Versions one after another per repository (a rebuild re-tags, the previous version dangles); repositories in parallel.
  for (const v of range(spec.builds)) {
    await inBatches(range(spec.repositories), (r) => buildVersion(s, scratch, r, v, spec.copySteps));
    log(`  version ${v + 1}/${spec.builds} of every repository built`);
  }
  log(`importing ${spec.imported} images`);
  await inBatches(range(spec.imported), (i) => importImage(s, scratch, i));

  log(`creating ${spec.volumes} volumes with data, and one with ${spec.volumeFiles} files`);
  await inBatches(range(spec.volumes), (i) =>
    s.docker(['volume', 'create', `bench-vol-${String(i).padStart(3, '0')}`]),
  );
  // One container fills 25 volumes at a time: volume i holds (i + 1) x 64 KiB.
  for (let first = 0; first < spec.volumes; first += 25) {
    const ids = range(Math.min(25, spec.volumes - first)).map((k) => first + k);
    const mounts = ids.flatMap((i) => ['-v', `bench-vol-${String(i).padStart(3, '0')}:/v${i}`]);
    const fill = ids.map((i) => `dd if=/dev/zero of=/v${i}/data bs=64k count=${i + 1} 2>/dev/null`).join(' && ');
    await retry('volume fill', () =>
      s.docker(['run', '--rm', '--network', 'none', ...mounts, 'bench-base:1', 'sh', '-c', fill]),
    );
  }
  if (spec.volumeFiles > 0) {
    await retry('file volume', () =>
      s.docker([
        'run',
        '--rm',
        '--network',
        'none',
        '-v',
        'bench-files:/v',
        'bench-base:1',
        'sh',
        '-c',
        `mkdir -p /v/d && cd /v/d && seq 1 ${spec.volumeFiles} | xargs touch`,
      ]),
    );
  }

  log(
    `containers: ${spec.running} running, ${spec.stopped} stopped (${spec.chatty} of them with ${spec.logMiB} MiB of logs)`,
  );
  const image = (i: number) => (i % 3 === 0 ? 'bench-base:1' : `bench-app-${i % spec.repositories}:latest`);
  // A failed start leaves the named container behind: remove it before trying again.
  const runNamed = (name: string, args: string[]) =>
    retry(`container ${name}`, async () => {
      await s.docker(['rm', '-f', name]).catch(() => undefined);
      return s.docker(['run', '--network', 'none', '--name', name, ...args]);
    });
  await inBatches(range(spec.running), (i) =>
    runNamed(`bench-running-${i}`, ['-d', '--label', 'bench.running=1', image(i), 'sleep', '100000000']),
  );
  // ~118 bytes of json-file per 41-byte line.
  const lines = Math.round((spec.logMiB * 1024 * 1024) / 118);
  await inBatches(range(spec.stopped), (i) =>
    runNamed(`bench-stopped-${i}`, [
      image(i),
      'sh',
      '-c',
      i < spec.chatty
        ? `yes 0123456789012345678901234567890123456789 | head -n ${lines}`
        : `dd if=/dev/zero of=/fill bs=64k count=${(i % 8) + 1} 2>/dev/null`,
    ]),
  );
  await rm(scratch, { recursive: true, force: true });
}

/** After a restart on a cached host: the containers that were running are started again. */
export async function restartRunning(s: DockerSandbox): Promise<void> {
  const ids = (await s.docker(['ps', '-aq', '--filter', 'label=bench.running=1'])).split('\n').filter(Boolean);
  if (ids.length) await s.docker(['start', ...ids]);
}
