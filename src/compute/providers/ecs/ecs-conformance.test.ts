/**
 * The shared provider conformance suite against the ecs provider, on the stateful fake ECS and fake
 * CloudWatch Logs (no AWS is reachable from tests): tenants log through the awslogs driver, so the
 * logs cases read what the fake's tasks printed at start.
 */
import type { JsonObject } from '../../../domain/tenant.js';
import { runProviderConformance } from '../../testing/provider-conformance.js';
import { FakeCloudWatchLogs } from './testing/fake-cloudwatch-logs.js';
import { FakeEcsBackend, START_LINES } from './testing/fake-ecs-backend.js';
import { LOGGED_CONFIG, makeEcsProvider, UPDATED_CONFIG } from './testing/ecs-fixtures.js';

const logs = new FakeCloudWatchLogs(['/lessor/tenants']);
const ecs = new FakeEcsBackend({ logs });
const VALID_CONFIG = LOGGED_CONFIG;

function without(config: JsonObject, ...keys: string[]): JsonObject {
  return Object.fromEntries(Object.entries(config).filter(([key]) => !keys.includes(key)));
}

runProviderConformance({
  name: 'ecs',
  makeProvider: () => makeEcsProvider(),
  validConfig: VALID_CONFIG,
  updatedConfig: { ...LOGGED_CONFIG, ...UPDATED_CONFIG },
  startLine: START_LINES[1],
  countRuntimes: async (tenant) => ecs.liveServicesOf(tenant.id).length,
  failing: { config: { ...VALID_CONFIG, cluster: 'no-such-cluster' }, code: 'NOT_FOUND' },
  invalidConfigs: [
    {
      reason: 'neither image nor taskDefinitionArn',
      config: without(VALID_CONFIG, 'image'),
      path: 'spec.config.image',
    },
    {
      reason: 'negative desiredCount',
      config: { ...VALID_CONFIG, desiredCount: -1 },
      path: 'spec.config.desiredCount',
    },
    {
      reason: 'FARGATE without subnets',
      config: without(VALID_CONFIG, 'subnets', 'securityGroups'),
      path: 'spec.config.subnets',
    },
    { reason: 'FARGATE task size', config: { ...VALID_CONFIG, memory: 8192 }, path: 'spec.config.memory' },
  ],
  timeoutMs: 10_000,
  cleanup: async () => {
    ecs.restore();
    logs.restore();
  },
});
