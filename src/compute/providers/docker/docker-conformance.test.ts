/** The shared provider conformance suite, run against real Podman. */
import assert from 'node:assert/strict';
import { before } from 'node:test';
import { runProviderConformance } from '../../testing/provider-conformance.js';
import {
  assertRefused,
  httpText,
  makeProvider,
  requirePodman,
  tenantContainers,
  TEST_IMAGE,
  webConfig,
} from './testing/podman.js';

before(requirePodman);

runProviderConformance({
  name: 'docker',
  makeProvider,
  validConfig: webConfig('first'),
  updatedConfig: webConfig('second'),
  probe: async (endpoint, config) => {
    assert.equal(await httpText(endpoint.url), (config.env as { MODE: string }).MODE);
  },
  countRuntimes: async (tenant) => (await tenantContainers(tenant.id)).length,
  startLine: 'serving first',
  probeRefused: (endpoint) => assertRefused(endpoint.url),
  failing: { config: { image: 'localhost/lessor-no-such-image:1' }, code: 'IMAGE_UNAVAILABLE' },
  invalidConfigs: [
    { reason: 'image missing', config: { command: ['x'] }, path: 'spec.config.image' },
    {
      reason: 'bad protocol',
      config: { image: TEST_IMAGE, ports: [{ containerPort: 80, protocol: 'sctp' }] },
      path: 'spec.config.ports.0.protocol',
    },
    {
      reason: 'health check on an unpublished port',
      config: { image: TEST_IMAGE, ports: [{ containerPort: 80 }], healthCheck: { type: 'tcp', port: 81 } },
      path: 'spec.config.healthCheck.port',
    },
    {
      reason: 'unknown restart policy',
      config: { image: TEST_IMAGE, restartPolicy: 'sometimes' },
      path: 'spec.config.restartPolicy',
    },
  ],
  timeoutMs: 60_000,
});
