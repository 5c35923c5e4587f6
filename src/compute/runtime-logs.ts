/**
 * Reading a tenant's runtime output through its provider's optional `logs`: the config is the
 * effective one (defaults merged, as for describe) so the provider looks where the runtime lives,
 * and every failure leaves as a ComputeError. Lines are passed through one at a time: nothing is
 * buffered here, so memory per reader stays bounded whatever the volume. A reader that aborts ends
 * the stream quietly.
 */
import { NotSupportedError } from '../domain/errors.js';
import type { LogQuery, LogTenant } from './compute-api.js';
import { normaliseError } from './error-normaliser.js';
import type { LogLine, LogRequest } from './provider.js';
import type { ProviderRegistry } from './provider-registry.js';

/** Throws NotSupportedError at once (not at the first pull) when the provider offers no logs. */
export function readRuntimeLogs(
  registry: Pick<ProviderRegistry, 'resolveProvider' | 'get' | 'mergedConfig' | 'secretValues'>,
  tenant: LogTenant,
  query: LogQuery,
  signal: AbortSignal,
): AsyncIterable<LogLine> {
  const type = registry.resolveProvider(tenant.spec.provider);
  const { provider } = registry.get(type);
  if (!provider.logs) throw new NotSupportedError(type, 'logs');
  const read = provider.logs.bind(provider);
  const config = registry.mergedConfig(type, tenant.spec.config);
  const request: LogRequest = { tenant: { id: tenant.id, name: tenant.name }, config, ...query };
  return (async function* () {
    try {
      for await (const line of read(request, signal)) {
        if (signal.aborted) return;
        yield line;
      }
    } catch (error) {
      if (signal.aborted) return;
      throw normaliseError(error, provider, registry.secretValues(type, config));
    }
  })();
}
