/**
 * Resume latency: a suspended tenant's resume through Lessor (PATCH `spec.suspended: false` → the
 * ready transition seen in the database) against starting the very same stopped container directly
 * through the engine API and running the same health check. Lessor as a child process (embedded
 * engine + SQLite, docker provider on Podman). Pairs alternate their order after one warm-up;
 * ratio = median(Lessor) / median(direct). Suspending (and the direct stop) is not timed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LessorClient } from '../../src/api/client.js';
import { DockerApiError, type DockerClient } from '../../src/compute/providers/docker/docker-client.js';
import type { DockerConfig } from '../../src/compute/providers/docker/docker-config.js';
import { hostAddress, isRunning } from '../../src/compute/providers/docker/container-view.js';
import { waitHealthy } from '../../src/compute/providers/docker/health-check.js';
import { baseServerEnv, createBenchDatabase } from '../lib/databases.js';
import { CONTAINER_CONFIG, dockerClient, PODMAN_HOST } from '../lib/direct-container.js';
import { startLessorProcess } from '../lib/lessor-process.js';
import { ReadyWatcher } from '../lib/ready-watcher.js';
import { atMost, describeError, type SectionContext, type SectionOutput } from '../lib/section.js';
import { median, round, summarize, wallMs, type Summary } from '../lib/stats.js';

export interface ResumeResult extends SectionOutput {
  readonly pairs: number;
  readonly lessor?: Summary;
  readonly direct?: Summary;
  readonly ratio?: number;
  readonly samples?: { lessorMs: number[]; directMs: number[] };
}

const TARGET = 1.2;
/** The bench tenant; its container is `lessor-<name>`. */
const TENANT_NAME = 'bench-resume';

async function untilPhase(client: LessorClient, id: string, phase: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await client.getTenant(id)).status.phase !== phase) {
    if (Date.now() > deadline) throw new Error(`tenant ${id} did not reach ${phase}`);
    await sleep(20);
  }
}

/** Starts the stopped container and waits for the same http check the provider runs. */
async function directStart(engine: DockerClient, id: string): Promise<number> {
  const signal = AbortSignal.timeout(60_000);
  const check = (CONTAINER_CONFIG as unknown as DockerConfig).healthCheck!;
  const t0 = wallMs();
  await engine.startContainer(id, signal);
  const container = await engine.inspectContainer(id, signal);
  if (!isRunning(container)) throw new Error('container did not start');
  const target = hostAddress(container, check.port);
  if (!target) throw new Error('port 8080 not published');
  const outcome = await waitHealthy(check, target, signal, async () =>
    isRunning(await engine.inspectContainer(id, signal)) ? undefined : 'container stopped',
  );
  if (!outcome.healthy) throw new Error(`unhealthy: ${outcome.reason}`);
  return wallMs() - t0;
}

export async function resumeSection(ctx: SectionContext): Promise<ResumeResult> {
  const engine = dockerClient();
  try {
    await engine.ping(AbortSignal.timeout(5_000));
    await engine.inspectImage(CONTAINER_CONFIG.image, AbortSignal.timeout(5_000));
  } catch (error) {
    const reason = `container engine at ${PODMAN_HOST} or image ${CONTAINER_CONFIG.image} not available: ${describeError(error)}`;
    ctx.log(`resume: ${reason}`);
    engine.close();
    return {
      pairs: 0,
      tables: [],
      targets: [atMost('resume/direct start ratio', null, TARGET)],
      notes: [reason],
    };
  }
  const db = await createBenchDatabase('sqlite', ctx.workDir, 'resume');
  const configFile = join(ctx.workDir, 'resume.yaml');
  writeFileSync(
    configFile,
    `compute:\n  defaultProvider: docker\n  providers:\n    docker: { host: "${PODMAN_HOST}", stopTimeoutSeconds: 1 }\n`,
  );
  const env = { ...baseServerEnv(db, ctx.workDir), LESSOR_BENCH_CONFIG_FILE: configFile };
  const server = await startLessorProcess({ env, logFile: join(ctx.workDir, 'resume.log') });
  const watcher = await ReadyWatcher.open(db.target);
  const client = new LessorClient({ baseUrl: server.url, timeoutMs: 60_000 });
  const pairs = ctx.quick ? 3 : 10;
  const lessorMs: number[] = [];
  const directMs: number[] = [];
  try {
    await removeLeftover(engine, `lessor-${TENANT_NAME}`);
    const tenant = await client.createTenant({ name: TENANT_NAME, spec: { config: CONTAINER_CONFIG } });
    const ready = await watcher.wait(tenant.id, ['ready', 'failed'], 120_000);
    if (ready.phase !== 'ready') throw new Error('the bench tenant did not become ready');
    const containerId = (await client.getTenant(tenant.id)).status.resources.containerId!;

    const lessorResume = async (): Promise<number> => {
      await client.patchTenant(tenant.id, { spec: { suspended: true } });
      await untilPhase(client, tenant.id, 'suspended');
      const t0 = wallMs();
      await client.patchTenant(tenant.id, { spec: { suspended: false } });
      const settled = await watcher.wait(tenant.id, ['ready', 'failed'], 120_000);
      if (settled.phase !== 'ready') throw new Error('resume failed');
      const after = (await client.getTenant(tenant.id)).status.resources.containerId;
      if (after !== containerId) throw new Error(`resume ran another container (${String(after)})`);
      return settled.seenAt - t0;
    };
    const direct = async (): Promise<number> => {
      await engine.stopContainer(containerId, 1, AbortSignal.timeout(30_000));
      return directStart(engine, containerId);
    };
    await lessorResume();
    await direct();
    for (let i = 0; i < pairs; i++) {
      const l = async () => lessorMs.push(round(await lessorResume()));
      const d = async () => directMs.push(round(await direct()));
      if (i % 2 === 0) await l().then(d);
      else await d().then(l);
      ctx.log(
        `resume pair ${i + 1}/${pairs}: lessor ${String(lessorMs.at(-1))} ms, direct ${String(directMs.at(-1))} ms`,
      );
    }
    await client.deleteTenant(tenant.id);
    await watcher.wait(tenant.id, ['archived', 'failed'], 120_000);
  } finally {
    await watcher.close();
    await server.stop();
    engine.close();
  }
  const ratio = round(median(lessorMs) / median(directMs), 3);
  const lessor = summarize(lessorMs);
  const direct = summarize(directMs);
  return {
    pairs,
    lessor,
    direct,
    ratio,
    samples: { lessorMs, directMs },
    tables: [
      {
        title: `Resume (Podman, ${CONTAINER_CONFIG.image}, same container, http check every 50 ms), ${pairs} interleaved pairs`,
        head: ['path', 'median ms', 'p90 ms', 'max ms'],
        rows: [
          ['Lessor resume (PATCH → ready seen)', lessor.p50, lessor.p90, lessor.max],
          ['direct engine API (start+check)', direct.p50, direct.p90, direct.max],
          ['ratio (median / median)', ratio, null, null],
        ],
      },
    ],
    targets: [atMost('resume/direct start ratio', ratio, TARGET)],
    notes: [],
  };
}

/**
 * Removes the bench tenant's container when a bench run stopped in the middle of this section left
 * it behind: its name would be taken by another tenant's container, and the provision would fail.
 */
async function removeLeftover(engine: DockerClient, name: string): Promise<void> {
  try {
    await engine.removeContainer(name, AbortSignal.timeout(30_000));
  } catch (error) {
    if (!(error instanceof DockerApiError && error.status === 404)) throw error;
  }
}
