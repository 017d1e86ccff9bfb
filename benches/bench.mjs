// `npm run bench`: the package (pkg/index.js) against a hand-written plain-JS baseline (benches/baseline.js),
// side by side in headless Chromium: shipped bytes; cold start, judged (fresh page load to the first link, and
// fresh landing-page load to the verified callback's result, HTTP cache disabled, CPU throttled 4x and not), also
// for the package with the preload hints README recommends; per-call time after 1 and after 3,000 prior calls;
// steady-state operations per second (information). Prints Markdown tables and writes everything to
// benches/results.json.
//
// Knobs (environment): BENCH_LOADS cold loads per variant (default 21, at least 20 recommended),
// BENCH_RUNS steady runs per operation (default 7), BENCH_RUN_MS length of one steady run (default 250).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIME_TYPES, serveFiles } from '../www/lib/static.mjs';
import { CHROMIUM, CHROMIUM_ARGS, launchChromium } from '../scripts/browsers.mjs';
import { gzipSize, shippedSizes } from '../scripts/size.mjs';
import { FIGURES_SCRIPT, figuresChannel, measureLoad, median } from './figures.mjs';
import { APPID, TEMPLATE, measureLanding } from './landing-fixture.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PKG_SOURCE = join(ROOT, 'pkg');
const BENCHES = join(ROOT, 'benches');
const LOADS = Number(process.env.BENCH_LOADS ?? 21);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const RUN_MS = Number(process.env.BENCH_RUN_MS ?? 250);
const RATES = [4, 1];
/** The cold-start goal: the package's median at 4x CPU within this factor of the baseline's, for both pages. */
const GOAL_COLD_RATIO = 1.25;
/** The same on the realistic page (a React app's bundle loaded too), where the module's share is smaller. */
const GOAL_REALISTIC_RATIO = 1.1;
/** The realistic page's React bundle, built when the bench starts (reactAppBundle). */
let REACT_APP = '';
/** Prior authorize() calls before the second per-call measurement. */
const PRIOR_CALLS = 3000;
/** Undelivered grants stored for the third per-call measurement (the package's only). */
const OWED_GRANTS = 8000;

const hasPkg = existsSync(join(PKG_SOURCE, 'index.js'));
if (!hasPkg && !process.argv.includes('--report'))
  console.error('pkg/index.js is missing (run `npm run build`): measuring the baseline alone.');

// pkg/ may be rebuilt while the bench runs (others build too): wait until it has been still for 3 s, then
// measure and serve a private copy, so one run sees one build and the sizes are of what was loaded.
function pkgStamp() {
  return readdirSync(PKG_SOURCE, { recursive: true })
    .sort()
    .map((name) => {
      const st = statSync(join(PKG_SOURCE, name));
      return `${name}:${st.size}:${st.mtimeMs}`;
    })
    .join('|');
}
async function snapshotPkg() {
  const deadline = Date.now() + 120_000;
  let stamp = pkgStamp();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const now = pkgStamp();
    if (now === stamp) break;
    if (Date.now() > deadline) throw new Error('pkg/ kept changing for 2 minutes (a build in progress?)');
    process.stderr.write('pkg/ is changing (a build?): waiting\n');
    stamp = now;
  }
  pkgBuiltAt = statSync(join(PKG_SOURCE, 'wx_subscribemsg_bg.wasm')).mtime.toISOString();
  const dir = mkdtempSync(join(os.tmpdir(), 'wxsub-bench-pkg-'));
  cpSync(PKG_SOURCE, dir, { recursive: true });
  if (pkgStamp() !== stamp) {
    rmSync(dir, { recursive: true, force: true });
    return snapshotPkg();
  }
  return dir;
}
const REPORT_ONLY = process.argv.includes('--report');
let pkgBuiltAt = null;
const PKG = hasPkg && !REPORT_ONLY ? await snapshotPkg() : PKG_SOURCE;
const IMPLS = [
  ...(hasPkg ? [{ id: 'package', entry: '/pkg/index.js', files: null }] : []),
  { id: 'baseline', entry: '/benches/baseline.js', files: ['baseline.js'] },
];
// Cold-start variants: each implementation as imported, the package with the two preload hints of README
// "Performance" in its page's <head>, so the wasm downloads while the entry module does, and the package's entry
// without its first line, V8's compile hint (served from /pkg-nohint/, a copy), so the lever is measured in each run;
// and, as a diagnosis, the package with V8's lazy wasm compilation switched off.
const VARIANTS = [
  ...IMPLS.map((impl) => ({ ...impl, impl: impl.id, hints: '' })),
  ...(hasPkg
    ? [
        {
          id: 'package-preload',
          impl: 'package',
          entry: '/pkg/index.js',
          hints:
            '<link rel="modulepreload" href="/pkg/index.js">\n<link rel="preload" href="/pkg/wx_subscribemsg_bg.wasm" as="fetch" crossorigin>',
        },
        { id: 'package-nohint', impl: 'package', entry: '/pkg-nohint/index.js', hints: '' },
        // A diagnosis, not something a page can do: the package in a Chromium whose V8 compiles every wasm function
        // up front, off the main thread, as the module streams in (--no-wasm-lazy-compilation), rather than each one
        // on the main thread at its first call. What remains of the gap then is not compilation.
        { id: 'package-eager-wasm', impl: 'package', entry: '/pkg/index.js', hints: '', eagerWasm: true },
      ]
    : []),
];

