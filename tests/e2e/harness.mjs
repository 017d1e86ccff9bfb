// The e2e harness: the demo server (in-process or as `node www/server.mjs` on PORT=0 with a fresh
// temporary DATA_DIR), Chromium through playwright-core with a WeChat user agent on a 390×844 phone,
// the sink's API, screenshots under test-results/e2e/, and the steps of the subscription flow.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// E2E_PKG_DIR points the scenarios at another build of the package (default: the repo's pkg/).
export const PKG_DIR = process.env.E2E_PKG_DIR ? path.resolve(process.env.E2E_PKG_DIR) : path.join(ROOT, 'pkg');
export const PKG_ENTRY = path.join(PKG_DIR, 'index.js');
export const ARTIFACTS = path.join(ROOT, 'test-results', 'e2e');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const APPID = 'wxaba38c7f163da69b';
export const TEMPLATE_A = '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc';
export const TEMPLATE_B = 'Qf4v7yWJZ2mT0dL9sHkXcB1nR8aPqE5uVgY3oNwIzKj';

export const WECHAT_IOS_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2f) NetType/WIFI Language/zh_CN';
export const WECHAT_ANDROID_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64';
export const SAFARI_IOS_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

/** The e2e scenarios need the built package; fail with the fix instead of a blank page. */
export function requirePackage() {
  if (!fs.existsSync(PKG_ENTRY)) {
    throw new Error(`${PKG_ENTRY} is missing: the e2e tests run against the built package. Run \`npm run build\` first.`);
  }
}

export function tempDataDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wxsub-e2e-'));
}

