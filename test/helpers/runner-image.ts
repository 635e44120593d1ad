import { execa } from 'execa';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DockerSandbox } from './dockerd.js';

/** What the host's runner has that the remediation formula uses: no docker CLI among them. */
const PROGRAMS = ['/usr/bin/bash', '/usr/bin/curl', '/usr/bin/jq', '/usr/bin/python3.11'];

/**
 * A FROM-scratch image standing for the host's runner (its agents image run
 * with `--entrypoint bash`): this machine's bash, curl, jq and python3 with
 * the shared libraries `ldd` lists for them and python's standard library.
 */
export async function buildRunnerImage(s: DockerSandbox, tag: string, scratch: string): Promise<void> {
  const ctx = await mkdtemp(path.join(scratch, 'runner-'));
  const root = path.join(ctx, 'root');
  await mkdir(path.join(root, 'tmp'), { recursive: true });
  const libs = new Set<string>();
  for (const p of PROGRAMS) {
    // Sample: `\tlibcurl.so.4 => /lib/x86_64-linux-gnu/libcurl.so.4 (0x00007f…)`, `\t/lib64/ld-linux-x86-64.so.2 (0x…)`.
    const { stdout } = await execa('ldd', [p]);
    for (const m of stdout.matchAll(/(\/\S+) \(0x/g)) libs.add(m[1]!);
  }
  await execa('cp', ['-L', '--parents', ...PROGRAMS, ...libs, root]);
  await mkdir(path.join(root, 'usr/lib'), { recursive: true });
  await execa('cp', ['-a', '/usr/lib/python3.11', path.join(root, 'usr/lib/')]);
  for (const big of ['test', 'site-packages', 'dist-packages', 'idlelib', 'tkinter', 'ensurepip'])
    await rm(path.join(root, 'usr/lib/python3.11', big), { recursive: true, force: true });
  await symlink('python3.11', path.join(root, 'usr/bin/python3'));
  await writeFile(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY root/ /\nENV PATH=/usr/bin\n');
  await s.docker(['build', '--network', 'none', '-q', '-t', tag, ctx]);
  await rm(ctx, { recursive: true, force: true });
}