/**
 * The cold-start pages, each with the figure judged, what it is, its goal (a key of the run's settings), how a load
 * goes, at which CPU throttles, and its pages' prefix. The realistic pages (an H5 app's React bundle loaded too) run
 * at 4x only, where their goal is judged.
 */
const COLD_PAGES = [
  {
    page: 'link',
    key: 'navToLink',
    what: 'navigation → first link',
    goal: 'goalColdRatio',
    load: coldLoad,
    rates: RATES,
    prefix: '',
  },
  {
    page: 'landing',
    key: 'navToResult',
    what: 'navigation → verified callback result (landing page)',
    goal: 'goalColdRatio',
    load: landingLoad,
    rates: RATES,
    prefix: '',
  },
  {
    page: 'react-link',
    key: 'navToLink',
    what: 'realistic page (React app), navigation → first link',
    goal: 'goalRealisticRatio',
    load: coldLoad,
    rates: [4],
    prefix: 'react-',
  },
  {
    page: 'react-landing',
    key: 'navToResult',
    what: 'realistic page (React app), navigation → verified callback result',
    goal: 'goalRealisticRatio',
    load: landingLoad,
    rates: [4],
    prefix: 'react-',
  },
];

// ---------------------------------------------------------------- pages
// The pages differ only in the import.
// Each page sends its figures (or an error) to the bench's server when it is done (benches/figures.mjs): nothing of
// the automation may run in a page while it is measured.
const channel = figuresChannel();

// The realistic variant (`app`) loads an H5 app's React production bundle first, as such a page does: it renders its
// shell, then the page's own module runs the same flow.
const APP_SCRIPT = '<div id="root"></div>\n<script type="module" src="/benches/react-app.js"></script>';
const coldPage = (entry, hints, app = '') => `<!doctype html>
<html><head><meta charset="utf-8"><title>cold start</title>
${hints}
${FIGURES_SCRIPT}
</head><body>
${app}
<script type="module">
import { authorize } from '${entry}';
const started = performance.now();
const link = authorize({ appid: '${APPID}', scene: 1000, templateId: '${TEMPLATE}', redirectUrl: location.origin + '/benches/landing.html' });
const linked = performance.now();
authorize({ appid: '${APPID}', scene: 1000, templateId: '${TEMPLATE}', redirectUrl: location.origin + '/benches/landing.html' });
const second = performance.now() - linked;
const res = (path) => performance.getEntriesByType('resource').find((e) => new URL(e.name).pathname === path);
const span = (e) => e && { start: e.startTime, end: e.responseEnd };
const c0 = performance.now();
let x = 0;
for (let i = 0; i < 300000; i++) x += Math.sqrt(i);
const calibration = performance.now() - c0;
window.__finish({
  link, started, linked, second, calibration, x,
  html: span(performance.getEntriesByType('navigation')[0]),
  entry: span(res('${entry}')),
  wasm: span(res('${entry.endsWith('/index.js') ? entry.replace(/index\.js$/, 'wx_subscribemsg_bg.wasm') : ''}')),
});
</script>
</body></html>`;

// The landing page: WeChat's redirect back with an Allow, the callback verified against the record the page before
// stored, the grant posted to a sink that answers 201, and the result. The record is written by the bench (in each
// implementation's own format) so that the module is not loaded in this renderer before the measured navigation.
const landingPage = (entry, hints, app = '') => `<!doctype html>
<html><head><meta charset="utf-8"><title>landing</title>
${hints}
${FIGURES_SCRIPT}
</head><body>
${app}
<script type="module">
import { handleCallback } from '${entry}';
const started = performance.now();
const result = await handleCallback({ grantEndpoint: '/grant' });
window.__finish({ result, started, done: performance.now() });
</script>
</body></html>`;

const steadyPage = (entry) => `<!doctype html>
<html><head><meta charset="utf-8"><title>steady state</title></head><body>
<script type="module">
import * as lib from '${entry}';
window.__lib = lib;
</script>
</body></html>`;

const PAGES = new Map([
  ['/benches/blank.html', '<!doctype html><title>blank</title>'],
  ['/benches/landing.html', '<!doctype html><title>landing</title>'],
]);
for (const v of VARIANTS) {
  PAGES.set(`/benches/cold-${v.id}.html`, coldPage(v.entry, v.hints));
  PAGES.set(`/benches/landing-${v.id}.html`, landingPage(v.entry, v.hints));
  PAGES.set(`/benches/react-cold-${v.id}.html`, coldPage(v.entry, v.hints, APP_SCRIPT));
  PAGES.set(`/benches/react-landing-${v.id}.html`, landingPage(v.entry, v.hints, APP_SCRIPT));
}

/**
 * The realistic page's app: React 19 and react-dom from this repository's dev dependencies, bundled for production
 * by esbuild (minified, NODE_ENV=production), rendering a small order page. Built once per bench run.
 */
async function reactAppBundle() {
  const esbuild = await import('esbuild');
  const source = `import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
function Order({ id }) {
  const [open, setOpen] = useState(false);
  return <li onClick={() => setOpen(!open)}>Order {id}{open ? ' (details)' : ''}</li>;
}
function App() {
  return <main><h1>My orders</h1><ul>{Array.from({ length: 20 }, (_, i) => <Order key={i} id={i} />)}</ul>
    <button id="subscribe">Notify me when it ships</button></main>;
}
createRoot(document.getElementById('root')).render(<StrictMode><App /></StrictMode>);
`;
  const out = await esbuild.build({
    stdin: { contents: source, loader: 'jsx', resolveDir: ROOT },
    bundle: true,
    format: 'esm',
    minify: true,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'warning',
  });
  return out.outputFiles[0].text;
}
for (const impl of IMPLS) PAGES.set(`/benches/steady-${impl.id}.html`, steadyPage(impl.entry));

