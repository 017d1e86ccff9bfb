// The subscription flow in Chromium on a WeChat phone, against the demo server, its consent
// simulator and its grant sink: what the user sees AND what the sink stored.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  APPID,
  SAFARI_IOS_UA,
  TEMPLATE_A,
  TEMPLATE_B,
  WECHAT_ANDROID_UA,
  decide,
  e2eSuite,
  openSubscribePage,
  screenshot,
  subscribe,
  waitForResult,
} from './harness.mjs';

const suite = e2eSuite({ before, after });

/** The address bar's path, query and fragment. */
const address = (page) => {
  const u = new URL(page.url());
  return u.pathname + u.search + u.hash;
};

describe('subscribe flow', () => {
  test('Allow: granted on screen, exactly one grant stored with the right fields, clean address bar', async () => {
    await suite.scenario(async ({ page, base, sink }) => {
      await openSubscribePage(page, base);
      await assert.doesNotReject(page.getByTestId('not-wechat-banner').waitFor({ state: 'hidden' }));
      assert.equal(await page.getByTestId('env-wechat').textContent(), 'Yes · WeChat 8.0.42');
      assert.equal(await page.getByTestId('env-consent').textContent(), 'Local simulator');
      await screenshot(page, '01-subscribe-wechat');

      await subscribe(page, { template: TEMPLATE_A, scene: 1000 });
      const link = new URL(page.url());
      assert.equal(link.searchParams.get('action'), 'get_confirm');
      assert.equal(link.searchParams.get('appid'), APPID);
      assert.equal(link.searchParams.get('scene'), '1000');
      assert.equal(link.searchParams.get('template_id'), TEMPLATE_A);
      assert.equal(link.searchParams.get('redirect_url'), new URL('/callback.html?from=demo', base).href);
      assert.match(link.searchParams.get('reserved'), /^[A-Za-z0-9]{1,128}$/);
      assert.equal(link.hash, '#wechat_redirect', 'the link ends with #wechat_redirect (the server never sees it)');
      assert.equal(await page.getByTestId('consent-scene').textContent(), '1000');
      await screenshot(page, '02-consent');

      const result = await decide(page, 'confirm');
      assert.equal(result.state, 'granted');
      assert.equal(result.delivered, 'true');
      assert.equal(result.replayed, 'false');
      assert.equal(result.title, 'Subscribed');
      assert.equal(result.scene, '1000');
      assert.equal(result.template, TEMPLATE_A);
      assert.equal(await page.getByTestId('result-delivered').textContent(), 'Yes');
      assert.equal(address(page), '/callback.html?from=demo', 'the five callback parameters are gone, from=demo stays');
      await screenshot(page, '03-landing-granted');

      const grants = await sink.grants();
      assert.equal(grants.length, 1);
      const [grant] = grants;
      assert.equal(grant.appid, APPID);
      assert.equal(grant.openid, result.openid);
      assert.match(grant.openid, /^o[\w-]{27}$/);
      assert.equal(grant.template_id, TEMPLATE_A);
      assert.equal(grant.scene, 1000);
      assert.equal(grant.reserved, link.searchParams.get('reserved'));
      assert.equal(grant.idempotency_key, grant.reserved);
      assert.deepEqual(await sink.stats(), { posts: 1, created: 1, duplicates: 0, rejected: 0, faulted: 0 });
      await page.locator('[data-testid="grant-list"][data-count="1"]').waitFor({ state: 'attached' });
      assert.equal(await page.getByTestId('grant-count').textContent(), '1 grant stored');
    });
  });

  test('Cancel: cancelled on screen, no grant, clean address bar', async () => {
    await suite.scenario(async ({ page, base, sink }) => {
      await openSubscribePage(page, base);
      await subscribe(page, { scene: 42 });
      const result = await decide(page, 'cancel');
      assert.equal(result.state, 'cancelled');
      assert.equal(result.title, 'Subscription cancelled');
      assert.equal(result.scene, '42');
      assert.equal(await page.getByTestId('result-openid').isVisible(), false);
      assert.equal(address(page), '/callback.html?from=demo');
      await screenshot(page, '04-landing-cancelled');
      assert.equal((await sink.grants()).length, 0);
      assert.equal((await sink.stats()).posts, 0);
    });
  });

  test('reload, back/forward, the same callback again and Allow twice: still one grant, one POST', async () => {
    await suite.scenario(async ({ page, base, sink }) => {
      const seen = [];
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) seen.push(frame.url());
      });
      await openSubscribePage(page, base);
      await subscribe(page, { scene: 7 });
      const first = await decide(page, 'confirm');
      assert.equal(first.state, 'granted');
      const callbackUrl = seen.find((u) => u.includes('action=confirm'));
      assert.ok(callbackUrl, 'the callback address was seen');

      await page.reload();
      let shown = await waitForResult(page);
      assert.equal(shown.state, 'granted', 'a reload of the cleaned page shows the result again');
      assert.equal(shown.replayed, 'true', 'as a replay of the first outcome');
      assert.equal(await page.getByTestId('result-replayed').isVisible(), true);
      assert.equal((await sink.grants()).length, 1);

      await page.goBack();
      await page.getByTestId('consent').waitFor();
      await page.goForward();
      shown = await waitForResult(page);
      assert.equal(shown.state, 'granted', 'back then forward shows the result again');
      assert.equal(address(page), '/callback.html?from=demo');
      assert.equal((await sink.grants()).length, 1);

      await page.goBack();
      await page.getByTestId('consent').waitFor();
      shown = await decide(page, 'confirm');
      assert.equal(shown.state, 'granted', 'Allow pressed again after going back');
      assert.equal(shown.replayed, 'true', 'the same answer again is a replay');
      assert.equal(shown.openid, first.openid);
      assert.equal(await page.getByTestId('result-replayed').isVisible(), true);
      assert.equal(address(page), '/callback.html?from=demo');

      await page.goto(callbackUrl);
      shown = await waitForResult(page);
      assert.equal(shown.state, 'granted');
      assert.equal(shown.replayed, 'true', 'the callback address opened again is a replay');
      assert.equal(address(page), '/callback.html?from=demo');

      assert.equal((await sink.grants()).length, 1);
      assert.equal((await sink.stats()).posts, 1, 'a delivered grant is never POSTed twice');
    });
  });

  test('two scenes in a row: two grants, one user', async () => {
    await suite.scenario(async ({ page, base, sink }) => {
      await openSubscribePage(page, base);
      await subscribe(page, { template: TEMPLATE_A, scene: 1000 });
      const first = await decide(page, 'confirm');
      assert.equal(first.state, 'granted');

      await page.getByTestId('subscribe-another').click();
      await page.locator('body[data-ready="true"]').waitFor();
      assert.equal(await page.getByTestId('scene').inputValue(), '1001', 'the next scene is suggested');
      await subscribe(page, { template: TEMPLATE_B });
      const second = await decide(page, 'confirm');
      assert.equal(second.state, 'granted');
      assert.equal(second.scene, '1001');
      assert.equal(second.openid, first.openid, 'the simulated user keeps one openid');

      const grants = await sink.grants();
      assert.deepEqual(
        grants.map((g) => [g.template_id, g.scene, g.openid]),
        [
          [TEMPLATE_A, 1000, first.openid],
          [TEMPLATE_B, 1001, first.openid],
        ],
      );
      assert.notEqual(grants[0].reserved, grants[1].reserved);
    });
  });

  test('hash-routed landing page: the mangled fragment #%23/done is repaired to #/done', async () => {
    await suite.scenario(async ({ page, base, sink }) => {
      const seen = [];
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) seen.push(frame.url());
      });
      await openSubscribePage(page, base);
      await subscribe(page, { scene: 3, landing: 'hash' });
      assert.equal(new URL(page.url()).searchParams.get('redirect_url'), new URL('/callback.html#/done', base).href);
      const result = await decide(page, 'confirm');
      assert.equal(result.state, 'granted');
      assert.ok(
        seen.some((u) => /\/callback\.html\?openid=[^#]+#%23\/done$/.test(u)),
        `the simulator mangled the fragment:\n${seen.join('\n')}`,
      );
      assert.equal(address(page), '/callback.html#/done');
      assert.equal(await page.evaluate(() => location.hash), '#/done');
      assert.equal(await page.getByTestId('route').textContent(), 'Route #/done');
      await screenshot(page, '05-landing-hash-route');
      assert.equal((await sink.grants()).length, 1);
    });
  });

  test('outside WeChat: a clear banner, and the flow still works against the simulator', async () => {
    await suite.scenario({ userAgent: SAFARI_IOS_UA }, async ({ page, base, sink }) => {
      await openSubscribePage(page, base);
      await page.getByTestId('not-wechat-banner').waitFor();
      assert.match(await page.getByTestId('not-wechat-banner').textContent(), /not in WeChat/);
      assert.equal(await page.getByTestId('env-wechat').textContent(), 'No');
      await screenshot(page, '06-subscribe-not-wechat');
      await subscribe(page, { scene: 5 });
      assert.equal(await page.getByTestId('consent-not-wechat').isVisible(), true);
      const result = await decide(page, 'confirm');
      assert.equal(result.state, 'granted');
      assert.equal((await sink.grants()).length, 1);
    });
  });

  test('WeChat on Android: the version is shown', async () => {
    await suite.scenario({ userAgent: WECHAT_ANDROID_UA }, async ({ page, base }) => {
      await openSubscribePage(page, base);
      assert.match(await page.getByTestId('env-wechat').textContent(), /^Yes · WeChat 8\.0\.47/);
      assert.equal(await page.getByTestId('not-wechat-banner').isVisible(), false);
    });
  });

  test('an invalid scene is refused on the page with its code; nothing leaves the page', async () => {
    await suite.scenario(async ({ page, base, sink }) => {
      await openSubscribePage(page, base);
      await page.getByTestId('scene').fill('10001');
      await page.getByTestId('subscribe').click();
      const error = page.getByTestId('subscribe-error');
      await error.waitFor();
      assert.equal(await error.getAttribute('data-code'), 'invalid_scene');
      assert.equal(await page.getByTestId('subscribe-error-code').textContent(), 'invalid_scene');
      assert.equal(new URL(page.url()).pathname, '/');
      await screenshot(page, '07-subscribe-invalid-scene');
      assert.equal((await sink.grants()).length, 0);
    });
  });
});
