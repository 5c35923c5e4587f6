/**
 * `lessor doctor`: pre-flight checks of a deployment, run where `lessor serve` would run, changing
 * nothing — the configuration loads; the database answers and has every migration of this version
 * (a missing SQLite file is reported, not created); each configured compute provider answers with
 * its credentials (its `preflight`: the Docker socket, AWS STS for ECS); with the Restate engine,
 * its admin API answers. Every check runs even when an earlier one failed, where it can.
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { stringify as stringifyYaml } from 'yaml';
import { renderTable } from '../../cli/output.js';
import { keyedConfigHasher } from '../../domain/config-hasher.js';
import { errorMessage } from '../../domain/errors.js';
import { silentLogger, type Logger } from '../../domain/logger.js';
import { createStore, parseDatabaseUrl } from '../../store/create-store.js';
import type { Store } from '../../store/store.js';
import { buildProviders } from '../build-providers.js';
import { ConfigError, formatProblem } from '../config/config-error.js';
import { loadConfig, type ConfigFlags, type LessorConfig } from '../config/load-config.js';
import { databaseLabel } from '../open-database.js';

export type CheckStatus = 'ok' | 'fail' | 'skip';

export interface CheckResult {
  readonly check: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

export interface DoctorOptions {
  readonly flags?: ConfigFlags;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Per check (default 5 s). */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
  readonly fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 5_000;

export async function runDoctor(options: DoctorOptions = {}): Promise<readonly CheckResult[]> {
  let config: LessorConfig;
  try {
    config = loadConfig({
      ...(options.flags && { flags: options.flags }),
      ...(options.env && { env: options.env }),
      ...(options.cwd && { cwd: options.cwd }),
    });
  } catch (error) {
    return [{ check: 'configuration', status: 'fail', detail: describe(error) }];
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const logger = options.logger ?? silentLogger;
  const results: CheckResult[] = [{ check: 'configuration', status: 'ok', detail: 'loaded and valid' }];
  results.push(...(await checkDatabase(config, timeoutMs)));
  results.push(...(await checkProviders(config, logger, timeoutMs)));
  results.push(await checkEngine(config, timeoutMs, options.fetch ?? fetch));
  return results;
}

export function failed(results: readonly CheckResult[]): boolean {
  return results.some((r) => r.status === 'fail');
}

async function checkDatabase(config: LessorConfig, timeoutMs: number): Promise<CheckResult[]> {
  const label = databaseLabel(config.database.url);
  const target = parseDatabaseUrl(config.database.url, config.dataDir);
  if (target.kind === 'sqlite' && target.filename !== ':memory:' && !existsSync(target.filename)) {
    return [
      {
        check: 'database',
        status: 'fail',
        detail: `${label}: the file does not exist (run \`lessor migrate\`)`,
      },
      { check: 'migrations', status: 'skip', detail: 'no database' },
    ];
  }
  let store: Store | undefined;
  try {
    store = await createStore({ url: config.database.url, dataDir: config.dataDir, poolSize: 1 });
    const opened = store;
    await withTimeout(() => opened.ping(), timeoutMs);
    const database: CheckResult = { check: 'database', status: 'ok', detail: `${label} answers` };
    try {
      const { applied, pending } = await withTimeout(() => opened.migrationStatus(), timeoutMs);
      const migrations: CheckResult =
        pending.length === 0
          ? { check: 'migrations', status: 'ok', detail: `all ${applied.length} applied` }
          : {
              check: 'migrations',
              status: 'fail',
              detail: `${pending.length} pending (${pending.join(', ')}): run \`lessor migrate\``,
            };
      return [database, migrations];
    } catch (error) {
      return [database, { check: 'migrations', status: 'fail', detail: errorMessage(error) }];
    }
  } catch (error) {
    return [
      { check: 'database', status: 'fail', detail: `${label}: ${errorMessage(error)}` },
      { check: 'migrations', status: 'skip', detail: 'database unreachable' },
    ];
  } finally {
    await store?.close().catch(() => undefined);
  }
}

/** Each provider is built alone, so one that cannot start does not hide the others. */
async function checkProviders(
  config: LessorConfig,
  logger: Logger,
  timeoutMs: number,
): Promise<CheckResult[]> {
  // Providers only label what they create with it; the doctor creates nothing.
  const hasher = keyedConfigHasher(randomBytes(32));
  const results: CheckResult[] = [];
  for (const [type, block] of Object.entries(config.compute.providers)) {
    const check = `provider ${type}`;
    const alone: LessorConfig = {
      ...config,
      compute: { ...config.compute, defaultProvider: type, providers: { [type]: block } },
    };
    try {
      const registry = await buildProviders(alone, logger, hasher);
      try {
        const { provider } = registry.get(type);
        const detail = provider.preflight
          ? await withTimeout(() => provider.preflight!(AbortSignal.timeout(timeoutMs)), timeoutMs)
          : 'built; it has no external engine to reach';
        results.push({ check, status: 'ok', detail });
      } finally {
        await registry.close();
      }
    } catch (error) {
      results.push({ check, status: 'fail', detail: describe(error) });
    }
  }
  if (results.length === 0)
    results.push({ check: 'providers', status: 'fail', detail: 'none configured (compute.providers)' });
  return results;
}

async function checkEngine(
  config: LessorConfig,
  timeoutMs: number,
  fetchFn: typeof fetch,
): Promise<CheckResult> {
  if (config.engine.type !== 'restate') {
    return { check: 'engine', status: 'ok', detail: 'embedded: runs are kept in the database' };
  }
  const url = new URL('/health', config.engine.restate.adminUrl).toString();
  try {
    const response = await fetchFn(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok)
      return { check: 'engine', status: 'fail', detail: `Restate admin API ${url}: HTTP ${response.status}` };
    return { check: 'engine', status: 'ok', detail: `Restate admin API ${url} answers` };
  } catch (error) {
    return { check: 'engine', status: 'fail', detail: `Restate admin API ${url}: ${errorMessage(error)}` };
  }
}

/** Configuration problems one by one; a provider's failure with its stable code. */
function describe(error: unknown): string {
  if (error instanceof ConfigError) return error.configProblems.map(formatProblem).join('; ');
  const code = (error as { code?: unknown } | null)?.code;
  const message = errorMessage(error);
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) && !message.includes(code)
    ? `${code}: ${message}`
    : message;
}

/** The results as a table (CHECK, STATUS, DETAIL), JSON or YAML. */
export function renderDoctor(
  results: readonly CheckResult[],
  format: 'table' | 'json' | 'yaml',
  tty: boolean,
): string {
  const document = { ok: !failed(results), checks: results };
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  if (format === 'yaml') return stringifyYaml(document);
  return renderTable(
    results,
    [
      { header: 'CHECK', value: (r) => r.check },
      { header: 'STATUS', value: (r) => r.status.toUpperCase() },
      { header: 'DETAIL', value: (r) => r.detail },
    ],
    tty,
  );
}

async function withTimeout<T>(operation: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([operation(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
