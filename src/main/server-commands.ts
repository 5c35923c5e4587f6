/**
 * `lessor serve` and `lessor migrate`: the server side of the one `lessor` program (docs/cli.md). The
 * server modules are imported inside the actions, so client commands start without loading them.
 */
import type { Command } from 'commander';
import type { ConfigFlags } from './config/load-config.js';
import { addSecretsCommands } from './secrets/secrets-commands.js';

// Commander leaves unset options undefined, which is what the config loader's flags expect.
export function addServerCommands(program: Command): void {
  program
    .command('serve')
    .description('run the control plane: API, controller and workflow engine in one process')
    .option('-c, --config <file>', 'configuration file (default ./lessor.yaml when present)')
    .option('--host <host>', 'address to bind (server.host)')
    .option('--port <port>', 'port to listen on (server.port)')
    .option('--database-url <url>', 'database URL (database.url)')
    .option('--log-level <level>', 'log level (log.level)')
    .option('--set <key=value...>', 'override any configuration key, e.g. --set controller.workers=8')
    .action(async (flags: ConfigFlags) => {
      const { loadConfig } = await import('./config/load-config.js');
      const { createLogger } = await import('./logger.js');
      const { startLessor } = await import('./lessor-app.js');
      const config = loadConfig({ flags });
      const logger = createLogger(config.log);
      const app = await startLessor(config, logger);
      const shutdown = (signal: string): void => {
        logger.info({ signal }, 'shutting down');
        // Within server.shutdownGraceMs in total, then exit.
        void app.close().then(() => process.exit(0));
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });

  program
    .command('migrate')
    .description('apply database migrations and exit')
    .option('-c, --config <file>', 'configuration file')
    .option('--database-url <url>', 'database URL (database.url)')
    .action(async (flags: ConfigFlags) => {
      const { loadConfig } = await import('./config/load-config.js');
      const { createLogger } = await import('./logger.js');
      const { openDatabase } = await import('./open-database.js');
      const config = loadConfig({ flags });
      const logger = createLogger(config.log);
      const store = await openDatabase(config, logger);
      logger.info({ database: store.dialect }, 'migrations applied');
      await store.close();
    });

  program
    .command('doctor')
    .description(
      'check the configuration, the database and its migrations, each compute provider and the workflow engine; exit 1 when a check fails',
    )
    .option('-c, --config <file>', 'configuration file (default ./lessor.yaml when present)')
    .option('--database-url <url>', 'database URL (database.url)')
    .option('--set <key=value...>', 'override any configuration key')
    .action(async (flags: ConfigFlags, command: Command) => {
      const { runDoctor, renderDoctor, failed } = await import('./doctor/doctor.js');
      // `-o table|json|yaml` is the program's global output option.
      const { output } = command.optsWithGlobals<{ output?: string }>();
      const format = output === 'json' || output === 'yaml' ? output : 'table';
      const results = await runDoctor({ flags });
      process.stdout.write(renderDoctor(results, format, process.stdout.isTTY));
      process.exitCode = failed(results) ? 1 : 0;
    });

  addSecretsCommands(program);
}
