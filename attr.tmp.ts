import { installSqlCounter, resetSqlStats, sqlStats, traceSqlCallers } from './bench/lib/sql-counter.js';
installSqlCounter();
const { mkdtemp, writeFile } = await import('node:fs/promises');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { stringify } = await import('yaml');
const { loadConfig } = await import('./src/main/config/load-config.js');
const { startLessor } = await import('./src/main/lessor-app.js');
const { createLogger } = await import('./src/main/logger.js');
const { backends } = await import('./src/store/testing/test-databases.js');
const { tenantSubject } = await import('./src/domain/tenant-run.js');
const HOUR = 3600000;
const backend = backends().find((b) => b.name === (process.env.DB ?? 'sqlite'))!;
const database = await backend.create();
const dir = await mkdtemp(join(tmpdir(), 'attr-'));
const file = join(dir, 'l.yaml');
await writeFile(file, stringify({
  server: { host: '127.0.0.1', port: 18000 + Math.floor(Math.random() * 1000), shutdownGraceMs: 2000, metrics: { refreshIntervalMs: HOUR }, sse: { pollIntervalMs: HOUR } },
  database: { url: database.url }, engine: { type: 'embedded', embedded: { pollIntervalMs: HOUR } },
  controller: { resyncIntervalMs: HOUR, driftIntervalMs: HOUR }, webhooks: { pollIntervalMs: HOUR },
  compute: { defaultProvider: 'fake', providers: { fake: { latencyMs: 0 } } }, log: { level: 'silent' }, dataDir: join(dir, 'data'),
}));
const app = await startLessor(loadConfig({ cwd: dir, configFile: file, env: {} }), createLogger({ level: 'silent', format: 'json' }));
async function one(name: string) {
  const r = await fetch(`${app.url}/v1/tenants`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, spec: { provider: 'fake', config: {} } }) });
  if (r.status !== 201) throw new Error(await r.text());
  for (;;) {
    await new Promise((res) => setTimeout(res, 20));
    const t = await database.store.tenants.get(name);
    if (t?.status.phase !== 'ready') continue;
    const runs = await database.store.runs.listBySubject(tenantSubject(t.id), 10);
    if (runs.length && runs.every((x) => x.state === 'succeeded')) break;
  }
  await new Promise((res) => setTimeout(res, 500));
}
await one('warm');
await new Promise((res) => setTimeout(res, 300));
resetSqlStats(); traceSqlCallers(true);
await one('x1');
const s = sqlStats();
let total = 0;
for (const [k, v] of Object.entries(s.statements)) total += v.count;
console.log('TOTAL', total);
for (const [k, v] of Object.entries(s.callers)) console.log(v, k.replace(/\/work\/wt\/perf-write\//g, ''));
await app.close(); await database.cleanup();
process.exit(0);
