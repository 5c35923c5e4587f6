/**
 * Sequential request latency (one request in flight, keep-alive connection): the figure for
 * "GET by name p99" and "list page p99". Uses node:http directly, which costs the client less
 * than fetch, so the numbers are the server's as far as possible.
 */
import http from 'node:http';
import { summarize, type Summary } from './stats.js';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

export interface HttpResult {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

export function httpGet(baseUrl: string, path: string): Promise<HttpResult> {
  const url = new URL(path, baseUrl);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export interface LatencyRun {
  readonly latency: Summary;
  readonly non200: number;
}

/** Runs `count` GETs one after another; `pathFor(i, previousBody)` picks each path. */
export async function sequentialLatency(
  baseUrl: string,
  count: number,
  pathFor: (i: number, previousBody: string | undefined) => string,
): Promise<LatencyRun> {
  const samples: number[] = [];
  let non200 = 0;
  let previous: string | undefined;
  for (let i = 0; i < count; i++) {
    const result = await httpGet(baseUrl, pathFor(i, previous));
    if (result.status !== 200) non200++;
    samples.push(result.ms);
    previous = result.body;
  }
  return { latency: summarize(samples), non200 };
}
