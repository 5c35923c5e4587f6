/**
 * The dashboard's fleet views end to end, in headless Chromium against a real Lessor (see
 * dashboard-harness.ts): on the tenant page, suspend and resume (each confirmed) with the live logs
 * showing the runtime stop and start, and the log stream closed on leaving; revisions with the
 * server's diff, and rollback after a server dry run; a rollout created from the UI after a dry run
 * of its waves, followed live through a pause and a promote, and a second one rolled back from
 * its page; plans with a new revision previewed by the server; webhooks with the secret shown
 * once and a failed delivery retried. A viewer sees none of the write controls. Every view is
 * checked with axe-core and screenshotted (some in dark mode); no request leaves 127.0.0.1 and
 * no page logs an error.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { WatchedPage } from '../support/dashboard-browser.js';
import {
  DashboardHarness,
  eventually,
  WAIT_MS,
  type PageGlobals,
  type Role,
} from '../support/dashboard-harness.js';

/** A webhook endpoint on loopback whose answer the test sets. */
class Receiver {
  status = 400;
  received = 0;
  private readonly server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      this.received += 1;
      response.writeHead(this.status).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('dashboard fleet views in a real browser', () => {
  let h: DashboardHarness;
  const receiver = new Receiver();
  let hookUrl: string;
  const client = (role: Role) => h.client(role);

  before(async () => {
    hookUrl = await receiver.start();
    h = await DashboardHarness.start('dashboard-fleet', {
      LESSOR_WEBHOOKS__ALLOW_HTTP: 'true',
      LESSOR_WEBHOOKS__ALLOWED_NETWORKS: '127.0.0.0/8',
    });
  });

  after(async () => {
    await h?.stop();
    await receiver.close();
  });

  async function ready(name: string, labels: Record<string, string>) {
    await client('operator').createTenant({ name, spec: { labels } });
    return eventually(
      () => client('operator').getTenant(name),
      (t) => t.status.phase === 'ready',
      `${name} ready`,
    );
  }

  const generation = (page: Page, n: number) =>
    page
      .locator('[data-testid="generation"]', { hasText: new RegExp(`^${n}$`) })
      .waitFor({ timeout: WAIT_MS });
  const phase = (page: Page, name: string) =>
    page.locator('[data-testid="phase"]', { hasText: name }).waitFor({ timeout: WAIT_MS });

  test('tenant page: suspend and resume confirmed, seen live in the logs; the stream closes on leaving', async () => {
    await ready('gamma', { plan: 'pro' });
    await client('operator').patchTenant('gamma', { spec: { labels: { tier: 'gold' } } });
    const watched = await h.open();
    const page = await h.signIn(watched, 'operator');
    await h.goto(page, '#/tenants/gamma', /gamma/);
    await generation(page, 2);
    await phase(page, 'ready');

    await page.getByRole('button', { name: 'Show live logs' }).click();
    const logs = page.getByTestId('logs');
    await logs.getByText('started generation 2').waitFor({ timeout: WAIT_MS });

    await page.getByRole('button', { name: 'Suspend…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await h.check(watched, 'tenant-suspend-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await client('operator').getTenant('gamma')).generation, 2, 'cancel changed nothing');

    await page.getByRole('button', { name: 'Suspend…' }).click();
    await dialog.getByRole('button', { name: 'Suspend', exact: true }).click();
    await phase(page, 'suspended');
    await logs.getByText('stopping: suspended').waitFor({ timeout: WAIT_MS });
    await generation(page, 3);
    assert.equal((await client('operator').getTenant('gamma')).spec.suspended, true);
    await h.check(watched, 'tenant-suspended-logs');

    await page.getByRole('button', { name: 'Resume…' }).click();
    await dialog.getByRole('button', { name: 'Resume', exact: true }).click();
    await phase(page, 'ready');
    await generation(page, 4);
    await page.waitForFunction(
      () =>
        (
          (globalThis as unknown as PageGlobals).document.querySelector('[data-testid="logs"]')
            ?.textContent ?? ''
        ).split('started generation').length > 2,
      undefined,
      { timeout: WAIT_MS },
    );

    const logRequest = (w: WatchedPage) =>
      w.failedRequests.filter((r) => r.includes('/gamma/logs') || r.includes('/logs?'));
    assert.deepEqual(logRequest(watched), [], 'the log stream is open');
    await h.goto(page, '#/tenants', 'Tenants');
    await eventually(
      () => Promise.resolve(logRequest(watched)),
      (failed) => failed.some((r) => r.includes('ERR_ABORTED')),
      'the log stream closed on leaving the view',
    );
  });

  test('tenant page: revisions diffed by the server; rollback previewed by a dry run, then applied with If-Match', async () => {
    const watched = await h.open();
    const page = await h.signIn(watched, 'operator');
    await h.goto(page, '#/tenants/gamma', /gamma/);
    const revisions = page.getByTestId('revisions');
    await revisions.locator('tr[data-generation="4"]').waitFor({ timeout: WAIT_MS });
    await page.getByLabel('From generation').selectOption('1');
    await page.getByLabel('To generation').selectOption('2');
    await page.getByRole('button', { name: 'Compare' }).click();
    const diff = page.getByTestId('revision-diff');
    await diff.getByText('Generation 1 → 2: 1 change').waitFor({ timeout: WAIT_MS });
    assert.match(await diff.getByTestId('patch').innerText(), /\+ \/labels\/tier: "gold"/);
    await h.check(watched, 'tenant-revision-diff');

    await page.getByRole('button', { name: 'Roll back to 1…' }).click();
    const preview = page.getByTestId('rollback-preview');
    await preview.waitFor({ timeout: WAIT_MS });
    assert.match(await preview.getByTestId('patch').innerText(), /- \/labels\/tier/);
    assert.equal((await client('operator').getTenant('gamma')).generation, 4, 'the dry run stored nothing');
    await h.check(watched, 'tenant-rollback-preview');
    await preview.getByRole('button', { name: 'Roll back (generation 5)' }).click();
    await generation(page, 5);
    await phase(page, 'ready');
    const after = await client('operator').getTenant('gamma');
    assert.deepEqual(after.spec.labels, { plan: 'pro' }, 'the labels of generation 1');
  });

  test('a rollout created from the UI after a dry run of its waves, followed live through pause and promote', async () => {
    for (const name of ['r1', 'r2', 'r3', 'r4']) await ready(name, { team: 'blue' });
    const watched = await h.open();
    const page = await h.signIn(watched, 'operator');
    await h.goto(page, '#/rollouts', 'Rollouts');
    await h.check(watched, 'rollouts-empty');
    await page.getByRole('link', { name: 'New rollout' }).click();
    await page.getByRole('heading', { level: 1, name: 'New rollout' }).waitFor();
    await page.getByLabel('Description').fill('release 2');
    await page.getByLabel('Label selector').fill('team=blue');
    await page.getByLabel('Waves (cumulative counts or percents)').fill('1, 100%');
    await page.getByLabel('Pause after waves (indexes from 0)').fill('0');
    await page.getByRole('button', { name: 'Preview waves' }).click();
    const preview = page.getByTestId('rollout-preview');
    await preview.waitFor({ timeout: WAIT_MS });
    assert.equal(await preview.getByTestId('preview-total').innerText(), '4');
    assert.match(await preview.locator('[data-wave="0"]').innerText(), /Wave 1 \(1\): r1$/);
    assert.match(await preview.locator('[data-wave="1"]').innerText(), /Wave 2 \(3\): r2, r3, r4/);
    assert.equal((await client('operator').listRollouts()).items.length, 0, 'the dry run started nothing');
    await h.check(watched, 'rollout-create-preview');

    await preview.getByRole('button', { name: 'Start rollout' }).click();
    await page.getByRole('heading', { level: 1, name: /Rollout release 2/ }).waitFor({ timeout: WAIT_MS });
    await page.locator('[data-testid="rollout-phase"]', { hasText: 'paused' }).waitFor({ timeout: WAIT_MS });
    await page.locator('.wave[data-wave="0"][data-succeeded="1"]').waitFor({ timeout: WAIT_MS });
    await h.check(watched, 'rollout-paused');
    await page.getByRole('button', { name: 'Promote' }).click();
    await page
      .locator('[data-testid="rollout-phase"]', { hasText: 'succeeded' })
      .waitFor({ timeout: WAIT_MS });
    await page.locator('.wave[data-wave="1"][data-succeeded="3"]').waitFor({ timeout: WAIT_MS });
    assert.match(await page.getByTestId('rollout-counts').innerText(), /4\/4 succeeded/);
    assert.equal(
      await page.getByRole('group', { name: 'Rollout controls' }).count(),
      0,
      'no control once done',
    );
    await h.check(watched, 'rollout-succeeded');
    for (const name of ['r1', 'r4'])
      assert.equal((await client('operator').getTenant(name)).spec.labels.release, '2', name);

    await h.goto(page, '#/rollouts', 'Rollouts');
    await page.getByRole('link', { name: 'release 2' }).waitFor({ timeout: WAIT_MS });
    await h.check(watched, 'rollouts');
  });

  test('an active rollout on the overview, rolled back from its page (confirmed), live', async () => {
    const rollout = await client('operator').createRollout({
      description: 'release 3',
      selector: { names: ['r1', 'r2'] },
      change: { patch: { labels: { release: '3' } } },
      strategy: { waves: [1, '100%'], pauseAfterWaves: [0] },
    });
    const watched = await h.open({ colorScheme: 'dark' });
    const page = await h.signIn(watched, 'operator');
    const active = page.getByTestId('active-rollouts').getByRole('link', { name: 'release 3' });
    await active.waitFor({ timeout: WAIT_MS });
    await active.click();
    await page.getByRole('heading', { level: 1, name: /Rollout release 3/ }).waitFor({ timeout: WAIT_MS });
    assert.ok(page.url().endsWith(`#/rollouts/${rollout.id}`), 'the overview links the active rollout');
    await page.locator('[data-testid="rollout-phase"]', { hasText: 'paused' }).waitFor({ timeout: WAIT_MS });
    await h.check(watched, 'rollout-paused-dark');
    await page.getByRole('button', { name: 'Roll back…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await h.check(watched, 'rollout-rollback-dialog-dark');
    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    await page
      .locator('[data-testid="rollout-phase"]', { hasText: 'rolledBack' })
      .waitFor({ timeout: WAIT_MS });
    assert.equal(
      (await client('operator').getTenant('r1')).spec.labels.release,
      '2',
      'r1 is back at release 2',
    );
  });

  test('plans: an admin creates one, previews a new revision with the server, applies it and diffs revisions', async () => {
    const watched = await h.open({ colorScheme: 'dark' });
    const page = await h.signIn(watched, 'admin');
    await h.goto(page, '#/plans', 'Plans');
    await h.check(watched, 'plans-empty-dark');
    await page.getByLabel('Plan name').fill('standard');
    await page.getByLabel('Description').fill('the standard plan');
    await page.getByRole('button', { name: 'Create plan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Plan standard' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByTestId('plan-revision').innerText(), '1');

    const editor = page.getByLabel('Plan (YAML)');
    await editor.fill((await editor.inputValue()).replace('the standard plan', 'the standard plan, v2'));
    await page.getByRole('button', { name: 'Preview revision' }).click();
    const preview = page.getByTestId('plan-preview');
    await preview
      .getByText('Revision 2 (dry run by the server, nothing stored yet)')
      .waitFor({ timeout: WAIT_MS });
    assert.match(await preview.innerText(), /\+ description: the standard plan, v2/);
    assert.equal((await client('admin').getPlan('standard')).revision, 1, 'the dry run stored nothing');
    await h.check(watched, 'plan-preview-dark');
    await preview.getByRole('button', { name: 'Apply (revision 2)' }).click();
    await page.locator('[data-testid="plan-revision"]', { hasText: '2' }).waitFor({ timeout: WAIT_MS });
    await page.getByRole('button', { name: 'Diff 1 → 2' }).click();
    const diff = page.getByTestId('plan-diff');
    await diff.waitFor();
    assert.match(await diff.innerText(), /- description: the standard plan\n/);
    await h.check(watched, 'plan-dark');
    await h.goto(page, '#/plans', 'Plans');
    await page.locator('tr[data-plan="standard"]').waitFor();
    await h.check(watched, 'plans-dark');
  });

  test('webhooks: created with the secret shown once; a failed delivery shows its attempt and is retried', async () => {
    const watched = await h.open({ colorScheme: 'dark' });
    const page = await h.signIn(watched, 'admin');
    await h.goto(page, '#/webhooks', 'Webhooks');
    await page.getByLabel('Endpoint URL').fill(hookUrl);
    await page.getByLabel('rollout.*').check();
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const secret = page.getByTestId('webhook-secret');
    await secret.waitFor({ timeout: WAIT_MS });
    assert.match(await secret.getByLabel('Signing secret').innerText(), /^whsec_/);
    await h.check(watched, 'webhooks-secret-dark');
    await secret.getByRole('button', { name: 'I have stored it' }).click();
    assert.ok(!(await page.content()).includes('whsec_'), 'the secret is gone from the page');

    const [hook] = (await client('admin').listWebhooks()).items;
    assert.deepEqual(hook!.events, ['tenant.*', 'rollout.*']);
    await page.getByRole('link', { name: hookUrl }).click();
    await page.getByRole('heading', { level: 1, name: /Webhook/ }).waitFor({ timeout: WAIT_MS });
    await page.getByRole('button', { name: 'Send test ping' }).click();
    const delivery = await eventually(
      () => client('admin').listWebhookDeliveries(hook!.id, { status: 'failed' }),
      (list) => list.items.length > 0,
      'the ping delivery failed',
    );
    const id = delivery.items[0]!.id;
    await page.getByRole('button', { name: 'Refresh deliveries' }).click();
    const row = page.locator(`tr[data-delivery="${id}"][data-status="failed"]`);
    await row.waitFor({ timeout: WAIT_MS });
    assert.match(await page.getByLabel(`Attempts of delivery ${id}`).innerText(), /#1 .*HTTP 400/);
    await h.check(watched, 'webhook-deliveries-dark');

    receiver.status = 204;
    await row.getByRole('button', { name: `Retry delivery ${id}` }).click();
    await eventually(
      () => client('admin').getWebhookDelivery(hook!.id, id),
      (d) => d.status === 'delivered',
      'the retried delivery delivered',
    );
    await page.getByRole('button', { name: 'Refresh deliveries' }).click();
    await page.locator(`tr[data-delivery="${id}"][data-status="delivered"]`).waitFor({ timeout: WAIT_MS });
  });

  test('a viewer sees the new views without any write control', async () => {
    const watched = await h.open();
    const page = await h.signIn(watched, 'viewer');
    const none = async (names: readonly string[], where: string) => {
      for (const name of names) {
        assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `${name} on ${where}`);
        assert.equal(await page.getByRole('link', { name, exact: true }).count(), 0, `${name} on ${where}`);
      }
    };
    await h.goto(page, '#/tenants/gamma', /gamma/);
    await page.getByTestId('revisions').waitFor({ timeout: WAIT_MS });
    await none(['Suspend…', 'Resume…', 'Show live logs', 'Roll back to 1…'], 'the tenant');
    await h.goto(page, '#/rollouts', 'Rollouts');
    await page.getByRole('link', { name: 'release 2' }).waitFor({ timeout: WAIT_MS });
    await none(['New rollout'], 'rollouts');
    const [paused] = (await client('viewer').listRollouts({ phase: 'rolledBack' })).items;
    await h.goto(page, `#/rollouts/${paused!.id}`, /Rollout/);
    await page.getByTestId('waves').waitFor();
    await none(['Pause', 'Resume', 'Promote', 'Abort…', 'Roll back…'], 'a rollout');
    await h.goto(page, '#/plans', 'Plans');
    await page.locator('tr[data-plan="standard"]').waitFor({ timeout: WAIT_MS });
    await none(['Create plan'], 'plans');
    await h.check(watched, 'plans-viewer');
    await h.goto(page, '#/plans/standard', 'Plan standard');
    await page.getByTestId('plan-revisions').waitFor({ timeout: WAIT_MS });
    await none(['Preview revision'], 'a plan');
    assert.equal(
      await page.getByRole('link', { name: 'Webhooks' }).count(),
      0,
      'no webhooks in the navigation',
    );
    await h.goto(page, '#/webhooks', 'Nothing here');
  });

  test('keyboard only: a confirmation opens, takes the focus and closes on Escape; a rollout opens from the list', async () => {
    const watched = await h.open();
    const page = await h.signIn(watched, 'operator');
    const focused = () =>
      page.evaluate(() => {
        const active = (globalThis as unknown as PageGlobals).document.activeElement;
        return active ? `${active.tagName.toLowerCase()}:${active.textContent?.trim() ?? ''}` : '';
      });
    const tabTo = async (target: string) => {
      for (let i = 0; i < 60; i++) {
        if ((await focused()) === target) return;
        await page.keyboard.press('Tab');
      }
      assert.fail(`${target} is not reachable with Tab (last: ${await focused()})`);
    };
    await h.goto(page, '#/tenants/gamma', /gamma/);
    await phase(page, 'ready');
    await tabTo('button:Suspend…');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    assert.ok(
      await page.evaluate(
        () => !!(globalThis as unknown as PageGlobals).document.activeElement?.closest('dialog'),
      ),
      'the focus is in the dialog',
    );
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    assert.equal(await focused(), 'button:Suspend…', 'the focus is back on the opener');
    assert.equal(
      (await client('operator').getTenant('gamma')).spec.suspended,
      false,
      'Escape changed nothing',
    );

    await h.goto(page, '#/rollouts', 'Rollouts');
    await page.getByRole('link', { name: 'release 2' }).waitFor({ timeout: WAIT_MS });
    await tabTo('a:release 2');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: /Rollout release 2/ }).waitFor({ timeout: WAIT_MS });
  });

  test('nothing but the server was contacted, and no page logged an error', () => {
    h.assertClean();
  });
});