/** Starts the server in this process (fast; for the HTTP tests). */
export async function startInProcess(env = {}, options = {}) {
  const { startServer } = await import('../../www/server.mjs');
  const dataDir = env.DATA_DIR ?? tempDataDir();
  const lines = [];
  const running = await startServer({ env: { PORT: '0', DATA_DIR: dataDir, ...env }, log: (text) => lines.push(...String(text).split('\n')), ...options });
  return {
    ...running,
    dataDir,
    lines,
    sink: sinkApi(running.url),
    async stop({ keepData = false } = {}) {
      await running.close();
      if (!keepData && !env.DATA_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `node www/server.mjs` on PORT=0 with a fresh DATA_DIR, like `npm start` minus the build. */
export async function startDemo(env = {}) {
  const dataDir = env.DATA_DIR ?? tempDataDir();
  const child = spawn(process.execPath, [path.join(ROOT, 'www', 'server.mjs')], {
    cwd: ROOT,
    env: { ...cleanEnv(), PORT: '0', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => { output += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk) => { output += chunk; });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo server did not print its URL within 10 s:\n${output}`)), 10_000);
    const check = () => {
      const match = /^wx-subscribemsg demo: (http:\/\/\S+\/)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the demo server exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    dataDir,
    child,
    output: () => output,
    sink: sinkApi(url),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      if (!env.DATA_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The configuration variables of the parent would leak into the server: drop them. */
function cleanEnv() {
  const env = { ...process.env };
  for (const name of ['APPID', 'TEMPLATE_ID', 'BUSINESS_DOMAIN', 'HOST', 'PORT', 'DATA_DIR', 'AUTHORIZE_URL', 'FAULTS']) delete env[name];
  return env;
}

/** The grant sink's HTTP API, as a test sees it. */
export function sinkApi(base) {
  const call = async (method, pathname, body) => {
    const response = await fetch(new URL(pathname, base), {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };
  return {
    list: async () => (await call('GET', '/api/grants')).body,
    grants: async () => (await call('GET', '/api/grants')).body.grants,
    stats: async () => (await call('GET', '/api/grants')).body.stats,
    setFaults: (faults) => call('PUT', '/api/faults', faults),
    clearFaults: () => call('DELETE', '/api/faults'),
  };
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** A phone: 390×844, touch, a WeChat user agent unless told otherwise. */
export async function newPhone(browser, { userAgent = WECHAT_IOS_UA } = {}) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent,
    locale: 'zh-CN',
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // The failed load itself is reported below, with its address.
    if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`http: ${response.status()} ${response.request().method()} ${response.url()}`);
  });
  page.on('requestfailed', (request) => {
    // ERR_ABORTED: a navigation cut off a body nobody was reading (or a fetch was aborted on purpose).
    const reason = request.failure()?.errorText ?? '';
    if (reason !== 'net::ERR_ABORTED') problems.push(`network: ${reason} ${request.method()} ${request.url()}`);
  });
  return { context, page, problems };
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0)); // a sticky header would be drawn mid-page otherwise
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Opens the H5 page (with optional query hooks) and waits until Subscribe is enabled. */
export async function openSubscribePage(page, base, query = {}) {
  const url = new URL('/', base);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
  await page.goto(url.href);
  await page.locator('body[data-ready="true"]').waitFor();
}

/** Picks template, scene and landing page, presses Subscribe, and waits for the consent page. */
export async function subscribe(page, { template, scene, landing } = {}) {
  if (template !== undefined) await page.getByTestId('template').selectOption(template);
  if (scene !== undefined) await page.getByTestId('scene').fill(String(scene));
  if (landing === 'hash') await page.getByTestId('landing-hash').check();
  await page.getByTestId('subscribe').click();
  await page.waitForURL((u) => u.pathname === '/mp/subscribemsg');
  await page.getByTestId('consent').waitFor();
}

/** On the consent page: Allow ("confirm") or Cancel ("cancel"); waits for the landing page's result. */
export async function decide(page, decision) {
  await page.getByRole('button', { name: decision === 'confirm' ? /Allow/ : /Cancel/ }).click();
  await page.waitForURL((u) => u.pathname === '/callback.html');
  return waitForResult(page);
}

/** Reads, from the consent page, the address the simulator would send Allow/Cancel to, without going. */
export async function callbackLocationFromConsent(page, decision = 'confirm') {
  const fields = await page.getByTestId('consent-form').evaluate((form) => [...new FormData(form).entries()]);
  const form = Object.fromEntries([...fields, ['decision', decision]]);
  const response = await page.context().request.post(new URL('/mp/subscribemsg', page.url()).href, { form, maxRedirects: 0 });
  if (response.status() !== 303) throw new Error(`the simulator answered ${response.status()} instead of 303`);
  return response.headers().location;
}

/** Waits until the landing page has settled and returns what it shows. */
export async function waitForResult(page) {
  const result = page.getByTestId('result');
  await page.locator('[data-testid="result"]:not([data-state="loading"])').waitFor();
  return result.evaluate((node) => ({
    state: node.dataset.state,
    delivered: node.dataset.delivered,
    replayed: node.dataset.replayed,
    code: node.dataset.code,
    title: node.querySelector('[data-testid="result-title"]').textContent,
    scene: node.querySelector('[data-testid="result-scene"]').textContent,
    template: node.querySelector('[data-testid="result-template"]').title,
    openid: node.querySelector('[data-testid="result-openid"]').textContent,
    errorCode: node.querySelector('[data-testid="error-code"]').textContent,
    errorMessage: node.querySelector('[data-testid="error-message"]').textContent,
  }));
}

/** Everything one e2e test file needs: one browser; per scenario a fresh server, data dir and phone. */
export function e2eSuite({ before, after }) {
  const state = { browser: null };
  before(async () => {
    requirePackage();
    state.browser = await launchBrowser();
  });
  after(async () => {
    await state.browser?.close();
  });
  /** Runs fn({ server, page, context, sink }) against a fresh server and a fresh phone. */
  state.scenario = async (options, fn) => {
    if (typeof options === 'function') [fn, options] = [options, {}];
    requirePackage();
    const server = await startInProcess(options.env, { pkgDir: PKG_DIR });
    const phone = await newPhone(state.browser, options);
    try {
      await fn({ ...phone, server, sink: server.sink, base: server.url });
      // Failing deliveries show up as failed loads: expected where the fault switch is on.
      const problems = phone.problems.filter((p) => !(options.networkErrors && /^(http|network): .*\/api\/grants$/.test(p)));
      if (problems.length) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
    } finally {
      await phone.context.close();
      await server.stop();
    }
  };
  return state;
}