// ---------------------------------------------------------------- server
const files = serveFiles({ root: PKG, mount: '/pkg/' }, { root: BENCHES, mount: '/benches/' });
const HINT = '//# allFunctionsCalledOnLoad\n';
/** The entry without its compile hint, for the package-nohint variant; the rest of /pkg-nohint/ is /pkg/'s. */
const entryWithoutHint = () => {
  const entry = readFileSync(join(PKG, 'index.js'), 'utf8');
  if (!entry.startsWith(HINT)) throw new Error('pkg/index.js does not start with the compile hint');
  return entry.slice(HINT.length);
};

function serve(req, res) {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const headers = { 'Cache-Control': 'no-store' };
  if (channel.receive(req, res)) return;
  if (path === '/pkg-nohint/index.js') {
    res.writeHead(200, { ...headers, 'Content-Type': MIME_TYPES['.js'] }).end(entryWithoutHint());
    return;
  }
  if (path.startsWith('/pkg-nohint/')) req.url = req.url.replace('/pkg-nohint/', '/pkg/');
  if (req.method === 'POST' && path === '/grant') {
    req.resume();
    res.writeHead(201, { ...headers, 'Content-Type': 'application/json' }).end('{"ok":true}');
    return;
  }
  if (PAGES.has(path)) {
    res.writeHead(200, { ...headers, 'Content-Type': MIME_TYPES['.html'] }).end(PAGES.get(path));
    return;
  }
  if (path === '/benches/react-app.js') {
    res.writeHead(200, { ...headers, 'Content-Type': MIME_TYPES['.js'] }).end(REACT_APP);
    return;
  }
  files(req, res);
}

async function startServer() {
  const server = createServer(serve);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

// ---------------------------------------------------------------- statistics
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const quantile = (xs, q) => sorted(xs)[Math.max(0, Math.ceil(q * xs.length) - 1)];
const summary = (xs) => ({
  n: xs.length,
  median: median(xs),
  p90: quantile(xs, 0.9),
  min: Math.min(...xs),
  max: Math.max(...xs),
  samples: xs.map((x) => +x.toFixed(3)),
});

// ---------------------------------------------------------------- cold start
// One load of the link page (benches/figures.mjs, measureLoad: a fresh context, a blank page first, HTTP cache off,
// CPU throttle on, the navigation that is measured).
async function coldLoad(browser, origin, v, rate, prefix) {
  const { figures: r } = await measureLoad(browser, {
    channel,
    blank: `${origin}/benches/blank.html`,
    url: `${origin}/benches/${prefix}cold-${v.id}.html`,
    rate,
    label: v.id,
  });
  if (!r.link.startsWith('https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&'))
    throw new Error(`${v.id}: odd link ${r.link}`);
  return {
    navToLink: r.linked,
    fetchToLink: r.linked - r.entry.start,
    authorizeCall: r.linked - r.started,
    calibration: r.calibration,
    phases: {
      html: r.html.end, // navigation start to the HTML received
      toEntry: r.entry.start - r.html.end, // document set up and parsed to the entry module requested
      entry: r.entry.end - r.entry.start, // the entry module's request to its last byte
      js: (r.wasm ? r.wasm.start : r.started) - r.entry.end, // entry received to the wasm request (baseline: to its module body); with the preload hints the wasm request comes first, so this is negative
      wasmFetch: r.wasm ? r.wasm.end - r.wasm.start : 0, // request to last byte (compilation streams alongside)
      init: r.wasm ? r.started - Math.max(r.wasm.end, r.entry.end) : 0, // the later of entry and wasm received to the page's module body: compile tail + instantiate + start
      authorize: r.linked - r.started, // the first authorize() call
      secondAuthorize: r.second, // a second authorize() call right after, for comparison
    },
  };
}

async function landingLoad(browser, origin, v, rate, prefix) {
  const { figures: r } = await measureLanding(browser, {
    channel,
    blank: `${origin}/benches/blank.html`,
    landing: `${origin}/benches/${prefix}landing-${v.id}.html`,
    impl: v.impl,
    rate,
    label: v.id,
  });
  return { navToResult: r.done, handleCallback: r.done - r.started };
}

/** A load, tried a second time when the navigation timed out (it happened once in about a thousand loads). */
async function once(load) {
  try {
    return await load();
  } catch (error) {
    if (error?.name !== 'TimeoutError') throw error;
    process.stderr.write(`a load timed out, measured again: ${error.message.split('\n')[0]}\n`);
    return load();
  }
}

async function coldStart(defaultBrowser, origin) {
  const out = {};
  const eagerWasm = VARIANTS.some((v) => v.eagerWasm)
    ? await launchChromium(['--js-flags=--no-wasm-lazy-compilation'])
    : null;
  const browserFor = (v) => (v.eagerWasm ? eagerWasm : defaultBrowser);
  for (const { page: name, load, rates, prefix } of COLD_PAGES) {
    out[name] = {};
    for (const rate of rates) {
      out[name][rate] = Object.fromEntries(VARIANTS.map((v) => [v.id, []]));
      for (const v of VARIANTS) await load(browserFor(v), origin, v, rate, prefix); // warm-up, discarded (server, disk, OS)
      for (let i = 0; i < LOADS; i++) {
        // Alternate the order so background load (others compiling) falls on all alike.
        const order = i % 2 ? [...VARIANTS].reverse() : VARIANTS;
        for (const v of order) {
          out[name][rate][v.id].push(await once(() => load(browserFor(v), origin, v, rate, prefix)));
        }
      }
      process.stderr.write(`cold start, ${name} page, at ${rate}x: ${LOADS} loads each done\n`);
    }
  }
  await eagerWasm?.close();
  return out;
}

// ---------------------------------------------------------------- per call, after 1 and after 3,000 prior calls
// Runs in the page: storage cleared, `prior` authorize() calls, then the next 20 authorize() calls timed, then
// handleCallback() timed on the 20 callbacks (Cancel, so no network) of those links. Returns ms per call.
// With `owed`, that many undelivered grants (the package's format 2, as a page whose backend was down for long keeps
// them) are stored in localStorage first.
async function perCallRun({ prior, owed = 0 }) {
  const lib = window.__lib;
  sessionStorage.clear();
  localStorage.clear();
  const options = {
    appid: 'wxaba38c7f163da69b',
    scene: 1000,
    templateId: '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc',
    redirectUrl: `${location.origin}/benches/landing.html`,
  };
  if (owed) {
    const reserved = new URL(lib.authorize(options)).searchParams.get('reserved');
    const fields = sessionStorage.getItem(`wxsub:${reserved}`).split(' ');
    sessionStorage.clear();
    localStorage.clear();
    fields[3] = String(Number(fields[1]) + 1);
    fields[4] = 'owed:oBenchUser';
    const grant = fields.join(' ');
    for (let i = 0; i < owed; i++) localStorage.setItem(`wxsub:owed${i}x${reserved.slice(0, 20)}`, grant);
  }
  for (let i = 0; i < prior; i++) lib.authorize(options);
  const links = [];
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) links.push(lib.authorize(options));
  const t1 = performance.now();
  // The package keeps 20 records besides owed grants, so the oldest of these may be gone already: handle the rest.
  const queries = links
    .map((link) => new URLSearchParams(link.split('?')[1].split('#')[0]))
    .filter((p) => sessionStorage.getItem(`wxsub:${p.get('reserved')}`) !== null)
    .map(
      (p) => `?template_id=${p.get('template_id')}&action=cancel&scene=${p.get('scene')}&reserved=${p.get('reserved')}`,
    );
  const t2 = performance.now();
  for (const query of queries) {
    const r = await lib.handleCallback({ grantEndpoint: '/grant', query, cleanUrl: false });
    if (r.status !== 'cancelled' || r.replayed) throw new Error(`callback: ${JSON.stringify(r)}`);
  }
  const t3 = performance.now();
  return {
    authorize: (t1 - t0) / 20,
    handleCallback: (t3 - t2) / queries.length,
    storageKeys: sessionStorage.length + localStorage.length,
  };
}

