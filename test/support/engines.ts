/**
 * Workflow engines the end-to-end suites run against (docs/architecture.md, "The two engines"). Each entry
 * knows how to set up what the engine needs outside Lessor and which `LESSOR_ENGINE__*` variables point
 * Lessor at it.
 *
 * The default list is `DEFAULT_ENGINES` (the first is the default engine, used by single-deployment
 * suites); `LESSOR_TEST_ENGINES=embedded` overrides it. Adding an engine to every suite is one line in
 * `DEFAULT_ENGINES`.
 */
import { startRestateServer } from '../../src/workflow/restate/testing/restate-server.js';
import { freePort } from './lessor-process.js';

export type EngineName = 'embedded' | 'restate';

export interface EngineSetup {
  /** Configuration for every Lessor process that uses this engine instance. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops whatever `setup` started. Idempotent. */
  cleanup(): Promise<void>;
}

export interface TestEngine {
  readonly name: EngineName;
  setup(): Promise<EngineSetup>;
}

/** Short leases so a killed process's runs are taken over in seconds, not the default 15 s. */
export const EMBEDDED_LEASE_MS = 2_000;

export const embeddedEngine: TestEngine = {
  name: 'embedded',
  async setup() {
    return {
      env: {
        LESSOR_ENGINE__TYPE: 'embedded',
        LESSOR_ENGINE__EMBEDDED__LEASE_MS: String(EMBEDDED_LEASE_MS),
        LESSOR_ENGINE__EMBEDDED__POLL_INTERVAL_MS: '200',
      },
      cleanup: async () => {},
    };
  },
};

/** A real restate-server per setup; Lessor serves its endpoint on a fixed free port (kept across restarts). */
export const restateEngine: TestEngine = {
  name: 'restate',
  async setup() {
    const server = await startRestateServer();
    return {
      env: {
        LESSOR_ENGINE__TYPE: 'restate',
        LESSOR_ENGINE__RESTATE__INGRESS_URL: server.ingressUrl,
        LESSOR_ENGINE__RESTATE__ADMIN_URL: server.adminUrl,
        LESSOR_ENGINE__RESTATE__ENDPOINT_PORT: String(await freePort()),
      },
      cleanup: () => server.stop(),
    };
  },
};

const ALL: Readonly<Record<EngineName, TestEngine>> = { embedded: embeddedEngine, restate: restateEngine };

/** The engines every suite runs on unless LESSOR_TEST_ENGINES says otherwise. */
export const DEFAULT_ENGINES: readonly EngineName[] = ['embedded', 'restate'];

export function engines(): readonly TestEngine[] {
  const wanted = process.env.LESSOR_TEST_ENGINES?.split(',')
    .map((s) => s.trim())
    .filter((s): s is EngineName => s in ALL);
  return (wanted && wanted.length > 0 ? wanted : DEFAULT_ENGINES).map((name) => ALL[name]);
}
