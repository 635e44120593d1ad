// Captures the overlay2 orphan probe's real output into
// test/fixtures/docker/overlay2-20.10/: an overlay2 dockerd with the mixed
// scenario (BuildKit builds, running and stopped containers), a classic
// build and a commit (64-hex image layers), plus planted directories that no
// layerdb file references: two old orphans, one fresh (held back as
// possibly in flight) and one BuildKit-shaped (never a candidate). Root needed:
//   npx tsx test/capture-overlay2.ts
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { overlayCandidates, parseOverlayDirListing } from '../src/parse/overlay2-dirs.js';
import { execRunner } from '../src/host/exec.js';
import { OVERLAY_DU_SCRIPT, OVERLAY_LISTING_SCRIPT } from '../src/probes/overlay2.js';
import { startDockerd } from './helpers/dockerd.js';
import { classicBuild, layerId, plantOverlayDir } from './helpers/overlay2.js';
import { buildMixedScenario } from './helpers/scenarios.js';

const out = 'test/fixtures/docker/overlay2-20.10';
const s = await startDockerd('overlay2', 3072);
try {
  await buildMixedScenario(s);
  await classicBuild(s, 'pf-classic:1', ['FROM pf-base:1', 'RUN head -c 2000000 /dev/urandom > /classic']);
  await s.docker(['commit', 'pf-stopped50', 'pf-committed:1']);
  await s.docker(['create', '--network', 'none', '--name', 'pf-created', 'pf-classic:1']);
  const old = [layerId(), `${layerId()}-init`];
  const fresh = layerId();
  const buildkitShaped = 'zz0leftover0buildkit0snap';
  await plantOverlayDir(s.dataRoot, old[0]!, 5, 7200);
  await plantOverlayDir(s.dataRoot, old[1]!, 1, 7200);
  await plantOverlayDir(s.dataRoot, fresh, 1, null);
  await plantOverlayDir(s.dataRoot, buildkitShaped, 1, 7200);

  const listing = await execRunner(
    'sh',
    ['-c', OVERLAY_LISTING_SCRIPT, 'preflight-overlay2-layers', s.dataRoot],
    30_000,
  );
  if (listing.exitCode !== 0) throw new Error(`listing exited ${listing.exitCode}: ${listing.stderr}`);
  await writeFile(
    path.join(out, 'overlay2-layer-listing.txt'),
    `# captured: sh -c "$OVERLAY_LISTING_SCRIPT" preflight-overlay2-layers DATA_ROOT   (src/probes/overlay2.ts; docker.io 20.10.24, Debian 12, test/helpers/scenarios.ts buildMixedScenario + classic build, commit, created container)\n` +
      `# planted, unreferenced: old (mtimes 2 h back): ${old.join(' ')}; fresh: ${fresh}; BuildKit-shaped: ${buildkitShaped}\n${listing.stdout}`,
  );

  const candidates = overlayCandidates(parseOverlayDirListing(listing.stdout));
  const du = await execRunner(
    'sh',
    ['-c', OVERLAY_DU_SCRIPT, 'preflight-overlay2-du', `${s.dataRoot}/overlay2`, ...candidates],
    30_000,
  );
  await writeFile(
    path.join(out, 'overlay2-orphan-du.txt'),
    `# captured: sh -c "$OVERLAY_DU_SCRIPT" preflight-overlay2-du DATA_ROOT/overlay2 CANDIDATES...   (src/probes/overlay2.ts, same daemon, right after the listing; GNU coreutils 9.1)\n${du.stdout}`,
  );
  console.log(`captured into ${out}; candidates ${candidates.join(' ')}`);
} finally {
  await s.stop();
}
