import { execa, type ResultPromise } from 'execa';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeVaultFile } from '../../src/sinks/vault.js';
import { replaceFile } from '../../src/sinks/files.js';
import { execRunner } from '../../src/host/exec.js';
import { parseReport, PREFLIGHT, runPreflight } from '../helpers/preflight.js';

/*
 * Root's writes against another local user (a real uid 65534, through
 * setpriv): a folder of theirs, a link of theirs on the way, a loop that
 * swaps every temporary name it sees for a link to a root-only file. No
 * swap makes root write, chmod or delete outside its own files.
 */

const NOBODY = 65534;

/** A shell script run as uid 65534, with arguments. */
async function asNobodyDo(script: string, ...args: string[]): Promise<void> {
  const r = await execa(
    'setpriv',
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-c', script, 'nobody', ...args],
    { reject: false },
  );
  expect([r.exitCode, r.stderr]).toEqual([0, '']);
}
const SECRET_TEXT = 'root only\n';

/** As uid 65534: replace every name matching `glob` in `dir` with a link to `target`, until killed. */
function swapLoop(dir: string, glob: string, target: string): ResultPromise {
  const script = `cd "$1" || exit 1; while :; do for f in $2; do [ -e "$f" ] || [ -L "$f" ] || continue; rm -f -- "$f" 2>/dev/null; ln -s "$3" "$f" 2>/dev/null; done; done`;
  return execa(
    'setpriv',
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-c', script, 'swap', dir, glob, target],
    { reject: false },
  );
}

/** As uid 65534: exchange two names of theirs atomically (renameat2 RENAME_EXCHANGE), as fast as it can, until killed. */
function exchangeLoop(a: string, b: string): ResultPromise {
  const script =
    'import ctypes, sys\nlibc = ctypes.CDLL(None, use_errno=True)\nwhile True:\n    libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 2)\n';
  // Debian's python3, by its path: another user may not run root's own (a pyenv shim under /root).
  return execa(
    'setpriv',
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '/usr/bin/python3', '-c', script, a, b],
    { reject: false },
  );
}

