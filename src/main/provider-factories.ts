/**
 * The compute providers Lessor knows, one line each (CONTRIBUTING.md, "Add a compute provider"). ECS pulls in
 * the AWS SDK, so its folder is imported only when a tenant platform configures it.
 */
import type { ProviderFactory } from '../compute/provider.js';
import { dockerProviderFactory } from '../compute/providers/docker/index.js';
import { fakeProviderFactory } from '../compute/providers/fake/index.js';
import { processProviderFactory } from '../compute/providers/process/index.js';

type FactoryLoader = () => Promise<ProviderFactory>;

export const PROVIDER_FACTORIES: Readonly<Record<string, FactoryLoader>> = {
  docker: () => Promise.resolve(dockerProviderFactory),
  process: () => Promise.resolve(processProviderFactory),
  fake: () => Promise.resolve(fakeProviderFactory),
  ecs: async () => (await import('../compute/providers/ecs/index.js')).ecsProviderFactory,
};
