/**
 * `lessor secrets …`: server-side commands for the secrets at rest (they open the database and the
 * key file as `serve` does). The modules are imported inside the action, so client commands start
 * without loading them.
 */
import type { Command } from 'commander';

interface RotateFlags {
  readonly config?: string;
  readonly databaseUrl?: string;
  readonly newKeyFile?: string;
  readonly resume?: boolean;
  readonly batchSize?: string;
}

export function addSecretsCommands(program: Command): void {
  const secrets = program.command('secrets').description('secrets at rest (server side)');
  secrets
    .command('rotate-key')
    .description(
      'seal every stored secret under a new key: with a key file, a new random key (or --new-key-file) becomes current; with secrets.key set, secrets.key is the new key and secrets.previousKeys the old ones',
    )
    .option('-c, --config <file>', 'configuration file (default ./lessor.yaml when present)')
    .option('--database-url <url>', 'database URL (database.url)')
    .option(
      '--new-key-file <file>',
      'file holding the new key (key file format, mode 0600); never pass a key as an argument',
    )
    .option('--resume', 'finish an interrupted rotation under the key file’s current key')
    .option('--batch-size <n>', 'tenants re-sealed per transaction (default 200)')
    .action(async (flags: RotateFlags) => {
      const { loadConfig } = await import('../config/load-config.js');
      const { createLogger } = await import('../logger.js');
      const { rotateSecretsKey } = await import('./rotate-key.js');
      const config = loadConfig({
        flags: {
          ...(flags.config && { config: flags.config }),
          ...(flags.databaseUrl && { databaseUrl: flags.databaseUrl }),
        },
      });
      const logger = createLogger(config.log);
      const outcome = await rotateSecretsKey(config, logger, {
        ...(flags.newKeyFile !== undefined && { newKeyFile: flags.newKeyFile }),
        ...(flags.resume === true && { resume: true }),
        ...(flags.batchSize !== undefined && { batchSize: Number(flags.batchSize) }),
      });
      const { keyId, report, keyFile } = outcome;
      process.stdout.write(
        `re-sealed ${report.resealed} of ${report.tenants} tenant(s) and ${report.serverSecrets} server secret(s) under key ${keyId}\n`,
      );
      if (report.remaining > 0) {
        process.stderr.write(
          `${report.remaining} tenant(s) were written meanwhile under an older key by a server that still runs with it: restart every server, then run \`lessor secrets rotate-key --resume\`\n`,
        );
        process.exitCode = 1;
      } else if (keyFile) {
        process.stdout.write(
          `${keyFile.path} holds key(s) ${keyFile.keyIds.join(', ')}: restart every server to seal with ${keyId}\n`,
        );
      } else {
        process.stdout.write(
          `every secret is sealed under ${keyId}: once every server runs with it, remove secrets.previousKeys\n`,
        );
      }
    });
}
