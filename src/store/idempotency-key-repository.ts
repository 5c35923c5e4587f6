/**
 * Idempotency keys for the API's `Idempotency-Key` header. A key is claimed (`in_flight`, with a
 * short expiry) before the request runs and completed with the response (and the long expiry)
 * afterwards; an expired record counts as absent and is taken over by the next claim. Claims are atomic on both engines: the insert is
 * `ON CONFLICT DO NOTHING`, the takeover an update guarded by `expires_at <= now`.
 */
import type { Selectable } from 'kysely';
import { fromJson, toJson } from './codec.js';
import { transaction, type StoreContext } from './context.js';
import type { IdempotencyKeysTable } from './schema.js';
import type { IdempotencyKeyRepository, IdempotencyRecord } from './store.js';

function toRecord(row: Selectable<IdempotencyKeysTable>): IdempotencyRecord {
  return {
    key: row.key,
    scope: row.scope,
    requestHash: row.request_hash,
    state: row.state as IdempotencyRecord['state'],
    statusCode: row.status_code === null ? null : Number(row.status_code),
    responseBody: fromJson<unknown>(row.response_body, null),
    responseHeaders: fromJson<Record<string, string>>(row.response_headers, {}),
    createdAt: row.created_at,
    expiresAt: Number(row.expires_at),
  };
}

type ClaimInput = { key: string; scope: string; requestHash: string; now: number; expiresAt: number };
type ClaimResult = { claimed: true } | { claimed: false; existing: IdempotencyRecord };

export class KyselyIdempotencyKeyRepository implements IdempotencyKeyRepository {
  constructor(private readonly ctx: StoreContext) {}

  async claim(input: ClaimInput): Promise<ClaimResult> {
    const fresh = {
      request_hash: input.requestHash,
      state: 'in_flight',
      status_code: null,
      response_body: null,
      response_headers: '{}',
      created_at: new Date(input.now).toISOString(),
      expires_at: input.expiresAt,
    };
    return transaction(this.ctx, async (trx): Promise<ClaimResult> => {
      const inserted = await trx
        .insertInto('idempotency_keys')
        .values({ scope: input.scope, key: input.key, ...fresh })
        .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
        .returning('key')
        .executeTakeFirst();
      if (inserted) return { claimed: true };
      const takenOver = await trx
        .updateTable('idempotency_keys')
        .set(fresh)
        .where('scope', '=', input.scope)
        .where('key', '=', input.key)
        .where('expires_at', '<=', input.now)
        .returning('key')
        .executeTakeFirst();
      if (takenOver) return { claimed: true };
      const existing = await trx
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('scope', '=', input.scope)
        .where('key', '=', input.key)
        .executeTakeFirstOrThrow();
      return { claimed: false, existing: toRecord(existing) };
    });
  }

  async complete(
    key: string,
    scope: string,
    response: { statusCode: number; body: unknown; headers: Record<string, string> },
    expiresAt: number,
  ): Promise<void> {
    await this.ctx.db
      .updateTable('idempotency_keys')
      .set({
        state: 'completed',
        status_code: response.statusCode,
        response_body: toJson(response.body),
        response_headers: JSON.stringify(response.headers),
        expires_at: expiresAt,
      })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
  }

  /** Only an in-flight claim is dropped; a completed response stays to be replayed. */
  async release(key: string, scope: string): Promise<void> {
    await this.ctx.db
      .deleteFrom('idempotency_keys')
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('state', '=', 'in_flight')
      .execute();
  }

  async deleteExpired(now: number): Promise<number> {
    const result = await this.ctx.db
      .deleteFrom('idempotency_keys')
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
