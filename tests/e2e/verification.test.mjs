// The landing page refuses what it must: forged or tampered callbacks, malformed ones
// (typed error on screen, nothing stored), and the genuine callback still succeeds afterwards. The
// pending subscription survives a lost sessionStorage through its localStorage copy.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  callbackLocationFromConsent,
  decide,
  e2eSuite,
  openSubscribePage,
  screenshot,
  subscribe,
  waitForResult,
} from './harness.mjs';

const suite = e2eSuite({ before, after });

/** The genuine callback address, with one parameter changed (or removed, or repeated). */
function altered(genuine, change) {
  const url = new URL(genuine);
  change(url.searchParams);
  return url.href;
}

/** Opens each bad address and checks the typed error on screen; then the genuine one succeeds. */
async function refusesThenAccepts({ page, base, sink }, cases) {
  await openSubscribePage(page, base);
  await subscribe(page, { scene: 1000 });
  const genuine = await callbackLocationFromConsent(page, 'confirm');

  for (const [name, change, code] of cases) {
    await page.goto(altered(genuine, change));
    const result = await waitForResult(page);
    assert.equal(result.state, 'error', name);
    assert.equal(result.code, code, name);
    assert.equal(result.errorCode, code, `${name}: the code is on screen`);
    assert.ok(result.errorMessage.length > 0, `${name}: a message is on screen`);
    assert.equal(await page.getByTestId('result-title').textContent(), 'Not subscribed');
    assert.equal((await sink.grants()).length, 0, `${name}: nothing stored`);
  }
  await screenshot(page, `08-landing-error-${cases.at(-1)[2]}`);

  await page.goto(genuine);
  const result = await waitForResult(page);
  assert.equal(result.state, 'granted', 'the genuine callback still succeeds afterwards');
  assert.equal(result.delivered, 'true');
  const grants = await sink.grants();
  assert.equal(grants.length, 1);
  assert.equal(grants[0].reserved, new URL(genuine).searchParams.get('reserved'));
}

describe('callback verification', () => {
  test('a forged reserved: unknown_reserved, no grant; the genuine callback still succeeds', async () => {
    await suite.scenario((ctx) =>
      refusesThenAccepts(ctx, [
        ['forged reserved', (q) => q.set('reserved', 'Forged0123456789abcdefABCDEF0123'), 'unknown_reserved'],
      ]),
    );
  });

  test('a tampered template_id: template_mismatch, no grant; the genuine callback still succeeds', async () => {
    await suite.scenario((ctx) =>
      refusesThenAccepts(ctx, [
        [
          'tampered template_id',
          (q) => q.set('template_id', 'Qf4v7yWJZ2mT0dL9sHkXcB1nR8aPqE5uVgY3oNwIzKj'),
          'template_mismatch',
        ],
      ]),
    );
  });

  test('a tampered scene: scene_mismatch, no grant; the genuine callback still succeeds', async () => {
    await suite.scenario((ctx) =>
      refusesThenAccepts(ctx, [['tampered scene', (q) => q.set('scene', '1001'), 'scene_mismatch']]),
    );
  });

  test('malformed callbacks: missing, repeated and invalid parameters are refused', async () => {
    await suite.scenario((ctx) =>
      refusesThenAccepts(ctx, [
        ['no openid on confirm', (q) => q.delete('openid'), 'missing_param'],
        ['no reserved', (q) => q.delete('reserved'), 'missing_param'],
        ['scene twice', (q) => q.append('scene', '1000'), 'duplicate_param'],
        ['action=maybe', (q) => q.set('action', 'maybe'), 'invalid_param'],
        ['scene=abc', (q) => q.set('scene', 'abc'), 'invalid_param'],
      ]),
    );
  });

  test('a late Allow (after a short TTL) is a grant, marked late on screen', async () => {
    await suite.scenario(async ({ page, context, base, sink }) => {
      // Playwright's clock stands in for a user who waits on the consent page: no real sleeping.
      await context.clock.install();
      await openSubscribePage(page, base, { ttl: 1 });
      assert.match(await page.getByTestId('ttl-hook').textContent(), /after 1 s/);
      await subscribe(page, { scene: 1000 });
      await context.clock.fastForward(60 * 60 * 1000);
      const result = await decide(page, 'confirm');
      assert.equal(result.state, 'granted');
      assert.equal(result.delivered, 'true');
      assert.equal(await page.getByTestId('result-late').isVisible(), true);
      await screenshot(page, '09-landing-late');
      assert.equal((await sink.grants()).length, 1);
    });
  });

  test('sessionStorage cleared between consent and callback: the localStorage copy completes the flow', async () => {
    await suite.scenario(async ({ page, base, sink }) => {
      await openSubscribePage(page, base);
      await subscribe(page, { scene: 1000 });
      // The consent page is on the demo's origin here, so it can reach that origin's storage.
      const keys = await page.evaluate(() => {
        const pending = Object.keys(sessionStorage).filter((k) => k.startsWith('wxsub:'));
        sessionStorage.clear();
        return { pending, local: Object.keys(localStorage).filter((k) => k.startsWith('wxsub:')) };
      });
      assert.ok(keys.pending.length > 0, 'authorize() stored the pending subscription in sessionStorage');
      assert.ok(keys.local.length > 0, 'and a copy in localStorage');
      const result = await decide(page, 'confirm');
      assert.equal(result.state, 'granted');
      assert.equal(result.delivered, 'true');
      assert.equal((await sink.grants()).length, 1);
    });
  });

  // The first tab's sessionStorage still says "pending"; the shared localStorage copy, further along, wins.
  test('the callback opens in a new tab (a fresh sessionStorage): still granted, once', async () => {
    await suite.scenario(async ({ page, context, base, sink }) => {
      await openSubscribePage(page, base);
      await subscribe(page, { scene: 1000 });
      const genuine = await callbackLocationFromConsent(page, 'confirm');
      const tab = await context.newPage();
      await tab.goto(genuine);
      const result = await waitForResult(tab);
      assert.equal(result.state, 'granted');
      assert.equal((await sink.grants()).length, 1);
      await page.goto(genuine);
      const again = await waitForResult(page);
      assert.equal(again.state, 'granted');
      assert.equal(again.replayed, 'true', "the first tab sees the other tab's outcome as a replay");
      assert.equal((await sink.stats()).posts, 1);
    });
  });
});
