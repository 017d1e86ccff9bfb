// `npm run bench:trace`: where the landing page's first handleCallback() spends its time, package against the
// baseline. Each load is the bench's landing load (a fresh browser context, HTTP cache off, CPU throttled 4x, the
// pending record stored beforehand, WeChat's redirect back with an Allow, a sink answering 201); the page wraps the
// handleCallback() call in console.profile(), and Chromium's sampling profiler (100 µs) says where the call's time
// went: the package's wasm, its JS, V8 compiling (lazy compilation of the functions the call reaches first), the
// storage, history and fetch calls, garbage collection, or waiting (idle: the POST's round trip).
//
// Knobs: TRACE_LOADS loads per implementation (default 9), TRACE_RATE CPU throttle (default 4).
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../scripts/browsers.mjs';
import { MIME_TYPES, serveFiles } from '../www/lib/static.mjs';
import { FIGURES_SCRIPT, figuresChannel, median } from './figures.mjs';
import { measureLanding } from './landing-fixture.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOADS = Number(process.env.TRACE_LOADS ?? 9);
const RATE = Number(process.env.TRACE_RATE ?? 4);
const IMPLS = { package: '/pkg/index.js', baseline: '/benches/baseline.js' };

const landingPage = (entry) => `<!doctype html>
<html><head><meta charset="utf-8"><title>landing</title>
${FIGURES_SCRIPT}
</head><body>
<script type="module">
import { handleCallback } from '${entry}';
const started = performance.now();
console.profile('handleCallback');
const result = await handleCallback({ grantEndpoint: '/grant' });
const done = performance.now();
console.profileEnd('handleCallback');
window.__finish({ result, started, done });
</script>
</body></html>`;

const files = serveFiles(
  { root: join(ROOT, 'pkg'), mount: '/pkg/' },
  { root: join(ROOT, 'benches'), mount: '/benches/' },
);
const channel = figuresChannel();
const server = createServer((req, res) => {
  if (channel.receive(req, res)) return;
  const path = new URL(req.url, 'http://x').pathname;
  const headers = { 'Cache-Control': 'no-store' };
  if (req.method === 'POST' && path === '/grant') {
    req.resume();
    return res.writeHead(201, { ...headers, 'Content-Type': 'application/json' }).end('{"ok":true}');
  }
  const impl = Object.keys(IMPLS).find((id) => path === `/trace/landing-${id}.html`);
  if (impl)
    return res.writeHead(200, { ...headers, 'Content-Type': MIME_TYPES['.html'] }).end(landingPage(IMPLS[impl]));
  if (path === '/trace/blank.html')
    return res.writeHead(200, { 'Content-Type': MIME_TYPES['.html'] }).end('<title>blank</title>');
  files(req, res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

/** What a sampled frame is, for the table. */
function category(frame) {
  const { url, functionName: name } = frame;
  if (name === '(idle)') return 'idle (waiting: the POST round trip, timers)';
  if (name === '(garbage collector)') return 'garbage collection';
  if (name === '(program)') return 'V8 and the browser outside JS (compiling, parsing, bindings)';
  if (url.startsWith('wasm://') || url.endsWith('.wasm')) return 'wasm code';
  if (/Storage|getItem|setItem|removeItem|^key$|^length$/.test(name)) return 'storage calls (native)';
  if (/replaceState|pushState|^state$/.test(name)) return 'history calls (native)';
  if (/^fetch$|Response|Headers|AbortSignal/.test(name)) return 'fetch and its objects (native)';
  if (/getRandomValues/.test(name)) return 'crypto (native)';
  if (name === 'wasm-to-js' || name === 'js-to-wasm') return 'crossings between JS and wasm';
  if (name === 'decode' || name === 'encode') return 'TextDecoder/TextEncoder (strings crossing)';
  if (url.includes('.html')) return 'the page script';
  if (!url) return 'other native';
  if (url.includes('/pkg/')) return 'the package JS';
  if (url.includes('baseline.js')) return 'baseline JS';
  return `other JS (${url.split('/').pop()})`;
}

async function load(browser, impl) {
  const landing = `${origin}/trace/landing-${impl}.html`;
  const {
    figures: { started, done },
    extra: profile,
  } = await measureLanding(browser, {
    channel,
    blank: `${origin}/trace/blank.html`,
    landing,
    impl,
    rate: RATE,
    label: impl,
    prepare: async (cdp) => {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
      const profiled = new Promise((resolve) => cdp.once('Profiler.consoleProfileFinished', (e) => resolve(e.profile)));
      return () => profiled;
    },
  });
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = {};
  const fns = {};
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id).callFrame;
    const c = category(frame);
    const t = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    ms[c] = (ms[c] ?? 0) + t;
    const f = `${c}: ${frame.functionName}@${frame.lineNumber}:${frame.columnNumber}`;
    fns[f] = (fns[f] ?? 0) + t;
  });
  if (process.env.TRACE_FUNCTIONS)
    console.error(
      impl,
      Object.entries(fns)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25),
    );
  return { total: done - started, ms };
}

const browser = await launchChromium();
const runs = { package: [], baseline: [] };
try {
  for (const impl of Object.keys(runs)) await load(browser, impl); // warm-up, discarded
  for (let i = 0; i < LOADS; i++) for (const impl of Object.keys(runs)) runs[impl].push(await load(browser, impl));
} finally {
  await browser.close();
  server.close();
}
const categories = [...new Set(Object.values(runs).flatMap((rs) => rs.flatMap((r) => Object.keys(r.ms))))].sort();
const rows = [
  `| first \`handleCallback()\`, ${RATE}× CPU, median of ${LOADS} loads (ms) | package | baseline |`,
  '|---|---|---|',
  `| call to result (performance.now()) | ${median(runs.package.map((r) => r.total)).toFixed(1)} | ${median(runs.baseline.map((r) => r.total)).toFixed(1)} |`,
  ...categories.map(
    (c) =>
      `| ${c} | ${median(runs.package.map((r) => r.ms[c] ?? 0)).toFixed(1)} | ${median(runs.baseline.map((r) => r.ms[c] ?? 0)).toFixed(1)} |`,
  ),
];
console.log(rows.join('\n'));
