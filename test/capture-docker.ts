// Captures real Engine API answers from a sandboxed daemon running the mixed
// scenario, into test/fixtures/docker/<driver>/. Run as root:
//   npx tsx test/capture-docker.ts overlay2|btrfs
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { startDockerd } from './helpers/dockerd.js';
import { buildMixedScenario } from './helpers/scenarios.js';

function get(socket: string, p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: socket, path: p, headers: { Host: 'docker' } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

const driver = (process.argv[2] ?? 'overlay2') as 'overlay2' | 'btrfs';
const sandbox = await startDockerd(driver, 3072);
try {
  await buildMixedScenario(sandbox);
  const out = path.join('test/fixtures/docker', `${driver}-20.10`);
  await mkdir(out, { recursive: true });
  for (const [name, p] of [['version', '/version'], ['info', '/info'], ['system-df', '/v1.41/system/df'], ['images', '/v1.41/images/json?all=1'], ['containers', '/v1.41/containers/json?all=1']]) {
    const body = await get(sandbox.socket, p!);
    const header = `# captured: curl --unix-socket SOCK http://docker${p}   (docker.io 20.10.24 on Debian 12, --storage-driver ${driver}, test/helpers/scenarios.ts buildMixedScenario)\n`;
    await writeFile(path.join(out, `${name}.json.txt`), header + JSON.stringify(JSON.parse(body), null, 1) + '\n');
  }
  console.log(`captured into ${out}; data root ${sandbox.dataRoot}`);
} finally {
  await sandbox.stop();
}
