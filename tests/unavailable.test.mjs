// README "Content Security Policy" and "When the module cannot load", run as a user would: the packed tarball
// installed into an app, the README's fallback page and the quick start's landing page bundled with the README's
// esbuild commands (a strict CSP refuses inline scripts), served with the README's CSP header, in Chromium, WebKit
// (WeChat on iOS) and Firefox. WeChat's consent page is a stand-in on the same server (the test adds `authorizeUrl`
// to the page's options, since WebKit and Firefox cannot intercept requests to WeChat's host here).
//
// Each failure is also probed on a fresh import of the package's entry in the page: the import resolves, `ready`
// rejects with wasm_unavailable naming the cause, every export throws it, and a window `error` event carries it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENGINES, openEngine } from './e2e/driver.mjs';
import { serveFiles } from '../www/lib/static.mjs';
import { appWithPackage } from './packed-app.mjs';
import { assertOneGrant, grantEndpoint, OPENID } from './standins.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const block = (marker) => {
  const m = new RegExp(`<!-- ${marker}[^>]*-->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  assert.ok(m, `README.md lost its ${marker} block`);
  return m[1].replace(/^ {2}/gm, '');
};
const HEADER = /^Content-Security-Policy: (.*)$/.exec(block('csp:header').trim())?.[1];
/** The README's policy with script-src changed: `'self'` alone (refused), or `'unsafe-eval'` instead. */
const POLICIES = {
  readme: HEADER,
  refused: HEADER?.replace(" 'wasm-unsafe-eval'", ''),
  unsafeEval: HEADER?.replace("'wasm-unsafe-eval'", "'unsafe-eval'"),
  noConnect: `${HEADER}; connect-src 'none'`,
};
const SUBSCRIBED = 'Subscribed: we will send you one message.';

let app;
const sites = {};

/** Splits a README page block into its module script and the rest, as the quick-start test does. */
function split(text) {
  const m = /<script type="module">([\s\S]*?)<\/script>/.exec(text);
  return { script: m[1], html: text.replace(m[0], '') };
}

/** The fallback page and the quick start's landing page, bundled with the README's esbuild block; `copy` the wasm. */
function bundle(name, { copy }) {
  const dir = path.join(app, name);
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.symlinkSync(path.join(app, 'node_modules'), path.join(dir, 'node_modules'));
  const subscribe = split(block('fallback:subscribe'));
  const landing = split(block('quickstart:landing'));
  // The stand-in consent page, on this server (see the header comment).
  const script = subscribe.script.replace(
    "redirectUrl: location.origin + '/subscribe/done.html',",
    (line) => `${line} authorizeUrl: location.origin + '/mp/subscribemsg',`,
  );
  assert.notEqual(script, subscribe.script, 'the fallback recipe lost its redirectUrl line');
  fs.writeFileSync(path.join(dir, 'src', 'subscribe.js'), script);
  fs.writeFileSync(path.join(dir, 'src', 'done.js'), landing.script);
  const commands = block('quickstart:esbuild');
  execFileSync('sh', ['-ec', copy ? commands : commands.replace(/^cp .*$/m, '')], { cwd: dir, stdio: 'pipe' });
  const dist = path.join(dir, 'dist');
  const page = (html, src) =>
    `<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n${html}<script type="module" src="/assets/${src}.js"></script>\n</body></html>\n`;
  fs.mkdirSync(path.join(dist, 'subscribe'), { recursive: true });
  fs.writeFileSync(path.join(dist, 'index.html'), page(subscribe.html, 'subscribe'));
  fs.writeFileSync(path.join(dist, 'subscribe', 'done.html'), page(landing.html, 'done'));
  return dist;
}

/**
 * Serves `dist` with the CSP `policy` on every answer, the consent stand-in answering Allow, the grant endpoint, and
 * the package's own files for the probe: under /pkg/ as installed, under /pkg-missing/ without the .wasm (404), and
 * under /pkg-html/ with a single-page app's fallback (index.html) in place of the .wasm.
 */
async function serve(dist, policy) {
  const files = serveFiles({ root: dist });
  const pkg = serveFiles({ root: path.join(app, 'node_modules', 'wx-subscribemsg'), mount: '/pkg/' });
  return grantEndpoint((req, res) => {
    if (policy) res.setHeader('Content-Security-Policy', policy);
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/mp/subscribemsg') {
      const back = new URL(url.searchParams.get('redirect_url'));
      for (const [name, value] of [
        ['openid', OPENID],
        ['template_id', url.searchParams.get('template_id')],
        ['action', 'confirm'],
        ['scene', url.searchParams.get('scene')],
        ['reserved', url.searchParams.get('reserved')],
      ])
        back.searchParams.set(name, value);
      return res.writeHead(302, { Location: back.href }).end();
    }
    if (url.pathname === '/tla.html') {
      // An entry whose top-level await rejects, imported statically, and what the page hears of it.
      const listen = `window.heard = [];
        addEventListener('error', (e) => heard.push('error: ' + e.message));
        addEventListener('unhandledrejection', (e) => heard.push('unhandledrejection: ' + e.reason));`;
      return res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(`<!doctype html><script>${listen}</script><script type="module" src="/tla.js"></script>`);
    }
    if (url.pathname === '/tla.js') {
      return res
        .writeHead(200, { 'Content-Type': 'text/javascript' })
        .end("await Promise.reject(new Error('the entry failed')); window.ran = true;");
    }
    const variant = /^\/pkg-(missing|html|cut)\/(.*)$/.exec(url.pathname);
    if (variant && variant[2] === 'index.js') req.url = '/pkg/index.js';
    else if (variant?.[1] === 'html') req.url = '/';
    else if (variant?.[1] === 'cut') {
      const wasm = fs.readFileSync(path.join(app, 'node_modules', 'wx-subscribemsg', 'wx_subscribemsg_bg.wasm'));
      return res.writeHead(200, { 'Content-Type': 'application/wasm' }).end(wasm.subarray(0, wasm.length >> 1));
    } else if (variant) req.url = '/not-here';
    return (req.url.startsWith('/pkg/') ? pkg : files)(req, res);
  });
}

/** Runs in the page: a fresh import of the entry at `src`, and what a page sees of its failure (or success). */
async function probe(src) {
  const events = [];
  const listener = (event) => events.push(`${event.error?.code}: ${event.error?.message}`);
  const unhandled = (event) => events.push(`unhandledrejection: ${event.reason?.message}`);
  addEventListener('error', listener);
  addEventListener('unhandledrejection', unhandled);
  try {
    const pkg = await import(`${src}?${Math.random()}`);
    const ready = await pkg.ready.then(
      () => 'resolved',
      (error) => `${error.name} ${error.code}: ${error.message}`,
    );
    const thrown = {};
    for (const [name, value] of Object.entries(pkg)) {
      if (typeof value !== 'function') continue;
      try {
        await value({});
        thrown[name] = 'returned';
      } catch (error) {
        thrown[name] = error.code;
      }
    }
    let evaluated;
    try {
      evaluated = eval('"eval ran"');
    } catch (error) {
      evaluated = error.name;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { ready, thrown, events, evaluated };
  } finally {
    removeEventListener('error', listener);
    removeEventListener('unhandledrejection', unhandled);
  }
}

const EXPORTS = [
  'authorize',
  'buildLink',
  'handleCallback',
  'isWeChat',
  'parseCallback',
  'retryDeliveries',
  'weChatVersion',
];

/** The probe's findings for a failed load: every export throws it, one error event, and its message. */
function assertUnavailable(found, { origin, dir, cause }) {
  const url = `${origin}/${dir}/wx_subscribemsg_bg.wasm`;
  assert.ok(found.ready.startsWith(`SubscribeError wasm_unavailable: cannot load ${url}: `), found.ready);
  assert.match(found.ready, cause);
  assert.deepEqual(Object.keys(found.thrown).sort(), EXPORTS);
  for (const [name, code] of Object.entries(found.thrown)) assert.equal(code, 'wasm_unavailable', name);
  assert.deepEqual(
    found.events,
    [found.ready.replace('SubscribeError ', '')],
    'one window error event, with the error',
  );
}

before(() => {
  assert.ok(HEADER?.includes("'wasm-unsafe-eval'"), `README.md's CSP header: ${HEADER}`);
  app = appWithPackage('unavailable', ['esbuild']);
  sites.bundled = bundle('bundled', { copy: true });
  sites.noWasm = bundle('no-wasm', { copy: false });
});

