/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the OS chose it), for a test or bench that
 * must name a port before something listens on it (a server's configuration, a container's
 * published port). Another process may take it in between; callers that need several distinct
 * ports at once hold them open while choosing (src/workflow/restate/testing/restate-server.ts).
 */
import { createServer, type AddressInfo } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
