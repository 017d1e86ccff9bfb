// The subscription flow in every engine WeChat runs pages in: Chromium (Android's XWeb/WebView), WebKit (iOS)
// and Firefox ESR, through one engine-neutral driver (driver.mjs). Each scenario starts the demo server with a
// fresh DATA_DIR and checks what the user sees and what the grant sink stored: Allow, Cancel, a reload of the
// landing page, a hash-routed landing page, the .wasm missing, lost sessionStorage, a backend that is down then
// recovers, and a grant endpoint that redirects to a login page.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ENGINES, openEngine } from './driver.mjs';
import { PKG_DIR, TEMPLATE_A, WECHAT_ANDROID_UA, WECHAT_IOS_UA, requirePackage, startInProcess } from './harness.mjs';

// WeChat's own user agents where the engine is WeChat's: Android (Chromium) and iOS (WebKit).
const USER_AGENTS = { chromium: WECHAT_ANDROID_UA, webkit: WECHAT_IOS_UA, firefox: undefined };

/** Opens the H5 page and waits until Subscribe is enabled. */
async function openSubscribePage(tab, base) {
  await tab.goto(new URL('/', base).href);
  await tab.waitFor(() => document.body.dataset.ready === 'true', null, { what: 'the subscribe page' });
}

/** Presses Subscribe (after choosing the hash-routed landing page if asked); returns the consent page's link. */
async function subscribe(tab, { hashRoute = false } = {}) {
  if (hashRoute) await tab.click('[data-testid="landing-hash"]');
  await tab.click('[data-testid="subscribe"]');
  const link = await tab.waitFor(
    () =>
      location.pathname === '/mp/subscribemsg' && document.querySelector('[data-testid="consent"]') && location.href,
    null,
    { what: 'the consent page' },
  );
  return new URL(link);
}

/** What the landing page shows once it has settled (a page function: it runs in the browser). */
const shownResult = () => {
  const result = document.querySelector('[data-testid="result"]');
  if (!result || result.dataset.state === 'loading') return null;
  const text = (id) => document.querySelector(`[data-testid="${id}"]`).textContent;
  return {
    state: result.dataset.state,
    delivered: result.dataset.delivered,
    replayed: result.dataset.replayed,
    code: result.dataset.code ?? null,
    title: text('result-title'),
    openid: text('result-openid'),
    scene: text('result-scene'),
    address: location.pathname + location.search + location.hash,
  };
};

/** Allow or Cancel on the consent simulator; returns what the landing page shows. */
async function decide(tab, decision) {
  await tab.click(`[data-testid="consent-form"] button[value="${decision}"]`);
  return tab.waitFor(shownResult, null, { what: 'the landing page result' });
}