async function perCall(browser, origin) {
  const out = {};
  for (const impl of IMPLS) {
    out[impl.id] = { 1: [], [PRIOR_CALLS]: [] };
    for (let run = 0; run < 5; run++) {
      for (const prior of [1, PRIOR_CALLS]) {
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          await page.goto(`${origin}/benches/steady-${impl.id}.html`);
          await page.waitForFunction(() => window.__lib);
          out[impl.id][prior].push(await page.evaluate(perCallRun, { prior }));
        } finally {
          await context.close();
        }
      }
    }
  }
  // The package alone: the baseline keeps no undelivered grants to measure against.
  out.owed = [];
  for (let run = 0; hasPkg && run < 5; run++) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/benches/steady-package.html`);
      await page.waitForFunction(() => window.__lib);
      out.owed.push(await page.evaluate(perCallRun, { prior: 1, owed: OWED_GRANTS }));
    } finally {
      await context.close();
    }
  }
  process.stderr.write('per-call figures done\n');
  return out;
}

// ---------------------------------------------------------------- steady state
// Runs in the page: counts operations for `ms` milliseconds.
async function steadyRun({ op, ms }) {
  const lib = window.__lib;
  const s = window.__steady;
  let n = 0;
  let sink = 0;
  const t0 = performance.now();
  let t = t0;
  if (op === 'buildLink') {
    while (t - t0 < ms) {
      for (let i = 0; i < 200; i++) sink += lib.buildLink(s.linkOptions).length;
      n += 200;
      t = performance.now();
    }
  } else if (op === 'parseCallback') {
    while (t - t0 < ms) {
      for (let i = 0; i < 200; i++) sink += lib.parseCallback(s.query).scene;
      n += 200;
      t = performance.now();
    }
  } else {
    while (t - t0 < ms) {
      for (let i = 0; i < 20; i++) {
        const r = await lib.handleCallback(s.callbackOptions);
        if (!r.replayed) throw new Error('not a replay');
        sink += r.scene;
      }
      n += 20;
      t = performance.now();
    }
  }
  if (!sink) throw new Error('nothing computed');
  return (n * 1000) / (t - t0);
}

// Prepares a page: one authorize() and its cancel callback handled once, so later calls take the replay path.
async function steadySetup() {
  const lib = window.__lib;
  const origin = location.origin;
  const link = lib.authorize({
    appid: 'wxaba38c7f163da69b',
    scene: 1000,
    templateId: '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc',
    redirectUrl: `${origin}/benches/landing.html`,
  });
  const p = new URLSearchParams(link.split('?')[1].split('#')[0]);
  const query = `?template_id=${p.get('template_id')}&action=cancel&scene=${p.get('scene')}&reserved=${p.get('reserved')}`;
  const callbackOptions = { grantEndpoint: `${origin}/grant`, query, cleanUrl: false };
  const first = await lib.handleCallback(callbackOptions);
  if (first.status !== 'cancelled' || first.replayed) throw new Error(`first callback: ${JSON.stringify(first)}`);
  window.__steady = {
    linkOptions: {
      appid: 'wxaba38c7f163da69b',
      scene: 1000,
      templateId: '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc',
      redirectUrl: 'https://shop.example.com/cb.html?from=menu#/done',
      reserved: p.get('reserved'),
    },
    query: `?openid=oUser_1-abcdefghijklmnopqrstu&template_id=${p.get('template_id')}&action=confirm&scene=1000&reserved=${p.get('reserved')}`,
    callbackOptions,
  };
  return { link, storageKeys: Object.keys(sessionStorage).length + Object.keys(localStorage).length };
}

// The same inputs through both implementations: results or error codes must agree. `shared` are the link fields of
// the shared vectors (tests/vectors/wechat-rules.json, as linkVectors() reads them) besides the cases below.
function crossCheckVectors(shared) {
  const lib = window.__lib;
  const special = { NaN, Infinity, '-Infinity': -Infinity, '-0': -0, null: null, true: true, false: false };
  const decode = (v) => (v !== null && typeof v === 'object' ? special[v.js] : v);
  const base = {
    appid: 'wxaba38c7f163da69b',
    scene: 1000,
    templateId: '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc',
    redirectUrl: 'http://support.qq.com',
    reserved: 'test',
  };
  const links = [
    {},
    { redirectUrl: 'https://a.example.com/cb.html?x=1&y=2#/done' },
    { authorizeUrl: 'http://127.0.0.1:8080/mp/subscribemsg' },
    { appid: 'wxaba38c7f163da69' },
    { appid: 'wxABA38C7F163DA69B' },
    { scene: 1.5 },
    { scene: '1000' },
    { scene: 10001 },
    { scene: 0 },
    { templateId: 'a b' },
    { templateId: 'a_b-c' },
    { redirectUrl: '/cb' },
    { redirectUrl: 'javascript:alert(1)' },
    { redirectUrl: 'https://u:p@example.com/' },
    { redirectUrl: ' https://example.com/' },
    { redirectUrl: 'https://bücher.example/ü?q=✓' },
    { reserved: 'a-b' },
    { reserved: 'Z9'.repeat(64) },
    { reserved: 'a'.repeat(129) },
    { authorizeUrl: 'https://x.example/a?b=1' },
    { authorizeUrl: 'ftp://x.example/a' },
    ...shared.map(({ field, value }) => ({ [field]: decode(value) })),
  ];
  const ok = 'openid=oXyZ_123-abc&template_id=T1&action=confirm&scene=1000&reserved=test';
  const queries = [
    ok,
    `?${ok}`,
    `https://a.example.com/cb.html?from=menu&${ok}&x=1#%23/done`,
    '?template_id=T&action=cancel&scene=0&reserved=r1',
    '',
    'template_id=T&scene=1&reserved=r',
    'template_id=T&action=confirm&scene=1&reserved=r',
    `${ok}&reserved=x`,
    `${ok}&openid=x`,
    ok.replace('confirm', 'CONFIRM'),
    ok.replace('1000', '10001'),
    ok.replace('1000', '1.5'),
    ok.replace('1000', '%31'),
    ok.replace('T1', 'T+A'),
    ok.replace('T1', 'T%41'),
    ok.replace('test', 'a'.repeat(129)),
    ok.replace('oXyZ_123-abc', 'o<script>'),
    ok.replace('oXyZ_123-abc', 'o'.repeat(65)),
    ok.replace('scene=1000', 'scene='),
  ];
  const run = (f) => {
    try {
      return { value: f() };
    } catch (e) {
      return { name: e.name, code: e.code };
    }
  };
  return [
    ...links.map((o) => ({ input: JSON.stringify(o), out: run(() => lib.buildLink({ ...base, ...o })) })),
    ...queries.map((q) => ({ input: q, out: run(() => lib.parseCallback(q)) })),
  ];
}

