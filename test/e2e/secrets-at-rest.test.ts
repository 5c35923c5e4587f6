/**
 * Secrets at rest (README; docs/decisions.md), end to end on a real `lessor serve` with the `process`
 * provider, on each database: a tenant's secret reaches its runtime, but the database — every table, and
 * SQLite's files byte for byte — never holds it in plaintext; no hash the server stores or serves (execution
 * and run records, the idempotency record, the provider's runtime record) is the plain SHA-256 a guesser
 * could recompute; the data directory, key file and database files are private; `lessor secrets rotate-key`
 * re-seals everything and a restarted server reads it; an archived tenant keeps no secret at all, in its spec or in the
 * revisions of its earlier generations.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canonicalJson, sha256Hex } from '../../src/domain/canonical-json.js';
import { decodeSecretKey, secretKeyId } from '../../src/domain/secret-key-ring.js';
import type { JsonObject } from '../../src/domain/tenant.js';
import { parseDatabaseUrl } from '../../src/store/create-store.js';
import { dumpDatabase, whereFound } from '../../src/store/testing/database-dump.js';
import { backends } from '../../src/store/testing/test-databases.js';
import { deploy, withLogs, type Deployment } from '../support/deployment.js';
import { embeddedEngine } from '../support/engines.js';
import { REPO_ROOT } from '../support/lessor-process.js';
import { processWorld, type ProcessWorld } from '../support/process-runtimes.js';
import { waitFor, waitForPhase } from '../support/wait.js';

const PROVIDERS = { process: { stopGraceMs: 500 } };

/** The plain hashes an attacker with a guess could compute: of the config and of each field. */
function plainHashes(config: JsonObject): string[] {
  const plain = (value: unknown) => sha256Hex(canonicalJson(value));
  const values = [config, ...Object.values(config)];
  return values.flatMap((value) => [plain(value).slice(0, 16), plain(value).slice(0, 12)]);
}

