import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';

/** What this account can do with a Docker socket file: its group (null: no such file), and whether it may connect. */
export interface SocketAccess {
  gid: number | null;
  usable: boolean;
}

/** A local stat and access(2): a socket file is not on a mount that can hang. */
export async function socketAccess(file: string): Promise<SocketAccess> {
  const gid = await stat(file).then(
    (s) => s.gid,
    () => null,
  );
  if (gid === null) return { gid, usable: false };
  const usable = await access(file, constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  );
  return { gid, usable };
}
