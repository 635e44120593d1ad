import { readFile } from 'node:fs/promises';
import { parseMountinfo, type MountEntry } from '../parse/mountinfo.js';

/** Reading procfs never blocks on the mounts it lists, so this stays in-process. */
export async function getMountTable(file = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountinfo(await readFile(file, 'utf8'));
}
