/**
 * The data directory (SQLite file, secrets key file, process-provider state) is Lessor's user's
 * alone: created 0700, and an existing one with looser modes tightened at start, with a warning.
 * A directory Lessor does not own, or a shared one such as /tmp (sticky bit), is left as it is.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import type { Logger } from '../../domain/logger.js';

const DIR_MODE = 0o700;
const STICKY = 0o1000;

export function secureDataDir(dataDir: string, logger: Logger): void {
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  const { mode, uid } = statSync(dataDir);
  if ((mode & 0o077) === 0) return;
  const ours = process.getuid === undefined || uid === process.getuid();
  const was = (mode & 0o7777).toString(8).padStart(4, '0');
  if (!ours || (mode & STICKY) !== 0) {
    logger.warn({ dataDir, mode: was }, 'dataDir is shared with other users: secrets in it are not private');
    return;
  }
  chmodSync(dataDir, DIR_MODE);
  logger.warn({ dataDir, was, now: '0700' }, 'dataDir was open to other users: its mode is now 0700');
}
