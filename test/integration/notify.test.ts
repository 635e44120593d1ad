import { execa } from 'execa';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/describe-with.js';
import { makeLoopFs, type LoopFs } from '../helpers/loopfs.js';
import { parseReport, runPreflight } from '../helpers/preflight.js';
import { isAlive, jsonReports, startPreflight, until } from '../helpers/live-run.js';

/** What the loopback webhook received. */
interface Received {
  path: string;
  contentType: string;
  body: string;
}

/*
 * Real runs of ./preflight on a loop ext4 pushed past the disk threshold,
 * with --notify pointing at a webhook on loopback. Time is driven through the
 * history's records (their `at` moved back), never by sleeping.
 */
describeWith(['mkfs.ext4', 'fallocate', 'mount'], 'notifications (--notify) from real runs', () => {
  let fs: LoopFs;
  let journal = '';
  let server: Server;
  let base = '';
  const received: Received[] = [];
  const hung: ServerResponse[] = [];
  // The secret parts: none of these may show in any output.
  const SECRET = 'T0SECRET/B0SECRET/xoxSECRETTOKEN';
  const slack = () => `${base}/hooks/${SECRET}`;
  const filler = () => path.join(fs.mountpoint, 'filler');

  const run = async (notify: string[], extra: string[] = [], budget = '10', root = journal) => {
    const r = await runPreflight(
      [
        '--path',
        fs.mountpoint,
        '--budget',
        budget,
        '--format',
        'json',
        ...notify.flatMap((u) => ['--notify', u]),
        ...extra,
      ],
      { OPS_JOURNAL_ROOT: root },
    );
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toContain('SECRET');
      expect(out).not.toContain(base);
    }
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    return { ...r, doc: parseReport(r.stdout) };
  };
  const take = () => received.splice(0, received.length);

  /** Move every history record back by `ms`: the cooldown sees that much time pass. */
  const age = async (ms: number) => {
    const dir = path.join(journal, '.storage-preflight');
    for (const f of await readdir(dir)) {
      const file = path.join(dir, f);
      const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
      const moved = lines.map((l) => {
        const r = JSON.parse(l);
        return JSON.stringify({ ...r, at: new Date(Date.parse(r.at) - ms).toISOString() });
      });
      await writeFile(file, moved.map((l) => `${l}\n`).join(''));
    }
  };

  beforeAll(async () => {
    fs = await makeLoopFs({ fstype: 'ext4', sizeMiB: 64 });
    journal = await mkdtemp(path.join(tmpdir(), 'pf-notify-journal-'));
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body });
        if (req.url?.startsWith('/hang')) hung.push(res);
        else if (req.url?.startsWith('/fail')) res.writeHead(500).end('boom');
        else if (req.url?.startsWith('/moved')) res.writeHead(302, { location: `/hooks/${SECRET}` }).end();
        else res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const r of hung) r.destroy();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await fs?.cleanup();
    await rm(journal, { recursive: true, force: true });
  });

  it('raise once, nothing while it holds, a re-alert after the cooldown, one recovery', async () => {
    const quiet = await run([slack()]);
    expect(take()).toEqual([]);
    expect(quiet.doc.notify).toMatchObject({ message: null, targets: [] });

    await execa('fallocate', ['-l', '52M', filler()]);
    const raised = await run([slack()]);
    const [raise, ...more] = take();
    expect(more).toEqual([]);
    expect(raise!.contentType).toBe('application/json');
    const text = JSON.parse(raise!.body).text as string;
    expect(text).toMatch(/^RAISED: disk-\w+ \(P1\) on /m);
    expect(text).toContain(fs.mountpoint);
    expect(raised.doc.notify.targets).toEqual([
      { target: 'http://127.0.0.1/…', format: 'slack', ok: true, reason: null },
    ]);

    await run([slack()]);
    await run([slack()]);
    expect(take()).toEqual([]);

    // Seven hours pass (the default cooldown is 6h): one re-alert, then quiet again.
    await age(7 * 3_600_000);
    await run([slack()]);
    const realert = take();
    expect(realert).toHaveLength(1);
    expect(JSON.parse(realert[0]!.body).text).toMatch(/^STILL FIRING: disk-/m);
    await run([slack()]);
    expect(take()).toEqual([]);

    await rm(filler());
    await run([slack()]);
    const recovered = take();
    expect(recovered).toHaveLength(1);
    expect(JSON.parse(recovered[0]!.body).text).toMatch(/^RECOVERED: disk-/m);
    await run([slack()]);
    expect(take()).toEqual([]);
  });

  it('a target that hangs, fails or redirects costs its deadline and one line each; the others still get it', async () => {
    await execa('fallocate', ['-l', '52M', filler()]);
    const generic = `${base}/ok/${SECRET}`;
    const r = await run(
      [`${base}/hang/${SECRET}`, `${base}/fail/${SECRET}`, `${base}/moved/${SECRET}`, generic],
      [],
      '10',
    );
    expect(r.elapsedMs).toBeLessThan(10_000);
    const got = take();
    // The redirect is not followed: four requests, no fifth to its location.
    expect(got.map((g) => g.path.split('/')[1]).sort()).toEqual(['fail', 'hang', 'moved', 'ok']);
    const json = JSON.parse(got.find((g) => g.path.startsWith('/ok'))!.body);
    expect(json).toMatchObject({ source: 'storage-preflight', alerts: [expect.objectContaining({ kind: 'raise' })] });
    const reasons = r.doc.notify.targets.map((t: { ok: boolean; reason: string | null }) => [t.ok, t.reason]);
    expect(reasons).toEqual([
      [false, expect.stringMatching(/^no answer within /)],
      [false, 'HTTP 500'],
      [false, 'redirected (HTTP 302, not followed)'],
      [true, null],
    ]);
    // A budget shorter than the target's own deadline bounds it (a journal of its own: the raise is news again).
    const fresh = await mkdtemp(path.join(tmpdir(), 'pf-notify-fresh-'));
    const short = await run([`${base}/hang/${SECRET}`], [], '3', fresh);
    await rm(fresh, { recursive: true, force: true });
    expect(short.doc.durationMs).toBeLessThan(3000);
    expect(short.elapsedMs).toBeLessThan(4000);
    expect(short.doc.notify.targets[0].reason).toMatch(/^no answer within [12]\.\d s$/);
    const md = await runPreflight(['--path', fs.mountpoint, '--budget', '10', '--notify', `${base}/fail/${SECRET}`], {
      OPS_JOURNAL_ROOT: journal,
    });
    expect(md.stdout).not.toContain('SECRET');
    expect(md.stderr).toBe('');
    take();
    await rm(filler());
  });

  it('a vault item filed is news: the message says what a person must do', async () => {
    await execa('fallocate', ['-l', '52M', filler()]);
    const root = await mkdtemp(path.join(tmpdir(), 'pf-notify-vault-'));
    for (const d of ['journal', 'vault/pending', 'vault/approved', 'vault/fired', 'vault/rejected'])
      await mkdir(path.join(root, d), { recursive: true });
    const escalate = ['--escalate', '--vault', path.join(root, 'vault', 'pending')];
    const texts: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      await run([slack()], escalate, '10', path.join(root, 'journal'));
      texts.push(...take().map((g) => JSON.parse(g.body).text as string));
    }
    await rm(root, { recursive: true, force: true });
    await rm(filler());
    // The raise on the first run; the item, filed on the third (a P1 held three runs), on its own.
    expect(texts).toHaveLength(2);
    expect(texts[0]).toMatch(/^RAISED: /m);
    expect(texts[1]).not.toMatch(/^(RAISED|STILL FIRING|RECOVERED): /m);
    expect(texts[1]).toMatch(/^To do: a person must act on vault item supervisor-storage-[a-z0-9-]+\.md \(/m);
  });

  it('watch hands --notify to its runs in their environment: no run shows the URL in the process list', async () => {
    await execa('fallocate', ['-l', '52M', filler()]);
    const fresh = await mkdtemp(path.join(tmpdir(), 'pf-notify-watch-'));
    const w = startPreflight(
      [
        'watch',
        '--interval',
        '60s',
        '--path',
        fs.mountpoint,
        '--budget',
        '10',
        '--format',
        'json',
        '--notify',
        slack(),
      ],
      { OPS_JOURNAL_ROOT: fresh, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    );
    // Every process's command line, read while the run lives, until the raise arrives.
    const showing = new Set<number>();
    const runs = new Set<number>();
    try {
      while (received.length === 0 && isAlive(w.pid)) {
        for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
          const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
          if (cmdline.includes(SECRET)) showing.add(Number(pid));
          if (cmdline.includes(`--path=${fs.mountpoint}`)) runs.add(Number(pid));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await until(() => jsonReports(w.stdout()).length >= 1, 20_000, 'the first report');
      // Stopped between runs, not cutting one.
      await until(() => [...runs].every((pid) => !isAlive(pid)), 10_000, 'the run to exit');
    } finally {
      await w.stop('SIGTERM');
      await rm(fresh, { recursive: true, force: true });
      await rm(filler());
    }
    // The run was seen, and only the watch, given the flag itself, shows the URL.
    expect(runs.size).toBeGreaterThan(0);
    expect([...showing]).toEqual([w.pid]);
    const [raise, ...more] = take();
    expect(more).toEqual([]);
    expect(JSON.parse(raise!.body).text).toMatch(/^RAISED: disk-\w+ \(P1\) on /m);
    expect(w.stdout()).not.toContain('SECRET');
    expect(w.stderr()).toBe('');
  });

  it('a bad URL is refused naming its scheme and host only', async () => {
    const r = await runPreflight(['--notify', `ftp://hooks.example/${SECRET}`, '--no-journal']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('ftp://hooks.example/…');
    expect(r.stderr + r.stdout).not.toContain('SECRET');
  });
});
