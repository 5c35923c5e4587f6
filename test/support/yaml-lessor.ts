/**
 * A whole Lessor in this process (`startLessor`, the composition root) configured by a lessor.yaml
 * as an operator would write it. The file starts with what every such suite shares — loopback on a
 * free port, a SQLite file and the data directory in a fresh temporary directory — and goes on
 * with `body` (log level, engine, controller, providers, …).
 *
 *   const lessor = await startYamlLessor({ prefix: 'lessor-x-', body: 'log: { level: warn }\n…', onLog });
 *   … new LessorClient({ baseUrl: lessor.app.url }) …
 *   await lessor.close(); // the app, then the directory
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../../src/main/config/load-config.js';
import { startLessor, type LessorApp } from '../../src/main/lessor-app.js';
import { createLogger } from '../../src/main/logger.js';
import { freePort } from '../../src/main/testing/free-port.js';

export interface YamlLessorOptions {
  /** The temporary directory's name prefix (e.g. `lessor-ecs-`). */
  readonly prefix: string;
  /** The rest of lessor.yaml, after `server`, `database` and `dataDir`. */
  readonly body: string;
  /** Receives each log line (JSON) at the file's level; without it, logs go nowhere. */
  readonly onLog?: (line: string) => void;
  /** Receives every span as it ends; turns tracing on. */
  readonly traceExporter?: SpanExporter;
}

export interface YamlLessor {
  readonly app: LessorApp;
  /** The temporary directory: lessor.yaml, lessor.db and the data directory. */
  readonly dir: string;
  close(): Promise<void>;
}

export async function startYamlLessor(options: YamlLessorOptions): Promise<YamlLessor> {
  const dir = await mkdtemp(join(tmpdir(), options.prefix));
  try {
    const configFile = join(dir, 'lessor.yaml');
    await writeFile(
      configFile,
      `
server: { host: 127.0.0.1, port: ${await freePort()} }
database: { url: "sqlite:${join(dir, 'lessor.db')}" }
dataDir: "${dir}"
${options.body}`,
    );
    const config = loadConfig({ configFile, env: {}, cwd: dir });
    const onLog = options.onLog ?? (() => undefined);
    const logger = createLogger(config.log, { write: (line: string) => void onLog(line) });
    const app = await startLessor(config, logger, { traceExporter: options.traceExporter });
    return {
      app,
      dir,
      close: async () => {
        await app.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
