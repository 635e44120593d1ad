// Captures the Engine API answers the apply's re-check reads (inspect of
// containers in each state and of images, the container listing, /system/df's
// build cache) from a sandboxed daemon, into test/fixtures/docker/recheck-20.10/.
// Run as root:   npx tsx test/capture-recheck.ts
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDockerd } from './helpers/dockerd.js';
import { engineGet } from './helpers/engine-api.js';

const sandbox = await startDockerd('overlay2', 1024);
const out = 'test/fixtures/docker/recheck-20.10';
const save = async (name: string, urlPath: string, what: string) => {
  const body = await engineGet(sandbox.socket, urlPath);
  const header = `# captured: curl --unix-socket SOCK http://docker${urlPath}   (docker.io 20.10.24 on Debian 12, overlay2; ${what}; test/capture-recheck.ts)\n`;
  await writeFile(path.join(out, `${name}.json.txt`), header + JSON.stringify(body, null, 1) + '\n');
};
try {
  await mkdir(out, { recursive: true });
  const d = sandbox.docker;
  await sandbox.buildImage('pf-base:1');
  // Two builds of one tag: the first is left dangling.
  for (let v = 0; v < 2; v += 1)
    await sandbox.buildImage('pf-app:latest', ['COPY stamp /stamp'], { stamp: randomBytes(1024).toString('base64') });
  await sandbox.buildImage('pf-cache:1', [
    'RUN --mount=type=cache,target=/cache head -c 100000 /dev/urandom > /cache/big',
  ]);
  await d(['run', '--network', 'none', '--name', 'exited', 'pf-base:1', 'true']);
  await d(['run', '-d', '--network', 'none', '--name', 'running', 'pf-base:1', 'sleep', '3600']);
  await d(['run', '-d', '--network', 'none', '--name', 'paused', 'pf-base:1', 'sleep', '3600']);
  await d(['pause', 'paused']);
  await d(['create', '--network', 'none', '--name', 'created', 'pf-base:1', 'true']);
  await d(['run', '--network', 'none', '--name', 'restarted', 'pf-base:1', 'true']);
  await sleep(1100);
  await d(['start', '-a', 'restarted']);
  for (const name of ['exited', 'running', 'paused', 'created', 'restarted']) {
    await save(
      `container-${name}`,
      `/v1.41/containers/${name}/json`,
      `container "${name}": ${name === 'restarted' ? 'exited, then `docker start -a` again 1.1 s later' : name}`,
    );
  }
  const images = await engineGet(sandbox.socket, '/v1.41/images/json');
  const dangling = images.find((i: any) => (i.RepoTags ?? ['<none>:<none>'])[0] === '<none>:<none>');
  await save(
    'image-dangling',
    `/v1.41/images/${dangling.Id}/json`,
    'the first build of pf-app:latest, dangling after the second',
  );
  const app = images.find((i: any) => (i.RepoTags ?? []).includes('pf-app:latest'));
  await save('image-tagged', `/v1.41/images/${app.Id}/json`, 'pf-app:latest');
  await d(['tag', 'pf-base:1', 'pf-base:again']);
  await d(['rmi', 'pf-base:again']);
  const base = images.find((i: any) => (i.RepoTags ?? []).includes('pf-base:1'));
  await save(
    'image-retagged',
    `/v1.41/images/${base.Id}/json`,
    'pf-base:1 after `docker tag pf-base:1 pf-base:again; docker rmi pf-base:again`',
  );
  await save('containers-all', '/v1.41/containers/json?all=1', 'the same daemon');
  await save('system-df', '/v1.41/system/df', 'the same daemon');
  console.log(`captured into ${out}`);
} finally {
  await sandbox.stop();
}
