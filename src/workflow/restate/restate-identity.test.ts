/**
 * Request signing between a real restate-server and Lessor's service endpoint: with
 * `identityKeys` the endpoint answers 401 to anyone who does not sign with the matching private
 * key, and a restate-server that holds the key
 * (`RESTATE_WORKER__INVOKER__REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE`) still registers the endpoint
 * and drives runs through it.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { identityKeyOf, isIdentityKey } from './identity-key.js';
import { define, finished } from '../testing/run-probes.js';
import { createRestateWorld, type RestateWorld } from './testing/restate-harness.js';

describe('identity keys', () => {
  test('the publickeyv1_ form of an Ed25519 key is recognised; anything else is not', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const cases: readonly { reason: string; key: string; valid: boolean }[] = [
      { reason: 'derived from a fresh key', key: identityKeyOf(publicKey), valid: true },
      {
        reason: "the example of the SDK's documentation",
        key: 'publickeyv1_2G8dCQhArfvGpzPw5Vx2ALciR4xCLHfS5YaT93XjNxX9',
        valid: true,
      },
      { reason: 'too short for 32 bytes', key: 'publickeyv1_2G8dCQhArfvGpzPw5Vx2ALciR4x', valid: false },
      { reason: 'not base58 (0, O, I, l)', key: 'publickeyv1_0OIl', valid: false },
      {
        reason: 'another prefix',
        key: 'publickeyv2_2G8dCQhArfvGpzPw5Vx2ALciR4xCLHfS5YaT93XjNxX9',
        valid: false,
      },
      { reason: 'empty payload', key: 'publickeyv1_', valid: false },
    ];
    for (const c of cases) assert.equal(isIdentityKey(c.key), c.valid, c.reason);
  });

  test('identityKeyOf refuses a key that is not Ed25519', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => identityKeyOf(publicKey), /Ed25519/);
  });
});

describe('restate endpoint with identity keys, against a signing restate-server', () => {
  let world: RestateWorld;
  let keyDir: string;
  let identityKey: string;
  before(async () => {
    keyDir = await mkdtemp(join(tmpdir(), 'lessor-restate-key-'));
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pem = join(keyDir, 'request-identity.pem');
    await writeFile(pem, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    identityKey = identityKeyOf(publicKey);
    world = await createRestateWorld({
      env: {
        RESTATE_WORKER__INVOKER__REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE: pem,
        RESTATE_LOG_FILTER: 'warn,restate_service_client::request_identity=info',
      },
    });
  });
  after(async () => {
    await world?.cleanup();
    await rm(keyDir, { recursive: true, force: true });
  });

  test('the signing server logs the same public key Lessor derives from it', () => {
    assert.ok(world.server.output().includes(identityKey), world.server.output());
  });

  test('a signed server registers the endpoint and drives a run; unsigned requests get 401', async () => {
    const engine = await world.engine([define('provision', async (ctx) => ctx.step('one', async () => 1))], {
      identityKeys: [identityKey],
    });
    const { run } = await engine.start({ runId: 'signed-1', workflow: 'provision', input: null });
    const done = await finished(engine, run.runId);
    assert.deepEqual([done.state, done.output], ['succeeded', 1]);

    const invoke = `/invoke/${engine.serviceName}/run`;
    assert.equal(await http2Status(engine.endpointUrl, 'POST', invoke), 401);
    assert.equal(await http2Status(engine.endpointUrl, 'GET', '/discover'), 401);
  });

  test('without identity keys the same endpoint accepts unsigned requests (the loopback default)', async () => {
    const engine = await world.engine([define('provision', async () => 1)]);
    assert.equal(await http2Status(engine.endpointUrl, 'GET', '/discover'), 200);
  });

  test('an endpoint expecting another key refuses this server: registration fails', async () => {
    const other = identityKeyOf(generateKeyPairSync('ed25519').publicKey);
    await assert.rejects(
      world.engine([define('provision', async () => 1)], {
        identityKeys: [other],
        registrationTimeoutMs: 1_000,
      }),
      /could not register/,
    );
  });
});

/** The HTTP status an unsigned HTTP/2 request to the endpoint gets. */
async function http2Status(baseUrl: string, method: string, path: string): Promise<number> {
  const session = http2.connect(baseUrl);
  try {
    return await new Promise<number>((resolve, reject) => {
      session.once('error', reject);
      const request = session.request({
        ':method': method,
        ':path': path,
        'content-type': 'application/vnd.restate.invocation.v5',
        accept: 'application/vnd.restate.endpointmanifest.v4+json',
      });
      request.once('response', (headers) => resolve(Number(headers[':status'])));
      request.once('error', reject);
      request.resume();
      request.end();
    });
  } finally {
    session.close();
  }
}
