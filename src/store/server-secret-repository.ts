/**
 * Deployment secrets (`server_secrets`), sealed under the secrets key like tenant secrets. The
 * first caller creates a secret; replicas starting together race on the insert and all read back
 * the one that was stored.
 */
import { isSealed, SecretsError } from '../domain/secret-key-ring.js';
import { nowIso } from './codec.js';
import type { StoreContext } from './context.js';
import type { ServerSecretRepository } from './store.js';

export function serverSecretContext(name: string): string {
  return `server-secret:${name}`;
}

export class KyselyServerSecretRepository implements ServerSecretRepository {
  constructor(private readonly ctx: StoreContext) {}

  async getOrCreate(name: string, make: () => string): Promise<string> {
    const stored = await this.read(name);
    if (stored !== undefined) return this.open(name, stored);
    await this.ctx.db
      .insertInto('server_secrets')
      .values({ name, value: this.seal(name, make()), created_at: nowIso() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const created = await this.read(name);
    if (created === undefined) throw new Error(`server secret '${name}' vanished after it was stored`);
    return this.open(name, created);
  }

  private async read(name: string): Promise<string | undefined> {
    const row = await this.ctx.db
      .selectFrom('server_secrets')
      .select('value')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.value;
  }

  private seal(name: string, value: string): string {
    const ring = this.ctx.secrets?.ring;
    return ring ? ring.seal(value, serverSecretContext(name)) : value;
  }

  private open(name: string, stored: string): string {
    const ring = this.ctx.secrets?.ring;
    if (!ring && isSealed(stored)) {
      throw new SecretsError(`the server secret '${name}' is sealed, and this store has no secrets key`);
    }
    if (!ring) return stored;
    try {
      return ring.open(stored, serverSecretContext(name));
    } catch (error) {
      if (!(error instanceof SecretsError)) throw error;
      throw new SecretsError(
        `cannot open the server secret '${name}' stored in the database: ${error.message}. Every server sharing a database needs the same secrets key`,
        error.details,
      );
    }
  }
}
