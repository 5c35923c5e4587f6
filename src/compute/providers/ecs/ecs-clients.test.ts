/**
 * The ECS client pool is bounded (least recently used evicted first) and never destroys a client
 * while a call holds it. The SDK is replaced by a recording stand-in: only construction and
 * `destroy` matter here, no request is sent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EcsModule } from './ecs-api.js';
import { EcsClients, type StsModule } from './ecs-clients.js';
import type { LogsModule } from './logs-api.js';
import { parseEcsOptions } from './ecs-options.js';

function recordingSdk() {
  const made: { region: string; destroyed: boolean }[] = [];
  class ECSClient {
    private readonly record: { region: string; destroyed: boolean };
    constructor(config: { region?: string }) {
      this.record = { region: config.region ?? '-', destroyed: false };
      made.push(this.record);
    }
    destroy(): void {
      this.record.destroyed = true;
    }
  }
  class CloudWatchLogsClient {
    private readonly record: { region: string; destroyed: boolean };
    constructor(config: { region?: string }) {
      this.record = { region: `logs:${config.region ?? '-'}`, destroyed: false };
      made.push(this.record);
    }
    destroy(): void {
      this.record.destroyed = true;
    }
  }
  const logsModule = { CloudWatchLogsClient } as unknown as LogsModule;
  const live = () => made.filter((c) => !c.destroyed).map((c) => c.region);
  const destroyed = () => made.filter((c) => c.destroyed).map((c) => c.region);
  return { module: { ECSClient } as unknown as EcsModule, logsModule, made, live, destroyed };
}

const options = parseEcsOptions({ options: {}, timeoutMs: 10_000 });
const noSts = (): Promise<StsModule> => Promise.reject(new Error('STS is not loaded without assumeRole'));
const idle = async () => undefined;
/** Lets the pool's fire-and-forget destroy (after the client promise) run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('EcsClients pool', () => {
  it('reuses one client per region and role', async () => {
    const sdk = recordingSdk();
    const pool = new EcsClients(sdk.module, noSts, options, 4);
    await pool.use({ region: 'eu-west-1' }, idle);
    await pool.use({ region: 'eu-west-1' }, idle);
    assert.equal(sdk.made.length, 1);
  });

  it('keeps at most `capacity` clients and destroys the least recently used', async () => {
    const sdk = recordingSdk();
    const pool = new EcsClients(sdk.module, noSts, options, 2);
    for (const region of ['a', 'b', 'c']) await pool.use({ region }, idle);
    await settle();
    assert.deepEqual(sdk.destroyed(), ['a']);
    await pool.use({ region: 'b' }, idle); // b is now more recent than c
    await pool.use({ region: 'd' }, idle);
    await settle();
    assert.deepEqual(sdk.destroyed(), ['a', 'c']);
    assert.deepEqual(sdk.live().sort(), ['b', 'd']);
    assert.equal(pool.size, 2);
  });

  it('does not grow with the number of distinct targets', async () => {
    const sdk = recordingSdk();
    const pool = new EcsClients(sdk.module, noSts, options, 32);
    for (let i = 0; i < 500; i++) await pool.use({ region: `r-${i}` }, idle);
    await settle();
    assert.equal(sdk.made.length, 500);
    assert.equal(sdk.live().length, 32);
    assert.equal(pool.size, 32);
  });

  it('an evicted client that a call still holds is destroyed only when the call ends', async () => {
    const sdk = recordingSdk();
    const pool = new EcsClients(sdk.module, noSts, options, 1);
    let finish: () => void = () => undefined;
    const holding = pool.use({ region: 'busy' }, () => new Promise<void>((resolve) => (finish = resolve)));
    await settle();
    await pool.use({ region: 'other' }, idle);
    await settle();
    assert.deepEqual(sdk.destroyed(), [], 'busy is evicted but still in use');
    finish();
    await holding;
    await settle();
    assert.deepEqual(sdk.destroyed(), ['busy']);
  });

  it('the CloudWatch Logs client is made on first use, with the region, and destroyed with its slot', async () => {
    const sdk = recordingSdk();
    let loads = 0;
    const loadLogs = () => {
      loads++;
      return Promise.resolve(sdk.logsModule);
    };
    const pool = new EcsClients(sdk.module, noSts, options, 1, loadLogs);
    await pool.use({ region: 'a' }, idle);
    assert.equal(loads, 0, 'not loaded for ECS calls alone');
    await pool.useLogs({ region: 'a' }, idle);
    await pool.useLogs({ region: 'a' }, idle);
    assert.equal(loads, 1, 'one CloudWatch Logs client per slot');
    assert.deepEqual(sdk.live().sort(), ['a', 'logs:a']);
    await pool.use({ region: 'b' }, idle);
    await settle();
    assert.deepEqual(sdk.destroyed().sort(), ['a', 'logs:a'], 'evicted together');
    await pool.close();
  });

  it('close destroys every pooled client', async () => {
    const sdk = recordingSdk();
    const pool = new EcsClients(sdk.module, noSts, options, 4);
    for (const region of ['a', 'b']) await pool.use({ region }, idle);
    await pool.close();
    await settle();
    assert.deepEqual(sdk.live(), []);
    assert.equal(pool.size, 0);
  });
});
