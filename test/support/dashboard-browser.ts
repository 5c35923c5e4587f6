/**
 * What the dashboard's browser tests share: a current build of `web/` (rebuilt when a source is
 * newer than it), headless Debian Chromium driven by playwright-core (no browser download), and a
 * page wrapper that records every request URL and every console error, runs axe-core and saves
 * screenshots under `test-results/dashboard/`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from './lessor-process.js';

export const CHROMIUM = process.env.LESSOR_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'dashboard');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds `web/` into `web/dist` unless the build is newer than every source. */
export function ensureDashboardBuild(): void {
  const web = join(REPO_ROOT, 'web');
  let built = 0;
  try {
    built = statSync(join(web, 'dist', 'index.html')).mtimeMs;
  } catch {
    built = 0;
  }
  const sources = Math.max(newestMtime(join(web, 'src')), statSync(join(web, 'index.html')).mtimeMs);
  if (built > sources) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-web.mjs')], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

export interface AxeFinding {
  readonly id: string;
  readonly impact: string | null | undefined;
  readonly help: string;
  readonly nodes: readonly string[];
}

/** A page of the dashboard under observation. */
export class WatchedPage {
  readonly requests: string[] = [];
  /** Requests that ended without an answer, `url errorText` (an aborted fetch: net::ERR_ABORTED). */
  readonly failedRequests: string[] = [];
  readonly consoleErrors: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('request', (request) => this.requests.push(request.url()));
    page.on('requestfailed', (request) =>
      this.failedRequests.push(`${request.url()} ${request.failure()?.errorText ?? ''}`),
    );
    page.on('console', (message) => {
      if (message.type() === 'error') this.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => this.consoleErrors.push(`uncaught: ${error.message}`));
  }

  static async open(
    browser: Browser,
    options: { colorScheme?: 'light' | 'dark' } = {},
  ): Promise<WatchedPage> {
    const context = await browser.newContext({
      colorScheme: options.colorScheme ?? 'light',
      viewport: { width: 1280, height: 900 },
    });
    return new WatchedPage(context, await context.newPage());
  }

  /** Serious and critical axe-core findings on the page as it is now (WCAG 2.x A and AA rules). */
  async axe(): Promise<AxeFinding[]> {
    // Evaluated through the DevTools protocol, not injected as a script: the page's CSP stays as served.
    await this.page.evaluate(axe.source);
    const results = await this.page.evaluate(() =>
      (globalThis as unknown as { axe: typeof axe }).axe.run({
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      }),
    );
    return results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => n.target.join(' ')),
      }));
  }

  async screenshot(name: string): Promise<void> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await this.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
