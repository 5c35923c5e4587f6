/**
 * `lessor serve` refusing to start, as an operator sees it: the exit code and what stderr says.
 * Configuration it must refuse exits 2 with one line per problem; a database it cannot reach is
 * tried again for `database.connectTimeoutMs` and then exits 1 naming the database and the cause —
 * never with a stack trace. A database that comes up within that window is simply used.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runLessor, type CliResult } from '../../src/cli/testing/run-cli.js';
import { postgresBackend, type TestDatabase } from '../../src/store/testing/test-databases.js';
import { freePort, REPO_ROOT, startLessorProcess } from '../support/lessor-process.js';

const ENTRY = ['--import', 'tsx', join(REPO_ROOT, 'src', 'main', 'cli-entry.ts')];
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

describe('lessor serve refuses to start, cleanly', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lessor-startup-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  function serve(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
    return runLessor(['serve', ...args], {
      entry: ENTRY,
      env: { LESSOR_DATA_DIR: dataDir, LESSOR_SERVER__PORT: '1', ...env },
      timeoutMs: 60_000,
    });
  }

  test('an unauthenticated bind off loopback exits 2 with one line and no stack', async () => {
    // (The built-in process provider is opted in, so this is the only problem to report.)
    const result = await serve(['--host', '0.0.0.0'], {
      LESSOR_COMPUTE__PROVIDERS__PROCESS__ALLOW_REMOTE: 'true',
    });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      "lessor: invalid configuration: server.host: refusing to listen on '0.0.0.0' without authentication: " +
        'configure server.tokens or bind to 127.0.0.1 (from --host="0.0.0.0")\n',
    );
  });

  test('a Restate endpoint off loopback without identity keys exits 2 with one line', async () => {
    const result = await serve([], {
      LESSOR_ENGINE__TYPE: 'restate',
      LESSOR_ENGINE__RESTATE__INGRESS_URL: 'http://127.0.0.1:1',
      LESSOR_ENGINE__RESTATE__ADMIN_URL: 'http://127.0.0.1:1',
      LESSOR_ENGINE__RESTATE__ENDPOINT_HOST: '0.0.0.0',
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /^lessor: invalid configuration: engine\.restate\.endpointHost: refusing to serve the Restate endpoint on '0\.0\.0\.0' without request signing: configure engine\.restate\.identityKeys or bind to 127\.0\.0\.1 \(from LESSOR_ENGINE__RESTATE__ENDPOINT_HOST="0\.0\.0\.0"\)\n$/,
    );
  });

  test('an unreachable PostgreSQL is retried for connectTimeoutMs, then exit 1 naming the host and the cause', async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await serve([], {
      LESSOR_SERVER__PORT: String(await freePort()),
      LESSOR_DATABASE__URL: `postgres://postgres:hunter2@127.0.0.1:${port}/lessor`,
      LESSOR_DATABASE__CONNECT_TIMEOUT_MS: '1500',
    });
    const tookMs = Date.now() - started;
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^lessor: cannot reach the database postgres://postgres@127\\.0\\.0\\.1:${port}/lessor \\(gave up after \\d+ attempts in 1500 ms, database\\.connectTimeoutMs\\): .*ECONNREFUSED 127\\.0\\.0\\.1:${port}\\n$`,
      ),
    );
    assert.doesNotMatch(result.stderr, /migration unknown|hunter2/);
    assert.doesNotMatch(result.stderr, STACK_FRAME);
    const retries = result.stdout
      .split('\n')
      .filter((line) => line.includes('database unreachable; retrying'));
    assert.ok(retries.length >= 2, `expected retries to be logged:\n${result.stdout}`);
    // Retried, not an incident of a store that serves: no error line, no stack in the log either.
    assert.doesNotMatch(result.stdout, /"level":50|store unavailable|"stack"/, result.stdout);
    assert.ok(tookMs >= 1500, `gave up after ${tookMs} ms, before connectTimeoutMs`);
  });
});

describe('lessor serve does not wait out what waiting cannot cure', () => {
  test('a PostgreSQL database that does not exist: exit 1 at once, naming it', async () => {
    const name = `lessor_missing_${process.pid}`;
    const started = Date.now();
    const result = await runLessor(['serve'], {
      entry: ENTRY,
      env: {
        LESSOR_SERVER__PORT: String(await freePort()),
        LESSOR_DATABASE__URL: `postgres://postgres@127.0.0.1:5432/${name}`,
        LESSOR_DATABASE__CONNECT_TIMEOUT_MS: '60000',
      },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      result.stderr,
      `lessor: cannot prepare the database postgres://postgres@127.0.0.1:5432/${name}: migrations could not run: database "${name}" does not exist\n`,
    );
    assert.ok(Date.now() - started < 30_000, 'it waited for connectTimeoutMs');
  });

  test('an SQLite file whose directory cannot be made: exit 1, one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lessor-startup-'));
    try {
      const blocker = join(dir, 'a-file');
      await writeFile(blocker, '');
      const result = await runLessor(['serve'], {
        entry: ENTRY,
        env: {
          LESSOR_SERVER__PORT: String(await freePort()),
          LESSOR_DATABASE__URL: `sqlite:${blocker}/lessor.db`,
        },
      });
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stderr.split('\n').length, 2, result.stderr);
      assert.ok(
        result.stderr.startsWith(`lessor: cannot open the database sqlite:${blocker}/lessor.db: `),
        result.stderr,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('lessor serve waits for a PostgreSQL that comes up within connectTimeoutMs', () => {
  let db: TestDatabase;
  let proxy: Server | undefined;
  before(async () => {
    db = await postgresBackend.create({ migrate: false });
  });
  after(async () => {
    proxy?.close();
    await db.cleanup();
  });

  test('the database becomes reachable during the retry window: the server starts', async () => {
    const target = new URL(db.url);
    proxy = await downThenForward(3, target.hostname, Number(target.port || 5432));
    const throughProxy = new URL(db.url);
    throughProxy.port = String((proxy.address() as AddressInfo).port);
    const lessor = await startLessorProcess({
      databaseUrl: throughProxy.toString(),
      env: { LESSOR_DATABASE__CONNECT_TIMEOUT_MS: '30000' },
      readyTimeoutMs: 60_000,
    });
    try {
      const retries = lessor.logs().match(/database unreachable; retrying/g) ?? [];
      assert.ok(retries.length >= 3, lessor.logs());
      assert.deepEqual((await lessor.client.listTenants()).items, []);
    } finally {
      await lessor.kill('SIGKILL');
    }
  });
});

/**
 * A database "coming up": the first `refused` connections are cut at once (as a server that is not
 * there yet), every later one is forwarded to `host`:`port`.
 */
async function downThenForward(refused: number, host: string, port: number): Promise<Server> {
  let seen = 0;
  const server = createServer((client) => {
    if (++seen <= refused) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host, port });
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