/** WeChat's rules as values, shared with the crate's tests and the demo's (tests/vectors/wechat-rules.json). */
const RULE_VECTORS = JSON.parse(readFileSync(new URL('../tests/vectors/wechat-rules.json', import.meta.url), 'utf8'));

/** The shared vectors of the link's fields, as buildLink() options: `{ field, value }`, every valid and invalid value. */
function linkVectors() {
  const fields = {
    appid: 'appid',
    templateId: 'templateId',
    reserved: 'reserved',
    scene: 'scene',
    httpUrl: 'redirectUrl',
  };
  return Object.entries(fields).flatMap(([rule, field]) =>
    [...RULE_VECTORS[rule].valid, ...RULE_VECTORS[rule].invalid].map((value) => ({ field, value })),
  );
}

async function steadyState(browser, origin) {
  const pages = {};
  const setup = {};
  const vectors = {};
  for (const impl of IMPLS) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/benches/steady-${impl.id}.html`);
    await page.waitForFunction(() => window.__lib);
    setup[impl.id] = await page.evaluate(steadySetup);
    vectors[impl.id] = await page.evaluate(crossCheckVectors, linkVectors());
    pages[impl.id] = page;
  }
  const ops = ['buildLink', 'handleCallback', 'parseCallback'];
  const runs = Object.fromEntries(ops.map((op) => [op, Object.fromEntries(IMPLS.map((impl) => [impl.id, []]))]));
  for (const op of ops) {
    for (const impl of IMPLS) await pages[impl.id].evaluate(steadyRun, { op, ms: RUN_MS / 2 }); // warm-up (JIT tiers)
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 ? [...IMPLS].reverse() : IMPLS;
      for (const impl of order) runs[op][impl.id].push(await pages[impl.id].evaluate(steadyRun, { op, ms: RUN_MS }));
    }
  }
  for (const page of Object.values(pages)) await page.context().close();
  let mismatches = [];
  if (vectors.package) {
    const intended = new Set(RULE_VECTORS.divergences.map((d) => d.input));
    mismatches = vectors.package
      .map((p, i) => ({ input: p.input, package: p.out, baseline: vectors.baseline[i].out }))
      .filter((m) => JSON.stringify(m.package) !== JSON.stringify(m.baseline) && !intended.has(m.input));
  }
  return { setup, runs, crossCheck: { vectors: vectors.baseline.length, mismatches } };
}

// ---------------------------------------------------------------- report (from the results alone)
const fmtBytes = (n) => n.toLocaleString('en-US');
const fmtMs = (n) => n.toFixed(2);
const fmtOps = (n) => Math.round(n).toLocaleString('en-US');
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const rateLabel = (rate) => (Number(rate) === 1 ? 'unthrottled' : `${rate}× CPU`);

function table(results) {
  const { sizes, cold, steady, settings } = results;
  const P = Boolean(sizes.package);
  const rows = [['Figure', 'package', 'package, preload hints', 'baseline', 'package / baseline', 'goal']];
  const add = (name, p, pp, b, fmt, goal = '') =>
    rows.push([name, P ? fmt(p) : '—', P && pp !== undefined ? fmt(pp) : '—', fmt(b), P ? ratio(p, b) : '—', goal]);
  add('Shipped bytes, raw', sizes.package?.raw, undefined, sizes.baseline.raw, fmtBytes);
  const sizeGoal = sizes.package?.goal;
  add(
    'Shipped bytes, gzip -9',
    sizes.package?.gzip,
    undefined,
    sizes.baseline.gzip,
    fmtBytes,
    P && sizeGoal ? `≤ ${fmtBytes(sizeGoal)} ${sizes.package.gzip <= sizeGoal ? '✅' : '❌'}` : '',
  );
  for (const { page, key, what, goal: goalSetting } of COLD_PAGES) {
    const goalRatio = settings[goalSetting];
    if (!cold.summary[page] || !goalRatio) continue;
    for (const rate of Object.keys(cold.summary[page])) {
      const c = cold.summary[page][rate];
      for (const stat of ['median', 'p90']) {
        const judged = Number(rate) === 4 && stat === 'median';
        const p = c.package?.[key][stat];
        const pp = c['package-preload']?.[key][stat];
        const b = c.baseline[key][stat];
        const goal =
          judged && P
            ? `≤ ${goalRatio}× baseline: ${ratio(p, b)} ${p / b <= goalRatio ? '✅' : '❌'}, with hints ${ratio(pp, b)} ${pp / b <= goalRatio ? '✅' : '❌'}`
            : '';
        add(`Cold start, ${what}, ${rateLabel(rate)}, ${stat} (ms)`, p, pp, b, fmtMs, goal);
      }
    }
  }
  for (const [op, what] of [
    ['buildLink', '`buildLink`'],
    ['handleCallback', '`handleCallback` replay (parse + verify)'],
    ['parseCallback', '`parseCallback` alone'],
  ]) {
    const p = steady.summary[op].package?.median;
    const b = steady.summary[op].baseline.median;
    add(`${what}, ops/s, median of ${settings.steadyRuns}`, p, undefined, b, fmtOps, '(information)');
  }
  return rows
    .map((r) => `| ${r.join(' | ')} |`)
    .join('\n')
    .replace(/\n/, `\n|${'---|'.repeat(6)}\n`);
}

function phaseTable(cold, rates) {
  const names = {
    html: 'navigation → HTML received',
    toEntry: 'HTML received → entry module requested (document set-up)',
    entry: 'entry module request → last byte',
    js: 'entry received → wasm requested (baseline: → module body)',
    wasmFetch: 'wasm request → last byte (compiles while streaming)',
    init: 'entry and wasm received → module body (compile tail + instantiate)',
    authorize: 'first `authorize()` call',
    secondAuthorize: '(not in the total) a second `authorize()` call',
  };
  const raw = cold.raw.link;
  const cols = rates.flatMap((rate) => Object.keys(raw[rate]).map((id) => [rate, id]));
  const head = `| phase (median ms) | ${cols.map(([r, id]) => `${id} ${Number(r) === 1 ? '1×' : `${r}×`}`).join(' | ')} |`;
  const lines = Object.entries(names).map(
    ([k, label]) =>
      `| ${label} | ${cols.map(([r, id]) => fmtMs(median(raw[r][id].map((s) => s.phases[k])))).join(' | ')} |`,
  );
  const calib = `| calibration loop (fixed JS work after the link) | ${cols.map(([r, id]) => fmtMs(median(raw[r][id].map((s) => s.calibration)))).join(' | ')} |`;
  const landing = cold.raw.landing;
  const call = `| landing page: \`handleCallback()\` call to its result (POST answered 201 included) | ${cols.map(([r, id]) => fmtMs(median(landing[r][id].map((s) => s.handleCallback)))).join(' | ')} |`;
  return [head, `|${'---|'.repeat(cols.length + 1)}`, ...lines, calib, call].join('\n');
}

