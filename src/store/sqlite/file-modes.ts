/**
 * The SQLite file holds the control plane's whole state, so it is Lessor's user's alone: the file
 * and its `-wal`/`-shm` companions 0600 (SQLite gives the companions the database file's mode), a
 * directory made for it 0700. The file is created empty with that mode before SQLite opens it (an
 * empty file is an empty database), and an existing one with looser modes is tightened.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Prepares `filename` for opening; returns the paths whose modes it had to tighten. */
export function secureDatabaseFile(filename: string): string[] {
  mkdirSync(dirname(filename), { recursive: true, mode: DIR_MODE });
  if (!existsSync(filename)) closeSync(openSync(filename, 'a', FILE_MODE));
  const tightened: string[] = [];
  for (const path of [filename, `${filename}-wal`, `${filename}-shm`]) {
    if (!existsSync(path)) continue;
    if ((statSync(path).mode & 0o077) === 0) continue;
    chmodSync(path, FILE_MODE);
    tightened.push(path);
  }
  return tightened;
}
