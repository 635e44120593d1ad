import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DOCKER_CLI, type DockerSandbox } from './dockerd.js';
import { sh } from './tools.js';

/**
 * A build by the classic builder (DOCKER_BUILDKIT=0): each RUN commits a
 * container through the layer store, so the image gets 64-hex overlay2
 * layer directories (BuildKit's are 25-character base-36).
 */
export async function classicBuild(s: DockerSandbox, tag: string, lines: readonly string[]): Promise<void> {
  const ctx = path.join(s.fs.dir, `ctx-classic-${Date.now()}`);
  await mkdir(ctx, { recursive: true });
  await writeFile(path.join(ctx, 'Dockerfile'), `${lines.join('\n')}\n`);
  const res = await execa(DOCKER_CLI, ['-H', s.host, 'build', '--network', 'none', '-q', '-t', tag, ctx], {
    reject: false,
    env: { DOCKER_BUILDKIT: '0' },
    timeout: 180_000,
  });
  await rm(ctx, { recursive: true, force: true });
  if (res.exitCode !== 0) throw new Error(`classic build ${tag}: ${String(res.stderr).slice(-1500)}`);
}

/** A 64-hex name, as moby's stringid.GenerateRandomID makes them. */
export const layerId = () => randomBytes(32).toString('hex');

/**
 * A directory shaped like an overlay2 layer (`diff/` holding `mib` MiB of
 * incompressible data) that no layerdb file references: what a daemon
 * killed mid-pull or a botched removal leaves (moby#43586). `ageSeconds`
 * backdates every path in it, as a leftover from long ago looks.
 */
export async function plantOverlayDir(
  dataRoot: string,
  name: string,
  mib: number,
  ageSeconds: number | null,
): Promise<string> {
  const dir = `${dataRoot}/overlay2/${name}`;
  await mkdir(`${dir}/diff`, { recursive: true });
  await writeFile(`${dir}/diff/payload`, randomBytes(mib * 1024 * 1024));
  if (ageSeconds !== null) {
    const when = `@${Math.floor(Date.now() / 1000) - ageSeconds}`;
    await sh('find', [dir, '-exec', 'touch', '-h', '-d', when, '{}', '+']);
  }
  await sh('sync', []);
  return dir;
}

export interface OverlayReferences {
  /** Every name a layerdb file holds (cache-id, mount-id, init-id). */
  layerdb: Set<string>;
  /** overlay2 directory names the daemon reports in GraphDriver data, for every container and image. */
  inspected: Set<string>;
  /** 25-character base-36 directories (BuildKit's), referenced or not. */
  buildkit: string[];
  /** BuildKit directories no layerdb file references: only buildkit/snapshots.db knows them. */
  buildkitOnly: string[];
}

/** What references what, read independently of preflight: layerdb files and `docker inspect`. */
export async function overlayReferences(s: DockerSandbox): Promise<OverlayReferences> {
  const db = `${s.dataRoot}/image/overlay2/layerdb`;
  const layerdb = new Set<string>();
  for (const [sub, files] of [
    ['sha256', ['cache-id']],
    ['mounts', ['mount-id', 'init-id']],
  ] as const) {
    for (const entry of await readdir(`${db}/${sub}`).catch(() => [] as string[])) {
      for (const f of files) {
        const text = await readFile(`${db}/${sub}/${entry}/${f}`, 'utf8').catch(() => null);
        if (text !== null) layerdb.add(text.trim());
      }
    }
  }
  const ids = async (args: string[]) =>
    (await execa(DOCKER_CLI, ['-H', s.host, ...args])).stdout.split('\n').filter(Boolean);
  const containers = await ids(['ps', '-aq']);
  const images = [...new Set(await ids(['images', '-aq']))];
  const inspected = new Set<string>();
  for (const [kind, list] of [
    ['container', containers],
    ['image', images],
  ] as const) {
    if (list.length === 0) continue;
    const out = await execa(DOCKER_CLI, [
      '-H',
      s.host,
      kind,
      'inspect',
      '--format',
      '{{json .GraphDriver.Data}}',
      ...list,
    ]);
    for (const line of out.stdout.split('\n').filter(Boolean)) {
      const data = JSON.parse(line) as Record<string, string> | null;
      for (const value of Object.values(data ?? {})) {
        for (const p of value.split(':')) {
          const m = /\/overlay2\/([^/]+)\//.exec(p);
          if (m) inspected.add(m[1]!);
        }
      }
    }
  }
  const names = await readdir(`${s.dataRoot}/overlay2`);
  const buildkit = names.filter((n) => /^[0-9a-z]{25}$/.test(n));
  return { layerdb, inspected, buildkit, buildkitOnly: buildkit.filter((n) => !layerdb.has(n)) };
}
