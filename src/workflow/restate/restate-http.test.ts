/**
 * The HTTP client of Restate's admin API and ingress over kept-alive connections, against a local
 * stand-in server: connections are reused, a request cut on a reused connection is sent once more
 * on a new one, and a server that never answers is reported as unreachable.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { RestateHttp } from './restate-http.js';

describe('restate http client', () => {
  let server: http.Server;
  let url: string;
  /** Per connection, how many requests it carried. */
  const requestsOn = new Map<Socket, number>();
  /** What the stand-in does with the n-th request of a connection (1-based): answer, cut or ignore. */
  let behaviour: (nth: number) => 'answer' | 'cut' | 'ignore' = () => 'answer';

  before(async () => {
    server = http.createServer((request, response) => {
      const nth = (requestsOn.get(request.socket) ?? 0) + 1;
      requestsOn.set(request.socket, nth);
      const action = behaviour(nth);
      if (action === 'cut') request.socket.destroy();
      else if (action === 'answer') {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ rows: [{ nth }] }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('calls share one kept-alive connection', async () => {
    requestsOn.clear();
    behaviour = () => 'answer';
    const client = new RestateHttp(url, url, 2_000);
    assert.deepEqual(await client.query('SELECT 1'), [{ nth: 1 }]);
    assert.deepEqual(await client.query('SELECT 1'), [{ nth: 2 }]);
    assert.equal(requestsOn.size, 1);
    client.close();
  });

  test('a request cut on a reused connection is sent again on a new one', async () => {
    requestsOn.clear();
    behaviour = (nth) => (nth === 2 ? 'cut' : 'answer');
    const client = new RestateHttp(url, url, 2_000);
    assert.deepEqual(await client.query('SELECT 1'), [{ nth: 1 }]);
    assert.deepEqual(await client.query('SELECT 1'), [{ nth: 1 }], 'answered on a fresh connection');
    assert.equal(requestsOn.size, 2);
    client.close();
  });

  test('a request cut on a new connection fails as unreachable (no second try)', async () => {
    requestsOn.clear();
    behaviour = () => 'cut';
    const client = new RestateHttp(url, url, 2_000);
    await assert.rejects(client.query('SELECT 1'), { name: 'RestateCallError', status: null });
    assert.equal(requestsOn.size, 1);
    client.close();
  });

  test('no answer within the timeout: unreachable', async () => {
    behaviour = () => 'ignore';
    const client = new RestateHttp(url, url, 100);
    await assert.rejects(client.query('SELECT 1'), {
      name: 'RestateCallError',
      message: /no answer within 100 ms/,
    });
    client.close();
  });
});
