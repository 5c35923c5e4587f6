/**
 * A request that reaches the server after `close()` began — on a connection kept alive from an
 * earlier request — gets Lessor's own 503 problem, not the framework's bare 503.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import type { ApiStore } from './api-deps.js';
import { apiDeps, testApiOptions, testFeed, TOKENS } from './testing/api-harness.js';
import { createApiServer } from './server.js';
import { sqliteBackend } from '../store/testing/test-databases.js';

/** One connection to 127.0.0.1:`port`: `send` writes a GET of `path`; `read` is all it got until it closed. */
function connection(port: number): { send: (path: string) => Promise<void>; read: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  const send = (path: string): Promise<void> =>
    new Promise((resolve) =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKENS.viewer}\r\n\r\n`,
        () => resolve(),
      ),
    );
  const read = new Promise<string>((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  return { send, read };
}

test('a request on a kept-alive connection while the server closes gets 503 UNAVAILABLE problem+json', async () => {
  const db = await sqliteBackend.create();
  after(() => db.cleanup());
  let release = (): void => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let holdNext = false;
  const store: ApiStore = {
    ...db.store,
    tenants: Object.assign(Object.create(db.store.tenants) as ApiStore['tenants'], {
      listForView: async (...args: Parameters<ApiStore['tenants']['listForView']>) => {
        if (holdNext) {
          holdNext = false;
          await held;
        }
        return db.store.tenants.listForView(...args);
      },
    }),
  };
  const feed = testFeed(db.store);
  const deps = apiDeps(db.store, { store, feed });
  const app = await createApiServer(deps, testApiOptions());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  after(() => feed.stop());

  // The first request is held in the store, so its connection is busy (not idle) when close()
  // begins; the second arrives on it after that.
  holdNext = true;
  const { send, read } = connection(port);
  await send('/v1/tenants');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closed = app.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await send('/v1/tenants');
  await new Promise((resolve) => setTimeout(resolve, 50));
  release();
  await closed;

  const answers = (await read).split(/(?=HTTP\/1\.1 )/);
  assert.equal(answers.length, 2, await read);
  assert.match(answers[0]!, /^HTTP\/1\.1 200/, 'the request in flight finishes');
  const late = answers[1]!;
  assert.match(late, /^HTTP\/1\.1 503/);
  assert.match(late, /content-type: application\/problem\+json/i);
  assert.match(late, /"code":"UNAVAILABLE"/);
  assert.match(late, /retry-after: /i);
  assert.match(late, /x-request-id: /i);
});
