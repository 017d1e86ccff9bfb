// The README's quick start, run as a new user would: the packed tarball installed into an empty app, the two
// README blocks pasted into pages as written, served (1) as plain modules with an import map, (2) built by
// Vite with no plugin, (3) bundled by webpack 5 with its defaults, (4) by esbuild and (5) by Rollup with the
// README's commands, then clicked through in Chromium with WeChat's consent page answered by a stand-in.
// And a bundle whose .wasm was not copied: the failure must be a visible, typed error.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../scripts/browsers.mjs';
import { serveFiles } from '../www/lib/static.mjs';
import { appWithPackage } from './packed-app.mjs';
import { allowOnWeChat, assertOneGrant, grantEndpoint, landingStatus, problemsIn } from './standins.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = Object.fromEntries(
  [...readme.matchAll(/<!-- quickstart:(\w+)[^>]*-->\s*```(?:html|sh)\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]),
);
const page = (body, head = '') =>
  `<!doctype html>\n<html><head><meta charset="utf-8">${head}</head><body>\n${body}</body></html>\n`;

let app;
let browser;

before(async () => {
  for (const name of ['subscribe', 'landing', 'esbuild', 'rollup'])
    assert.ok(blocks[name], `README.md lost its quickstart:${name} block`);
  app = appWithPackage('quickstart', ['esbuild', 'rollup', '@rollup/plugin-node-resolve']);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

/** Opens the subscribe page, taps the button, lets "WeChat" answer Allow, and reads the landing page. */
async function clickThrough(origin) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const tab = await context.newPage();
  const problems = problemsIn(tab);
  const consent = await allowOnWeChat(tab);
  await tab.goto(`${origin}/`);
  await tab.click('#subscribe');
  const status = await landingStatus(tab);
  const address = tab.url();
  await context.close();
  return { status, address, consent: consent.last(), problems };
}

async function flowWorks(dir) {
  const site = await grantEndpoint(serveFiles({ root: dir }));
  try {
    const { status, address, consent, problems } = await clickThrough(site.origin);
    assert.deepEqual(problems, []);
    assert.equal(status, 'Subscribed: we will send you one message.');
    assert.equal(consent.searchParams.get('action'), 'get_confirm');
    assert.equal(address, `${site.origin}/subscribe/done.html`, 'the address bar is cleaned');
    assertOneGrant(site.grants, consent);
  } finally {
    await site.close();
  }
}

test('plain <script type="module"> pages with an import map', async () => {
  const site = path.join(app, 'plain');
  fs.mkdirSync(path.join(site, 'subscribe'), { recursive: true });
  fs.symlinkSync(path.join(app, 'node_modules'), path.join(site, 'node_modules'));
  const importMap =
    '<script type="importmap">{ "imports": { "wx-subscribemsg": "/node_modules/wx-subscribemsg/index.js" } }</script>';
  fs.writeFileSync(path.join(site, 'index.html'), page(blocks.subscribe, importMap));
  fs.writeFileSync(path.join(site, 'subscribe', 'done.html'), page(blocks.landing, importMap));
  await flowWorks(site);
});

test('the same pages built by Vite, no plugin', async () => {
  const { build } = await import('vite');
  fs.mkdirSync(path.join(app, 'subscribe'), { recursive: true });
  fs.writeFileSync(path.join(app, 'index.html'), page(blocks.subscribe));
  fs.writeFileSync(path.join(app, 'subscribe', 'done.html'), page(blocks.landing));
  await build({
    root: app,
    logLevel: 'warn',
    configFile: false,
    build: {
      outDir: path.join(app, 'dist'),
      rollupOptions: { input: { index: path.join(app, 'index.html'), done: path.join(app, 'subscribe', 'done.html') } },
    },
  });
  const emitted = fs.readdirSync(path.join(app, 'dist', 'assets'));
  assert.ok(
    emitted.some((f) => f.endsWith('.wasm')),
    `Vite did not emit the wasm: ${emitted.join(', ')}`,
  );
  await flowWorks(path.join(app, 'dist'));
});

/** Bundlers bundle scripts, not HTML: each block's module script becomes an entry, dir/src/<page>.js. */
function writeEntries(dir) {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src', 'subscribe.js'), split(blocks.subscribe).script);
  fs.writeFileSync(path.join(dir, 'src', 'done.js'), split(blocks.landing).script);
}

/** The rest of each block stays the page, which loads its bundle from /assets/ (as a module when `type`). */
function writePages(dist, type = '') {
  fs.mkdirSync(path.join(dist, 'subscribe'), { recursive: true });
  const tag = (name) => `<script${type ? ` type="${type}"` : ''} src="/assets/${name}.js"></script>\n`;
  fs.writeFileSync(path.join(dist, 'index.html'), page(`${split(blocks.subscribe).html}${tag('subscribe')}`));
  fs.writeFileSync(path.join(dist, 'subscribe', 'done.html'), page(`${split(blocks.landing).html}${tag('done')}`));
}

function split(block) {
  const m = /<script type="module">([\s\S]*?)<\/script>/.exec(block);
  return { script: m[1], html: block.replace(m[0], '') };
}

test('the same scripts bundled by webpack 5, default configuration', async () => {
  const { default: webpack } = await import('webpack');
  const dir = path.join(app, 'webpack');
  writeEntries(dir);
  const stats = await new Promise((resolve, reject) => {
    webpack(
      {
        mode: 'production',
        context: dir,
        entry: { subscribe: './src/subscribe.js', done: './src/done.js' },
        output: { path: path.join(dir, 'dist', 'assets'), publicPath: '/assets/', clean: true },
        resolve: { modules: [path.join(app, 'node_modules')] },
        performance: { hints: false },
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  const emitted = fs.readdirSync(path.join(dir, 'dist', 'assets'));
  assert.ok(
    emitted.some((f) => f.endsWith('.wasm')),
    `webpack did not emit the wasm: ${emitted.join(', ')}`,
  );
  writePages(path.join(dir, 'dist'));
  await flowWorks(path.join(dir, 'dist'));
});

/** Runs a README shell block in its own directory of the app (src/ entries, the app's node_modules); returns dist/. */
function bundleWith(name, commands) {
  const dir = path.join(app, name);
  writeEntries(dir);
  fs.symlinkSync(path.join(app, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync('sh', ['-ec', commands], { cwd: dir, stdio: 'pipe' });
  writePages(path.join(dir, 'dist'), 'module');
  return path.join(dir, 'dist');
}

test("the same scripts bundled by esbuild with the README's commands", async () => {
  await flowWorks(bundleWith('esbuild', blocks.esbuild));
});

test("the same scripts bundled by Rollup with the README's commands", async () => {
  await flowWorks(bundleWith('rollup', blocks.rollup));
});

test('a bundle without its .wasm: wasm_unavailable, naming the URL and the cause, reaches the console and the error event', async () => {
  const withoutCopy = blocks.esbuild.replace(/^\s*cp .*$/m, '');
  assert.notEqual(withoutCopy, blocks.esbuild);
  const site = await grantEndpoint(serveFiles({ root: bundleWith('esbuild-no-wasm', withoutCopy) }));
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    const uncaught = [];
    tab.on('pageerror', (error) => uncaught.push(error.message));
    // What the page's own error handler receives: the thrown SubscribeError itself.
    await tab.addInitScript(() =>
      addEventListener('error', (event) => {
        const { name, code, message } = event.error ?? {};
        document.documentElement.dataset.failure = JSON.stringify({ name, code, message });
      }),
    );
    await tab.goto(`${site.origin}/`);
    const failure = JSON.parse(
      await tab.waitForFunction(() => document.documentElement.dataset.failure).then((h) => h.jsonValue()),
    );
    const url = `${site.origin}/assets/wx_subscribemsg_bg.wasm`;
    assert.equal(failure.name, 'SubscribeError');
    assert.equal(failure.code, 'wasm_unavailable');
    assert.ok(failure.message.startsWith(`cannot load ${url}: not found (HTTP 404): `), failure.message);
    assert.match(failure.message, /README "Bundlers"/);
    // Once: thrown for the page's error monitoring, and `ready`'s rejection (unused by this page) not unhandled.
    assert.deepEqual(
      uncaught.filter((m) => m.includes(`cannot load ${url}`)).length,
      1,
      `the console shows the failure once: ${uncaught.join('\n')}`,
    );
  } finally {
    await context.close();
    await site.close();
  }
});