describe.skipIf(process.getuid?.() !== 0)('root writes that another user tries to redirect', () => {
  let base: string;
  let secret: string;
  let theirs: string;
  beforeEach(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'pf-writes-'));
    await chmod(base, 0o755);
    secret = path.join(base, 'secret');
    await writeFile(secret, SECRET_TEXT, { mode: 0o600 });
    theirs = path.join(base, 'theirs');
    await mkdir(theirs, { mode: 0o755 });
    await chown(theirs, NOBODY, NOBODY);
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const secretIntact = async () => {
    const st = await stat(secret);
    expect(st.mode & 0o777).toBe(0o600);
    expect(await readFile(secret, 'utf8')).toBe(SECRET_TEXT);
  };

  it("--prom-file in another user's folder, with their loop swapping our temporary names: refused with the reason; the root-only file keeps its mode and bytes", async () => {
    const loop = swapLoop(theirs, '.storage-preflight.prom.*', secret);
    try {
      for (let i = 0; i < 10; i++) {
        const run = await runPreflight([
          '--format',
          'json',
          '--no-journal',
          '--prom-file',
          path.join(theirs, 'storage-preflight.prom'),
        ]);
        expect([run.exitCode, run.stderr]).toEqual([0, '']);
        expect(parseReport(run.stdout).promFile).toMatchObject({
          written: false,
          reason: expect.stringMatching(
            /^EPERM: \S+\/theirs belongs to uid 65534 \(only root's or this user's names are followed\): refused \(another user could redirect the write\)$/,
          ),
        });
      }
    } finally {
      loop.kill('SIGKILL');
      await loop;
    }
    await secretIntact();
    expect(await readdir(theirs)).toEqual([]);
  });

  it('--prom-file in a sticky shared folder with the same loop: every write lands, made 0644 with O_EXCL, never through a link', async () => {
    const shared = path.join(base, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o1777);
    const loop = swapLoop(shared, '.storage-preflight.prom.*', secret);
    const file = path.join(shared, 'storage-preflight.prom');
    try {
      for (let i = 0; i < 10; i++) {
        const run = await runPreflight(['--format', 'json', '--no-journal', '--prom-file', file]);
        expect([run.exitCode, run.stderr]).toEqual([0, '']);
        expect(parseReport(run.stdout).promFile).toMatchObject({ written: true });
      }
    } finally {
      loop.kill('SIGKILL');
      await loop;
    }
    await secretIntact();
    const st = await stat(file);
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o644]);
    expect(await readFile(file, 'utf8')).toMatch(/^# HELP storage_preflight_/);
    // What the loop left is its own links; none of our temporary files stays behind.
    const left = (await readdir(shared)).filter((n) => n.startsWith('.'));
    for (const n of left) expect((await lstat(path.join(shared, n))).uid).toBe(NOBODY);
  });

  it("a vault folder reached through another user's link is refused: nothing is written where the link points", async () => {
    const pending = path.join(base, 'pending');
    await mkdir(pending);
    const link = path.join(base, 'vault-link');
    await symlink(pending, link);
    await execa('chown', ['-h', `${NOBODY}:${NOBODY}`, link]);
    const refused = await writeVaultFile(
      execRunner,
      link,
      'supervisor-storage-x.md',
      '# x\n',
      { mode: 'create', held: true },
      5000,
    ).catch((e: Error) => e);
    expect(String(refused)).toMatch(
      /EPERM: \S+\/vault-link belongs to uid 65534 \(only root's or this user's names are followed\): refused/,
    );
    expect(await readdir(pending)).toEqual([]);
    // The same folder by its own name is ours: written, 0644.
    expect(
      await writeVaultFile(
        execRunner,
        pending,
        'supervisor-storage-x.md',
        '# x\n',
        { mode: 'create', held: true },
        5000,
      ),
    ).toMatchObject({ kind: 'written' });
    expect((await stat(path.join(pending, 'supervisor-storage-x.md'))).mode & 0o777).toBe(0o644);
  });

  it("a journal root that is another user's link into a root-owned folder: --journal-keep-days deletes nothing there and makes no folder there", async () => {
    const rootOwned = path.join(base, 'root-owned');
    await mkdir(rootOwned);
    const old = ['2020-01-01.md', '2020-01-02.md'];
    for (const n of old) await writeFile(path.join(rootOwned, n), 'keep me\n');
    const journal = path.join(theirs, 'journal');
    await symlink(rootOwned, journal);
    await execa('chown', ['-h', `${NOBODY}:${NOBODY}`, journal]);
    const run = await runPreflight(['--format', 'json', '--journal-keep-days', '1'], { OPS_JOURNAL_ROOT: journal });
    expect([run.exitCode, run.stderr]).toEqual([0, '']);
    expect(parseReport(run.stdout).journal).toMatchObject({
      written: false,
      reason: expect.stringMatching(/^EPERM: \S+\/theirs belongs to uid 65534 /),
    });
    expect((await readdir(rootOwned)).sort()).toEqual(old);
  });

  it('a journal root of our own: old dated files go, others stay (the walk does not stop the housekeeping)', async () => {
    const journal = path.join(base, 'journal');
    await mkdir(path.join(journal, '.storage-preflight'), { recursive: true, mode: 0o700 });
    await writeFile(path.join(journal, '2020-01-01.md'), 'old\n');
    await writeFile(path.join(journal, 'notes.md'), 'not dated\n');
    await writeFile(path.join(journal, '.storage-preflight', '2020-01-01.jsonl'), '');
    const run = await runPreflight(['--format', 'json', '--journal-keep-days', '1'], { OPS_JOURNAL_ROOT: journal });
    expect([run.exitCode, run.stderr]).toEqual([0, '']);
    expect(await readdir(journal)).not.toContain('2020-01-01.md');
    expect(await readdir(journal)).toContain('notes.md');
    expect(await readdir(path.join(journal, '.storage-preflight'))).not.toContain('2020-01-01.jsonl');
  });

  it('a folder name in a sticky folder that its owner keeps exchanging with a link to a root-only folder: no write lands there', async () => {
    const sticky = path.join(base, 'sticky');
    await mkdir(sticky);
    await chmod(sticky, 0o1777);
    const locked = path.join(base, 'locked');
    await mkdir(locked, { mode: 0o700 });
    // Theirs: a real folder at the name we are given, and a link to root's folder beside it.
    const name = path.join(sticky, 'prom');
    await asNobodyDo(`mkdir "$1" && ln -s "$2" "$1.alt"`, name, locked);
    const loop = exchangeLoop(name, `${name}.alt`);
    const outcomes: string[] = [];
    try {
      // Running: the name flips between their folder and their link (measured: 256 of 2,000 walks without the last name's check landed in root's folder).
      await new Promise((r) => setTimeout(r, 300));
      expect(loop.exitCode).toBeNull();
      for (let i = 0; i < 200; i++)
        outcomes.push(
          await replaceFile(execRunner, path.join(name, 'x.prom'), `root ${i}\n`, 5000).then(
            () => 'written',
            (e: Error) => e.message.split(':')[0]!,
          ),
        );
    } finally {
      loop.kill('SIGKILL');
      await loop;
    }
    expect(await readdir(locked)).toEqual([]);
    // Every one refused: whichever way the name pointed, it was theirs.
    expect(new Set(outcomes)).toEqual(new Set(['EPERM']));
  });

  it('CDPATH in the environment does not move where the folders we make are entered', async () => {
    const elsewhere = path.join(base, 'elsewhere');
    await mkdir(path.join(elsewhere, 'made'), { recursive: true });
    const mine = path.join(base, 'mine');
    await mkdir(mine);
    const previous = process.env.CDPATH;
    process.env.CDPATH = elsewhere;
    try {
      await replaceFile(execRunner, path.join(mine, 'made', 'x.prom'), 'x\n', 5000).catch(() => undefined);
      const run = await runPreflight(['--format', 'json'], {
        OPS_JOURNAL_ROOT: path.join(mine, 'made', 'journal'),
        CDPATH: elsewhere,
      });
      expect([run.exitCode, run.stderr]).toEqual([0, '']);
    } finally {
      if (previous === undefined) delete process.env.CDPATH;
      else process.env.CDPATH = previous;
    }
    expect((await readdir(path.join(mine, 'made', 'journal'))).length).toBeGreaterThan(0);
    expect(await readdir(path.join(elsewhere, 'made'))).toEqual([]);
  });
  it('a relative journal (--journal j, the default ./journal) is walked from the working folder: the history is kept', async () => {
    const cwd = path.join(base, 'cwd');
    await mkdir(cwd);
    for (const args of [
      ['--journal', 'j'],
      ['--journal', './k/'],
    ]) {
      const run = await execa(PREFLIGHT, ['--format', 'json', ...args], {
        cwd,
        reject: false,
        env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock', TMPDIR: base },
      });
      expect([run.exitCode, run.stderr]).toEqual([0, '']);
      expect(parseReport(run.stdout).journal).toMatchObject({ written: true, reason: null });
    }
    expect(await readdir(path.join(cwd, 'j', '.storage-preflight'))).toHaveLength(1);
    expect(await readdir(path.join(cwd, 'k', '.storage-preflight'))).toHaveLength(1);
  });
});
