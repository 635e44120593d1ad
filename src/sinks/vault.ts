import path from 'node:path';
import { FileProblem, problemFrom } from '../host/file-problem.js';
import { inChild } from '../host/in-child.js';
import { effectiveUid, ENTER_FOLDER, REFUSE_NOT_REGULAR, REPLACE_FROM_STDIN, walkable } from '../host/folder-walk.js';
import type { Runner } from '../host/exec.js';

/*
 * Vault writes, in a child under a deadline like every file operation on a
 * configured path (the vault may sit on a hung or full disk). The pending
 * folder is the host's: it must exist (a typo in OPS_VAULT_ROOT must not
 * create folders), and be root's or this user's, reached through nobody
 * else's link and writable by nobody else (folder-walk.ts). A write is atomic (a temporary file in the same folder,
 * then rename), refuses a symlink or a non-regular file at the name, and
 * with `held` checks the siblings approved/, fired/ and rejected/ first: an
 * item a person already took is never filed again.
 */
const WRITE_SCRIPT = `${ENTER_FOLDER}
dir=$1 name=$2 mode=$3 held=$4 me=$5
enter "$dir" '' replace "$me"
if [ "$held" = 1 ]; then
  for s in approved fired rejected; do
    if [ -e "../$s/$name" ] || [ -L "../$s/$name" ]; then printf 'held %s\\n' "$s"; exit 0; fi
  done
fi
${REFUSE_NOT_REGULAR}
if [ "$mode" = existing ] && [ ! -e "$name" ]; then printf 'absent\\n'; exit 0; fi
${REPLACE_FROM_STDIN}`;

export type WriteOutcome =
  | { kind: 'written'; file: string }
  /** A person already moved it on: `approved`, `fired` or `rejected`. */
  | { kind: 'held'; file: string; where: 'approved' | 'fired' | 'rejected' }
  /** mode `existing`, and there was nothing to update. */
  | { kind: 'absent'; file: string };

/** Only names we make: `supervisor-storage-…md`, `storage-….toml`. */
const SAFE_NAME = /^[a-z0-9][a-z0-9.-]{0,150}$/;

/**
 * Write `text` as `dir/name`: `create` writes it whether or not it exists,
 * `existing` only rewrites one that is there. Throws FileProblem.
 */
export async function writeVaultFile(
  run: Runner,
  dir: string,
  name: string,
  text: string,
  opts: { mode: 'create' | 'existing'; held: boolean },
  timeoutMs: number,
): Promise<WriteOutcome> {
  if (!SAFE_NAME.test(name) || name.includes('..'))
    throw new FileProblem('EPERM', name, 'not a name this tool makes: refused');
  const file = path.join(dir, name);
  const res = await inChild(
    run,
    WRITE_SCRIPT,
    [walkable(dir), name, opts.mode, opts.held ? '1' : '0', String(effectiveUid())],
    timeoutMs,
    file,
    text,
  );
  if (res.exitCode === 13)
    throw new FileProblem('ENOENT', dir, "no such folder (the vault folder must exist: it is the host's)");
  if (res.exitCode !== 0) throw problemFrom(file, res.stderr, res.exitCode);
  // Sample: `held approved`, `written`, `absent`.
  const out = res.stdout.trim();
  const held = /^held (approved|fired|rejected)$/.exec(out);
  if (held) return { kind: 'held', file, where: held[1] as 'approved' | 'fired' | 'rejected' };
  if (out === 'absent') return { kind: 'absent', file };
  if (out === 'written') return { kind: 'written', file };
  throw new FileProblem('EIO', file, `unexpected answer from the writer: ${out.slice(0, 80)}`);
}
