import { execa, type ResultPromise } from 'execa';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeVaultFile } from '../../src/actuators/vault.js';
import { execRunner } from '../../src/probes/exec.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';

/*
 * Root's writes against another local user (a real uid 65534, through
 * setpriv): a folder of theirs, a link of theirs on the way, a loop that
 * swaps every temporary name it sees for a link to a root-only file. No
 * swap makes root write, chmod or delete outside its own files.
 */

const NOBODY = 65534;
const SECRET_TEXT = 'root only\n';

/** As uid 65534: replace every name matching `glob` in `dir` with a link to `target`, until killed. */
function swapLoop(dir: string, glob: string, target: string): ResultPromise {
  const script = `cd "$1" || exit 1; while :; do for f in $2; do [ -e "$f" ] || [ -L "$f" ] || continue; rm -f -- "$f" 2>/dev/null; ln -s "$3" "$f" 2>/dev/null; done; done`;
  return execa('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-c', script, 'swap', dir, glob, target], { reject: false });
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
        const run = await runPreflight(['--format', 'json', '--no-journal', '--prom-file', path.join(theirs, 'storage-preflight.prom')]);
        expect([run.exitCode, run.stderr]).toEqual([0, '']);
        expect(parseReport(run.stdout).promFile).toMatchObject({ written: false, reason: expect.stringMatching(/^EPERM: \S+\/theirs belongs to uid 65534: refused \(another user could redirect the write\)$/) });
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
    const refused = await writeVaultFile(execRunner, link, 'supervisor-storage-x.md', '# x\n', { mode: 'create', held: true }, 5000).catch((e: Error) => e);
    expect(String(refused)).toMatch(/EPERM: \S+\/vault-link belongs to uid 65534 \(only root's or this user's names are followed\): refused/);
    expect(await readdir(pending)).toEqual([]);
    // The same folder by its own name is ours: written, 0644.
    expect(await writeVaultFile(execRunner, pending, 'supervisor-storage-x.md', '# x\n', { mode: 'create', held: true }, 5000)).toMatchObject({ kind: 'written' });
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
    expect(parseReport(run.stdout).journal).toMatchObject({ written: false, reason: expect.stringMatching(/^EPERM: \S+\/theirs belongs to uid 65534 /) });
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
});
