// The README's framework recipes that render on a server or pre-bundle dependencies, run as a user would: the packed
// tarball installed into an app of the framework (tests/frameworks.mjs: pinned versions, installed once and cached),
// each README block written to the file its marker names, the framework's own CLI building and serving it, then the
// recipes' flow clicked through in Chromium (tests/standins.mjs: WeChat's consent page answered Allow, a grant
// endpoint that records what it receives, in front of the framework's server as a site's own backend would be).
// - Next.js (App Router): `next build` with Turbopack and with `--webpack`, then `next start`; `next dev`. Also the
//   server component's isWeChat() on the request's user agent, and the Route Handler sending Step 2 to a stand-in of
//   WeChat's API (the demo's simulator).
// - Nuxt 4: `nuxt build` and its server (`.output/server/index.mjs`, which `nuxt preview` runs); `nuxt dev`.
// - Vite 7 (Nuxt 4's bundler; tests/recipes.test.mjs runs Vite 8): the Vue recipe, dev server and build.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import { freePort, launchChromium } from '../scripts/browsers.mjs';
import { FRAMEWORKS, frameworkApp } from './frameworks.mjs';
import { appWithPackage } from './packed-app.mjs';
import { startWxApiSimulator, APPID, SECRET } from './server/wxapi-simulator.mjs';
import { grantEndpoint, landingFlow, OPENID } from './standins.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
/** { next: { 'app/page.jsx': text, … }, nuxt: { … }, vue: { … } }, from the README's recipe:<app>:<file> markers. */
const recipes = {};
for (const [, app, file, text] of readme.matchAll(/<!-- recipe:(\w+):(\S+)[^>]*-->\s*```\w*\n([\s\S]*?)```/g)) {
  recipes[app] = { ...recipes[app], [file]: text };
}

const WECHAT_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.54.2760(0x28003636) NetType/WIFI Language/zh_CN';
const SEND_KEY = 'test-send-key';
const apps = {};
const children = new Set();
let browser;

before(async () => {
  assert.deepEqual(
    Object.keys(recipes.next ?? {}).sort(),
    ['app/api/send/route.js', 'app/layout.jsx', 'app/page.jsx', 'app/subscribe.jsx', 'app/subscribe/done/page.jsx'],
    "README.md's Next.js recipe files",
  );
  assert.deepEqual(
    Object.keys(recipes.nuxt ?? {}).sort(),
    [
      'app/app.vue',
      'app/pages/index.vue',
      'app/pages/subscribe/done.vue',
      'app/plugins/deliveries.client.js',
      'nuxt.config.ts',
    ],
    "README.md's Nuxt recipe files",
  );
  for (const name of Object.keys(FRAMEWORKS)) apps[name] = frameworkApp(name);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const child of children) stop(child);
  for (const app of Object.values(apps)) fs.rmSync(app, { recursive: true, force: true });
});

/** Writes the README blocks of `recipe` (plus `extra` files) into a new directory `variant` of app `name`. */
function writeSite(name, recipe, variant, extra = {}) {
  const dir = path.join(apps[name], variant);
  for (const [file, text] of Object.entries({ ...recipes[recipe], ...extra })) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

/** Runs a framework's CLI (a node script of the app) in `cwd`, in a process group of its own; keeps its output. */
function run(cwd, script, args, env = {}) {
  const child = spawn(process.execPath, [script, ...args], {
    cwd,
    detached: true,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NUXT_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8').on('data', (chunk) => {
      child.output = (child.output + chunk).slice(-20_000);
    });
  }
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  children.add(child);
  return child;
}

/** Stops a child started by run(), and whatever it started (its process group). */
function stop(child) {
  children.delete(child);
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  return child.exited;
}

/** A build step: the CLI run to its end; fails with its output when it does not exit 0. */
async function build(cwd, script, args, env) {
  const child = run(cwd, script, args, env);
  const code = await child.exited;
  children.delete(child);
  assert.equal(code, 0, `${path.basename(script)} ${args.join(' ')} failed:\n${child.output}`);
  return child.output;
}

