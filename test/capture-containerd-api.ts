// Captures the Engine API answers on the containerd image store (GET /info,
// /system/df?verbose=1, every image's history) after the mixed scenario, from
// Debian's newest engine in its chroot, into test/fixtures/docker/containerd-28.5/.
// Run as root, after bash test/helpers/fetch-modern-engine.sh:
//   npx tsx test/capture-containerd-api.ts
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDockerd } from './helpers/dockerd.js';
import { engineGet } from './helpers/engine-api.js';
import { buildMixedScenario } from './helpers/scenarios.js';

const sandbox = await startDockerd('overlay2', 2048, { engine: 'newest', store: 'containerd' });
const out = 'test/fixtures/docker/containerd-28.5';
const header = (urlPath: string) =>
  `# captured: curl --unix-socket SOCK http://docker${urlPath}   (${sandbox.label}, overlayfs snapshotter on a loop ext4, after buildMixedScenario; test/capture-containerd-api.ts)\n`;
const save = async (name: string, body: unknown, urlPath: string) =>
  writeFile(path.join(out, `${name}.json.txt`), header(urlPath) + JSON.stringify(body, null, 1) + '\n');
try {
  await mkdir(out, { recursive: true });
  await buildMixedScenario(sandbox);
  await save('info', await engineGet(sandbox.socket, '/info'), '/info');
  const df = await engineGet(sandbox.socket, '/system/df?verbose=1');
  await save('system-df', df, '/system/df?verbose=1');
  const histories: Record<string, unknown> = {};
  for (const image of df.Images) histories[image.Id] = await engineGet(sandbox.socket, `/images/${image.Id}/history`);
  await save('histories', histories, '/images/ID/history for every image, keyed by image id');
} finally {
  await sandbox.stop();
}
