import type { TextfileStatus } from '../model/report.js';
import { errorMessage } from '../model/errors.js';
import type { Runner } from '../host/exec.js';
import { replaceFile } from './files.js';

/*
 * node_exporter's textfile collector reads every *.prom in its folder at
 * each scrape, so the file is replaced whole (a temporary `.<name>.XXXXXX`,
 * which the collector ignores, then a rename): a scrape never reads half of
 * it. In a child under a deadline, like every write to a configured path (a
 * full or hung disk is the case this tool exists for). The folder is the
 * collector's: it must exist, and it is never created.
 */

export async function writeTextfile(
  run: Runner,
  file: string,
  text: string,
  timeoutMs: number,
): Promise<TextfileStatus> {
  try {
    await replaceFile(run, file, text, timeoutMs, "no such folder (the textfile collector's folder must exist)");
    return { written: true, file, reason: null };
  } catch (err) {
    return { written: false, file, reason: errorMessage(err) };
  }
}
