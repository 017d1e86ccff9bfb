// The e2e harness: the demo server (in-process or as `node www/server.mjs` on PORT=0 with a fresh
// temporary DATA_DIR), Chromium through playwright-core with a WeChat user agent on a 390×844 phone,
// the sink's API, the simulated WeChat's state, screenshots under test-results/e2e/, and the steps of
// the subscription flow (subscribe, decide, send, open the inbox).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../../scripts/browsers.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// E2E_PKG_DIR points the scenarios at another build of the package (default: the repo's pkg/).
export const PKG_DIR = process.env.E2E_PKG_DIR ? path.resolve(process.env.E2E_PKG_DIR) : path.join(ROOT, 'pkg');
export const PKG_ENTRY = path.join(PKG_DIR, 'index.js');
export const ARTIFACTS = path.join(ROOT, 'test-results', 'e2e');

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
    throw new Error(
      `${PKG_ENTRY} is missing: the e2e tests run against the built package. Run \`npm run build\` first.`,
    );
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
  const running = await startServer({
    env: { PORT: '0', DATA_DIR: dataDir, ...env },
    log: (text) => lines.push(...String(text).split('\n')),
    ...options,
  });
  return {
    ...running,
    dataDir,
    lines,
    sink: sinkApi(running.url),
    wechat: wechatApi(running.url),
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
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the demo server did not print its URL within 10 s:\n${output}`)),
      10_000,
    );
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
  for (const name of [
    'APPID',
    'TEMPLATE_ID',
    'BUSINESS_DOMAIN',
    'HOST',
    'PORT',
    'DATA_DIR',
    'AUTHORIZE_URL',
    'FAULTS',
    'WX_API_BASE',
    'WX_ACCESS_TOKEN',
    'SIM_ACCESS_TOKEN',
  ])
    delete env[name];
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

/**
 * Allow (or Cancel) on the consent simulator over HTTP, as the simulated user of `cookie` (a new one
 * without): the simulated WeChat gets the permit. Returns { openid, cookie, location }.
 */
export async function consentOverHttp(
  base,
  { scene = 1000, template = TEMPLATE_A, cookie, decision = 'confirm', reserved = 'R1' } = {},
) {
  const form = new URLSearchParams({
    action: 'get_confirm',
    appid: APPID,
    scene: String(scene),
    template_id: template,
    redirect_url: new URL('/callback.html', base).href,
    reserved,
    decision,
  });
  const response = await fetch(new URL('/mp/subscribemsg', base), {
    method: 'POST',
    body: form,
    redirect: 'manual',
    headers: cookie ? { Cookie: cookie } : {},
  });
  if (response.status !== 303) throw new Error(`the consent simulator answered ${response.status} instead of 303`);
  const location = new URL(response.headers.get('location'));
  return {
    openid: location.searchParams.get('openid'),
    cookie: cookie ?? response.headers.get('set-cookie').split(';')[0],
    location,
  };
}

/** What the simulated WeChat holds (users, permits, messages, API call counts) and the send log. */
export function wechatApi(base) {
  const get = async (pathname) => (await fetch(new URL(pathname, base))).json();
  return {
    state: () => get('/wxapi/simulator'),
    messages: async () => (await get('/wxapi/simulator')).messages,
    permits: async () => (await get('/wxapi/simulator')).permits,
    calls: async () => (await get('/wxapi/simulator')).stats.calls,
    sends: async () => (await get('/api/sends')).sends,
  };
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
    if (response.status() >= 400)
      problems.push(`http: ${response.status()} ${response.request().method()} ${response.url()}`);
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
  const response = await page
    .context()
    .request.post(new URL('/mp/subscribemsg', page.url()).href, { form, maxRedirects: 0 });
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

/**
 * On the landing page after a delivered grant: writes the message, presses Send and waits for the
 * answer on screen (the n-th answer of this page). Returns what the result box shows.
 */
export async function sendMessage(page, { title, content, color, url } = {}) {
  const box = page.getByTestId('send-result');
  const before = Number((await box.getAttribute('data-answered')) ?? 0);
  if (title !== undefined) await page.getByTestId('send-title').fill(title);
  if (content !== undefined) await page.getByTestId('send-content').fill(content);
  if (color !== undefined)
    await page.locator(`#send-form input[name="color"][value="${color}"]`).check({ force: true });
  if (url !== undefined) await page.getByTestId('send-url').fill(url);
  await page.getByTestId('send').click();
  await page.locator(`[data-testid="send-result"][data-answered="${before + 1}"]`).waitFor();
  return box.evaluate((node) => ({
    state: node.dataset.state,
    errcode: node.dataset.errcode,
    source: node.dataset.source,
    title: node.querySelector('[data-testid="send-result-title"]').textContent,
    errname: node.querySelector('[data-testid="send-errname"]').textContent,
    meaning: node.querySelector('[data-testid="send-meaning"]').textContent,
    action: node.querySelector('[data-testid="send-action"]').textContent,
    sourceText: node.querySelector('[data-testid="send-source"]').textContent,
    errmsg: node.querySelector('[data-testid="send-errmsg"]').textContent,
  }));
}

/** Opens the simulated WeChat inbox (a chat when given) and returns its chats' message counts. */
export async function openInbox(page, base, chat) {
  await page.goto(new URL(chat ? `/inbox?chat=${chat}` : '/inbox', base).href);
  if (chat) await page.getByTestId('thread').waitFor();
  else await page.getByTestId('inbox').waitFor();
}

/** The messages of the open inbox conversation, as shown. */
export async function shownMessages(page) {
  return page.getByTestId('message').evaluateAll((nodes) =>
    nodes.map((node) => ({
      title: node.querySelector('[data-testid="message-title"]').textContent,
      content: node.querySelector('[data-testid="message-content"]').textContent,
      color: getComputedStyle(node.querySelector('[data-testid="message-content"]')).color,
      scene: node.dataset.scene,
      link: node.querySelector('[data-testid="message-link"]')?.dataset.kind ?? null,
      href: node.querySelector('[data-testid="message-link"]')?.getAttribute('href') ?? null,
    })),
  );
}

/** Everything one e2e test file needs: one browser; per scenario a fresh server, data dir and phone. */
export function e2eSuite({ before, after }) {
  const state = { browser: null };
  before(async () => {
    requirePackage();
    state.browser = await launchChromium();
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
      await fn({ ...phone, server, sink: server.sink, wechat: server.wechat, base: server.url });
      // Failing deliveries show up as failed loads: expected where the fault switch is on; a refused
      // send (409, 400, 502) is an answer the scenario expects where it says so.
      const problems = phone.problems.filter(
        (p) =>
          !(options.networkErrors && /^(http|network): .*\/api\/grants$/.test(p)) &&
          !(options.refusedSends && /^http: (409|400|502) POST .*\/api\/send$/.test(p)),
      );
      if (problems.length) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
    } finally {
      await phone.context.close();
      await server.stop();
    }
  };
  return state;
}
