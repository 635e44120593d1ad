import { execa } from 'execa';
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { ENGINE_TOOLS, startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { classicBuild, layerId, overlayReferences, plantOverlayDir } from '../helpers/overlay2.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { buildMixedScenario } from '../helpers/scenarios.js';

const MiB = 1024 * 1024;

async function duBytes(dir: string): Promise<number> {
  const { stdout } = await execa('du', ['-x', '-s', '-B1', dir]);
  return Number(stdout.split('\t')[0]);
}

describeWith(ENGINE_TOOLS, 'orphaned overlay2 layer directories on a real overlay2 dockerd', () => {
  let s: DockerSandbox;
  let orphan = '';
  let fresh = '';
  const buildkitShaped = 'zz0leftover0buildkit0snap';
  let doc: Record<string, any>;
  let md = '';
  beforeAll(async () => {
    s = await startDockerd('overlay2', 3072);
    // BuildKit builds (with a cache mount), a running, a stopped and an exited container.
    await buildMixedScenario(s);
    // 64-hex image layers: a classic-builder build and a commit; a stopped container of the first.
    await classicBuild(s, 'pf-classic:1', ['FROM pf-base:1', 'RUN head -c 2000000 /dev/urandom > /classic']);
    await s.docker(['commit', 'pf-stopped50', 'pf-committed:1']);
    await s.docker(['run', '--network', 'none', '--name', 'pf-classic-stopped', 'pf-classic:1', 'true']);
    orphan = layerId();
    await plantOverlayDir(s.dataRoot, orphan, 5, 7200);
    // Just written, as a layer mid-pull is: held back, not listed.
    fresh = layerId();
    await plantOverlayDir(s.dataRoot, fresh, 1, null);
    // Unreferenced but BuildKit-shaped: never a candidate.
    await plantOverlayDir(s.dataRoot, buildkitShaped, 1, 7200);
    doc = parseReport((await runPreflight(['--format', 'json'], { DOCKER_HOST: s.host })).stdout);
    md = (await runPreflight([], { DOCKER_HOST: s.host })).stdout;
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('finds the planted orphan with its du size, attributed as overlay2-orphans', async () => {
    const o = doc.docker.overlayOrphans;
    expect(o.problem).toBeNull();
    expect(o.dirs.map((d: { name: string }) => d.name)).toEqual([orphan]);
    const bytes = await duBytes(`${s.dataRoot}/overlay2/${orphan}`);
    expect(bytes).toBeGreaterThanOrEqual(5 * MiB);
    expect(o.dirs[0].bytes).toBe(bytes);
    expect(o.bytes).toBe(bytes);
    expect(o.recent).toBe(1);
    expect(o.unmeasured).toBe(0);
    expect(doc.sections.find((x: { id: string }) => x.id === 'docker').status).toBe('ok');

    const source = doc.attribution.sources.find((x: { kind: string }) => x.kind === 'overlay2-orphans');
    expect(source).toEqual({
      kind: 'overlay2-orphans',
      label: 'orphaned overlay2 layer directories',
      bytes,
      reclaimableBytes: bytes,
      countsInUsed: true,
    });

    const line = md.split('\n').filter((l) => l.startsWith('Orphaned overlay2 layer directories:'));
    expect(line).toHaveLength(1);
    expect(line[0]).toBe(
      `Orphaned overlay2 layer directories: 1, 5.0 MiB (no image or container references them; remove only with the daemon stopped): ${orphan.slice(0, 12)} 5.0 MiB; 1 changed within the hour not counted (perhaps a layer being written) (in ${s.dataRoot}/overlay2).`,
    );
  });

  it('lists no layer that layerdb or docker inspect references, no -init layer in use, no BuildKit directory', async () => {
    const refs = await overlayReferences(s);
    const listed: string[] = doc.docker.overlayOrphans.dirs.map((d: { name: string }) => d.name);
    for (const name of listed) {
      expect(refs.layerdb.has(name)).toBe(false);
      expect(refs.inspected.has(name)).toBe(false);
      expect(refs.buildkit).not.toContain(name);
    }
    // The scenario has what could be mistaken: 64-hex image layers, container layers with their -init, BuildKit-only snapshots.
    const inspected = [...refs.inspected];
    expect(inspected.filter((n) => /^[0-9a-f]{64}-init$/.test(n)).length).toBeGreaterThanOrEqual(4);
    const hexImageLayers = [...refs.layerdb].filter((n) => /^[0-9a-f]{64}$/.test(n) && !refs.layerdb.has(`${n}-init`));
    expect(hexImageLayers.length).toBeGreaterThanOrEqual(2);
    for (const n of hexImageLayers) expect(refs.inspected.has(n)).toBe(true);
    expect(refs.buildkitOnly.length).toBeGreaterThan(0);
    expect(refs.buildkitOnly).toContain(buildkitShaped);
    // What the daemon reports in use is what layerdb names: the two sources agree.
    for (const n of refs.inspected) expect(refs.layerdb.has(n)).toBe(true);
    // Every other directory is referenced, BuildKit's, or l/.
    const others = (await readdir(`${s.dataRoot}/overlay2`)).filter(
      (n) => n !== 'l' && !refs.layerdb.has(n) && !refs.buildkitOnly.includes(n),
    );
    expect(others.sort()).toEqual([orphan, fresh].sort());
  });

  it('lists no BuildKit mount in use mid-build, though its directory is 64 hex', async () => {
    // A RUN that bind-mounts an image makes BuildKit ask the layer store for a
    // read-write layer: a 64-hex directory, referenced by layerdb/mounts/<BuildKit id>.
    const build = s.buildImage('pf-midbuild:1', ['RUN --mount=type=bind,from=pf-base:1,target=/m sleep 20']);
    const mounts = `${s.dataRoot}/image/overlay2/layerdb/mounts`;
    let mount: { name: string; id: string } | null = null;
    for (let i = 0; i < 120 && !mount; i += 1) {
      const name = (await readdir(mounts)).find((n) => /^[0-9a-z]{25}$/.test(n));
      const id = name ? (await readFile(`${mounts}/${name}/mount-id`, 'utf8').catch(() => '')).trim() : '';
      if (name && id) mount = { name, id };
      else await sleep(500);
    }
    try {
      expect(mount?.id).toMatch(/^[0-9a-f]{64}$/);
      expect(await readdir(`${s.dataRoot}/overlay2`)).toContain(mount!.id);
      const mid = parseReport((await runPreflight(['--format', 'json'], { DOCKER_HOST: s.host })).stdout);
      expect(mid.docker.overlayOrphans.dirs.map((d: { name: string }) => d.name)).toEqual([orphan]);
      // Not even a candidate: the one held back is still the planted fresh directory.
      expect(mid.docker.overlayOrphans.recent).toBe(1);
    } finally {
      await build;
    }
    // Released with the build: nothing of it is left to be an orphan either.
    expect(await readdir(`${s.dataRoot}/overlay2`)).not.toContain(mount!.id);
  });
});
