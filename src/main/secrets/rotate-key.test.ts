/**
 * Secrets at rest as `serve` opens them and as `lessor secrets rotate-key` rotates them, on both
 * databases: the config-hash key (made once, kept through rotations), rotation in key-file and in
 * `secrets.key` mode, an interrupted rotation, and servers with the wrong key.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ConfigHasher } from '../../domain/config-hasher.js';
import { silentLogger } from '../../domain/logger.js';
import { encodeSecretKey, newSecretKey, secretKeyId } from '../../domain/secret-key-ring.js';
import type { JsonObject } from '../../domain/tenant.js';
import { createStore } from '../../store/create-store.js';
import type { Store } from '../../store/store.js';
import { dumpDatabase } from '../../store/testing/database-dump.js';
import { backends, type TestDatabase } from '../../store/testing/test-databases.js';
import { buildProviders } from '../build-providers.js';
import { ConfigError } from '../config/config-error.js';
import { loadConfig, type LessorConfig } from '../config/load-config.js';
import { readKeyFile, writeKeyFile } from './key-file.js';
import { rotateSecretsKey } from './rotate-key.js';
import { keyFilePath, loadConfigHasher, openServerSecrets } from './server-secrets.js';

interface Server {
  readonly store: Store;
  readonly hasher: ConfigHasher;
  close(): Promise<void>;
}

/** What `serve` opens before it serves: data dir, key ring, store, hash key, providers. */
async function openServer(config: LessorConfig): Promise<Server> {
  const secrets = openServerSecrets(config, silentLogger);
  const store = await createStore({
    url: config.database.url,
    dataDir: config.dataDir,
    secrets: secrets.atRest,
  });
  try {
    await store.migrate();
    const hasher = await loadConfigHasher(store);
    const providers = await buildProviders(config, silentLogger, hasher);
    secrets.bindFields(providers);
    return { store, hasher, close: async () => (await providers.close(), await store.close()) };
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function withServer<T>(config: LessorConfig, fn: (server: Server) => Promise<T>): Promise<T> {
  const server = await openServer(config);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

const CONFIG = { image: 'app:1', secretEnv: { TOKEN: 'hunter2' } };

function tokenOf(config: JsonObject): unknown {
  return (config.secretEnv as JsonObject | undefined)?.TOKEN;
}

for (const backend of backends()) {
  describe(`[${backend.name}] secrets at rest: hash key and rotation`, () => {
    // A database per test: each test's first server makes that database's hash key under its key.
    let db: TestDatabase;
    const dirs: string[] = [];
    beforeEach(async () => {
      db = await backend.create();
    });
    afterEach(async () => {
      await db.cleanup();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    /** A configuration on the shared database with its own data directory (or `dataDir`'s). */
    const configWith = (env: Record<string, string> = {}, dataDir?: string): LessorConfig => {
      const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'lessor-rotate-'));
      if (dataDir === undefined) dirs.push(dir);
      return loadConfig({
        cwd: dir,
        env: {
          LESSOR_DATA_DIR: dir,
          LESSOR_DATABASE__URL: db.url,
          LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake',
          LESSOR_COMPUTE__PROVIDERS__FAKE: '{}',
          ...env,
        },
      });
    };

    const createTenant = (server: Server) =>
      server.store.tenants.create({
        name: `t-${randomBytes(4).toString('hex')}`,
        spec: {
          provider: 'fake',
          config: CONFIG,
          labels: {},
          annotations: {},
          retryPolicy: null,
          paused: false,
        },
        actor: 'test',
      });

    /** Sealed values per key id, over the whole database. */
    const sealedUnder = async (): Promise<Record<string, number>> => {
      const dump = await dumpDatabase(db.url);
      const counts: Record<string, number> = {};
      for (const text of dump.tables.values())
        for (const [, id] of text.matchAll(/enc:v1:([0-9a-f]{8}):/g)) counts[id!] = (counts[id!] ?? 0) + 1;
      return counts;
    };

    test(`[${backend.name}] a key file rotation re-seals everything under a new key; the hash key stays`, async () => {
      const config = configWith();
      const { id, hash } = await withServer(config, async (s) => ({
        id: (await createTenant(s)).id,
        hash: s.hasher(CONFIG),
      }));
      const [oldKey] = readKeyFile(keyFilePath(config))!;

      const outcome = await rotateSecretsKey(config, silentLogger);
      const keys = readKeyFile(keyFilePath(config))!;
      assert.equal(secretKeyId(keys[0]!), outcome.keyId);
      assert.deepEqual(keys.slice(1), [oldKey], 'the previous key stays for servers not yet restarted');
      assert.ok(outcome.report.resealed >= 1 && outcome.report.serverSecrets === 1, JSON.stringify(outcome));
      assert.deepEqual(Object.keys(await sealedUnder()), [outcome.keyId]);

      writeKeyFile(keyFilePath(config), [keys[0]!]);
      await withServer(config, async (s) => {
        assert.equal(tokenOf((await s.store.tenants.get(id))!.spec.config), 'hunter2');
        assert.equal(s.hasher(CONFIG), hash, 'the config hash changed with the secrets key');
      });
    });

    test(`[${backend.name}] an interrupted rotation leaves a key file that opens everything; --resume ends it`, async () => {
      const config = configWith();
      await withServer(config, createTenant);
      const [oldKey] = readKeyFile(keyFilePath(config))!;
      const newKey = newSecretKey();
      // What a rotation killed right after its first step leaves: the new key current, nothing re-sealed.
      writeKeyFile(keyFilePath(config), [newKey, oldKey!]);
      await withServer(config, async (s) => {
        const mixed = await createTenant(s);
        assert.equal(tokenOf((await s.store.tenants.get(mixed.id))!.spec.config), 'hunter2');
      });
      const outcome = await rotateSecretsKey(config, silentLogger, { resume: true });
      assert.equal(outcome.keyId, secretKeyId(newKey));
      assert.equal(outcome.report.remaining, 0);
      assert.deepEqual(Object.keys(await sealedUnder()), [secretKeyId(newKey)]);
      const again = await rotateSecretsKey(config, silentLogger, { resume: true });
      assert.equal(again.report.resealed, 0);
    });

    test(`[${backend.name}] a running server follows a key file rotation: it re-reads the file`, async () => {
      const config = configWith();
      await withServer(config, async (s) => {
        const before = await createTenant(s);
        const outcome = await rotateSecretsKey(config, silentLogger);
        assert.equal(tokenOf((await s.store.tenants.get(before.id))!.spec.config), 'hunter2');
        await createTenant(s);
        assert.deepEqual(
          Object.keys(await sealedUnder()),
          [outcome.keyId],
          'the server still seals with the old key',
        );
      });
    });

    test(`[${backend.name}] two rotations later the key file holds the current key and the one before`, async () => {
      const config = configWith();
      await withServer(config, createTenant);
      const first = await rotateSecretsKey(config, silentLogger);
      const second = await rotateSecretsKey(config, silentLogger);
      assert.deepEqual(second.keyFile?.keyIds, [second.keyId, first.keyId]);
      assert.deepEqual(readKeyFile(keyFilePath(config))!.map(secretKeyId), [second.keyId, first.keyId]);
    });

    test(`[${backend.name}] with secrets.key, rotate-key re-seals under it and opens with previousKeys`, async () => {
      const [k1, k2] = [encodeSecretKey(newSecretKey()), encodeSecretKey(newSecretKey())];
      const old = configWith({ LESSOR_SECRETS__KEY: k1 });
      const id = await withServer(old, async (s) => (await createTenant(s)).id);
      const next = configWith({ LESSOR_SECRETS__KEY: k2, LESSOR_SECRETS__PREVIOUS_KEYS: k1 }, old.dataDir);
      await assert.rejects(rotateSecretsKey(next, silentLogger, { newKeyFile: '/x' }), ConfigError);
      const outcome = await rotateSecretsKey(next, silentLogger);
      assert.equal(outcome.keyFile, undefined);
      assert.deepEqual(Object.keys(await sealedUnder()), [outcome.keyId]);
      const only = configWith({ LESSOR_SECRETS__KEY: k2 }, old.dataDir);
      await withServer(only, async (s) =>
        assert.equal(tokenOf((await s.store.tenants.get(id))!.spec.config), 'hunter2'),
      );
    });

    test(`[${backend.name}] a server with another key refuses to start: the hash key does not open`, async () => {
      await withServer(configWith(), async () => undefined);
      const stranger = configWith({ LESSOR_SECRETS__KEY: encodeSecretKey(newSecretKey()) });
      await assert.rejects(
        openServer(stranger),
        (error: unknown) =>
          error instanceof ConfigError && /secrets\.key: .*same secrets key/.test(error.message),
      );
    });
  });
}
