// The two other parties of the flow, for tests that click through README pages in Chromium as a user would:
// WeChat's consent page, answered Allow without the network, and the site's grant endpoint, which records what the
// package posts. Shared by the quick-start and recipe tests, which must agree on what a grant looks like.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';

export const GRANT_PATH = '/api/wechat/grants';
export const OPENID = 'oQuickStartUser_1';
export const SUBSCRIBED = 'Subscribed: we will send you one message.';

/**
 * Serves the grant endpoint on a free port: POSTs to GRANT_PATH are recorded in `grants` ({ key, body }) and answered
 * 201; any other request goes to `other(req, res)` (a static file handler, a proxy to the site), or gets 404.
 * Returns { origin, grants, server, close }.
 */
export async function grantEndpoint(other = (req, res) => res.writeHead(404).end()) {
  const grants = [];
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || new URL(req.url, 'http://x').pathname !== GRANT_PATH) return other(req, res);
    let body = '';
    req
      .on('data', (chunk) => {
        body += chunk;
      })
      .on('end', () => {
        grants.push({ key: req.headers['idempotency-key'], body: JSON.parse(body) });
        res.writeHead(201).end();
      });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    grants,
    server,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Where WeChat puts its answer (`query`, the five parameters) in a redirect URL (`redirect`, a URL object), in each
 * shape reported for a redirect URL with a fragment (`/#/done`):
 * - `query`: in the query, the fragment kept (what a URL parser does; the only shape without a fragment);
 * - `mangled`: in the query, the fragment's `#` sent as `%23` (`/?q#%23/done`: the demo's simulator, the README);
 * - `inFragment`: appended to the end of the string, so inside the fragment (`/#/done?q`);
 * - `inPath`: the fragment's `#` sent as `%23` in the path (`/%23/done?q`).
 */
export const SHAPES = {
  query: (redirect, query) => withQuery(new URL(redirect), query).href,
  mangled: (redirect, query) => {
    const url = withQuery(new URL(redirect), query);
    const fragment = url.hash.slice(1);
    url.hash = '';
    return `${url.href}${fragment ? `#%23${fragment}` : ''}`;
  },
  inFragment: (redirect, query) => `${redirect}${redirect.includes('?') ? '&' : '?'}${query}`,
  inPath: (redirect, query) => {
    const url = new URL(redirect);
    return `${url.origin}${url.pathname}${url.hash.replace('#', '%23')}?${query}`;
  },
};

function withQuery(url, query) {
  for (const [name, value] of new URLSearchParams(query)) url.searchParams.set(name, value);
  return url;
}

/**
 * Makes WeChat's consent page in `tab` answer Allow at once: a redirect to redirect_url with the callback parameters,
 * placed as `shape` (one of SHAPES) places them. Returns { last() }: the URL of the last consent link opened, or
 * undefined.
 */
export async function allowOnWeChat(tab, shape = SHAPES.query) {
  let consent;
  await tab.route('https://mp.weixin.qq.com/**', (route) => {
    consent = new URL(route.request().url());
    const q = consent.searchParams;
    const answer = new URLSearchParams([
      ['openid', OPENID],
      ['template_id', q.get('template_id')],
      ['action', 'confirm'],
      ['scene', q.get('scene')],
      ['reserved', q.get('reserved')],
    ]);
    route.fulfill({ status: 302, headers: { location: shape(q.get('redirect_url'), answer.toString()) } });
  });
  return { last: () => consent };
}

/**
 * What went wrong in `tab` that a user would see: dialogs (dismissed) and uncaught errors; with `console`, also
 * errors in the console (where React and Vue report a server-rendered page the browser renders differently).
 */
export function problemsIn(tab, { console = false } = {}) {
  const problems = [];
  if (console) {
    tab.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
  }
  tab.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    d.dismiss();
  });
  tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

/** The landing page's #status once it has left 'Checking…' (the element may not be rendered yet). */
export async function landingStatus(tab) {
  await tab.waitForFunction(
    () => {
      const status = document.querySelector('#status');
      return status && status.textContent !== 'Checking…';
    },
    null,
    { timeout: 15_000 },
  );
  return tab.textContent('#status');
}

