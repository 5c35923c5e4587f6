/**
 * The ecs provider's factory: the one place the AWS SDK is loaded, lazily, when the composition root
 * creates the provider — a Lessor without `compute.providers.ecs` never loads it. STS is loaded
 * only when a tenant's config assumes a role.
 */
import type { ComputeProvider, ProviderFactory, ProviderSettings } from '../../provider.js';
import { ecsPolicy } from './ecs-allow-list.js';
import { EcsClients } from './ecs-clients.js';
import { parseEcsOptions } from './ecs-options.js';
import { EcsProvider } from './ecs-provider.js';

export const ecsProviderFactory: ProviderFactory = {
  type: 'ecs',
  async create(settings: ProviderSettings): Promise<ComputeProvider> {
    const options = parseEcsOptions(settings);
    const ecs = await import('@aws-sdk/client-ecs');
    const clients = new EcsClients(ecs, () => import('@aws-sdk/client-sts'), options);
    const policy = ecsPolicy({
      allowed: options.allowed,
      defaults: settings.defaults,
      region: options.region,
    });
    return new EcsProvider({ clients, options, policy, logger: settings.logger, hasher: settings.hasher });
  },
};