after(() => {
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

/** The fallback page has settled: the button enabled (module ready) or disabled with the fallback shown. */
const fallbackState = () => {
  const button = document.querySelector('#subscribe');
  const fallback = document.querySelector('#fallback');
  if (!button || !fallback) return null;
  if (button.disabled) return fallback.hidden ? 'disabled, no fallback' : 'fallback';
  // Not yet known: ready settles when the import does, so give the page a moment to run its catch.
  return document.readyState === 'complete' && performance.now() > 1000 ? 'enabled' : null;
};

for (const name of ENGINES) {
  describe(name, () => {
    let engine;
    before(async () => {
      engine = await openEngine(name);
    });
    after(async () => {
      await engine?.close();
    });

    async function onSite(dist, policy, fn) {
      const site = await serve(dist, policy);
      const tab = await engine.newTab();
      try {
        await fn(tab, site);
      } finally {
        await tab.close();
        await site.close();
      }
    }

    test("the README's CSP: the whole flow works, one grant; eval stays refused", async () => {
      await onSite(sites.bundled, POLICIES.readme, async (tab, site) => {
        await tab.goto(`${site.origin}/`);
        assert.equal(await tab.waitFor(fallbackState, null, { what: 'the subscribe page' }), 'enabled');
        await tab.click('#subscribe');
        const status = await tab.waitFor(
          () => {
            const text = document.querySelector('#status')?.textContent;
            return text && text !== 'Checking…' && text;
          },
          null,
          { what: 'the landing page' },
        );
        assert.equal(status, SUBSCRIBED);
        assert.equal(await tab.evaluate(() => location.href), `${site.origin}/subscribe/done.html`);
        assert.equal(site.grants.length, 1);
        assert.equal(site.grants[0].body.openid, OPENID);
        const found = await tab.evaluate(probe, '/pkg/index.js');
        assert.equal(found.ready, 'resolved');
        assert.equal(found.evaluated, 'EvalError', 'wasm-unsafe-eval allows no eval');
        // A fetch to another origin (as a grant endpoint or .wasm elsewhere would be) falls under connect-src.
        const other = site.origin.replace('127.0.0.1', 'localhost');
        assert.equal(
          await tab.evaluate(
            (url) =>
              fetch(url).then(
                () => 'fetched',
                (e) => e.name,
              ),
            other,
          ),
          'TypeError',
        );
      });
    });

    test("'unsafe-eval' in place of 'wasm-unsafe-eval': the module loads", async () => {
      await onSite(sites.bundled, POLICIES.unsafeEval, async (tab, site) => {
        await tab.goto(`${site.origin}/`);
        assert.equal(await tab.waitFor(fallbackState, null, { what: 'the subscribe page' }), 'enabled');
        assert.equal((await tab.evaluate(probe, '/pkg/index.js')).ready, 'resolved');
      });
    });

    test("without 'wasm-unsafe-eval': the fallback, and the error names CSP", async () => {
      await onSite(sites.bundled, POLICIES.refused, async (tab, site) => {
        await tab.goto(`${site.origin}/`);
        assert.equal(await tab.waitFor(fallbackState, null, { what: 'the fallback' }), 'fallback');
        const found = await tab.evaluate(probe, '/pkg/index.js');
        assertUnavailable(found, {
          origin: site.origin,
          dir: 'pkg',
          cause:
            /: refused by CSP: add 'wasm-unsafe-eval' to script-src \(wx-subscribemsg README "Content Security Policy"\)$/,
        });
      });
    });

    test('the .wasm not copied next to the bundle: the fallback, and the error says not found', async () => {
      await onSite(sites.noWasm, POLICIES.readme, async (tab, site) => {
        await tab.goto(`${site.origin}/`);
        assert.equal(await tab.waitFor(fallbackState, null, { what: 'the fallback' }), 'fallback');
        // The bundle's failure, probed on the package's entry with its .wasm missing the same way.
        assertUnavailable(await tab.evaluate(probe, '/pkg-missing/index.js'), {
          origin: site.origin,
          dir: 'pkg-missing',
          cause:
            /: not found \(HTTP 404\): serve wx_subscribemsg_bg.wasm there, next to the bundle \(wx-subscribemsg README "Bundlers"\)$/,
        });
      });
    });

    if (name === 'webkit') {
      test('WebKit: a static import whose top-level await rejects reaches no error or unhandledrejection', async () => {
        await onSite(sites.bundled, null, async (tab, site) => {
          await tab.goto(`${site.origin}/tla.html`);
          await new Promise((resolve) => setTimeout(resolve, 1000));
          assert.deepEqual(await tab.evaluate(() => [window.ran ?? false, window.heard]), [false, []]);
        });
      });
    }

    if (name === 'chromium') {
      test('a .wasm cut short on its way: not compiled, or the file is damaged', async () => {
        await onSite(sites.bundled, POLICIES.readme, async (tab, site) => {
          await tab.goto(`${site.origin}/`);
          assertUnavailable(await tab.evaluate(probe, '/pkg-cut/index.js'), {
            origin: site.origin,
            dir: 'pkg-cut',
            cause:
              /: not compiled \(CompileError: .*\): this browser lacks a wasm feature, or the file is damaged \(wx-subscribemsg README "Where it runs"\)$/,
          });
        });
      });

      test("a single-page app's index.html in place of the .wasm: not wasm", async () => {
        await onSite(sites.bundled, POLICIES.readme, async (tab, site) => {
          await tab.goto(`${site.origin}/`);
          assertUnavailable(await tab.evaluate(probe, '/pkg-html/index.js'), {
            origin: site.origin,
            dir: 'pkg-html',
            cause: /: not wasm \(text\/html; charset=utf-8\): serve wx_subscribemsg_bg.wasm there/,
          });
        });
      });

      test('connect-src refusing the .wasm: not fetched, naming connect-src', async () => {
        await onSite(sites.bundled, POLICIES.noConnect, async (tab, site) => {
          await tab.goto(`${site.origin}/`);
          assert.equal(await tab.waitFor(fallbackState, null, { what: 'the fallback' }), 'fallback');
          assertUnavailable(await tab.evaluate(probe, '/pkg/index.js'), {
            origin: site.origin,
            dir: 'pkg',
            cause:
              /: not fetched \(TypeError: .*\): a network error, or CSP connect-src \(wx-subscribemsg README "Content Security Policy"\)$/,
          });
        });
      });
    }
  });
}