/** Each cold-start variant of the package on each page at 4x, as a ratio to the baseline's median. */
function leverTable(results) {
  const { summary } = results.cold;
  const variants = VARIANTS.filter((v) => v.impl === 'package').map((v) => v.id);
  const rows = [
    `| page (4× CPU, median ms) | ${variants.join(' | ')} | baseline |`,
    `|${'---|'.repeat(variants.length + 2)}`,
  ];
  for (const { page, key } of COLD_PAGES) {
    const c = summary[page]?.[4];
    if (!c?.baseline) continue;
    const b = c.baseline[key].median;
    const cells = variants.map((id) => (c[id] ? `${fmtMs(c[id][key].median)} (${ratio(c[id][key].median, b)})` : '—'));
    rows.push(`| ${page} | ${cells.join(' | ')} | ${fmtMs(b)} |`);
  }
  return rows.join('\n');
}

function perCallTable(perCall, prior) {
  const rows = ['| per call (median of 5 runs of 20 calls, ms) | after 1 prior call | after ' + fmtBytes(prior) + ' |'];
  rows.push('|---|---|---|');
  for (const [id, byPrior] of Object.entries(perCall)) {
    if (id === 'owed') continue;
    for (const op of ['authorize', 'handleCallback']) {
      const at = (k) => fmtMs(median(byPrior[k].map((r) => r[op])));
      rows.push(`| ${id}: \`${op}()\` | ${at(1)} | ${at(prior)} |`);
    }
    const keys = (k) => Math.max(...byPrior[k].map((r) => r.storageKeys));
    rows.push(`| ${id}: storage entries afterwards | ${keys(1)} | ${fmtBytes(keys(prior))} |`);
  }
  if (perCall.owed?.length) {
    const at = (op) => fmtMs(median(perCall.owed.map((r) => r[op])));
    rows.push(
      `| package, with ${fmtBytes(OWED_GRANTS)} undelivered grants stored: \`authorize()\`, \`handleCallback()\` | ${at('authorize')} | ${at('handleCallback')} |`,
    );
  }
  return rows.join('\n');
}

