// A stuck mount elsewhere on the host: a bindfs FUSE mount whose daemon is
// stopped (SIGSTOP), as in test/integration/stuck-mount.test.ts. It is only
// stopped around the samples that need it, so nothing else on a shared
// machine hangs on it for long.
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { unmountUnder } from '../../test/helpers/loopfs.js';

export interface StuckMount {
  mountpoint: string;
  stick(): void;
  release(): void;
  close(): Promise<void>;
}

export async function makeStuckMount(): Promise<StuckMount> {
  const dir = await mkdtemp('/tmp/pf-bench-stuck-');
  const mountpoint = path.join(dir, 'dst');
  await mkdir(path.join(dir, 'src'));
  await mkdir(mountpoint);
  // -f: stay in the foreground, so the pid we hold is the FUSE daemon.
  const bindfs = execa('bindfs', ['-f', path.join(dir, 'src'), mountpoint], { reject: false, stdin: 'ignore' });
  const pid = bindfs.pid!;
  for (let i = 0; i < 50; i += 1) {
    if ((await readFile('/proc/self/mountinfo', 'utf8')).includes(mountpoint)) break;
    await sleep(100);
  }
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  };
  return {
    mountpoint,
    stick: () => signal('SIGSTOP'),
    release: () => signal('SIGCONT'),
    async close() {
      signal('SIGCONT');
      await unmountUnder(mountpoint);
      signal('SIGTERM');
      await bindfs.catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
