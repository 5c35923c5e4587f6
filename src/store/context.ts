/** What every repository is built from: the Kysely instance, its dialect, and secrets at rest. */
import type { Kysely } from 'kysely';
import type { SqlDialect } from './dialect.js';
import type { Database } from './schema.js';
import type { SecretsAtRest, SpecCodec } from './sealed-specs.js';

export interface StoreContext {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** The `tenants.spec` column's codec: seals secret values on write, opens them on read. */
  readonly specs: SpecCodec;
  /** The same for plan revisions' specs, bound to the plan's name (`plan:<name>`). */
  readonly planSpecs: SpecCodec;
  /** Absent: nothing is sealed (tests and tools that hold no secrets). */
  readonly secrets: SecretsAtRest | undefined;
}

/** A database handle or an open transaction: helpers that take one work inside either. */
export type Executor = Kysely<Database>;
