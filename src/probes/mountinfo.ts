import { readFile } from 'node:fs/promises';
import { parseMountinfoBytes, type MountEntry } from '../parse/mountinfo.js';

/** Reading procfs never blocks on the mounts it lists, so this stays in-process. */
export async function getMountTable(file = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountinfoBytes(await readFile(file));
}