function assertNoPlainHash(where: string, text: string, config: JsonObject): void {
  for (const hash of plainHashes(config))
    assert.ok(!text.includes(hash), `${where} holds the plain hash ${hash}`);
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** `lessor secrets rotate-key` as an operator runs it: same database and data directory as the server. */
async function rotateKey(d: Deployment): Promise<string> {
  const env = {
    ...process.env,
    LESSOR_DATABASE__URL: d.db.url,
    LESSOR_DATA_DIR: d.dataDir,
    LESSOR_COMPUTE__DEFAULT_PROVIDER: 'process',
    LESSOR_COMPUTE__PROVIDERS__PROCESS: JSON.stringify(PROVIDERS.process),
    LESSOR_LOG__LEVEL: 'warn',
  };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/main/cli-entry.ts', 'secrets', 'rotate-key'],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, output);
  return output;
}

for (const backend of backends()) {
  const label = `[${backend.name}]`;
  describe(`secrets at rest ${label}`, () => {
    let d: Deployment | undefined;
    let world: ProcessWorld | undefined;
    let webhook: { id: string; secret: string } | undefined;
    before(async () => {
      world = await processWorld();
      d = await deploy({
        backend,
        engine: embeddedEngine,
        providers: PROVIDERS,
        env: { LESSOR_WEBHOOKS__ALLOW_HTTP: 'true', LESSOR_WEBHOOKS__ALLOWED_NETWORKS: '127.0.0.0/8' },
      });
      // Subscribed to everything: the outbox then holds every tenant event, checked below too.
      webhook = await d.client.createWebhook({ url: 'http://127.0.0.1:9/never', events: ['*'] });
    });
    after(async () => {
      await d?.close();
      await world?.cleanup();
    });

    test(`${label} a secret reaches the runtime and never the disk; hashes are keyed; rotation and archive`, () =>
      withLogs(d, async () => {
        const { client, db } = d!;
        const secret = `s3cret-${randomBytes(8).toString('hex')}`;
        // The runtime's /cgi-bin/mode answers $MODE: here a secret, so the answer proves the process got it.
        const base = world!.config();
        const { MODE: _mode, ...env } = base.env as Record<string, string>;
        const config: JsonObject = { ...base, env, secretEnv: { MODE: secret } };
        const body = { name: `sec-${randomBytes(3).toString('hex')}`, spec: { config } };
        const created = await client.createTenant(body, {
          idempotencyKey: `k-${randomBytes(4).toString('hex')}`,
        });
        const ready = await waitForPhase(client, created.id, 'ready', {
          timeoutMs: 60_000,
          failOn: ['failed'],
        });
        const serves = async (url: string): Promise<string> =>
          (await (await fetch(`${url}/cgi-bin/mode`)).text()).trim();
        assert.equal(await serves(ready.status.endpoints[0]!.url), secret);
        assert.deepEqual((ready.spec.config.secretEnv as JsonObject).MODE, '***');

        const dump = await dumpDatabase(db.url);
        assert.deepEqual(whereFound(dump, secret), [], 'the plaintext secret is in the database');
        assert.ok(
          dump.tables.get('webhook_deliveries')!.includes('tenant.created'),
          'events reach the outbox',
        );
        assert.deepEqual(whereFound(dump, webhook!.secret), [], 'a webhook secret is in plaintext');
        assert.match(dump.tables.get('webhooks')!, /enc:v1:/);
        assertNoPlainHash('the database', [...dump.tables.values()].join('\n'), config);
        const executions = (await client.tenantExecutions(created.id)).items;
        const run = await client.getRun(ready.status.workflow!.runId);
        assertNoPlainHash('served records', JSON.stringify({ executions, run }), config);
        const record = await readFile(join(d!.dataDir, 'process', body.name, 'runtime.json'), 'utf8');
        assertNoPlainHash('the process runtime record', record, config);
        assert.ok(!record.includes(secret));

        assert.equal(await modeOf(d!.dataDir), 0o700);
        assert.equal(await modeOf(join(d!.dataDir, 'secrets.key')), 0o600);
        assert.equal(await modeOf(join(d!.dataDir, 'process')), 0o700);
        const target = parseDatabaseUrl(db.url);
        if (target.kind === 'sqlite') {
          assert.equal(await modeOf(target.filename), 0o600);
          assert.equal(await modeOf(`${target.filename}-wal`), 0o600);
        }

        const keyBefore = (await readFile(join(d!.dataDir, 'secrets.key'), 'utf8')).split('\n')[1];
        await d!.lessor.stop();
        const rotated = await rotateKey(d!);
        assert.match(rotated, /re-sealed 1 of 1 tenant\(s\) and 1 server secret\(s\)/);
        const currentKey = (await readFile(join(d!.dataDir, 'secrets.key'), 'utf8')).split('\n')[1]!;
        const keyId = secretKeyId(decodeSecretKey(currentKey.trim())!);
        const webhooksRow = (await dumpDatabase(db.url)).tables.get('webhooks')!;
        assert.ok(
          webhooksRow.includes(`enc:v1:${keyId}:`),
          'the webhook secret is re-sealed under the new key',
        );
        const keyFile = await readFile(join(d!.dataDir, 'secrets.key'), 'utf8');
        assert.notEqual(keyFile.split('\n')[1], keyBefore, 'the key file has a new current key');
        await d!.lessor.restart();
        await client.patchTenant(created.id, { spec: { config: { env: { ROTATED: 'yes' } } } });
        const updated = await waitForPhase(client, created.id, 'ready', { generation: 2, timeoutMs: 60_000 });
        assert.equal(updated.generation, 2);
        const url = updated.status.endpoints[0]!.url;
        await waitFor('the replaced runtime to answer', async () =>
          (await serves(url).catch(() => '')) === secret ? true : undefined,
        );
        assert.deepEqual(whereFound(await dumpDatabase(db.url), secret), []);

        await client.deleteTenant(created.id);
        await waitForPhase(client, created.id, 'archived', { timeoutMs: 60_000 });
        const archived = JSON.parse((await dumpDatabase(db.url)).tables.get('tenants')!) as {
          id: string;
          spec: string;
        }[];
        const row = archived.find((t) => t.id === created.id)!;
        assert.doesNotMatch(row.spec, /enc:v1:/, 'an archived tenant still holds a sealed secret');
        assert.deepEqual((JSON.parse(row.spec) as { config: JsonObject }).config.secretEnv, { MODE: '***' });
        // Every generation's spec is kept, and an archived tenant's revisions keep no secret either.
        const revisions = (
          JSON.parse((await dumpDatabase(db.url)).tables.get('tenant_revisions')!) as {
            tenant_id: string;
            spec: string;
          }[]
        ).filter((r) => r.tenant_id === created.id);
        assert.equal(revisions.length, 2);
        for (const revision of revisions) {
          assert.doesNotMatch(revision.spec, /enc:v1:/, 'an archived tenant still holds a sealed secret');
          assert.deepEqual((JSON.parse(revision.spec) as { config: JsonObject }).config.secretEnv, {
            MODE: '***',
          });
        }
      }));

    test(`${label} a rollout's patch and its members' previous specs are sealed too`, () =>
      withLogs(d, async () => {
        const { client, db } = d!;
        const before = `old-${randomBytes(8).toString('hex')}`;
        const after = `new-${randomBytes(8).toString('hex')}`;
        const group = `ros${randomBytes(3).toString('hex')}`;
        const config: JsonObject = { ...world!.config(), secretEnv: { TOKEN: before } };
        const tenant = await client.createTenant({ name: `${group}-a`, spec: { config, labels: { group } } });
        await waitForPhase(client, tenant.id, 'ready', { timeoutMs: 60_000, failOn: ['failed'] });
        const rollout = await client.createRollout({
          selector: { labels: `group=${group}` },
          change: { patch: { config: { secretEnv: { TOKEN: after } } } },
        });
        assert.deepEqual((rollout.change as { patch: unknown }).patch, {
          config: { secretEnv: { TOKEN: '***' } },
        });
        await waitFor(
          'the rollout to succeed',
          async () => (await client.getRollout(rollout.id)).status.phase === 'succeeded',
          { timeoutMs: 60_000 },
        );
        const dump = await dumpDatabase(db.url);
        assert.deepEqual(whereFound(dump, after), [], "the rollout's secret is in the database");
        assert.deepEqual(whereFound(dump, before), [], "a member's previous secret is in the database");
      }));
  });
}
