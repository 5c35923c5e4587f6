/**
 * The audit trail: records are inserted only inside the transaction of the act they describe
 * (`insertAuditRecord`, e.g. from a tenant purge) and read newest first. There is deliberately no
 * update or delete here, and the database refuses both (migrations/0004-audit-records.ts).
 */
import type { Selectable } from 'kysely';
import type { AuditAction, AuditRecord } from '../domain/audit-record.js';
import { decodeCursor, fromJson, pageOf } from './codec.js';
import type { Executor, StoreContext } from './context.js';
import type { AuditRecordsTable } from './schema.js';
import type { AuditRepository, Page } from './store.js';

export async function insertAuditRecord(db: Executor, record: AuditRecord): Promise<void> {
  await db
    .insertInto('audit_records')
    .values({
      id: record.id,
      at: record.at,
      actor: record.actor,
      action: record.action,
      target_id: record.targetId,
      target_name: record.targetName,
      details: JSON.stringify(record.details),
    })
    .execute();
}

function toAuditRecord(row: Selectable<AuditRecordsTable>): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action as AuditAction,
    targetId: row.target_id,
    targetName: row.target_name,
    details: fromJson<Record<string, unknown>>(row.details, {}),
  };
}

export class KyselyAuditRepository implements AuditRepository {
  constructor(private readonly ctx: StoreContext) {}

  /** Newest first (ids are UUID v7), keyset-paginated by id. */
  async list(query: { limit: number; cursor?: string | undefined }): Promise<Page<AuditRecord>> {
    const limit = Math.max(1, Math.floor(query.limit));
    let q = this.ctx.db.selectFrom('audit_records').selectAll();
    if (query.cursor) q = q.where('id', '<', decodeCursor(query.cursor, 1)[0]!);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    return pageOf(rows, limit, toAuditRecord, (row) => [row.id]);
  }
}
