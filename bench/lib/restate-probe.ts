/**
 * The Restate server's side of a control-plane level: its own CPU time and the invocation attempts
 * its invoker started (`restate_invoker_invocation_tasks_total{status="started"}`), per tenant made
 * ready. A provision is two invocations (`run` and the callback's `resolve`), so more than two
 * attempts per tenant means retries or replays after suspensions — Lessor's CPU per tenant then
 * grows with them, which is what these figures are for telling apart from Lessor's own cost.
 */
import type { RestateServer } from '../../src/workflow/restate/testing/restate-server.js';
import { readProc } from './proc.js';
import { round } from './stats.js';

export interface RestateSide {
  readonly serverCpuMsPerTenant: number;
  readonly invocationAttemptsPerTenant: number;
}

interface RestateSample {
  readonly cpuSeconds: number;
  readonly attempts: number;
}

export class RestateProbe {
  private constructor(
    private readonly server: RestateServer,
    private readonly start: RestateSample,
  ) {}

  static async begin(server: RestateServer): Promise<RestateProbe> {
    return new RestateProbe(server, await sample(server));
  }

  async end(tenants: number): Promise<RestateSide> {
    const now = await sample(this.server);
    const per = (value: number) => round(value / Math.max(tenants, 1), 2);
    return {
      serverCpuMsPerTenant: per((now.cpuSeconds - this.start.cpuSeconds) * 1000),
      invocationAttemptsPerTenant: per(now.attempts - this.start.attempts),
    };
  }
}

async function sample(server: RestateServer): Promise<RestateSample> {
  const pid = server.pid();
  const cpuSeconds = pid === undefined ? 0 : readProc(pid).cpuSeconds;
  const response = await fetch(server.metricsUrl);
  const text = await response.text();
  let attempts = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('restate_invoker_invocation_tasks_total{') && line.includes('status="started"'))
      attempts += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return { cpuSeconds, attempts };
}
