/**
 * Webhooks (docs/api.md, "Webhooks"): `webhooks` holds the subscriptions, their signing secrets
 * sealed under the secrets key; `webhook_deliveries` is their outbox — one row per (webhook,
 * message), written in the transaction of the event it reports, claimed under a lease by one
 * dispatcher at a time; `webhook_delivery_attempts` records every attempt. Deleting a webhook
 * deletes its deliveries and attempts. Never edit an applied migration: add a new one.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from '../dialect.js';

type Db = Kysely<unknown>;

async function createWebhooks(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('webhooks')
    .addColumn('id', d.keyText, (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    // `|filter|filter|`: the outbox insert selects subscriptions with LIKE on it.
    .addColumn('event_filter', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('disabled_reason', 'text')
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_expires_at', d.bigint)
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

async function createDeliveries(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('webhook_id', d.keyText, (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('message_id', d.keyText, (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', d.keyText, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', d.bigint, (c) => c.notNull())
    // Start of the retry window (creation, or the last retry by hand): dead once it is over.
    .addColumn('window_start', d.bigint, (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', d.bigint)
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('delivered_at', 'text')
    // When the row stopped moving (delivered, failed, dead); retention sweeps by it.
    .addColumn('finished_at', 'text')
    .addPrimaryKeyConstraint('webhook_deliveries_pk', ['webhook_id', 'message_id'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due')
    .on('webhook_deliveries')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_by_webhook')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'status', 'next_attempt_at'])
    .execute();
  // Retention deletes by message id (the rows of one event across webhooks).
  await db.schema
    .createIndex('webhook_deliveries_message')
    .on('webhook_deliveries')
    .column('message_id')
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_finished')
    .on('webhook_deliveries')
    .columns(['finished_at', 'message_id'])
    .where(sql.ref('finished_at'), 'is not', null)
    .execute();
}

async function createAttempts(db: Db, d: SqlDialect): Promise<void> {
  await db.schema
    .createTable('webhook_delivery_attempts')
    .addColumn('webhook_id', d.keyText, (c) => c.notNull())
    .addColumn('message_id', d.keyText, (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('webhook_delivery_attempts_pk', ['webhook_id', 'message_id', 'attempt'])
    .addForeignKeyConstraint(
      'webhook_delivery_attempts_delivery',
      ['webhook_id', 'message_id'],
      'webhook_deliveries',
      ['webhook_id', 'message_id'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
}

export function webhooksMigration(dialect: SqlDialect): Migration {
  return {
    async up(db: Db) {
      await createWebhooks(db, dialect);
      await createDeliveries(db, dialect);
      await createAttempts(db, dialect);
    },
    async down(db: Db) {
      await db.schema.dropTable('webhook_delivery_attempts').execute();
      await db.schema.dropTable('webhook_deliveries').execute();
      await db.schema.dropTable('webhooks').execute();
    },
  };
}
