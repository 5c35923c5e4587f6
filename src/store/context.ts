/** What every repository is built from: the Kysely instance and the dialect it talks to. */
import type { Kysely } from 'kysely';
import type { SqlDialect } from './dialect.js';
import type { Database } from './schema.js';

export interface StoreContext {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
}

/** A database handle or an open transaction: helpers that take one work inside either. */
export type Executor = Kysely<Database>;
