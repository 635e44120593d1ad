import { open } from 'node:fs/promises';
import { parseMountinfoBytes, type MountEntry } from '../parse/mountinfo.js';

/** Reading procfs never blocks on the mounts it lists, so this stays in-process. */
export async function getMountTable(file = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountinfoBytes(await readProcFile(file));
}

const CHUNK_BYTES = 64 * 1024;

/**
 * The whole of a procfs file. procfs reports size 0 and hands out about a
 * page per read(2); Node 18's fs.promises.readFile stops after the first
 * one (seen here on 18.19.0: 4047 of 7198 bytes of /proc/self/mountinfo;
 * Node 20 reads to the end), so on a host with many mounts the tail of the
 * table, the data root's mount with it, was missing. Read until read(2)
 * returns 0.
 */
export async function readProcFile(file: string): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks);
  } finally {
    await fh.close();
  }
}
