// Captures real Engine API answers from a sandboxed daemon running the mixed
// scenario, into test/fixtures/docker/<driver>/. Run as root:
//   npx tsx test/capture-docker.ts overlay2|btrfs
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { LOG_LISTING_SCRIPT } from '../src/probes/container-logs.js';
import { execRunner } from '../src/host/exec.js';
import { startDockerd } from './helpers/dockerd.js';
import { buildMixedScenario } from './helpers/scenarios.js';

function get(socket: string, p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ socketPath: socket, path: p, headers: { Host: 'docker' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

const driver = (process.argv[2] ?? 'overlay2') as 'overlay2' | 'btrfs';
const sandbox = await startDockerd(driver, 3072);
try {
  await buildMixedScenario(sandbox);
  const out = path.join('test/fixtures/docker', `${driver}-20.10`);
  await mkdir(out, { recursive: true });
  for (const [name, p] of [
    ['version', '/version'],
    ['info', '/info'],
    ['system-df', '/v1.41/system/df'],
    ['images', '/v1.41/images/json?all=1'],
    ['containers', '/v1.41/containers/json?all=1'],
  ]) {
    const body = await get(sandbox.socket, p!);
    const header = `# captured: curl --unix-socket SOCK http://docker${p}   (docker.io 20.10.24 on Debian 12, --storage-driver ${driver}, test/helpers/scenarios.ts buildMixedScenario)\n`;
    await writeFile(path.join(out, `${name}.json.txt`), header + JSON.stringify(JSON.parse(body), null, 1) + '\n');
  }
  const images = JSON.parse(await get(sandbox.socket, '/v1.41/images/json?all=1')) as { Id: string }[];
  const histories: Record<string, unknown> = {};
  for (const image of images)
    histories[image.Id] = JSON.parse(await get(sandbox.socket, `/v1.41/images/${image.Id}/history`));
  await writeFile(
    path.join(out, 'histories.json.txt'),
    `# captured: curl --unix-socket SOCK http://docker/v1.41/images/ID/history for every image, keyed by image id (same daemon)\n${JSON.stringify(histories, null, 1)}\n`,
  );
  const listing = await execRunner(
    'sh',
    ['-c', LOG_LISTING_SCRIPT, 'preflight-logs', `${sandbox.dataRoot}/containers`],
    30_000,
  );
  await writeFile(
    path.join(out, 'logs-listing.txt'),
    `# captured: sh -c "$LOG_LISTING_SCRIPT" preflight-logs DATA_ROOT/containers   (src/probes/container-logs.ts, same daemon)\n${listing.stdout}`,
  );
  const cli = await execRunner(
    '/usr/local/bin/docker',
    ['-H', sandbox.host, 'system', 'df', '-v', '--format', 'json'],
    30_000,
  );
  if (cli.exitCode === 0) {
    await writeFile(
      path.join(out, 'cli-system-df-v.json.txt'),
      `# captured: /usr/local/bin/docker -H unix://SOCK system df -v --format json   (docker CLI 28.2.2, same daemon)\n${cli.stdout}`,
    );
  }
  console.log(`captured into ${out}; data root ${sandbox.dataRoot}`);
} finally {
  await sandbox.stop();
}
