// The README's hash-router recipes (Vue Router's createWebHashHistory, React Router's HashRouter), run as a user
// would: the packed tarball installed into a Vite app per framework, the README's main file written as it is and
// the history-mode recipe's components with the hash redirect URL the README names, a production build served by
// `vite preview`, then clicked through in Chromium with WeChat's consent page answered by a stand-in in each shape
// the callback is reported to come back in for a redirect URL with a fragment (tests/standins.mjs, SHAPES).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../scripts/browsers.mjs';
import { serveFiles } from '../www/lib/static.mjs';
import { appWithPackage } from './packed-app.mjs';
import {
  allowOnWeChat,
  grantEndpoint,
  landingFlow as sharedLandingFlow,
  OPENID,
  problemsIn,
  serveWithVite,
  SHAPES,
} from './standins.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const recipes = {};
for (const [, app, file, text] of readme.matchAll(/<!-- recipe:([\w-]+):(\S+)[^>]*-->\s*```\w*\n([\s\S]*?)```/g)) {
  recipes[app] = { ...recipes[app], [file]: text };
}

const HISTORY_REDIRECT = "redirectUrl: location.origin + '/subscribe/done',";
const HASH_REDIRECT = "redirectUrl: location.origin + '/#/subscribe/done',";
const frameworks = {
  vue: {
    tools: ['vite', '@vitejs/plugin-vue', 'vue', 'vue-router'],
    html: '<div id="app"></div><script type="module" src="/src/main.js"></script>',
    main: 'src/main.js',
    button: 'src/SubscribeButton.vue',
  },
  react: {
    tools: ['vite', '@vitejs/plugin-react', 'react', 'react-dom', 'react-router'],
    html: '<div id="root"></div><script type="module" src="/src/main.jsx"></script>',
    main: 'src/main.jsx',
    button: 'src/subscribe.jsx',
  },
};
const apps = {};
let browser;
let vite;

before(async () => {
  for (const [name, { main, button }] of Object.entries(frameworks)) {
    assert.deepEqual(Object.keys(recipes[`${name}-hash`] ?? {}), [main], `README.md's ${name}-hash recipe`);
    assert.ok(recipes[name][button].includes(HISTORY_REDIRECT), `README.md's ${name} recipe lost its redirect URL`);
    assert.ok(readme.includes(`\`${HASH_REDIRECT.slice(0, -1)}\``), 'README.md names the hash redirect URL');
    apps[name] = appWithPackage(`hash-${name}`, frameworks[name].tools);
  }
  vite = await import('vite');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const app of Object.values(apps)) fs.rmSync(app, { recursive: true, force: true });
});

/**
 * The history-mode recipe's files, its main file replaced by the hash recipe's (changed by `main`) and the redirect
 * URL by the hash one, in the directory `variant` of the framework's app.
 */
function writeSite(name, variant = 'site', main = (text) => text) {
  const dir = path.join(apps[name], variant);
  const files = { ...recipes[name], ...recipes[`${name}-hash`] };
  files[frameworks[name].button] = files[frameworks[name].button].replace(HISTORY_REDIRECT, HASH_REDIRECT);
  files[frameworks[name].main] = main(files[frameworks[name].main]);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    `<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n${frameworks[name].html}\n</body></html>\n`,
  );
  return dir;
}