function report(results) {
  const m = results.machine;
  const s = results.settings;
  const out = [];
  out.push(`## wx-subscribemsg benchmark — ${results.date}\n`);
  out.push(
    `Chromium ${results.chromium.version} (headless), ${m.cores} × ${m.cpu}, Node ${m.node}; load average ` +
      `${m.loadavgBefore.map((x) => x.toFixed(2)).join(' ')} before, ${m.loadavgAfter.map((x) => x.toFixed(2)).join(' ')} after.`,
  );
  out.push(
    `Cold start: ${s.loads} fresh loads per variant, page and throttle (new browser context each, HTTP cache disabled). ` +
      `Steady state: median of ${s.steadyRuns} runs of ${s.steadyRunMs} ms, unthrottled.\n`,
  );
  out.push(table(results));
  out.push('\nLevers measured in the same run (4× CPU, medians; each a ratio to the baseline on the same page):\n');
  out.push(leverTable(results));
  out.push(
    '\n"navigation → first link": performance.now() when the first authorize() returned, i.e. since navigation start.' +
      ' "navigation → verified callback result": the landing page opened as WeChat redirects back after an Allow, until' +
      ' handleCallback({ grantEndpoint }) resolved (the grant verified, stored and posted to a sink answering 201). The' +
      ` goal is judged on the medians at 4× CPU: ≤ ${s.goalColdRatio}× the baseline's.`,
  );
  out.push(
    '\nWhere cold-start time goes on the link page (medians; phases are from Resource Timing, so they only approximately add up):\n',
  );
  out.push(phaseTable(results.cold, s.throttleRates));
  out.push(`\nPer-call time after 1 and after ${fmtBytes(s.priorCalls)} prior \`authorize()\` calls on one origin:\n`);
  out.push(perCallTable(results.perCall, s.priorCalls));
  const cc = results.steady.crossCheck;
  out.push(
    `\nCross-check: ${cc.vectors} buildLink/parseCallback vectors, ` +
      `${results.sizes.package ? `${cc.mismatches.length} disagreement(s) between package and baseline` : 'package not built'}.`,
  );
  for (const mm of cc.mismatches)
    out.push(`  ${mm.input}: package ${JSON.stringify(mm.package)} / baseline ${JSON.stringify(mm.baseline)}`);
  out.push(`\nFull results: benches/results.json (${results.durationSeconds} s).`);
  return out.join('\n');
}

