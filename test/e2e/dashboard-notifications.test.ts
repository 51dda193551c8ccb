/**
 * The admin notifications page in Debian's Chromium against a running Fanout (memory engine) and a
 * loopback webhook receiver: add a signed webhook channel (its URL typed into a password field,
 * its signing secret shown once), see it masked, send a test message the receiver verifies, see
 * the delivery in the log, switch an alert type off, disable it; axe-core finds nothing serious;
 * the webhook URL never appears in the page; screenshot in test-output/dashboard/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { buildDashboard } from '../../services/dashboard/build.ts';
import { verifyWebhook } from '../../services/notifier/src/domain/signature.ts';
import { launchChromium, pageErrors, signedIn, skipWithoutChromium, type TestBrowser } from '../support/browser.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime, type TestRuntime } from '../support/local.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const OUT = 'test-output/dashboard';
const HOOK_PATH = '/hooks/browser-secret-path-0123456789';

describe('the admin notifications page in Chromium', { timeout: 180_000, skip: skipWithoutChromium }, () => {
  let rt: TestRuntime;
  let rx: Receiver;
  let browser: TestBrowser;
  let page: Page;
  let errors: string[];

  before(async () => {
    mkdirSync(OUT, { recursive: true });
    await buildDashboard();
    rx = await startReceiver();
    rt = await startTestRuntime({ FANOUT_PRIMARY_HLS: 'off' }, { engine: 'memory' });
    browser = await launchChromium();
    const ctx = await browser.context();
    await signedIn(ctx, ADMIN_TOKEN);
    page = await ctx.newPage();
    errors = pageErrors(page);
  });
  after(async () => {
    await browser?.close();
    await rt?.close();
    await rx?.close();
  });

  it('add a webhook channel, test it, read the delivery, change its alert types, disable it', async () => {
    await page.goto(`${rt.url}/admin/notifications`);
    await page.getByRole('heading', { name: 'New notification channel' }).waitFor();
    await page.getByLabel('Name').fill('pager hook');
    await page.getByLabel('Kind').selectOption('webhook');
    await page.getByLabel(/Webhook URL/).fill(`${rx.url}${HOOK_PATH}`);
    await page.getByRole('button', { name: 'Add channel' }).click();
    const secret = (await page.getByTestId('signing-secret').locator('code.url').textContent())!;
    assert.match(secret, /^whsec_/);
    const row = page.getByTestId('channel-pager hook');
    await row.waitFor();
    assert.match((await row.textContent())!, /webhook · http:\/\/127\.0\.0\.1:\d+\/\*\*\*6789 · on/);
    assert.equal(await page.getByLabel(/Webhook URL/).inputValue(), '', 'the URL field is cleared');
    await page.getByRole('button', { name: 'Send test to pager hook' }).click();
    await page
      .getByTestId('test-result')
      .getByText(/delivered \(HTTP 200\)/)
      .waitFor();
    const got = rx.on(HOOK_PATH).at(-1)!;
    assert.equal(verifyWebhook({ secret, headers: got.headers as Record<string, string>, body: got.body, now: new Date(), seen: () => false }).ok, true);
    await page.getByRole('cell', { name: 'test message' }).waitFor();
    await page.getByRole('button', { name: 'Done, hide it' }).click();
    await row.getByLabel('DeadLetterQueueMessage').uncheck();
    await eventually(
      async () => {
        const ch = (await rt.api('GET', '/api/admin/notifications/channels')).json.channels[0];
        return Array.isArray(ch.alertNames) && !ch.alertNames.includes('DeadLetterQueueMessage') && ch.alertNames.includes('DestinationFailing');
      },
      { what: 'the alert type switched off' },
    );
    await page.getByRole('button', { name: 'Disable pager hook' }).click();
    await row.getByText(/· off$/).waitFor();
    const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    await page.evaluate(source);
    const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as { violations: { id: string; impact: string; help: string }[] };
    assert.deepEqual(
      result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`),
      [],
    );
    assert.ok(!(await page.content()).includes(HOOK_PATH), 'the webhook URL is not in the page');
    await page.screenshot({ path: `${OUT}/admin-notifications.png`, fullPage: true });
    // At 390 px (a phone) nothing scrolls sideways: the delivery log scrolls in its own box.
    await page.setViewportSize({ width: 390, height: 844 });
    const { scroll, width } = (await page.evaluate('({ scroll: document.documentElement.scrollWidth, width: window.innerWidth })')) as { scroll: number; width: number };
    assert.ok(scroll <= width, `the page scrolls sideways at ${width} px: ${scroll} px wide`);
    await page.screenshot({ path: `${OUT}/admin-notifications-390.png`, fullPage: true });
    assert.deepEqual(errors, []);
  });
});
