// Tabs of one origin in separate renderers (pages of one browser context: shared localStorage, a sessionStorage
// each): tab A records grants while the backend is down (each kept only as undelivered copies), tabs B and C call
// authorize() and handleCallback() in loops meanwhile. Not one of A's undelivered copies may be lost: B and C see
// localStorage through their own renderer's view, which can be a moment behind A's writes (README "Reliability").
// Needs the built package.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FIREFOX, launchChromium } from '../../scripts/browsers.mjs';
import { serveFiles } from '../../www/lib/static.mjs';

const pkgDir = fileURLToPath(new URL('../../pkg/', import.meta.url));
const GRANTS = Number(process.env.CROSSTAB_GRANTS ?? 1000);
let browser;
let server;

before(async () => {
  server = http.createServer(serveFiles({ root: pkgDir, mount: '/pkg/' }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
});

/**
 * A page's busy loop until `window.stop`: authorize(), and in every other turn a Cancel handled. Returns the wall-clock
 * time of each call, so the test can count the calls made while tab A was recording (the pages share one clock).
 */
async function busy(withCallbacks) {
  const m = window.m;
  window.stop = false;
  const calls = [];
  for (let n = 0; !window.stop; n++) {
    const link = {
      appid: 'wxaba38c7f163da69b',
      scene: n % 10001,
      templateId: 'T',
      redirectUrl: `${location.origin}/cb`,
    };
    const reserved = new URL(m.authorize(link)).searchParams.get('reserved');
    calls.push(Date.now());
    if (withCallbacks && n % 2) {
      const query = `?template_id=T&action=cancel&scene=${n % 10001}&reserved=${reserved}`;
      await m.handleCallback({ grantEndpoint: '/api/grants', query, cleanUrl: false });
      calls.push(Date.now());
    }
    if (n % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return calls;
}

/** The scenario in one browser: `newPage()` opens a page of one shared profile (a renderer each). */
async function scenario(newPage) {
  const tabs = [await newPage(), await newPage(), await newPage()];
  const origin = `http://127.0.0.1:${server.address().port}`;
  for (const tab of tabs) {
    await tab.goto(`${origin}/pkg/package.json`);
    await tab.evaluate(async () => {
      window.m = await import('/pkg/index.js');
    });
  }
  const [a, b, c] = tabs;
  const loops = [b.evaluate(busy, false), c.evaluate(busy, true)];
  const { reserved, start, end } = await a.evaluate(async (grants) => {
    const start = Date.now();
    const down = () => Promise.resolve(new Response(null, { status: 503 }));
    const out = [];
    for (let i = 0; i < grants; i++) {
      const link = {
        appid: 'wxaba38c7f163da69b',
        scene: i % 10001,
        templateId: 'T',
        redirectUrl: `${location.origin}/cb`,
      };
      const r = new URL(window.m.authorize(link)).searchParams.get('reserved');
      const query = `?openid=oA&template_id=T&action=confirm&scene=${i % 10001}&reserved=${r}`;
      const result = await window.m.handleCallback({
        grantEndpoint: '/g',
        retries: 0,
        cleanUrl: false,
        query,
        fetch: down,
      });
      if (!result.kept || result.delivered) throw new Error(`grant ${i}: ${JSON.stringify(result)}`);
      out.push(r);
    }
    return { reserved: out, start, end: Date.now() };
  }, GRANTS);
  for (const tab of [b, c]) await tab.evaluate(() => (window.stop = true));
  const calls = await Promise.all(loops);
  // The other tabs must have been writing all along while A recorded. How many calls they make depends on the
  // machine's cores (CI has two for three renderers), so the floor is a tenth of A's grants, not a race with A.
  const during = calls.map((times) => times.filter((t) => t >= start && t <= end).length);
  assert.ok(
    during.every((n) => n >= GRANTS / 10),
    `the other tabs' calls while A recorded: ${during}`,
  );
  // Read from a fresh tab, after the writes have settled.
  const reader = await newPage();
  await reader.goto(`${origin}/pkg/package.json`);
  const lost = await reader.evaluate(
    (keys) => keys.filter((r) => !(localStorage.getItem(`wxsub:${r}`) ?? '').includes(' owed:')),
    reserved,
  );
  assert.deepEqual(lost, [], `${lost.length} of ${GRANTS} undelivered copies lost`);
}

test(`${GRANTS} grants recorded in one tab while two others loop: no undelivered copy lost (Chromium)`, async () => {
  const context = await browser.newContext();
  try {
    await scenario(() => context.newPage());
  } finally {
    await context.close();
  }
});

// Firefox: each page its own window (background tabs' timers would be throttled, and the other pages would barely
// run), and up to 8 content processes for one site (its default is 4 with Fission), so the pages do not share one.
test(`${GRANTS} grants recorded in one window while two others loop: no undelivered copy lost (Firefox)`, async () => {
  const { default: puppeteer } = await import('puppeteer-core');
  const firefox = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    protocolTimeout: 600_000,
    extraPrefsFirefox: { 'dom.ipc.processCount.webIsolated': 8, 'dom.ipc.processCount': 8 },
  });
  try {
    const context = await firefox.createBrowserContext();
    await scenario(() => context.newPage({ type: 'window' }));
  } finally {
    await firefox.close();
  }
});
