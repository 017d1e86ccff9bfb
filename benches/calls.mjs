// `npm run bench:calls`: what the browser charges, on a fresh page, for the calls the package makes before its first
// link that the baseline does not make (the baseline keeps its records in sessionStorage only and loads no wasm).
// Each load is a cold page as in `npm run bench` (benches/figures.mjs, measureLoad), whose module script times, with
// performance.now() around each call:
// - the page's first fetch() call (of a 1 KB file; the package's first is the .wasm's) and a second one;
// - the first touch of localStorage (the record's copy that outlives the tab) and of sessionStorage;
// - the shipped .wasm alone, with no entry around it: WebAssembly.compileStreaming(fetch(…)) from the call to the
//   module (download included), then `new WebAssembly.Instance` with stand-in imports.
// The figures do not add up to the cold-start gap of `npm run bench` (there some of it overlaps the download, and
// the first calls also compile the wasm functions they reach): they say which of its parts are the browser's.
//
// Knobs: CALLS_LOADS loads per throttle (default 21).
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../scripts/browsers.mjs';
import { MIME_TYPES, serveFiles } from '../www/lib/static.mjs';
import { FIGURES_SCRIPT, figuresChannel, measureLoad, median } from './figures.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOADS = Number(process.env.CALLS_LOADS ?? 21);
const RATES = [4, 1];
if (!existsSync(join(ROOT, 'pkg', 'wx_subscribemsg_bg.wasm'))) {
  console.error('pkg/wx_subscribemsg_bg.wasm is missing: run `npm run build` first.');
  process.exit(1);
}

const FIGURES = {
  firstFetch: "the page's first `fetch()` call (returns once the request is started)",
  secondFetch: 'a second `fetch()` call right after',
  localStorage: 'first touch of `localStorage` (`.length`; the area is loaded from the browser process)',
  sessionStorage: 'first touch of `sessionStorage`, right after',
  wasmModule: 'the shipped `.wasm` alone: `compileStreaming(fetch())`, call to module (download included)',
  wasmInstance: 'then `new WebAssembly.Instance` with stand-in imports',
};

const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>browser calls</title>
${FIGURES_SCRIPT}
</head><body>
<script type="module">
const time = (f) => { const t = performance.now(); const value = f(); return [performance.now() - t, value]; };
const [firstFetch, one] = time(() => fetch('/calls/one.bin'));
const [secondFetch, two] = time(() => fetch('/calls/two.bin'));
const [localStorageMs] = time(() => localStorage.length);
const [sessionStorageMs] = time(() => sessionStorage.length);
await Promise.all([one, two].map((r) => r.then((r) => r.arrayBuffer())));
const started = performance.now();
const module = await WebAssembly.compileStreaming(fetch('/pkg/wx_subscribemsg_bg.wasm'));
const wasmModule = performance.now() - started;
const imports = {};
for (const { module: name, name: field, kind } of WebAssembly.Module.imports(module)) {
  if (kind !== 'function') throw new Error('an import that is not a function: ' + field);
  (imports[name] ??= {})[field] = () => {};
}
const [wasmInstance] = time(() => new WebAssembly.Instance(module, imports));
window.__finish({ firstFetch, secondFetch, localStorage: localStorageMs, sessionStorage: sessionStorageMs, wasmModule, wasmInstance });
</script>
</body></html>`;

const files = serveFiles({ root: join(ROOT, 'pkg'), mount: '/pkg/' });
const channel = figuresChannel();
const server = createServer((req, res) => {
  if (channel.receive(req, res)) return;
  const path = new URL(req.url, 'http://x').pathname;
  const html = { 'Content-Type': MIME_TYPES['.html'], 'Cache-Control': 'no-store' };
  if (path === '/calls/page.html') return res.writeHead(200, html).end(page);
  if (path === '/calls/blank.html') return res.writeHead(200, html).end('<title>blank</title>');
  if (path === '/calls/one.bin' || path === '/calls/two.bin')
    return res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(Buffer.alloc(1024));
  files(req, res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const load = async (browser, rate) =>
  (
    await measureLoad(browser, {
      channel,
      blank: `${origin}/calls/blank.html`,
      url: `${origin}/calls/page.html`,
      rate,
      label: 'bench:calls',
    })
  ).figures;

const browser = await launchChromium();
const runs = {};
try {
  for (const rate of RATES) {
    await load(browser, rate); // warm-up, discarded (server, disk, OS)
    runs[rate] = [];
    for (let i = 0; i < LOADS; i++) runs[rate].push(await load(browser, rate));
  }
} finally {
  await browser.close();
  server.close();
}
console.log(
  [
    `| call on a fresh page, median of ${LOADS} loads (ms) | ${RATES.map((r) => (r === 1 ? 'unthrottled' : `${r}× CPU`)).join(' | ')} |`,
    `|---|${'---|'.repeat(RATES.length)}`,
    ...Object.entries(FIGURES).map(
      ([key, what]) => `| ${what} | ${RATES.map((r) => median(runs[r].map((f) => f[key])).toFixed(1)).join(' | ')} |`,
    ),
  ].join('\n'),
);
