/** The `process` provider folder: wired in `main/` with one line (`processProviderFactory`). */
import type { ProviderFactory } from '../../provider.js';
import { ProcessProvider } from './process-provider.js';
import { secureStateRoot } from './process-state.js';

export { ProcessProvider, type ProcessProviderOptions } from './process-provider.js';
export { PROCESS_CONFIG_SCHEMA, type ProcessConfig } from './process-schema.js';
export { findTenantProcesses } from './process-control.js';

/**
 * Options (`compute.providers.process`): `stopGraceMs` (default 3000), `startupGraceMs` (default
 * 300). State goes under `settings.dataDir`.
 */
export const processProviderFactory: ProviderFactory = {
  type: 'process',
  async create(settings) {
    const number = (key: string): number | undefined => {
      const value = settings.options[key];
      return typeof value === 'number' && value >= 0 ? value : undefined;
    };
    const stopGraceMs = number('stopGraceMs');
    const startupGraceMs = number('startupGraceMs');
    await secureStateRoot(settings.dataDir);
    return new ProcessProvider({
      dataDir: settings.dataDir,
      hasher: settings.hasher,
      ...(stopGraceMs !== undefined && { stopGraceMs }),
      ...(startupGraceMs !== undefined && { startupGraceMs }),
    });
  },
};
