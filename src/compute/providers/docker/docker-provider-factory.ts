/** Builds the docker provider from its options: one client (keep-alive sockets) per provider. */
import type { ProviderFactory, ProviderSettings } from '../../provider.js';
import { DockerClient, parseDockerHost } from './docker-client.js';
import { mapDockerError } from './docker-errors.js';
import { dockerProviderOptions } from './docker-options.js';
import { DockerProvider } from './docker-provider.js';

export const dockerProviderFactory: ProviderFactory = {
  type: 'docker',
  async create(settings: ProviderSettings): Promise<DockerProvider> {
    const options = dockerProviderOptions(settings.options);
    const client = new DockerClient(parseDockerHost(options.host)!, options.apiVersion);
    if (options.ping) {
      await client.ping(AbortSignal.timeout(settings.timeoutMs)).catch((error: unknown) => {
        client.close();
        throw mapDockerError(error);
      });
    }
    return new DockerProvider({
      client,
      logger: settings.logger,
      stopTimeoutSeconds: options.stopTimeoutSeconds,
      cleanupTimeoutMs: options.cleanupTimeoutMs,
      hasher: settings.hasher,
      hostPolicy: options.hostPolicy,
    });
  },
};