/** Whether `port` answers a GET of `path` (any status) within a minute. */
const answers = (port, path) =>
  new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 60_000 }, (res) => {
      res.resume().on('end', () => resolve(true));
    });
    req.on('error', () => resolve(false)).on('timeout', () => req.destroy());
  });

/**
 * Waits until `port` answers HTTP (any status) while `child` runs; fails with its output if it exits first. Then
 * asks for the landing page once, which dev servers compile on its first request, so that the flow's time limits
 * measure the package rather than a busy machine compiling.
 */
async function answering(child, port, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(port, '/'))) {
    if (child.exitCode !== null) assert.fail(`the server exited (${child.exitCode}):\n${child.output}`);
    if (Date.now() > deadline) assert.fail(`no answer on port ${port}:\n${child.output}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await answers(port, '/subscribe/done');
}

/**
 * The site as its visitors reach it: the grant stand-in in front, every other request (and the dev servers'
 * WebSocket upgrades) passed to the framework's server on `port`. Returns { origin, grants, close }.
 */
async function inFront(port) {
  const front = await grantEndpoint((req, res) => {
    const upstream = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  front.server.on('upgrade', (req, socket, head) => {
    const upstream = net.connect(port, '127.0.0.1', () => {
      const headers = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  return front;
}

/** Starts a server CLI on a free port, puts the grant stand-in in front, runs `use(site)`, stops both. */
async function serving(cwd, script, args, env, use) {
  const port = await freePort();
  const server = run(cwd, script, args(port), { PORT: String(port), HOST: '127.0.0.1', ...env });
  let front;
  try {
    await answering(server, port);
    front = await inFront(port);
    await use(front);
  } catch (err) {
    err.message += `\n--- server output ---\n${server.output}`;
    throw err;
  } finally {
    await front?.close();
    await stop(server);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Next.js

const NEXT = (app) => path.join(app, 'node_modules', '.bin', 'next');

/** What the Next.js pages must do besides the flow: the server's hint comes from the request's user agent. */
async function hintFollowsTheUserAgent(origin) {
  for (const [userAgent, hint] of [
    [undefined, true],
    [WECHAT_UA, false],
  ]) {
    const context = await browser.newContext({ userAgent });
    try {
      const tab = await context.newPage();
      const answer = await tab.goto(`${origin}/`);
      assert.equal(answer.status(), 200);
      // Rendered on the server: in the HTML before any script runs.
      assert.equal((await answer.text()).includes('id="hint"'), hint, `hint for ${userAgent ?? 'Chromium'}`);
      await tab.waitForSelector('#subscribe');
    } finally {
      await context.close();
    }
  }
}

/** The Route Handler's Step 2: one message reaches the stand-in of WeChat's API, for the grant just made. */
async function routeHandlerSends(origin, wechat) {
  const post = (headers) =>
    fetch(`${origin}/api/send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ openid: OPENID, templateId: '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc', scene: 1000 }),
    });
  assert.equal((await post({})).status, 401, 'no back-office key, no message');
  wechat.permit(OPENID, 1000);
  const answer = await post({ Authorization: `Bearer ${SEND_KEY}` });
  assert.equal(answer.status, 200);
  assert.deepEqual(
    { ...(await answer.json()), meaning: undefined, action: undefined },
    { errcode: 0, name: 'ok', ok: true, retry: 'done', meaning: undefined, action: undefined },
  );
  const messages = wechat.messages();
  assert.equal(messages.length, 1);
  assert.equal(messages[0].touser ?? messages[0].openid, OPENID);
  // WeChat replaces the token: the handler is told to refresh it, drops it, and the next request gets a new one
  // (which WeChat accepts, refusing the message because the grant's one permit is used).
  wechat.sim.rotateToken();
  const stale = await post({ Authorization: `Bearer ${SEND_KEY}` }).then((r) => r.json());
  assert.equal(stale.retry, 'refresh_token', JSON.stringify(stale));
  assert.equal((await post({ Authorization: `Bearer ${SEND_KEY}` }).then((r) => r.json())).name, 'user_refused');
}

