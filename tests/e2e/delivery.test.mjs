// Delivering the grant to the backend when the backend misbehaves, driven by the demo's own fault
// switch: retried until delivered once, kept and delivered later by the Retry button, dropped
// connections, and a refusal (4xx) shown as backend_rejected.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decide, e2eSuite, openSubscribePage, screenshot, subscribe, waitForResult } from './harness.mjs';

const suite = e2eSuite({ before, after });
const faulty = { networkErrors: true };

async function pressFault(page, which, status) {
  await page.getByTestId(`fault-${which}`).click();
  await page.locator(`[data-testid="sink-status"][data-faults="${status}"]`).waitFor();
}

describe('grant delivery', () => {
  test('the sink fails twice then recovers: granted and delivered once', async () => {
    await suite.scenario(faulty, async ({ page, base, sink }) => {
      await openSubscribePage(page, base);
      await pressFault(page, 'flaky', 'failing');
      assert.match(await page.getByTestId('sink-status').textContent(), /next 2 deliveries fail/);
      await subscribe(page, { scene: 1000 });
      const result = await decide(page, 'confirm');
      assert.equal(result.state, 'granted');
      assert.equal(result.delivered, 'true');
      assert.equal(await page.getByTestId('retry-box').isVisible(), false);
      assert.deepEqual(await sink.stats(), { posts: 3, created: 1, duplicates: 0, rejected: 0, faulted: 2 });
      assert.equal((await sink.grants()).length, 1);
    });
  });

  test('the sink is down for good: undelivered, then delivered by the Retry button after it recovers', async () => {
    await suite.scenario(faulty, async ({ page, base, sink }) => {
      await openSubscribePage(page, base);
      await pressFault(page, 'down', 'down');
      await subscribe(page, { scene: 1000 });
      const result = await decide(page, 'confirm');
      assert.equal(result.state, 'granted', 'the user did subscribe');
      assert.equal(result.delivered, 'false');
      assert.equal(await page.getByTestId('result-delivered').textContent(), 'Not yet');
      assert.equal(await page.getByTestId('retry').isVisible(), true);
      await screenshot(page, '10-landing-undelivered');
      assert.equal((await sink.grants()).length, 0);
      assert.equal((await sink.stats()).faulted, 4, 'the first attempt and 3 retries');

      await pressFault(page, 'ok', 'ok');
      await page.getByTestId('retry').click();
      await page.locator('[data-testid="retry-result"][data-pending="0"]').waitFor();
      assert.equal(await page.getByTestId('retry-result').getAttribute('data-delivered'), '1');
      await page.locator('[data-testid="result"][data-delivered="true"]').waitFor();
      assert.equal(await page.getByTestId('result-delivered').textContent(), 'Yes');
      assert.equal(await page.getByTestId('retry-box').isVisible(), false);
      const grants = await sink.grants();
      assert.equal(grants.length, 1);
      assert.equal(grants[0].openid, result.openid);
      await screenshot(page, '11-landing-delivered-after-retry');

      await page.reload();
      const restored = await waitForResult(page);
      assert.equal(restored.delivered, 'true', 'a reload remembers the delivery');
      assert.equal((await sink.grants()).length, 1);
      assert.equal((await sink.stats()).created, 1);
    });
  });

  test('a dropped connection is retried: delivered once', async () => {
    await suite.scenario(faulty, async ({ page, base, sink }) => {
      await sink.setFaults({ queue: ['reset'] });
      await openSubscribePage(page, base);
      await subscribe(page, { scene: 1000 });
      const result = await decide(page, 'confirm');
      assert.equal(result.delivered, 'true');
      assert.equal((await sink.grants()).length, 1);
      assert.equal((await sink.stats()).faulted, 1);
    });
  });

  test('the backend refuses the grant (400): backend_rejected on screen, not retried, nothing stored', async () => {
    await suite.scenario(faulty, async ({ page, base, sink }) => {
      await sink.setFaults({ queue: [400] });
      await openSubscribePage(page, base);
      await subscribe(page, { scene: 1000 });
      const result = await decide(page, 'confirm');
      assert.equal(result.state, 'error');
      assert.equal(result.code, 'backend_rejected');
      assert.equal(result.errorCode, 'backend_rejected');
      assert.equal((await sink.stats()).posts, 1, 'a 4xx is not retried');
      assert.equal((await sink.grants()).length, 0);
      await page.reload();
      const restored = await waitForResult(page);
      assert.equal(restored.code, 'backend_rejected', 'a reload of the cleaned page shows the error again');
      assert.equal((await sink.stats()).posts, 1);
    });
  });
});
