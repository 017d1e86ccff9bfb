// The README's React and Vue recipes, run as a user would: the packed tarball installed into a Vite app per
// framework, each README block written to the file its marker names, served by Vite's dev server (React in
// StrictMode, which runs effects twice) and by a production build, then clicked through in Chromium with WeChat's
// consent page answered by a stand-in. The landing page is reloaded and left through the router and back, because
// both routers keep their own history.state, where the package keeps its replay marker.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../scripts/browsers.mjs';
import { appWithPackage } from './packed-app.mjs';
import { landingFlow, serveWithVite } from './standins.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
/** { react: { 'src/main.jsx': text, … }, vue: { … } }, from the README's recipe:<app>:<file> markers. */
const recipes = {};
for (const [, app, file, text] of readme.matchAll(/<!-- recipe:(\w+):(\S+)[^>]*-->\s*```\w*\n([\s\S]*?)```/g)) {
  recipes[app] = { ...recipes[app], [file]: text };
}

/** What each app needs besides the README's files: its tools, and the index.html a Vite scaffold has. */
const frameworks = {
  react: {
    tools: ['vite', '@vitejs/plugin-react', 'react', 'react-dom', 'react-router'],
    html: '<div id="root"></div><script type="module" src="/src/main.jsx"></script>',
    files: ['vite.config.js', 'src/main.jsx', 'src/subscribe.jsx'],
  },
  vue: {
    tools: ['vite', '@vitejs/plugin-vue', 'vue', 'vue-router'],
    html: '<div id="app"></div><script type="module" src="/src/main.js"></script>',
    files: ['vite.config.js', 'src/main.js', 'src/SubscribeButton.vue', 'src/SubscribeDone.vue'],
  },
};

const apps = {};
let browser;
let vite;

before(async () => {
  for (const [name, { files }] of Object.entries(frameworks)) {
    assert.deepEqual(Object.keys(recipes[name] ?? {}).sort(), [...files].sort(), `README.md's ${name} recipe files`);
  }
  for (const [name, { tools }] of Object.entries(frameworks)) apps[name] = appWithPackage(`recipe-${name}`, tools);
  vite = await import('vite');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const app of Object.values(apps)) fs.rmSync(app, { recursive: true, force: true });
});

/** Writes the framework's files (README blocks, possibly changed by `edit`) into a new directory of its app. */
function writeSite(name, variant, edit = (file, text) => text) {
  const dir = path.join(apps[name], variant);
  for (const [file, text] of Object.entries(recipes[name])) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), edit(file, text));
  }
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    `<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n${frameworks[name].html}\n</body></html>\n`,
  );
  return dir;
}

const serve = (dir, mode) => serveWithVite(vite, dir, mode);

async function runs(dir, mode) {
  const site = await serve(dir, mode);
  try {
    await landingFlow(browser, site);
  } finally {
    await site.close();
  }
}

/** The React block without React's cleanup flag: a plain effect whose every result sets the screen. */
function plainEffect(file, text) {
  if (file !== 'src/subscribe.jsx') return text;
  const plain = text
    .replace(/^ *let ignore = false;\n/m, '')
    .replace('if (!ignore) setStatus(text);', 'setStatus(text);')
    .replace(/^ *return \(\) => \{\n *ignore = true;\n *\};\n/m, '');
  assert.doesNotMatch(plain, /ignore/, 'the React recipe no longer has the shape this test removes its flag from');
  return plain;
}

test('React, Vite dev server, StrictMode: the recipe as written', async () => {
  await runs(writeSite('react', 'dev'), 'dev');
});

test('React, Vite dev server, StrictMode: a plain effect, without the ignore flag', async () => {
  await runs(writeSite('react', 'dev-plain', plainEffect), 'dev');
});

test('React, production build', async () => {
  await runs(writeSite('react', 'build'), 'build');
});

test('Vue 3, Vite dev server', async () => {
  await runs(writeSite('vue', 'dev'), 'dev');
});

test('Vue 3, production build', async () => {
  await runs(writeSite('vue', 'build'), 'build');
});
