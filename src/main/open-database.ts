/**
 * Opens and migrates the configured database at start-up. A database that cannot be reached yet (it
 * starts with the rest of a deployment, or is restarting) is tried again with backoff for
 * `database.connectTimeoutMs`; past that, or on a failure that waiting does not cure (a wrong
 * password, no such database, a migration's SQL error), start-up fails with a `StartupError` that
 * names the database and the cause.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import { createStore, type CreateStoreOptions } from '../store/create-store.js';
import type { Store } from '../store/store.js';
import type { LessorConfig } from './config/load-config.js';
import { failureReason, StartupError } from './startup-error.js';

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 5_000;

/** How the store is opened beyond the configuration: the server seals secrets at rest. */
export type OpenDatabaseOptions = Pick<CreateStoreOptions, 'secrets' | 'metrics'>;

export async function openDatabase(
  config: LessorConfig,
  logger: Logger,
  options: OpenDatabaseOptions = {},
): Promise<Store> {
  const { url, poolSize, connectTimeoutMs } = config.database;
  const database = databaseLabel(url);
  const opening = createStore({ url, dataDir: config.dataDir, logger, poolSize, ...options });
  const store = await opening.catch((error: unknown) => {
    // e.g. the SQLite file's directory cannot be made
    throw new StartupError(`cannot open the database ${database}: ${failureReason(error)}`, {
      cause: error,
    });
  });
  try {
    await whileUnreachable(() => store.migrate(), {
      database,
      timeoutMs: connectTimeoutMs,
      log: logger.child({ component: 'startup' }),
    });
    return store;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

interface RetryOptions {
  /** How the database is named in messages (no password). */
  readonly database: string;
  readonly timeoutMs: number;
  readonly log: Logger;
}

/** Runs `operation` until it succeeds, fails for a reason other than unavailability, or time is up. */
async function whileUnreachable(operation: () => Promise<void>, options: RetryOptions): Promise<void> {
  const { database, timeoutMs, log } = options;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1, delay = FIRST_RETRY_MS; ; attempt++, delay = Math.min(delay * 2, MAX_RETRY_MS)) {
    try {
      return await operation();
    } catch (error) {
      const reason = failureReason(error);
      if (!(error instanceof UnavailableError)) {
        throw new StartupError(`cannot prepare the database ${database}: ${reason}`, { cause: error });
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StartupError(
          `cannot reach the database ${database} (gave up after ${attempt} attempts in ${timeoutMs} ms, database.connectTimeoutMs): ${reason}`,
          { cause: error },
        );
      }
      const retryInMs = Math.min(delay, left);
      log.warn({ database, attempt, retryInMs, reason }, 'database unreachable; retrying');
      await sleep(retryInMs);
    }
  }
}

/** `postgres://user@host:port/db` without the password; SQLite URLs as given. */
export function databaseLabel(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) return url;
  try {
    const parsed = new URL(url);
    const user = parsed.username === '' ? '' : `${parsed.username}@`;
    return `${parsed.protocol}//${user}${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
