/**
 * The W3C traceparent of the context that queued a webhook delivery (the API request or workflow
 * step whose transaction wrote the event), so each attempt's span joins that trace
 * (docs/operations.md, "Traces"). Null for rows written before, or with tracing off.
 */
import type { Kysely, Migration } from 'kysely';

export const webhookTraceparent: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('webhook_deliveries').addColumn('traceparent', 'text').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('webhook_deliveries').dropColumn('traceparent').execute();
  },
};
