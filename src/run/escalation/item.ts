import path from 'node:path';
import { writeVaultFile, type WriteOutcome } from '../../sinks/vault.js';
import { readFileTails } from '../../probes/files.js';
import type { Runner } from '../../host/exec.js';
import { mergeItem } from '../../render/vault-merge.js';

/** A pending item is a page of text; far past this, someone else filled it: not ours to rewrite. */
const MAX_ITEM_BYTES = 256 * 1024;

export type ItemWrite = WriteOutcome | { kind: 'damaged'; file: string; problem: string };

/**
 * Rewrite our part of a pending item, keeping what people added: read it
 * (a symlink or a non-regular file is refused, as the writer refuses it),
 * merge, write. `create` files it when absent (unless a person already moved
 * it on); `existing` only updates one that is there. Throws FileProblem.
 * A person saving between our read and our write loses that one edit: the
 * window is the length of one write.
 */
export async function writeItem(
  run: Runner,
  pending: string,
  name: string,
  fresh: string,
  mode: 'create' | 'existing',
  timeout: () => number,
): Promise<ItemWrite> {
  const file = path.join(pending, name);
  const [read] = await readFileTails(run, [file], MAX_ITEM_BYTES, timeout());
  if (!read || read.kind === 'refused') throw read?.problem ?? new Error(`${file}: not read`);
  if (read.kind === 'missing' && mode === 'existing') return { kind: 'absent', file };
  if (read.kind === 'ok' && read.truncated)
    return { kind: 'damaged', file, problem: `larger than ${MAX_ITEM_BYTES / 1024} KiB` };
  const merged = mergeItem(read.kind === 'ok' ? read.text : null, fresh);
  if (!merged.ok) return { kind: 'damaged', file, problem: merged.problem };
  return writeVaultFile(run, pending, name, merged.text, { mode, held: mode === 'create' }, timeout());
}
