/**
 * The local runtime's data dir (FANOUT_DATA_DIR) holds the database, the stream-key encryption key
 * and the SRT passphrase: only the user Fanout runs as may enter it. `prepareDataDir` creates it
 * 0700, tightens one that already exists with looser permissions (a `mkdir data` made it 0755:
 * every local user could read the database), and refuses one owned by another user (chmod would
 * fail, and someone else could read or swap what is in it). See docs/security.md.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';

export class DataDirError extends Error {
  readonly code = 'DATA_DIR_NOT_OURS';
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

export interface DataDirPrepared {
  /** The mode it had, when it was tightened to 0700 (octal string); null if it was already private or new. */
  tightenedFrom: string | null;
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;

/** @throws DataDirError when it is not a directory or belongs to another user */
export function prepareDataDir(dir: string): DataDirPrepared {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if (!st.isDirectory()) throw new DataDirError(`the data dir ${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new DataDirError(`the data dir ${dir} belongs to uid ${st.uid}, and Fanout runs as uid ${uid}: it holds the database and the secrets, so it must be this user's own. Run Fanout as its owner, or point FANOUT_DATA_DIR elsewhere.`);
  }
  if ((st.mode & 0o077) === 0) return { tightenedFrom: null };
  chmodSync(dir, 0o700);
  return { tightenedFrom: octal(st.mode) };
}
