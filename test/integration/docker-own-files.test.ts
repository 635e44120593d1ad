import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEngine } from '../helpers/describe-engine.js';
import { startDockerd, type DockerSandbox } from '../helpers/dockerd.js';
import { ENGINE_MATRIX } from '../helpers/modern-engine.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';

/*
 * Docker's own files (`docker-metadata`): du walks the data root's top-level
 * entries but volumes and the layers. A folder someone left there is in it;
 * a filesystem mounted on a top-level entry is not (it holds none of the
 * data root's filesystem's bytes).
 */
const MiB = 1024 * 1024;

describe.each(ENGINE_MATRIX)("Docker's own files in the data root", (choice) => {
  describeEngine(choice, 'a folder left in the data root, and a filesystem mounted on another entry', () => {
    let s: DockerSandbox;
    let mounted = '';
    const metadata = async () => {
      const json = parseReport(
        (await runPreflight(['--format', 'json', '--no-journal'], { DOCKER_HOST: s.host })).stdout,
      );
      const source = json.attribution.sources.find((x: { kind: string }) => x.kind === 'docker-metadata');
      return source.bytes as number;
    };
    beforeAll(async () => {
      s = await startDockerd('overlay2', 512, choice);
      mounted = path.join(s.dataRoot, 'pf-mounted');
    });
    afterAll(async () => {
      await execa('umount', ['-l', mounted], { reject: false });
      await s?.stop();
    });

    it('counts the folder to the block, and nothing of the mounted filesystem', async () => {
      const before = await metadata();
      // 8 MiB in a folder of the data root's own filesystem.
      await mkdir(path.join(s.dataRoot, 'pf-left'));
      await writeFile(path.join(s.dataRoot, 'pf-left', 'notes.bin'), Buffer.alloc(8 * MiB, 1));
      // 16 MiB on a tmpfs mounted on a top-level entry.
      await mkdir(mounted);
      await execa('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', mounted]);
      await writeFile(path.join(mounted, 'elsewhere.bin'), Buffer.alloc(16 * MiB, 1));
      await execa('sync');
      const after = await metadata();
      const folder = Number((await execa('du', ['-s', '-B1', path.join(s.dataRoot, 'pf-left')])).stdout.split('\t')[0]);
      // The daemon's own small files may change between the two runs: within 1 MiB of the folder's du.
      expect(Math.abs(after - before - folder), `${before} -> ${after}, folder ${folder}`).toBeLessThan(MiB);
    });
  });
});
