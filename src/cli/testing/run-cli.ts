/**
 * Runs a `lessor` command as a child process and collects its exit code and output. By default the
 * client-only entry (src/cli/client-entry.ts through tsx); end-to-end suites pass the built binary.
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { runCli } from '../index.js';

export const CLIENT_ENTRY = fileURLToPath(new URL('../client-entry.ts', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The node arguments before the CLI's own (default: tsx + the client entry). */
  readonly entry?: readonly string[];
  readonly stdin?: string;
  readonly timeoutMs?: number;
}

/** The environment without anything that would point the CLI at a real server or config. */
function cleanEnv(extra: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: '/nonexistent', XDG_CONFIG_HOME: '' };
  delete env.LESSOR_URL;
  delete env.LESSOR_TOKEN;
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function runLessor(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const entry = options.entry ?? ['--import', 'tsx', CLIENT_ENTRY];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(options.env ?? {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the client commands in this process (fast; no tsx start-up) with captured output. */
export async function runInProcess(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { HOME: '/nonexistent', ...env },
  });
  return { code, stdout, stderr };
}

/** A loopback URL on which nothing listens (a port just released). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
