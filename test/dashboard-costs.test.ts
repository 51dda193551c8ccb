/**
 * The admin Costs page in Debian's Chromium against a Fanout on the memory engine (no media): the
 * month to date and projection as GET /api/cost gives them, a destination's row, a budget set from
 * the form, the FOCUS CSV downloaded by the button and read back by csv-parse, axe-core finding
 * nothing serious, nothing scrolling sideways at 390 px, and no script error.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { buildDashboard } from '../services/dashboard/build.ts';
import { launchChromium, pageErrors, signedIn, skipWithoutChromium } from './support/browser.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime } from './support/local.ts';

const OUT = 'test-output/dashboard';

async function axe(page: Page): Promise<string[]> {
  await page.evaluate(readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as { violations: { id: string; impact: string; help: string }[] };
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help}`);
}

test('the admin Costs page', { timeout: 240_000, skip: skipWithoutChromium }, async () => {
  mkdirSync(OUT, { recursive: true });
  await buildDashboard();
  const rt = await startTestRuntime({ FANOUT_COST_SETTLE_SECONDS: '1' }, { engine: 'memory' });
  const offLoopback: string[] = [];
  const browser = await launchChromium(offLoopback);
  try {
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'Costs page', platform: 'youtube', streamKey: 'costs-page-key-0123456789' } })).json.destinationId as string;
    await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'idle', { timeoutMs: 15_000, what: 'idle' });
    await rt.api('POST', `/api/destinations/${id}/start`);
    await eventually(async () => ((await rt.api('GET', `/api/cost/sessions?destinationId=${id}&kind=running`)).json.sessions as unknown[]).length > 0, { timeoutMs: 15_000, what: 'a running session' });

    for (const width of [1280, 390]) {
      const ctx = await browser.context({ width, height: 900 });
      await signedIn(ctx, ADMIN_TOKEN);
      const page = await ctx.newPage();
      const errors = pageErrors(page);
      await page.goto(`${rt.url}/admin/costs`);
      await page.getByTestId('cost-mtd').waitFor();
      assert.match((await page.getByTestId('cost-mtd').textContent()) ?? '', /^\$\d+\.\d{2}$/);
      assert.match((await page.getByTestId('cost-projection').textContent()) ?? '', /^\$\d+\.\d{2}$/);
      await page.locator('td', { hasText: 'Costs page' }).first().waitFor();
      if (width === 1280) {
        assert.deepEqual(await axe(page), [], 'axe on /admin/costs');
        await page.fill('#budget-amount', '500');
        await page.getByRole('button', { name: 'Save budget' }).click();
        await page.getByText('Budget saved.').waitFor();
        assert.match((await page.getByTestId('cost-budget').textContent()) ?? '', /^\$500\.00: /);
        assert.equal((await rt.api('GET', '/api/admin/cost/budget')).json.budget.amount, '500.000000');
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the FOCUS CSV' }).click()]);
        const rows = parse(readFileSync((await download.path())!, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
        assert.ok(
          rows.some((r) => r.x_DestinationId === id),
          'the destination in the downloaded CSV',
        );
        // Bad input: the API's problem shown at the field.
        await page.fill('#budget-amount', '-3');
        await page.getByRole('button', { name: 'Save budget' }).click();
        await page.locator('.problem, [id="budget-amount-error"]').first().waitFor();
      } else {
        const { scroll, w } = (await page.evaluate('({ scroll: document.documentElement.scrollWidth, w: window.innerWidth })')) as { scroll: number; w: number };
        assert.ok(scroll <= w, `scrolls sideways at ${w} px: ${scroll}`);
      }
      await page.screenshot({ path: `${OUT}/admin-costs-page-${width}.png`, fullPage: true });
      assert.deepEqual(
        errors.filter((e) => !/Failed to load resource/.test(e)),
        [],
        'no script error',
      );
      await ctx.close();
    }
    assert.deepEqual(offLoopback, [], 'nothing requested beyond loopback');
  } finally {
    await browser.close();
    await rt.close();
  }
});
