/**
 * The dashboard end to end, in headless Chromium against a real Lessor (a child process, SQLite,
 * the fake provider with a short latency so phases visibly move): sign-in with a token; a tenant
 * created through the form turns ready on screen without a reload; an edit shows its diff before
 * it is applied and yields generation 2; a list row changes phase live; a viewer sees no write
 * control; delete asks for the name. On every view: axe-core finds nothing serious or critical,
 * and a screenshot is saved under test-results/dashboard/. Throughout: no console error (a CSP
 * violation is one) and no request to anything but the server on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DashboardHarness,
  TOKENS,
  WAIT_MS,
  type PageGlobals,
  type Role,
} from '../support/dashboard-harness.js';
import type { WatchedPage } from '../support/dashboard-browser.js';

describe('dashboard in a real browser', () => {
  let h: DashboardHarness;
  const client = (role: Role) => h.client(role);
  const open = (options: { colorScheme?: 'light' | 'dark' } = {}) => h.open(options);
  const signIn = (watched: WatchedPage, role: Role) => h.signIn(watched, role);
  const check = (watched: WatchedPage, name: string) => h.check(watched, name);
  const goto = (...args: Parameters<DashboardHarness['goto']>) => h.goto(...args);

  before(async () => {
    h = await DashboardHarness.start('dashboard');
  });

  after(async () => {
    await h?.stop();
  });

  test('sign-in: the page asks for a token; a wrong one is refused; the token stays out of URLs', async () => {
    const watched = await open();
    const { page } = watched;
    await page.goto(`${h.server.url}/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in to Lessor' }).waitFor({ timeout: WAIT_MS });
    await check(watched, 'sign-in');
    await page.getByLabel('Token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor({ timeout: WAIT_MS });
    assert.match(await page.getByRole('alert').innerText(), /not valid/);
    // A refused sign-in logs the 401 in the console; this page is not checked for console errors.
    await h.forget(watched);

    const fresh = await open();
    await signIn(fresh, 'operator');
    assert.equal(
      await fresh.page.evaluate(() =>
        (globalThis as unknown as PageGlobals).sessionStorage.getItem('lessor.token'),
      ),
      TOKENS.operator,
    );
    assert.ok(
      fresh.requests.every((url) => !url.includes(TOKENS.operator)),
      'no URL carries the token',
    );
    await check(fresh, 'overview');
  });

  test('create through the form: the tenant turns ready on screen without a reload; edit shows a diff, then generation 2', async () => {
    const watched = await open();
    const page = await signIn(watched, 'operator');
    await goto(page, '#/tenants', 'Tenants');
    await check(watched, 'tenants-empty');
    await page.getByRole('link', { name: 'New tenant' }).click();
    await page.getByRole('heading', { level: 1, name: 'New tenant' }).waitFor();
    await page.getByLabel('Name').fill('acme');
    await page.getByLabel('Labels').fill('plan=pro');
    await check(watched, 'tenant-create');
    await page.evaluate(() => ((globalThis as unknown as PageGlobals).noReload = true));
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { level: 1, name: /acme/ }).waitFor({ timeout: WAIT_MS });
    await page.locator('[data-testid="phase"]', { hasText: 'ready' }).waitFor({ timeout: WAIT_MS });
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).noReload),
      true,
      'no reload',
    );
    const timeline = await page.getByTestId('timeline').innerText();
    assert.match(timeline, /provisioning → ready/, timeline);
    assert.equal(await page.getByTestId('generation').innerText(), '1');
    await check(watched, 'tenant');

    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { level: 1, name: 'Edit acme' }).waitFor();
    const editor = page.getByLabel('Spec (YAML)');
    const yaml = await editor.inputValue();
    assert.match(yaml, /plan: pro/);
    await editor.fill(yaml.replace('plan: pro', 'plan: pro\n  tier: gold'));
    await page.getByRole('button', { name: 'Preview changes' }).click();
    const preview = page.getByTestId('preview');
    await preview.waitFor();
    const diff = await preview.getByLabel('Spec diff: current against edited').innerText();
    assert.match(diff, /\+ +tier: gold/, diff);
    assert.doesNotMatch(diff, /^- /m, 'nothing removed');
    const ops = await preview.getByLabel('Changes the server would make').innerText();
    assert.match(ops, /\+ \/labels\/tier: "gold"/, `the server's dry-run diff: ${ops}`);
    await check(watched, 'tenant-edit-preview');
    const tenantBefore = await client('operator').getTenant('acme');
    assert.equal(tenantBefore.generation, 1, 'the preview changed nothing');
    await preview.getByRole('button', { name: 'Apply (generation 2)' }).click();
    await page.getByRole('heading', { level: 1, name: /acme/ }).waitFor({ timeout: WAIT_MS });
    await page.locator('[data-testid="generation"]', { hasText: '2' }).waitFor({ timeout: WAIT_MS });
    await page.locator('[data-testid="phase"]', { hasText: 'ready' }).waitFor({ timeout: WAIT_MS });
    const after = await client('operator').getTenant('acme');
    assert.equal(after.generation, 2);
    assert.deepEqual(after.spec.labels, { plan: 'pro', tier: 'gold' });
  });

  test('a row of the tenant list changes phase live; filters and the run view', async () => {
    const watched = await open();
    const page = await signIn(watched, 'operator');
    const api = client('operator');
    await api.createTenant({
      name: 'beta',
      spec: { config: { image: 'nginx:alpine', secretEnv: { DB_PASSWORD: 'hunter2-secret' } } },
    });
    await goto(page, '#/tenants/beta', /beta/);
    const spec = await page.getByLabel('Spec as YAML, secret values masked').innerText();
    assert.match(spec, /DB_PASSWORD: "\*\*\*"/, spec);
    assert.ok(!(await page.content()).includes('hunter2-secret'), 'the secret is nowhere on the page');
    await goto(page, '#/tenants?q=beta', 'Tenants');
    const row = page.locator('tr[data-tenant="beta"]');
    await row.waitFor({ timeout: WAIT_MS });
    await row.locator('.badge', { hasText: 'ready' }).waitFor({ timeout: WAIT_MS });
    await api.deleteTenant('beta');
    await row.locator('.badge', { hasText: 'archived' }).waitFor({ timeout: WAIT_MS });
    await check(watched, 'tenants-live');

    await goto(page, '#/tenants', 'Tenants');
    await page.getByLabel('Phase').selectOption('ready');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForFunction(() =>
      (globalThis as unknown as PageGlobals).location.hash.includes('phase=ready'),
    );
    await page.locator('tr[data-tenant="acme"]').waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('tr[data-tenant="beta"]').count(), 0);
    await check(watched, 'tenants-filtered');

    await goto(page, '#/tenants/acme', /acme/);
    await page.getByRole('link', { name: /update · succeeded/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Workflow run' }).waitFor();
    await page.getByTestId('run-state').waitFor();
    await check(watched, 'run');
    await goto(page, '#/tenants/acme', /acme/);
    await page.getByRole('link', { name: 'provision' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Compute execution' }).waitFor();
    await check(watched, 'execution');
  });

  test('a viewer sees no write control', async () => {
    const watched = await open();
    const page = await signIn(watched, 'viewer');
    await goto(page, '#/tenants', 'Tenants');
    await page.locator('tr[data-tenant="acme"]').waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByRole('link', { name: 'New tenant' }).count(), 0);
    await goto(page, '#/tenants/acme', /acme/);
    await page.getByTestId('phase').waitFor();
    await page.getByTestId('revisions').waitFor({ timeout: WAIT_MS });
    for (const name of [
      'Edit',
      'Delete…',
      'Pause reconciling',
      'Retry',
      'Suspend…',
      'Show live logs',
      'Roll back to 1…',
    ]) {
      assert.equal(await page.getByRole('button', { name }).count(), 0, name);
      assert.equal(await page.getByRole('link', { name, exact: true }).count(), 0, name);
    }
    await check(watched, 'tenant-viewer');
    assert.equal(
      await page.getByRole('link', { name: 'Audit' }).count(),
      0,
      'no admin view in the navigation',
    );
    await goto(page, '#/new/tenant', 'Nothing here');
    await goto(page, '#/dead-letters', 'Dead letters');
    assert.equal(await page.getByRole('button', { name: 'Redrive' }).count(), 0);
    await check(watched, 'dead-letters-viewer');
  });

  test('keyboard only: sign in, skip link and navigation, open a tenant from the list', async () => {
    const watched = await open();
    const { page } = watched;
    const focused = () =>
      page.evaluate(() => {
        const active = (globalThis as unknown as PageGlobals).document.activeElement;
        return active ? `${active.tagName.toLowerCase()}:${active.textContent?.trim() ?? ''}` : '';
      });
    await page.goto(`${h.server.url}/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in to Lessor' }).waitFor({ timeout: WAIT_MS });
    await page.keyboard.press('Tab');
    await page.keyboard.type(TOKENS.operator);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await focused(), 'h1:Overview', 'a new view puts the focus on its heading');
    const firstFocusable = await page.evaluate(
      () =>
        (globalThis as unknown as PageGlobals).document
          .querySelector('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')
          ?.textContent?.trim() ?? '',
    );
    assert.equal(firstFocusable, 'Skip to content', 'the skip link comes first in the tab order');
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Shift+Tab');
      order.push(await focused());
    }
    assert.deepEqual(order, [
      'button:Sign out',
      'a:Providers',
      'a:Dead letters',
      'a:Plans',
      'a:Rollouts',
      'a:Tenants',
    ]);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Tenants' }).waitFor({ timeout: WAIT_MS });
    await page.locator('tr[data-tenant="acme"]').waitFor({ timeout: WAIT_MS });
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await focused()) === 'a:acme';
    }
    assert.ok(reached, 'the tenant link is reachable with Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: /acme/ }).waitFor({ timeout: WAIT_MS });
  });

  test('admin views, delete with the name typed, and dark mode', async () => {
    const watched = await open({ colorScheme: 'dark' });
    const page = await signIn(watched, 'admin');
    await check(watched, 'overview-dark');
    await goto(page, '#/providers', 'Providers');
    await check(watched, 'providers-dark');
    await goto(page, '#/dead-letters', 'Dead letters');
    await check(watched, 'dead-letters-dark');
    await goto(page, '#/audit', 'Audit trail');
    await check(watched, 'audit-dark');
    await goto(page, '#/tenants/acme', /acme/);
    await page.getByTestId('phase').waitFor();
    await page.getByRole('button', { name: 'Pause reconciling' }).waitFor();
    await check(watched, 'tenant-dark');
    await page.getByRole('button', { name: 'Delete…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const confirm = dialog.getByRole('button', { name: 'Delete', exact: true });
    assert.equal(await confirm.isDisabled(), true, 'disabled until the name is typed');
    await dialog.getByLabel('Tenant name').fill('acm');
    assert.equal(await confirm.isDisabled(), true);
    await dialog.getByLabel('Tenant name').fill('acme');
    await check(watched, 'tenant-delete-dialog-dark');
    await confirm.click();
    await page.locator('[data-testid="phase"]', { hasText: 'archived' }).waitFor({ timeout: WAIT_MS });
  });

  test('nothing but the server was contacted, and no page logged an error', () => {
    h.assertClean();
  });
});
