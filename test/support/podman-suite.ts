/**
 * The set-up every docker-provider e2e suite shares: inside a `describe`, one deployment (a real
 * `lessor serve` with the docker provider on Podman, test/support/deployment.ts) for the suite's
 * tests, and a prefix that every tenant name of the suite starts with, by which its containers are
 * found and, after the suite, force-removed. What runs is asked of the container engine
 * (docker-runtimes.ts), never of Lessor.
 *
 *   for (const { backend, engine, label } of matrix()) {
 *     describe(label, () => {
 *       const suite = podmanSuite({ backend, engine }, { tag: 'dk' });
 *       test('…', () => suite.run(async ({ client }) => { … `${suite.prefix}-life` … }));
 *     });
 *   }
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { PODMAN_HOST, TEST_HOST_IP } from '../../src/compute/providers/docker/testing/podman.js';
import { deploy, withLogs, type Deployment, type MatrixEntry } from './deployment.js';
import {
  containersByTenant,
  removeContainersWithPrefix,
  requirePodman,
  type TenantContainer,
} from './docker-runtimes.js';

export interface PodmanSuiteOptions {
  /** A few letters naming the suite in its tenant-name prefix, `e2e-<tag><random hex>`. */
  readonly tag: string;
  /** The docker provider's `stopTimeoutSeconds` (default 0: a stop kills at once). */
  readonly stopTimeoutSeconds?: number;
  /** `LESSOR_*` settings of the server processes. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface PodmanSuite {
  /** Every tenant name of the suite starts with it. */
  readonly prefix: string;
  /** The suite's deployment; there only while a test runs (after `before`). */
  readonly deployment: Deployment;
  /** Runs a test body on the deployment; a failure carries the tail of every server's log. */
  run<T>(body: (deployment: Deployment) => Promise<T>): Promise<T>;
  /** The tenant's containers, as the engine lists them. */
  containersOf(tenantId: string): Promise<TenantContainer[]>;
}

/** Registers the current suite's `before` (Podman required, then the deployment) and `after`. */
export function podmanSuite(
  { backend, engine }: Pick<MatrixEntry, 'backend' | 'engine'>,
  options: PodmanSuiteOptions,
): PodmanSuite {
  const prefix = `e2e-${options.tag}${randomBytes(3).toString('hex')}`;
  let deployment: Deployment | undefined;
  before(async () => {
    await requirePodman();
    deployment = await deploy({
      backend,
      engine,
      providers: {
        docker: {
          host: PODMAN_HOST,
          hostIp: TEST_HOST_IP,
          stopTimeoutSeconds: options.stopTimeoutSeconds ?? 0,
          cleanupTimeoutMs: 10_000,
        },
      },
      env: options.env,
    });
  });
  after(async () => {
    await removeContainersWithPrefix(prefix).catch(() => undefined);
    await deployment?.close();
  });
  const deployed = (): Deployment => {
    if (!deployment)
      throw new Error('the Podman deployment is not up: its before hook failed or has not run');
    return deployment;
  };
  return {
    prefix,
    get deployment() {
      return deployed();
    },
    run: (body) => withLogs(deployment, () => body(deployed())),
    containersOf: async (tenantId) => (await containersByTenant(prefix)).get(tenantId) ?? [],
  };
}

/** The body an endpoint answers, trimmed (within 5 s). */
export async function endpointText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return (await response.text()).trim();
}
