import { execa } from 'execa';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/args.js';
import { REPO } from '../helpers/preflight.js';
import { hasTool } from '../helpers/tools.js';

/*
 * The README's systemd units and cron line, as written: `/opt/storage-preflight`
 * (where the README installs it) is read as this checkout.
 */

const INSTALL = '/opt/storage-preflight';
const readme = readFileSync(path.join(REPO, 'docs/operations.md'), 'utf8');
/** Fenced blocks of `lang` whose first line names the file they are: `# /etc/…`. */
const files = (lang: string) =>
  [...readme.matchAll(new RegExp('```' + lang + '\\n# (/etc/\\S+)\\n([\\s\\S]*?)```', 'g'))].map((m) => ({
    file: m[1]!,
    text: m[2]!,
  }));
const here = (text: string) => text.replaceAll(INSTALL, REPO);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pf-units-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `[Section]` → key → values, as systemd reads a unit (comments and blank lines skipped). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  for (const line of text.split('\n')) {
    if (!line.trim() || /^[#;]/.test(line)) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`not a unit file line: ${line}`);
    current.set(kv[1]!, [...(current.get(kv[1]!) ?? []), kv[2]!]);
  }
  return sections;
}

describe('the README systemd units', () => {
  const units = files('ini').filter((u) => u.file.startsWith('/etc/systemd/system/'));

  it('a oneshot service and its timer, each a unit file whose ExecStart runs our preflight with flags it parses', () => {
    expect(units.map((u) => path.basename(u.file)).sort()).toEqual([
      'storage-preflight.service',
      'storage-preflight.timer',
    ]);
    const service = parseUnit(here(units.find((u) => u.file.endsWith('.service'))!.text));
    expect(service.get('Service')!.get('Type')).toEqual(['oneshot']);
    const [exec, ...args] = service.get('Service')!.get('ExecStart')![0]!.split(/\s+/);
    expect(exec).toBe(path.join(REPO, 'preflight'));
    accessSync(exec!, constants.X_OK);
    expect(parseCliArgs(args).command).toBe('report');
    const timer = parseUnit(units.find((u) => u.file.endsWith('.timer'))!.text);
    expect(timer.get('Timer')!.get('OnCalendar')).toEqual(['*:0/20']);
  });

  it.skipIf(!hasTool('systemd-analyze'))('pass systemd-analyze verify', async () => {
    for (const u of units) await writeFile(path.join(dir, path.basename(u.file)), here(u.text));
    const res = await execa('systemd-analyze', ['verify', ...units.map((u) => path.join(dir, path.basename(u.file)))], {
      cwd: dir,
      reject: false,
    });
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
    const calendar = await execa('systemd-analyze', ['calendar', '*:0/20']);
    expect(calendar.stdout).toContain('Normalized form: *-*-* *:00/20:00');
  });
});

describe('the guardian unit in integrations/systemd', () => {
  const file = path.join(REPO, 'integrations/systemd/storage-preflight-watch.service');
  const text = readFileSync(file, 'utf8');

  it('a long-running service whose ExecStart is a watch with flags it parses, stopped by SIGTERM', () => {
    const unit = parseUnit(here(text));
    expect(unit.get('Service')!.get('Type')).toEqual(['simple']);
    expect(unit.get('Service')!.get('KillSignal')).toEqual(['SIGTERM']);
    const [exec, ...args] = unit.get('Service')!.get('ExecStart')![0]!.split(/\s+/);
    expect(exec).toBe(path.join(REPO, 'preflight'));
    accessSync(exec!, constants.X_OK);
    expect(parseCliArgs(args).command).toBe('watch');
    expect(unit.get('Install')!.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it.skipIf(!hasTool('systemd-analyze'))('passes systemd-analyze verify', async () => {
    const copy = path.join(dir, path.basename(file));
    await writeFile(copy, here(text));
    const res = await execa('systemd-analyze', ['verify', copy], { cwd: dir, reject: false });
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
  });
});

/** One crontab time field: `*`, `*​/N`, `N`, `N-M`, `N-M/S`, and lists of them, within [lo, hi]. */
function cronField(field: string, lo: number, hi: number): boolean {
  return field.split(',').every((part) => {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) return false;
    const [a, b, step] = [m[2], m[3], m[4]].map((x) => (x === undefined ? undefined : Number(x)));
    const inRange = (n: number | undefined) => n === undefined || (n >= lo && n <= hi);
    return (
      inRange(a) && inRange(b) && (a === undefined || b === undefined || a <= b) && (step === undefined || step >= 1)
    );
  });
}

describe('the README cron file', () => {
  const [cron] = files('cron');

  it('is an /etc/cron.d file: variables, then jobs of five time fields, a user and a command', () => {
    expect(cron?.file).toBe('/etc/cron.d/storage-preflight');
    const lines = cron!.text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    const jobs = lines.filter((l) => !/^[A-Z_]+=/.test(l));
    expect(jobs).toHaveLength(1);
    const [minute, hour, dom, month, dow, user] = jobs[0]!.split(/\s+/);
    expect([
      cronField(minute!, 0, 59),
      cronField(hour!, 0, 23),
      cronField(dom!, 1, 31),
      cronField(month!, 1, 12),
      cronField(dow!, 0, 7),
    ]).toEqual([true, true, true, true, true]);
    expect(minute).toBe('*/20');
    expect(user).toBe('root');
    expect(cronField('*/0', 0, 59) || cronField('60', 0, 59) || cronField('1-', 0, 59)).toBe(false);
  });

  it("runs as written under cron's sh and PATH: a report appended to the log, nothing on stderr", async () => {
    const lines = cron!.text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    const vars = Object.fromEntries(
      lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const job = lines.find((l) => !/^[A-Z_]+=/.test(l))!;
    const command = here(job.split(/\s+/).slice(6).join(' ')).replaceAll('/var/log/', `${dir}/`);
    expect(command).toMatch(new RegExp(`^cd ${REPO} && \\./preflight `));
    const res = await execa('/bin/sh', ['-c', command], {
      extendEnv: false,
      reject: false,
      timeout: 90_000,
      // cron's environment: its variables, a HOME and a shell; the test keeps its journal and lock apart.
      env: {
        ...vars,
        HOME: '/root',
        SHELL: '/bin/sh',
        OPS_JOURNAL_ROOT: dir,
        TMPDIR: dir,
        DOCKER_HOST: 'unix:///nonexistent/docker.sock',
      },
    });
    expect(res.exitCode).toBe(0);
    expect(await readFile(path.join(dir, 'storage-preflight.err'), 'utf8')).toBe('');
    expect(await readFile(path.join(dir, 'storage-preflight.md'), 'utf8')).toMatch(/^## Storage Pressure\n/);
  });
});