for (const name of ENGINES) {
  describe(name, () => {
    let engine;
    before(async () => {
      requirePackage();
      engine = await openEngine(name);
    });
    after(async () => {
      if (engine) console.log(`${name}: ${engine.version}`);
      await engine?.close();
    });

    /** fn({ tab, base, sink }) against a fresh demo server (with `env`) and a fresh browser profile. */
    async function scenario(fn, env = {}) {
      const server = await startInProcess(env, { pkgDir: PKG_DIR });
      let tab;
      try {
        tab = await engine.newTab({ userAgent: USER_AGENTS[name] });
        await fn({ tab, base: server.url, sink: server.sink });
      } finally {
        await tab?.close();
        await server.stop();
      }
    }

    test('Allow: granted and delivered on screen, one grant stored with the right fields, clean address', async () => {
      await scenario(async ({ tab, base, sink }) => {
        await openSubscribePage(tab, base);
        const link = await subscribe(tab);
        assert.equal(link.searchParams.get('action'), 'get_confirm');
        const shown = await decide(tab, 'confirm');
        assert.equal(shown.state, 'granted');
        assert.equal(shown.delivered, 'true');
        assert.equal(shown.replayed, 'false');
        assert.equal(shown.address, '/callback.html?from=demo', 'the callback parameters are gone, from=demo stays');
        const grants = await sink.grants();
        assert.equal(grants.length, 1);
        assert.equal(grants[0].openid, shown.openid);
        assert.equal(grants[0].template_id, TEMPLATE_A);
        assert.equal(String(grants[0].scene), shown.scene);
        assert.equal(grants[0].reserved, link.searchParams.get('reserved'));
        assert.equal((await sink.stats()).posts, 1);
      });
    });

    test('Cancel: cancelled on screen, nothing posted, clean address', async () => {
      await scenario(async ({ tab, base, sink }) => {
        await openSubscribePage(tab, base);
        await subscribe(tab);
        const shown = await decide(tab, 'cancel');
        assert.equal(shown.state, 'cancelled');
        assert.equal(shown.title, 'Subscription cancelled');
        assert.equal(shown.address, '/callback.html?from=demo');
        assert.equal((await sink.stats()).posts, 0);
      });
    });

    // README: the same callback again (a reload included) gives the first outcome with replayed: true and never
    // posts a delivered grant again. After the address is cleaned, only history.state can carry the callback.
    test('reload of the landing page: handleCallback() replays the first outcome, no new grant', async () => {
      await scenario(async ({ tab, base, sink }) => {
        await openSubscribePage(tab, base);
        await subscribe(tab);
        const first = await decide(tab, 'confirm');
        assert.equal(first.state, 'granted');
        await tab.reload();
        const shown = await tab.waitFor(shownResult, null, { what: 'the reloaded landing page' });
        assert.equal(shown.state, 'granted', 'the reloaded page still shows the subscription');
        const again = await tab.evaluate(() =>
          import('/pkg/index.js')
            .then((pkg) => pkg.handleCallback({ grantEndpoint: '/api/grants' }))
            .then(
              ({ status, openid, replayed }) => ({ status, openid, replayed }),
              (err) => ({ error: `${err.code}: ${err.message}` }),
            ),
        );
        assert.deepEqual(again, { status: 'granted', openid: first.openid, replayed: true });
        assert.equal((await sink.grants()).length, 1);
        assert.equal((await sink.stats()).posts, 1, 'the reload posted nothing');
      });
    });

    test('hash-routed landing page: back on #/done, granted, one grant', async () => {
      await scenario(async ({ tab, base, sink }) => {
        await openSubscribePage(tab, base);
        const link = await subscribe(tab, { hashRoute: true });
        assert.equal(link.searchParams.get('redirect_url'), new URL('/callback.html#/done', base).href);
        const shown = await decide(tab, 'confirm');
        assert.equal(shown.state, 'granted');
        assert.equal(shown.address, '/callback.html#/done', 'the mangled #%23/done is repaired');
        assert.equal(await tab.evaluate(() => document.body.dataset.route), '/done');
        assert.equal((await sink.grants()).length, 1);
      });
    });

    // The package imports, but its .wasm does not load: the demo's pages say so (ready rejects) rather than
    // offering a button that does nothing.
    test('the .wasm missing: the demo shows the wasm_unavailable message in its banner', async () => {
      const pkgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxsub-nowasm-'));
      fs.cpSync(PKG_DIR, pkgDir, { recursive: true });
      fs.rmSync(path.join(pkgDir, 'wx_subscribemsg_bg.wasm'));
      const server = await startInProcess({}, { pkgDir });
      let tab;
      try {
        tab = await engine.newTab({ userAgent: USER_AGENTS[name] });
        await tab.goto(new URL('/', server.url).href);
        const banner = await tab.waitFor(
          () => !document.querySelector('#fatal').hidden && document.querySelector('#fatal').textContent,
          null,
          { what: 'the banner' },
        );
        assert.match(
          banner,
          /^wx-subscribemsg is unavailable: cannot load http:.*\/pkg\/wx_subscribemsg_bg\.wasm: not found \(HTTP 404\)/,
        );
      } finally {
        await tab?.close();
        await server.stop();
        fs.rmSync(pkgDir, { recursive: true, force: true });
      }
    });

    test('sessionStorage lost between consent and callback: the localStorage copy completes the flow', async () => {
      await scenario(async ({ tab, base, sink }) => {
        await openSubscribePage(tab, base);
        await subscribe(tab);
        // The simulator's consent page is on the demo's origin, so it reaches that origin's storage.
        const cleared = await tab.evaluate(() => {
          const pending = Object.keys(sessionStorage).filter((k) => k.startsWith('wxsub:')).length;
          sessionStorage.clear();
          return { pending, copies: Object.keys(localStorage).filter((k) => k.startsWith('wxsub:')).length };
        });
        assert.ok(cleared.pending > 0 && cleared.copies > 0, JSON.stringify(cleared));
        const shown = await decide(tab, 'confirm');
        assert.equal(shown.state, 'granted');
        assert.equal(shown.delivered, 'true');
        assert.equal((await sink.grants()).length, 1);
      });
    });

    // A backend that is down, and one behind an expired session that redirects to a login page: fetch must not
    // follow the redirect, since the login page's 200 is not the endpoint's answer. Either way the grant is kept
    // and delivered once, by Retry, after the backend recovers.
    for (const [fault, why] of [
      [503, 'a 503'],
      ['login', 'a 302 to /login'],
    ]) {
      test(`backend answers ${why}: granted but kept; delivered once by Retry after it recovers`, async () => {
        await scenario(
          async ({ tab, base, sink }) => {
            await sink.setFaults({ down: fault });
            await openSubscribePage(tab, base);
            await subscribe(tab);
            const shown = await decide(tab, 'confirm');
            assert.equal(shown.state, 'granted', 'the user did subscribe');
            assert.equal(shown.delivered, 'false', `${why} is not a delivery`);
            assert.equal(await tab.evaluate(() => document.querySelector('[data-testid="retry-box"]').hidden), false);
            assert.equal((await sink.stats()).faulted, 4, 'the first attempt and 3 retries');
            assert.equal((await sink.grants()).length, 0);

            await sink.clearFaults();
            await tab.click('[data-testid="retry"]');
            await tab.waitFor(
              () => document.querySelector('[data-testid="retry-result"]').dataset.pending === '0',
              null,
              { what: 'the retry result' },
            );
            assert.equal((await tab.evaluate(shownResult)).delivered, 'true');
            const grants = await sink.grants();
            assert.equal(grants.length, 1);
            assert.equal(grants[0].openid, shown.openid);
            assert.equal((await sink.stats()).created, 1);
          },
          { DELIVERY_RETRY_DELAY_MS: '20' },
        );
      });
    }
  });
}
