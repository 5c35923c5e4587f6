/**
 * `lessor secrets …`: server-side commands for the secrets at rest (they open the database and the
 * key file as `serve` does). The modules are imported inside the action, so client commands start
 * without loading them.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { RotationOutcome } from './rotate-key.js';

interface RotateFlags {
  readonly config?: string;
  readonly databaseUrl?: string;
  readonly newKeyFile?: string;
  readonly resume?: boolean;
  readonly batchSize?: number;
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
    .option('--batch-size <n>', 'tenants re-sealed per transaction (default 200)', positiveInteger)
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
        ...(flags.batchSize !== undefined && { batchSize: flags.batchSize }),
      });
      printOutcome(outcome);
    });
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError('expected a whole number of at least 1');
  return parsed;
}

/** What the operator needs to know next; exit code 1 while rows remain under an older key. */
function printOutcome({ keyId, report, keyFile }: RotationOutcome): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `re-sealed ${report.resealed} of ${report.tenants} tenant(s) and ${report.serverSecrets} server secret(s) under key ${keyId}`,
  );
  if (report.revisions > 0) out(`re-sealed ${report.revisions} tenant or plan revision(s)`);
  if (report.remaining > 0) {
    process.stderr.write(
      `${report.remaining} tenant or revision row(s) were written meanwhile by a server still sealing with an older key: run \`lessor secrets rotate-key --resume\` again (or restart the servers first)\n`,
    );
    process.exitCode = 1;
  } else if (keyFile) {
    out(
      `${keyFile.path} holds key(s) ${keyFile.keyIds.join(', ')}; running servers re-read it as they meet re-sealed values`,
    );
  } else {
    out(`every secret is sealed under ${keyId}: once every server runs with it, remove secrets.previousKeys`);
  }
}
