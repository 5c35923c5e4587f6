import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { AccessDeniedException, CloudWatchLogsServiceException } from '@aws-sdk/client-cloudwatch-logs';
import type { LogLine, LogRequest, TenantRef } from '../../provider.js';
import { collectLogs } from '../../testing/suspend-conformance.js';
import { FakeCloudWatchLogs } from './testing/fake-cloudwatch-logs.js';
import { FakeEcsBackend, START_LINES } from './testing/fake-ecs-backend.js';
import { metadata } from './testing/fake-task-definitions.js';
import {
  failure,
  fakeEcsRig,
  LOGGED_CONFIG,
  makeEcsProvider,
  newTenant,
  request,
  signal,
  VALID_CONFIG,
} from './testing/ecs-fixtures.js';

const GROUP = '/lessor/tenants';
const HOUR = 3_600_000;

const throttled = () =>
  new CloudWatchLogsServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: metadata(400),
  });

describe('ecs provider: logs from CloudWatch Logs', () => {
  let logs: FakeCloudWatchLogs;
  const rig = fakeEcsRig({
    backend: () => {
      logs = new FakeCloudWatchLogs([GROUP]);
      logs.pageSize = 3; // several pages for a handful of lines
      return new FakeEcsBackend({ logs });
    },
  });
  afterEach(() => logs.restore());

  /** Provisions `tenant` with logs; returns the stream prefix of its container. */
  async function provisioned(tenant: TenantRef, config = LOGGED_CONFIG): Promise<string> {
    await rig.provider.provision(request(tenant, config), signal());
    return `lessor-${tenant.id}/app/`;
  }

  const read = (tenant: TenantRef, query: Partial<LogRequest> = {}) =>
    collectLogs(rig.provider, { tenant, config: LOGGED_CONFIG, follow: false, ...query }, signal());

  it('the task definition Lessor registers sends output to the group, under a stream prefix of the tenant', async () => {
    const tenant = newTenant('chatty');
    await provisioned(tenant);
    const input = rig.ecs.callsOf('RegisterTaskDefinition')[0] as {
      containerDefinitions: { logConfiguration?: unknown }[];
    };
    assert.deepEqual(input.containerDefinitions[0]?.logConfiguration, {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': GROUP,
        'awslogs-region': 'eu-west-1',
        'awslogs-stream-prefix': `lessor-${tenant.id}`,
      },
    });
  });

  it('logs need a region for the driver: the config, the tenant or the provider names it', async () => {
    const regionless = await makeEcsProvider({ region: undefined });
    const cases = [
      { reason: 'nobody names one', config: LOGGED_CONFIG, paths: ['logs.region'] },
      { reason: "the tenant's region", config: { ...LOGGED_CONFIG, region: 'eu-west-1' }, paths: [] },
      {
        reason: 'the logs region',
        config: { ...LOGGED_CONFIG, logs: { group: GROUP, region: 'eu-west-1' } },
        paths: [],
      },
    ];
    for (const { reason, config, paths } of cases) {
      assert.deepEqual(
        regionless.validate(config).map((p) => p.path),
        paths,
        reason,
      );
    }
    assert.deepEqual(rig.provider.validate(LOGGED_CONFIG), [], 'the provider option region');
    await regionless.close?.();
  });

  it("every task's lines, interleaved by time across pages; multi-line events split; other tenants' lines left out", async () => {
    const tenant = newTenant('multi');
    const prefix = await provisioned(tenant, { ...LOGGED_CONFIG, desiredCount: 2 });
    const [a = '', b = ''] = rig.ecs.startedTasks.slice(-2);
    const t0 = Date.now() + 1000;
    logs.put(GROUP, `${prefix}${a}`, 'first', t0);
    logs.put(GROUP, `${prefix}${b}`, 'second\nstill second\n', t0 + 1);
    logs.put(GROUP, `${prefix}${a}`, 'third', t0 + 2);
    await provisioned(newTenant('neighbour'));
    logs.put(GROUP, `lessor-${newTenant().id}/app/x`, 'not mine', t0 + 1);

    const lines = await read(tenant);
    const text = lines.map((l) => l.line);
    assert.deepEqual(text, [...START_LINES, ...START_LINES, 'first', 'second', 'still second', 'third']);
    assert.ok(logs.calls.filter((c) => c.nextToken !== undefined).length >= 2, 'read over several pages');
    assert.deepEqual(lines[5], { ts: new Date(t0 + 1).toISOString(), stream: 'stdout', line: 'second' });
  });

  it('tail keeps the newest lines, looking back beyond the first window; since bounds both', async () => {
    const tenant = newTenant('old');
    const prefix = await provisioned(tenant);
    const task = rig.ecs.startedTasks.at(-1)!;
    const now = Date.now();
    logs.put(GROUP, `${prefix}${task}`, 'a week ago', now - 7 * 24 * HOUR);
    logs.put(GROUP, `${prefix}${task}`, 'yesterday', now - 24 * HOUR);
    logs.put(GROUP, `${prefix}${task}`, 'an hour ago', now - HOUR);

    const tail = (n: number, sinceMs?: number) =>
      read(tenant, { tail: n, ...(sinceMs !== undefined && { sinceMs }) }).then((l) => l.map((x) => x.line));
    const cases = [
      { reason: 'within the first window', tail: 2, expected: [...START_LINES] },
      { reason: 'one window back', tail: 3, expected: ['an hour ago', ...START_LINES] },
      {
        reason: 'many windows back',
        tail: 5,
        expected: ['a week ago', 'yesterday', 'an hour ago', ...START_LINES],
      },
      {
        reason: 'more than there is',
        tail: 50,
        expected: ['a week ago', 'yesterday', 'an hour ago', ...START_LINES],
      },
      {
        reason: 'since stops the look back',
        tail: 50,
        since: now - 2 * 24 * HOUR,
        expected: ['yesterday', 'an hour ago', ...START_LINES],
      },
      { reason: 'tail 0', tail: 0, expected: [] },
    ];
    for (const c of cases) assert.deepEqual(await tail(c.tail, c.since), c.expected, c.reason);
    assert.deepEqual(
      (await read(tenant, { sinceMs: now - 2 * HOUR })).map((l) => l.line),
      ['an hour ago', ...START_LINES],
      'since without tail',
    );
  });

  it('follow sends new lines once, rides out throttling, and ends when the service is deleted', async () => {
    const tenant = newTenant('follow');
    const prefix = await provisioned(tenant);
    const task = rig.ecs.startedTasks.at(-1)!;
    const seen: LogLine[] = [];
    const reading = (async () => {
      for await (const line of rig.provider.logs!(
        { tenant, config: LOGGED_CONFIG, follow: true, tail: 1 },
        signal(),
      ))
        seen.push(line);
    })();
    const until = async (count: number) => {
      const deadline = signal();
      while (seen.length < count) {
        if (deadline.aborted) assert.fail(`only ${JSON.stringify(seen)} arrived`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await until(1);
    const t = Date.now();
    logs.put(GROUP, `${prefix}${task}`, 'tick 1', t);
    logs.put(GROUP, `${prefix}${task}`, 'tick 2', t);
    await until(3);
    logs.inject(throttled(), throttled());
    logs.put(GROUP, `${prefix}${task}`, 'after the throttling', t + 5);
    await until(4);
    await rig.provider.delete(request(tenant, LOGGED_CONFIG, 2, 'delete'), signal());
    await reading;
    assert.deepEqual(
      seen.map((l) => l.line),
      [START_LINES[1], 'tick 1', 'tick 2', 'after the throttling'],
    );
  });

  it('a follow with tail and a future since sends nothing older than since', async () => {
    const tenant = newTenant('later');
    const prefix = await provisioned(tenant);
    const task = rig.ecs.startedTasks.at(-1)!;
    const since = Date.now() + 60_000;
    const stop = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      const query = { tenant, config: LOGGED_CONFIG, follow: true, tail: 5, sinceMs: since };
      for await (const line of rig.provider.logs!(query, stop.signal)) {
        seen.push(line.line);
        if (line.line === 'in the future') stop.abort();
      }
    })();
    logs.put(GROUP, `${prefix}${task}`, 'after now, before since', since - 30_000);
    logs.put(GROUP, `${prefix}${task}`, 'in the future', since + 1);
    await reading;
    assert.deepEqual(seen, ['in the future']);
  });

  it('a follow ends with the error when CloudWatch refuses (access denied)', async () => {
    const tenant = newTenant('denied');
    await provisioned(tenant);
    const stream = rig.provider.logs!({ tenant, config: LOGGED_CONFIG, follow: true, tail: 0 }, signal());
    logs.inject(
      new AccessDeniedException({
        message: 'not authorized to perform: logs:FilterLogEvents',
        $metadata: metadata(400),
      }),
    );
    const error = await failure(
      (async () => {
        for await (const _ of stream);
      })(),
    );
    assert.equal(error.code, 'PERMISSION_DENIED');
    assert.equal(error.classification, 'manual_intervention');
  });

  it('a suspended tenant keeps its output readable', async () => {
    const tenant = newTenant('asleep');
    await provisioned(tenant);
    await rig.provider.suspend!(request(tenant, LOGGED_CONFIG, 2, 'suspend'), signal());
    assert.deepEqual(
      (await read(tenant)).map((l) => l.line),
      [...START_LINES],
    );
  });

  it('refusals: no service, no awslogs, a foreign task definition, a missing group', async () => {
    const absent = await failure(read(newTenant()));
    assert.equal(absent.code, 'NOT_FOUND', 'no service');

    const quiet = newTenant('quiet');
    await rig.provider.provision(request(quiet, VALID_CONFIG), signal());
    const noLogs = await failure(
      collectLogs(rig.provider, { tenant: quiet, config: VALID_CONFIG, follow: false }, signal()),
    );
    assert.equal(noLogs.code, 'INVALID_CONFIG', 'a task definition without awslogs');
    assert.match(noLogs.message, /logs\.group/);

    const foreign = newTenant('foreign');
    const own = { ...VALID_CONFIG, taskDefinitionArn: 'shared-app:1' } as Record<string, unknown>;
    delete own.image;
    rig.ecs.taskDefinitions.register({
      family: 'shared-app',
      containerDefinitions: [
        {
          name: 'web',
          image: 'x',
          logConfiguration: {
            logDriver: 'awslogs',
            options: { 'awslogs-group': GROUP, 'awslogs-stream-prefix': 'shared' },
          },
        },
      ],
    });
    await rig.provider.provision(request(foreign, own as never), signal());
    const shared = await failure(
      collectLogs(rig.provider, { tenant: foreign, config: own as never, follow: false }, signal()),
    );
    assert.equal(shared.code, 'INVALID_CONFIG', "another task definition's streams cannot be told apart");

    const lost = newTenant('lost');
    const elsewhere = { ...LOGGED_CONFIG, logs: { group: '/nowhere' } };
    await rig.provider.provision(request(lost, elsewhere), signal());
    const missing = await failure(
      collectLogs(rig.provider, { tenant: lost, config: elsewhere, follow: false }, signal()),
    );
    assert.equal(missing.code, 'NOT_FOUND', 'a missing log group');
  });
});