/** The one grant the quick-start pages post for the consent link `consent`, and nothing else. */
export function assertOneGrant(grants, consent) {
  assert.equal(grants.length, 1, `the backend received ${grants.length} grants`);
  const [{ key, body }] = grants;
  assert.deepEqual(body, {
    appid: 'wxaba38c7f163da69b',
    openid: OPENID,
    template_id: '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc',
    scene: 1000,
    reserved: consent.searchParams.get('reserved'),
  });
  assert.equal(key, body.reserved);
}

/**
 * The recipes' landing flow in a new Chromium context of `browser` (playwright-core), against a site at `origin`
 * whose grant endpoint records into `grants`: the landing page opened directly, then the whole flow, a reload, the
 * router away and Back. Always the right screen, a clean address, and one grant. `console`: errors in the console
 * fail it too; `ready`: a function run in the page that is true once its button works (hydrated); `hash`: the app's
 * routes are hash routes (`/#/subscribe/done`); `shape`: how WeChat's answer comes back (SHAPES).
 */
export async function landingFlow(browser, { origin, grants }, { console = false, ready, hash = false, shape } = {}) {
  const home = hash ? `${origin}/#/` : `${origin}/`;
  const landing = `${home}subscribe/done`;
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  try {
    const tab = await context.newPage();
    const problems = problemsIn(tab, { console });
    const consent = await allowOnWeChat(tab, shape);
    await tab.goto(landing);
    assert.equal(await landingStatus(tab), 'Subscribe from the order page.', 'opened without a callback');

    await tab.goto(home);
    // A server-rendered button is there before the framework has hydrated it: a click then does nothing.
    if (ready) await tab.waitForFunction(ready, null, { timeout: 30_000 });
    await tab.click('#subscribe');
    assert.equal(await landingStatus(tab), SUBSCRIBED);
    assert.equal(tab.url(), landing, 'the address bar is cleaned');

    // The router leaves the landing page and Back returns to it, in the same document: the address it comes
    // back to (seen at popstate, before any page code runs) must not hold WeChat's parameters again.
    await tab.evaluate(() => {
      window.addressesAtPopstate = [];
      addEventListener('popstate', () => window.addressesAtPopstate.push(location.href), true);
    });
    await tab.click('text=Back to my orders');
    await tab.waitForSelector('#subscribe');
    if (hash) assert.equal(tab.url(), home);
    await tab.goBack();
    assert.equal(await landingStatus(tab), SUBSCRIBED, 'Back to the landing page replays the outcome');
    assert.deepEqual(
      await tab.evaluate(() => window.addressesAtPopstate),
      [landing],
      'the router restored no callback',
    );
    assert.equal(tab.url(), landing);

    await tab.reload();
    assert.equal(await landingStatus(tab), SUBSCRIBED, 'a reload replays the outcome');
    assert.equal(tab.url(), landing);

    await tab.click('text=Back to my orders');
    await tab.waitForSelector('#subscribe');
    await tab.goBack();
    assert.equal(await landingStatus(tab), SUBSCRIBED, 'Back to the landing page replays the outcome');
    assert.equal(tab.url(), landing);

    assert.deepEqual(problems, []);
    assertOneGrant(grants, consent.last());
  } finally {
    await context.close();
  }
}

/**
 * Serves `dir` with `vite` (the module, imported by the test), `mode` 'dev' (the dev server) or 'build' (a production
 * build, served by `vite preview`, which falls back to index.html for the app's routes as a production server must),
 * the grant path proxied to a stand-in backend as a developer's own backend would be. Returns { origin, grants, close }.
 */
export async function serveWithVite(vite, dir, mode) {
  const backend = await grantEndpoint();
  const common = { root: dir, configFile: path.join(dir, 'vite.config.js'), logLevel: 'warn' };
  const listen = { host: '127.0.0.1', port: 0, proxy: { [GRANT_PATH]: backend.origin } };
  let server;
  if (mode === 'dev') {
    server = await vite.createServer({ ...common, server: listen });
    await server.listen();
  } else {
    await vite.build(common);
    server = await vite.preview({ ...common, preview: listen });
  }
  return {
    origin: server.resolvedUrls.local[0].replace(/\/$/, ''),
    grants: backend.grants,
    close: async () => {
      await (server.close ? server.close() : new Promise((resolve) => server.httpServer.close(resolve)));
      await backend.close();
    },
  };
}
