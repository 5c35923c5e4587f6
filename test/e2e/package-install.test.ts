/**
 * The npm package works without the source tree: `npm pack` (of the built `dist/`; `npm test`
 * builds before it runs the suites, and the real `npm pack` runs `prepack` = `npm run build`), the
 * tarball unpacked as `node_modules/lessor` of an empty directory, then `npx lessor` from there:
 * migrate, doctor, serve, create a tenant with the process provider through the CLI, reach its
 * endpoint, delete it, stop the server with SIGTERM (a clean stop, no error logged).
 *
 * Installing from the registry is not possible offline, so the package's declared `dependencies`
 * (and only those) are symlinked from this checkout's node_modules: a runtime import of anything
 * undeclared — or of a file left out of `files` — fails here as it would for a user.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort, REPO_ROOT } from '../support/lessor-process.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const WAIT = { timeoutMs: 30_000 } as const;

let tmp: string;
let app: string;
let server: ChildProcess | undefined;
let serverLog = '';

/** `npx lessor …` in the install directory, with nothing of the checkout in the environment. */
function lessor(args: readonly string[], url?: string) {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: app, ...(url && { LESSOR_URL: url }) };
  return run('npx', ['--offline', 'lessor', ...args], { cwd: app, env, timeout: 60_000 });
}

before(async () => {
  assert.ok(
    existsSync(join(REPO_ROOT, 'dist/main/cli-entry.js')),
    'dist/ is missing: run `npm run build` first (npm test does)',
  );
  tmp = await mkdtemp(join(tmpdir(), 'lessor-pack-'));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, '--json'], {
    cwd: REPO_ROOT,
    timeout: 60_000,
  });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  app = join(tmp, 'app');
  await mkdir(join(app, 'node_modules/.bin'), { recursive: true });
  await run('tar', ['-xzf', join(tmp, filename), '-C', join(app, 'node_modules')]);
  await rename(join(app, 'node_modules/package'), join(app, 'node_modules/lessor'));
  const manifest = JSON.parse(await readFile(join(app, 'node_modules/lessor/package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const modules = realpathSync(join(REPO_ROOT, 'node_modules'));
  for (const dependency of Object.keys(manifest.dependencies)) {
    const link = join(app, 'node_modules', dependency);
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(modules, dependency), link);
  }
  await symlink('../lessor/bin/lessor.js', join(app, 'node_modules/.bin/lessor'));
  await writeFile(join(app, 'package.json'), '{ "name": "lessor-install-check", "private": true }\n');
});

after(async () => {
  if (server?.pid && server.exitCode === null && server.signalCode === null) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('the packed tarball holds the build and no source tree', async () => {
  const files = await readdir(join(app, 'node_modules/lessor'));
  const allowed = ['README.md', 'bin', 'dist', 'docs', 'deploy', 'package.json', 'web'];
  for (const file of files) assert.ok(allowed.includes(file), `unexpected ${file} in the package`);
  for (const needed of ['bin', 'dist', 'package.json']) assert.ok(files.includes(needed), needed);
  assert.ok(existsSync(join(app, 'node_modules/lessor/dist/main/cli-entry.js')));
  // The dashboard's build only, never its sources.
  assert.deepEqual(await readdir(join(app, 'node_modules/lessor/web')), ['dist']);
});

test('installed into an empty directory: migrate, doctor, serve, a process tenant through the CLI, stop', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await writeFile(
    join(app, 'lessor.yaml'),
    `server: { host: 127.0.0.1, port: ${port} }
database: { url: "sqlite:lessor.db" }
dataDir: "${join(app, 'data')}"
log: { level: info }
engine: { embedded: { pollIntervalMs: 100 } }
compute: { defaultProvider: process, providers: { process: {} } }
`,
  );
  assert.match((await lessor(['--version'])).stdout, /^\d+\.\d+\.\d+/);
  await lessor(['migrate']);
  const doctor = await lessor(['doctor', '-o', 'json']);
  assert.equal((JSON.parse(doctor.stdout) as { ok: boolean }).ok, true, doctor.stdout);

  server = spawn('npx', ['--offline', 'lessor', 'serve'], {
    cwd: app,
    env: { PATH: process.env.PATH, HOME: app },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: npx and the server under it both get the SIGTERM, as from a terminal.
    detached: true,
  });
  server.stdout!.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (serverLog += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));
  await waitFor('lessor is serving', async () => serverLog.includes('lessor is serving'), WAIT);

  const command = `node -e "require('http').createServer((q,s)=>s.end('hello '+process.env.MODE)).listen(process.env.PORT)"`;
  await lessor(['tenants', 'create', 'packed', '--wait', '--command', command, '--env', 'MODE=packed'], url);
  const tenant = JSON.parse((await lessor(['tenants', 'get', 'packed', '-o', 'json'], url)).stdout) as {
    status: { phase: string; endpoints: { url: string }[] };
  };
  assert.equal(tenant.status.phase, 'ready');
  const endpoint = tenant.status.endpoints[0]!.url;
  assert.equal(await (await fetch(endpoint)).text(), 'hello packed');
  await lessor(['tenants', 'delete', 'packed', '--wait'], url);

  process.kill(-server.pid!, 'SIGTERM');
  await exited;
  await waitFor('the clean stop to be logged', async () => serverLog.includes('lessor stopped'), WAIT);
  assert.ok(!/"level":(50|60)/.test(serverLog), serverLog.slice(-2000));
});