async function nextProduction(variant, buildArgs) {
  const app = apps.next;
  const dir = writeSite('next', 'next', variant);
  const output = await build(dir, NEXT(app), ['build', ...buildArgs]);
  const webpack = buildArgs.includes('--webpack');
  assert.match(output, webpack ? /Next\.js 16\.\d+\.\d+ \(webpack\)/ : /\(Turbopack\)/);
  // What README says each prints: webpack warns about the browser entry's top-level await; Turbopack, nothing.
  if (webpack) {
    assert.match(
      output,
      /wx-subscribemsg\/index\.js\nThe generated code contains 'async\/await' because this module is using "topLevelAwait"/,
    );
  } else {
    // Under CI (CI=true) Next.js also says it found no build cache: about the machine, not the package.
    const ours = output.replace(/^⚠ No build cache found\..*$/m, '');
    assert.doesNotMatch(ours, /⚠|warn/i);
  }
  const wechat = await startWxApiSimulator();
  try {
    const env = { APPID, APPSECRET: SECRET, WX_API_BASE: wechat.apiBase, SEND_KEY };
    await serving(
      dir,
      NEXT(app),
      (port) => ['start', '-p', String(port), '-H', '127.0.0.1'],
      env,
      async (site) => {
        await landingFlow(browser, site, { console: true });
        await hintFollowsTheUserAgent(site.origin);
        await routeHandlerSends(site.origin, wechat);
      },
    );
  } finally {
    await wechat.close();
  }
}

test('Next.js, next build (Turbopack) and next start: the recipe, the hint, the Route Handler', async () => {
  await nextProduction('turbopack', []);
});

test('Next.js, next build --webpack and next start: the recipe, the hint, the Route Handler', async () => {
  await nextProduction('webpack', ['--webpack']);
});

