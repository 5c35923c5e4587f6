/**
 * The baseline server for (4): a bare Fastify 5 app (no logger, no hooks, no schemas) in its own
 * process, answering GET /v1/tenants/:name with the same tenant document Lessor returns (read from
 * LESSOR_BENCH_TENANT_FILE) and its `ETag` — same bytes on the wire, none of Lessor's work
 * behind them.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const tenant = JSON.parse(readFileSync(process.env.LESSOR_BENCH_TENANT_FILE!, 'utf8')) as Record<
  string,
  unknown
>;
const app = Fastify();
const etag = `"${String(tenant.version)}"`;
app.get('/v1/tenants/:name', async (request, reply) => {
  void reply.header('etag', etag);
  return { ...tenant, name: (request.params as { name: string }).name };
});
const port = Number(process.env.LESSOR_SERVER__PORT);
const url = await app.listen({ host: '127.0.0.1', port });
process.send?.({ type: 'ready', url });
process.on('message', (message: { id: number; cmd: string }) => {
  if (message.cmd === 'stop') void app.close().then(() => process.exit(0));
  else process.send?.({ id: message.id, result: null });
});
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
