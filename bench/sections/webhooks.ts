/**
 * Webhook fan-out: 1 000 tenant events (`tenant.created`, from tenants created through the API at
 * concurrency 16) × 3 endpoints on loopback, SQLite, fake provider. Measures event → delivery per
 * endpoint (the event's timestamp to the receiver's arrival, same clock), all delivered, and does
 * it again with a fourth endpoint that never answers (each attempt times out): the three others'
 * p99 must not move.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { baseServerEnv, createBenchDatabase, fakeProviderEnv } from '../lib/databases.js';
import { startLessorProcess } from '../lib/lessor-process.js';
import { atMost, type SectionContext, type SectionOutput } from '../lib/section.js';
import { percentile, round, sleep } from '../lib/stats.js';

const EVENTS = 1000;
const QUICK_EVENTS = 300;
const ENDPOINTS = 3;
const CONCURRENCY = 16;

interface Endpoint {
  readonly url: string;
  readonly latencies: number[];
  readonly seen: Set<string>;
  close(): Promise<void>;
}

async function endpoint(hang: boolean): Promise<Endpoint> {
  const latencies: number[] = [];
  const seen = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (hang) return;
      const arrived = Date.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp: string };
      const id = String(req.headers['webhook-id']);
      if (!seen.has(id)) {
        seen.add(id);
        latencies.push(arrived - Date.parse(body.timestamp));
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    latencies,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface RunResult {
  readonly hanging: boolean;
  readonly delivered: readonly number[];
  readonly p50: readonly number[];
  readonly p99: readonly number[];
  readonly p99Max: number;
}

async function post(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
}

async function run(ctx: SectionContext, events: number, hanging: boolean): Promise<RunResult> {
  const label = hanging ? 'webhooks-hang' : 'webhooks';
  const db = await createBenchDatabase('sqlite', ctx.workDir, label);
  const fast = await Promise.all(Array.from({ length: ENDPOINTS }, () => endpoint(false)));
  const slow = hanging ? await endpoint(true) : undefined;
  const lessor = await startLessorProcess({
    env: {
      ...baseServerEnv(db, ctx.workDir),
      ...fakeProviderEnv(),
      LESSOR_WEBHOOKS__ALLOW_HTTP: 'true',
      LESSOR_WEBHOOKS__ALLOWED_NETWORKS: '127.0.0.0/8',
    },
    logFile: join(ctx.workDir, `${label}.log`),
    startTimeoutMs: 180_000,
  });
  try {
    for (const e of [...fast, ...(slow ? [slow] : [])]) {
      await post(lessor.url, '/v1/webhooks', { url: e.url, events: ['tenant.created'] });
    }
    let next = 0;
    const prefix = `${label}-${Date.now().toString(36)}`;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < events; i = next++) {
          await post(lessor.url, '/v1/tenants', {
            name: `${prefix}-${i}`,
            spec: { config: { image: 'app:1' } },
          });
        }
      }),
    );
    const deadline = Date.now() + 120_000;
    while (fast.some((e) => e.seen.size < events) && Date.now() < deadline) await sleep(100);
    const sorted = fast.map((e) => [...e.latencies].sort((a, b) => a - b));
    const p99 = sorted.map((s) => round(percentile(s, 99), 1));
    const result = {
      hanging,
      delivered: fast.map((e) => e.seen.size),
      p50: sorted.map((s) => round(percentile(s, 50), 1)),
      p99,
      p99Max: Math.max(...p99),
    };
    ctx.log(
      `webhooks${hanging ? ' (+1 hanging)' : ''}: delivered ${result.delivered.join('/')}, p99 ${p99.join('/')} ms`,
    );
    return result;
  } finally {
    await lessor.stop();
    for (const e of [...fast, ...(slow ? [slow] : [])]) await e.close();
    await db.cleanup();
  }
}

export interface WebhooksResult extends SectionOutput {
  readonly events: number;
  readonly runs: readonly RunResult[];
}

export async function webhooksSection(ctx: SectionContext): Promise<WebhooksResult> {
  const events = ctx.quick ? QUICK_EVENTS : EVENTS;
  const plain = await run(ctx, events, false);
  const withHang = await run(ctx, events, true);
  const runs = [plain, withHang];
  const all = runs.every((r) => r.delivered.every((n) => n === events));
  return {
    events,
    runs,
    tables: [
      {
        title: `Webhook fan-out: ${events} tenant events × ${ENDPOINTS} loopback endpoints (ms, event → delivery)`,
        head: ['run', 'delivered', 'p50 per endpoint', 'p99 per endpoint'],
        rows: runs.map((r) => [
          r.hanging ? '+1 hanging endpoint' : `${ENDPOINTS} endpoints`,
          r.delivered.join(' / '),
          r.p50.join(' / '),
          r.p99.join(' / '),
        ]),
      },
    ],
    targets: [
      atMost('webhook p99 event→delivery', plain.p99Max, 1000, ' ms'),
      atMost('webhook p99 with a hanging endpoint', withHang.p99Max, 1000, ' ms'),
      { name: 'webhooks all delivered', value: all ? 1 : 0, target: '= 1', met: all },
    ],
    notes: [],
  };
}