test('Next.js, next dev (Turbopack): the recipe', async () => {
  const dir = writeSite('next', 'next', 'dev');
  await serving(
    dir,
    NEXT(apps.next),
    (port) => ['dev', '-p', String(port), '-H', '127.0.0.1'],
    {},
    (site) => landingFlow(browser, site, { console: true }),
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Nuxt 4

const NUXI = (app) => path.join(app, 'node_modules', '.bin', 'nuxt');
/** Vue sets the app on its container once mounted, which for a server-rendered page is once hydrated. */
const nuxtHydrated = () => Boolean(document.querySelector('#__nuxt')?.__vue_app__);

test('Nuxt 4, nuxt build and its server: the recipe', async () => {
  const dir = writeSite('nuxt', 'nuxt', 'build');
  await build(dir, NUXI(apps.nuxt), ['build']);
  await serving(
    dir,
    path.join(dir, '.output', 'server', 'index.mjs'),
    () => [],
    {},
    (site) => landingFlow(browser, site, { console: true, ready: nuxtHydrated }),
  );
});

test('Nuxt 4, nuxt dev: the recipe', async () => {
  const dir = writeSite('nuxt', 'nuxt', 'dev');
  await serving(
    dir,
    NUXI(apps.nuxt),
    (port) => ['dev', '--port', String(port), '--host', '127.0.0.1'],
    {},
    (site) => landingFlow(browser, site, { console: true, ready: nuxtHydrated }),
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Vite 7: the Vue recipe of tests/recipes.test.mjs on Vite 7, with the README's Vite 7 vite.config.js or the recipe's.

const VITE = (app) => path.join(app, 'node_modules', '.bin', 'vite');
const VUE_HTML = {
  'index.html':
    '<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n<div id="app"></div><script type="module" src="/src/main.js"></script>\n</body></html>\n',
};
const VITE7 = () => ({ ...VUE_HTML, ...recipes.vite7 });
const viteDev = (port) => ['--port', String(port), '--host', '127.0.0.1', '--strictPort'];
const vitePreview = (port) => ['preview', ...viteDev(port)];

test("Vite 7, dev server: the Vue recipe with the README's Vite 7 setting", async () => {
  const dir = writeSite('vite7', 'vue', 'dev', VITE7());
  await serving(dir, VITE(apps.vite7), viteDev, {}, (site) => landingFlow(browser, site));
});

test("Vite 7, dev server without the setting: wasm_unavailable, reported to the page, names Vite's copy", async () => {
  const dir = writeSite('vite7', 'vue', 'dev-unset', VUE_HTML);
  await serving(dir, VITE(apps.vite7), viteDev, {}, async ({ origin }) => {
    const tab = await browser.newPage();
    try {
      // The load failure reaches the window's error event with its properties (README "When the module cannot load").
      await tab.addInitScript(() => addEventListener('error', (e) => (window.importError = e.error?.code)));
      const failed = tab.waitForEvent('pageerror', { timeout: 30_000 });
      await tab.goto(`${origin}/subscribe/done`);
      const error = await failed;
      assert.equal(error.name, 'SubscribeError');
      assert.equal(await tab.evaluate(() => window.importError), 'wasm_unavailable');
      assert.match(
        error.message,
        /^cannot load http:\/\/\S+\/node_modules\/\.vite\/deps\/wx_subscribemsg_bg\.wasm: not wasm \(text\/html/,
      );
    } finally {
      await tab.close();
    }
  });
});

test("Vite 7, production build (vite preview): the Vue recipe, with the README's Vite 7 setting and without", async () => {
  for (const [variant, extra] of [
    ['build', VITE7()],
    ['build-unset', VUE_HTML],
  ]) {
    const dir = writeSite('vite7', 'vue', variant, extra);
    await build(dir, VITE(apps.vite7), ['build']);
    await serving(dir, VITE(apps.vite7), vitePreview, {}, (site) => landingFlow(browser, site));
  }
});

/** The Vue recipe's vite.config.js with `build.target` set to `target` (source text). */
function withTarget(target) {
  const config = recipes.vue['vite.config.js'];
  const changed = config.replace('plugins: [vue()] ', `plugins: [vue()], build: { target: ${target} } `);
  assert.notEqual(changed, config, "the Vue recipe's vite.config.js no longer has the shape this test edits");
  return { ...VUE_HTML, 'vite.config.js': changed };
}
const ES2020 = "'es2020'";
const ENGINES = "['chrome96', 'safari15', 'firefox89']";
const TLA = /Top-level await is not available in the configured target environment/;

test("Vite 7, build.target: es2020 stops the build (top-level await); the package's engines build", async () => {
  const stopped = run(writeSite('vite7', 'vue', 'target-es2020', withTarget(ES2020)), VITE(apps.vite7), ['build']);
  assert.notEqual(await stopped.exited, 0, 'Vite 7 builds top-level await for es2020');
  children.delete(stopped);
  assert.match(stopped.output, TLA);
  const dir = writeSite('vite7', 'vue', 'target-engines', withTarget(ENGINES));
  assert.doesNotMatch(await build(dir, VITE(apps.vite7), ['build']), TLA);
  await serving(dir, VITE(apps.vite7), vitePreview, {}, (site) => landingFlow(browser, site));
});

test("Vite 8, build.target: es2020 warns and keeps the top-level await; the package's engines build", async () => {
  const app = appWithPackage('vite8-target', ['vite', '@vitejs/plugin-vue', 'vue', 'vue-router']);
  apps.vite8 = app;
  const legacy = writeSite('vite8', 'vue', 'target-es2020', withTarget(ES2020));
  assert.match(await build(legacy, VITE(app), ['build']), new RegExp(`\\[TOLERATED_TRANSFORM\\] ${TLA.source}`));
  // The bundle still awaits at its top level: esbuild refuses to lower it to es2020.
  const assets = path.join(legacy, 'dist', 'assets');
  const [bundle] = fs.readdirSync(assets).filter((f) => f.endsWith('.js'));
  await assert.rejects(
    esbuild.transform(fs.readFileSync(path.join(assets, bundle), 'utf8'), { format: 'esm', target: 'es2020' }),
    TLA,
  );
  const dir = writeSite('vite8', 'vue', 'target-engines', withTarget(ENGINES));
  assert.doesNotMatch(await build(dir, VITE(app), ['build']), TLA);
});