// ---------------------------------------------------------------- main
async function measure() {
  const t0 = Date.now();
  const loadBefore = os.loadavg();
  const baselineFiles = IMPLS.at(-1).files.map((name) => {
    const bytes = readFileSync(join(BENCHES, name));
    return { name, raw: bytes.length, gzip: gzipSize(bytes) };
  });
  const sizes = {
    baseline: {
      files: baselineFiles,
      raw: baselineFiles.reduce((n, f) => n + f.raw, 0),
      gzip: baselineFiles.reduce((n, f) => n + f.gzip, 0),
    },
  };
  if (hasPkg) sizes.package = shippedSizes(PKG);

  REACT_APP = await reactAppBundle();
  const { server, origin } = await startServer();
  const browser = await launchChromium();
  let results;
  try {
    const chromiumVersion = browser.version();
    const steady = await steadyState(browser, origin);
    process.stderr.write('steady state done\n');
    const coldRaw = await coldStart(browser, origin);
    const perCallRaw = await perCall(browser, origin);
    const pick = (samples, k) => summary(samples.map((x) => x[k]));
    const coldSummary = Object.fromEntries(
      Object.entries(coldRaw).map(([page, byRate]) => [
        page,
        Object.fromEntries(
          Object.entries(byRate).map(([rate, byVariant]) => [
            rate,
            Object.fromEntries(
              Object.entries(byVariant).map(([id, xs]) => [
                id,
                Object.fromEntries(
                  Object.keys(xs[0])
                    .filter((k) => k !== 'phases')
                    .map((k) => [k, pick(xs, k)])
                    .concat(
                      xs[0].phases
                        ? [
                            [
                              'phasesMedian',
                              Object.fromEntries(
                                Object.keys(xs[0].phases).map((k) => [k, median(xs.map((x) => x.phases[k]))]),
                              ),
                            ],
                          ]
                        : [],
                    ),
                ),
              ]),
            ),
          ]),
        ),
      ]),
    );
    const steadySummary = Object.fromEntries(
      Object.entries(steady.runs).map(([op, byImpl]) => [
        op,
        Object.fromEntries(Object.entries(byImpl).map(([id, xs]) => [id, summary(xs)])),
      ]),
    );
    let commit = null;
    let dirty = null;
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
      dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    } catch {}
    results = {
      date: new Date().toISOString(),
      command: 'npm run bench (node benches/bench.mjs)',
      machine: {
        cpu: os.cpus()[0]?.model,
        cores: os.cpus().length,
        memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
        os: `${os.type()} ${os.release()}`,
        node: process.version,
        loadavgBefore: loadBefore,
        loadavgAfter: os.loadavg(),
      },
      chromium: { path: CHROMIUM, version: chromiumVersion, args: CHROMIUM_ARGS },
      playwrightCore: JSON.parse(readFileSync(join(ROOT, 'node_modules', 'playwright-core', 'package.json'), 'utf8'))
        .version,
      gitCommit: commit,
      gitWorkingTreeDirty: dirty,
      pkgBuiltAt,
      settings: {
        loads: LOADS,
        throttleRates: RATES,
        steadyRuns: RUNS,
        steadyRunMs: RUN_MS,
        goalColdRatio: GOAL_COLD_RATIO,
        goalRealisticRatio: GOAL_REALISTIC_RATIO,
        priorCalls: PRIOR_CALLS,
        variants: VARIANTS.map(({ id, hints }) => ({ id, hints })),
      },
      definitions: {
        navToLink:
          'performance.now() when the first authorize() returned: ms since navigation start of a fresh page load (new browser context, HTTP cache disabled)',
        navToResult:
          "landing page opened with WeChat's Allow callback (the pending record stored beforehand in the implementation's own format): performance.now() when handleCallback({ grantEndpoint }) resolved, the grant posted to a sink answering 201",
        perCall:
          'ms per call: storage cleared, N prior authorize() calls, then 20 authorize() calls timed, then handleCallback() on the Cancel callbacks of those 20 links timed (no network)',
        fetchToLink:
          "ms from the entry module's request (Resource Timing startTime) to authorize() returning: fetch + parse + compile + instantiate + the call, without the HTML document",
        authorizeCall: 'the first authorize() call alone, once the module is ready',
        calibration: 'a fixed JS loop run after the link, to show the CPU throttle is in effect',
        phases: 'Resource Timing boundaries, see phaseTable in bench.mjs',
        buildLink: 'buildLink(options) calls per second',
        handleCallback:
          'await handleCallback({ grantEndpoint, query, cleanUrl: false }) on an already-handled cancel callback (replay path: parse + storage lookup + checks), per second; one subscription stored',
        parseCallback: 'parseCallback(query) of a confirm callback, per second',
      },
      sizes,
      cold: { summary: coldSummary, raw: coldRaw },
      perCall: perCallRaw,
      steady: { summary: steadySummary, setup: steady.setup, crossCheck: steady.crossCheck },
      durationSeconds: 0,
    };
  } finally {
    await browser.close();
    server.close();
    if (PKG !== PKG_SOURCE) rmSync(PKG, { recursive: true, force: true });
  }
  results.durationSeconds = Math.round((Date.now() - t0) / 1000);
  writeFileSync(join(BENCHES, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  return results;
}

// `node benches/bench.mjs --report` prints the tables of the last benches/results.json without measuring.
const results = REPORT_ONLY ? JSON.parse(readFileSync(join(BENCHES, 'results.json'), 'utf8')) : await measure();
console.log(report(results));