/** The README's first call, the line the hash recipes add before the router. */
const FIRST_CALL = /^handleCallback\(.*\n/m;

/** The main file without its first call: the router alone, as a history-mode app moved to a hash router. */
function routerAlone(text) {
  assert.match(text, FIRST_CALL);
  return text
    .replace(FIRST_CALL, '')
    .replace('import { handleCallback, retryDeliveries }', 'import { retryDeliveries }');
}

/** The React main file with createHashRouter (a data router) in place of HashRouter, the first call kept before it. */
function dataRouter(text) {
  const [first] = FIRST_CALL.exec(text);
  return `import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createHashRouter, RouterProvider } from 'react-router';
import { handleCallback, retryDeliveries } from 'wx-subscribemsg';
import { SubscribeButton, SubscribeDone } from './subscribe.jsx';

${first}const router = createHashRouter([
  { path: '/', element: <SubscribeButton /> },
  { path: '/subscribe/done', element: <SubscribeDone /> },
]);
createRoot(document.getElementById('root')).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
retryDeliveries({ grantEndpoint: '/api/wechat/grants' });
`;
}

const serve = (dir, mode) => serveWithVite(vite, dir, mode);

/** The recipes' landing flow (tests/standins.mjs) on hash routes, with Allow answered in `shape`. */
const landingFlow = (site, shape) => sharedLandingFlow(browser, site, { hash: true, shape });

/** Opens WeChat's answer in `shape` for a forged nonce; returns what the page shows and its address. */
async function forgedLanding({ origin, grants }, shape) {
  grants.length = 0;
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    const problems = problemsIn(tab);
    const forged = shape(
      `${origin}/#/subscribe/done`,
      `openid=${OPENID}&template_id=T1&action=confirm&scene=1000&reserved=forged1234`,
    );
    await tab.goto(forged);
    // The app has had its time to route and render.
    await tab.waitForLoadState('networkidle');
    assert.deepEqual(problems, []);
    assert.equal(grants.length, 0);
    return {
      shown: await tab.evaluate(() => document.querySelector('#app, #root').textContent),
      address: tab.url(),
      forged,
    };
  } finally {
    await context.close();
  }
}

for (const name of Object.keys(frameworks)) {
  describe(`${name}, hash router`, () => {
    const sites = {};
    before(async () => {
      const dir = writeSite(name);
      sites.build = await serve(dir, 'build');
      sites.dev = await serve(dir, 'dev');
      sites.alone = await serve(writeSite(name, 'alone', routerAlone), 'build');
      if (name === 'react') sites.data = await serve(writeSite(name, 'data', dataRouter), 'build');
    });
    after(async () => {
      for (const site of Object.values(sites)) await site.close();
    });
    for (const shape of ['mangled', 'inFragment', 'query']) {
      test(`production build: the callback as ${shape}`, async () => {
        sites.build.grants.length = 0;
        await landingFlow(sites.build, SHAPES[shape]);
      });
    }
    test('Vite dev server: the callback as mangled', async () => {
      await landingFlow(sites.dev, SHAPES.mangled);
    });
    if (name === 'react') {
      for (const shape of ['mangled', 'inFragment']) {
        test(`createHashRouter, the first call before it: the callback as ${shape}`, async () => {
          sites.data.grants.length = 0;
          await landingFlow(sites.data, SHAPES[shape]);
        });
      }
    }

    test('the router alone: the callback inside the fragment or the query works, the encoded fragment finds no route', async () => {
      for (const shape of [SHAPES.inFragment, SHAPES.query]) {
        sites.alone.grants.length = 0;
        await landingFlow(sites.alone, shape);
      }
      sites.alone.grants.length = 0;
      const context = await browser.newContext();
      try {
        const tab = await context.newPage();
        await allowOnWeChat(tab, SHAPES.mangled);
        await tab.goto(`${sites.alone.origin}/#/`);
        await tab.click('#subscribe');
        await tab.waitForURL(/reserved=/);
        await tab.waitForLoadState('networkidle');
        assert.equal(await tab.evaluate(() => document.querySelector('#status')), null, 'no landing route');
        assert.equal(sites.alone.grants.length, 0, '0 grants');
      } finally {
        await context.close();
      }
    });

    test('a forged callback as mangled: refused, left in the address, so the router finds no route', async () => {
      const { shown, address, forged } = await forgedLanding(sites.build, SHAPES.mangled);
      assert.equal(shown, '', 'no route shown');
      // As it came, but for Vue Router, which writes its own fragment (#/%23/subscribe/done).
      assert.ok(address.startsWith(forged.split('#')[0]), address);
    });
  });
}

test("`#` as %23 in the path: a static server without a single-page app's fallback answers 404", async () => {
  const site = await grantEndpoint(serveFiles({ root: path.join(root, 'www') }));
  try {
    const shape = SHAPES.inPath(`${site.origin}/#/subscribe/done`, `openid=${OPENID}&reserved=r`);
    assert.match(shape, /\/%23\/subscribe\/done\?openid=/);
    assert.equal((await fetch(`${site.origin}/`)).status, 200);
    assert.equal((await fetch(shape)).status, 404);
  } finally {
    await site.close();
  }
});
