import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { createStore } from '../../store/create-store.js';
import { failed, renderDoctor, runDoctor, type CheckResult } from './doctor.js';

let dir: string;
let restate: Server;
let restateUrl: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lessor-doctor-'));
  const migrated = await createStore({ url: `sqlite:${join(dir, 'ok.db')}` });
  await migrated.migrate();
  await migrated.close();
  // Opened but never migrated: the file exists, the schema does not.
  await (await createStore({ url: `sqlite:${join(dir, 'empty.db')}` })).close();
  restate = createServer((request, response) => {
    response.statusCode = request.url === '/health' ? 200 : 404;
    response.end();
  });
  await new Promise<void>((resolve) => restate.listen(0, '127.0.0.1', resolve));
  restateUrl = `http://127.0.0.1:${(restate.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => restate.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function doctor(yaml: string): Promise<readonly CheckResult[]> {
  const file = join(dir, `lessor-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, `dataDir: "${dir}"\n${yaml}`);
  return runDoctor({ flags: { config: file }, env: {}, cwd: dir, timeoutMs: 2_000 });
}

function row(results: readonly CheckResult[], check: string): CheckResult {
  const found = results.find((r) => r.check === check);
  assert.ok(found, `${check} in ${JSON.stringify(results)}`);
  return found;
}

describe('lessor doctor', () => {
  test('a healthy embedded deployment: every check ok', async () => {
    const results = await doctor(`
database: { url: "sqlite:ok.db" }
compute: { defaultProvider: fake, providers: { fake: {} } }
`);
    assert.deepEqual(
      results.map((r) => [r.check, r.status]),
      [
        ['configuration', 'ok'],
        ['database', 'ok'],
        ['migrations', 'ok'],
        ['provider fake', 'ok'],
        ['engine', 'ok'],
      ],
    );
    assert.match(row(results, 'migrations').detail, /^all \d+ applied$/);
    assert.equal(failed(results), false);
    const table = renderDoctor(results, 'table', false);
    assert.match(table, /^CHECK\s+STATUS\s+DETAIL\n/);
    assert.match(table, /\nmigrations\s+OK\s+all \d+ applied\n/);
  });

  const cases = [
    {
      reason: 'invalid configuration stops there',
      yaml: 'server: { port: seventy }\n',
      check: 'configuration',
      detail: /server\.port/,
    },
    {
      reason: 'a missing SQLite file is reported, not created',
      yaml: 'database: { url: "sqlite:absent.db" }\ncompute: { defaultProvider: fake, providers: { fake: {} } }\n',
      check: 'database',
      detail: /does not exist/,
    },
    {
      reason: 'an unmigrated database lists its pending migrations',
      yaml: 'database: { url: "sqlite:empty.db" }\ncompute: { defaultProvider: fake, providers: { fake: {} } }\n',
      check: 'migrations',
      detail: /pending \(0001-initial, .*lessor migrate/,
    },
    {
      reason: 'an unreachable PostgreSQL',
      yaml: 'database: { url: "postgres://postgres@127.0.0.1:1/none" }\ncompute: { defaultProvider: fake, providers: { fake: {} } }\n',
      check: 'database',
      detail: /postgres:\/\/postgres@127\.0\.0\.1:1\/none/,
    },
    {
      reason: 'a Docker socket that is not there',
      yaml: `database: { url: "sqlite:ok.db" }\ncompute: { defaultProvider: docker, providers: { docker: { host: "unix://${'/nonexistent/docker.sock'}", ping: false } } }\n`,
      check: 'provider docker',
      detail: /PROVIDER_UNAVAILABLE|ENOENT|connect/,
    },
    {
      reason: 'a Restate admin API that does not answer',
      yaml: `database: { url: "sqlite:ok.db" }\ncompute: { defaultProvider: fake, providers: { fake: {} } }\nengine: { type: restate, restate: { ingressUrl: "http://127.0.0.1:1", adminUrl: "http://127.0.0.1:1" } }\n`,
      check: 'engine',
      detail: /Restate admin API http:\/\/127\.0\.0\.1:1\/health/,
    },
  ];
  for (const c of cases) {
    test(`${c.reason}: that check fails, the exit is non-zero`, async () => {
      const results = await doctor(c.yaml);
      const found = row(results, c.check);
      assert.equal(found.status, 'fail', JSON.stringify(results));
      assert.match(found.detail, c.detail);
      assert.equal(failed(results), true);
      assert.match(renderDoctor(results, 'json', false), /"ok": false/);
      assert.equal(existsSync(join(dir, 'absent.db')), false, 'the doctor creates no database');
    });
  }

  test('a Restate admin API that answers /health', async () => {
    const results = await doctor(
      `database: { url: "sqlite:ok.db" }\ncompute: { defaultProvider: fake, providers: { fake: {} } }\nengine: { type: restate, restate: { ingressUrl: "${restateUrl}", adminUrl: "${restateUrl}" } }\n`,
    );
    assert.equal(row(results, 'engine').status, 'ok');
    assert.equal(failed(results), false);
  });

  describe('ECS credentials are checked with STS GetCallerIdentity', () => {
    const ecsYaml = `database: { url: "sqlite:ok.db" }
compute:
  defaultProvider: ecs
  providers:
    ecs:
      region: eu-west-1
      credentials: { accessKeyId: AKIATESTTESTTESTTEST, secretAccessKey: test-secret-key }
      maxAttempts: 1
`;
    test('accepted: the identity is shown, never the secret', async () => {
      const sts = mockClient(STSClient);
      try {
        sts
          .on(GetCallerIdentityCommand)
          .resolves({ Arn: 'arn:aws:iam::123456789012:user/ci', Account: '123456789012' });
        const results = await doctor(ecsYaml);
        const ecs = row(results, 'provider ecs');
        assert.equal(ecs.status, 'ok');
        assert.match(ecs.detail, /arn:aws:iam::123456789012:user\/ci.*eu-west-1/);
        assert.ok(!JSON.stringify(results).includes('test-secret-key'));
        assert.equal(sts.commandCalls(GetCallerIdentityCommand).length, 1);
      } finally {
        sts.restore();
      }
    });

    test('refused: the check fails with the mapped code', async () => {
      const sts = mockClient(STSClient);
      try {
        sts.on(GetCallerIdentityCommand).rejects(
          Object.assign(new Error('The security token included in the request is invalid.'), {
            name: 'InvalidClientTokenId',
          }),
        );
        const results = await doctor(ecsYaml);
        const ecs = row(results, 'provider ecs');
        assert.equal(ecs.status, 'fail');
        assert.match(ecs.detail, /security token/);
        assert.ok(!ecs.detail.includes('test-secret-key'));
      } finally {
        sts.restore();
      }
    });
  });
});
