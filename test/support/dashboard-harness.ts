/**
 * What the dashboard's browser suites share: a real Lessor (a child process, SQLite, the fake
 * provider with a short latency so phases visibly move) with an admin, an operator and a viewer
 * token; headless Chromium; and the steps every test takes — sign in, open a view by its hash,
 * check it (axe-core, then a screenshot). Every page opened is watched: `assertClean` checks that
 * no request went anywhere but the server and that no page logged an error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { hashToken } from '../../src/api/auth.js';
import { LessorClient } from '../../src/api/client.js';
import { ensureDashboardBuild, launchChromium, WatchedPage } from './dashboard-browser.js';
import { startLessorProcess, type LessorProcess } from './lessor-process.js';

export const TOKENS = {
  admin: 'dash-admin-token',
  operator: 'dash-operator-token',
  viewer: 'dash-viewer-token',
} as const;
export type Role = keyof typeof TOKENS;
export const WAIT_MS = 30_000;

/** The browser globals page functions touch (test files are compiled without the DOM lib). */
export interface PageGlobals {
  document: {
    activeElement: { tagName: string; textContent: string | null; closest(s: string): unknown } | null;
    querySelector(selector: string): { textContent: string | null } | null;
  };
  location: { hash: string };
  sessionStorage: { getItem(key: string): string | null };
  noReload?: boolean;
}

export class DashboardHarness {
  readonly pages: WatchedPage[] = [];

  private constructor(
    readonly server: LessorProcess,
    readonly browser: Browser,
    private readonly workDir: string,
  ) {}

  static async start(name: string, env: Readonly<Record<string, string>> = {}): Promise<DashboardHarness> {
    ensureDashboardBuild();
    const workDir = mkdtempSync(join(tmpdir(), `lessor-${name}-e2e-`));
    const server = await startLessorProcess({
      databaseUrl: `sqlite:${join(workDir, 'lessor.db')}`,
      dataDir: join(workDir, 'data'),
      name,
      providers: { fake: { latencyMs: 400 } },
      env: {
        LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake',
        // The tenant form writes raw specs (it has no plan picker yet): operators may, here.
        LESSOR_POLICY__RAW_SPECS: 'operator',
        LESSOR_SERVER__TOKENS: JSON.stringify(
          (Object.keys(TOKENS) as Role[]).map((role) => ({
            name: `${role}-user`,
            role,
            sha256: hashToken(TOKENS[role]),
          })),
        ),
        ...env,
      },
    });
    try {
      return new DashboardHarness(server, await launchChromium(), workDir);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    for (const watched of this.pages) await watched.close().catch(() => undefined);
    await this.browser.close();
    await this.server.stop();
    await rm(this.workDir, { recursive: true, force: true });
  }

  client(role: Role): LessorClient {
    return new LessorClient({ baseUrl: this.server.url, token: TOKENS[role] });
  }

  async open(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<WatchedPage> {
    const watched = await WatchedPage.open(this.browser, options);
    this.pages.push(watched);
    return watched;
  }

  /** Stops watching a page (one that logs an expected error, such as a refused sign-in). */
  async forget(watched: WatchedPage): Promise<void> {
    this.pages.splice(this.pages.indexOf(watched), 1);
    await watched.close();
  }

  async signIn(watched: WatchedPage, role: Role): Promise<Page> {
    const { page } = watched;
    await page.goto(`${this.server.url}/`);
    await page.getByLabel('Token').fill(TOKENS[role]);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor({ timeout: WAIT_MS });
    await page.locator('[data-stream="live"]').waitFor({ timeout: WAIT_MS });
    return page;
  }

  /** axe-core on the view as shown, then a screenshot named after it. */
  async check(watched: WatchedPage, name: string): Promise<void> {
    assert.deepEqual(await watched.axe(), [], `axe findings on ${name}`);
    await watched.screenshot(name);
  }

  async goto(page: Page, hash: string, heading: string | RegExp): Promise<void> {
    await page.evaluate((h) => ((globalThis as unknown as PageGlobals).location.hash = h), hash);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor({ timeout: WAIT_MS });
  }

  /** Every request of every watched page went to the server; no page logged an error. */
  assertClean(): void {
    const origin = `${this.server.url}/`;
    const all = this.pages.flatMap((p) => p.requests);
    assert.ok(all.length > 20, `requests were recorded (${all.length})`);
    assert.deepEqual(
      all.filter((url) => !url.startsWith(origin)),
      [],
      'every request went to the Lessor server on 127.0.0.1',
    );
    assert.deepEqual(
      this.pages.flatMap((p) => p.consoleErrors),
      [],
    );
  }
}

/** Polls `read` until `done` holds (a condition on the server, never a guessed delay). */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
