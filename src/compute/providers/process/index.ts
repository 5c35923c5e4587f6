/** The `process` provider folder: wired in `main/` with one line (`processProviderFactory`). */
import type { ProviderFactory } from '../../provider.js';
import { parseProcessOptions } from './process-options.js';
import { ProcessProvider } from './process-provider.js';
import { secureStateRoot } from './process-state.js';
import { DEFAULT_LOG_ROTATION } from './process-logs.js';

export { ProcessProvider, type ProcessProviderOptions } from './process-provider.js';
export { PROCESS_CONFIG_SCHEMA, type ProcessConfig } from './process-schema.js';
export { findTenantProcesses } from './process-control.js';
export { parseProcessOptions, type ProcessOptions, type RunAs } from './process-options.js';

/** Options (`compute.providers.process`): see process-options.ts. State goes under `settings.dataDir`. */
export const processProviderFactory: ProviderFactory = {
  type: 'process',
  async create(settings) {
    const options = parseProcessOptions(settings.options);
    if (options.runAs === undefined && process.getuid?.() === 0) {
      settings.logger.warn(
        'Lessor runs as root, and so will every tenant command: set compute.providers.process.runAs',
      );
    }
    await secureStateRoot(settings.dataDir);
    return new ProcessProvider({
      dataDir: settings.dataDir,
      hasher: settings.hasher,
      ...(options.stopGraceMs !== undefined && { stopGraceMs: options.stopGraceMs }),
      ...(options.startupGraceMs !== undefined && { startupGraceMs: options.startupGraceMs }),
      ...(options.runAs !== undefined && { runAs: options.runAs }),
      logRotation: {
        maxBytes: options.logMaxBytes ?? DEFAULT_LOG_ROTATION.maxBytes,
        files: options.logFiles ?? DEFAULT_LOG_ROTATION.files,
      },
    });
  },
};
