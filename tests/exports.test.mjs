// Every export of the built package, called with every kind of JS value, in Node (node.js) and in Chromium
// (index.js): each call returns its documented value or throws (rejects with) a SubscribeError with a known
// code, never a RuntimeError from wasm, a bare TypeError or a hang, and the module still works afterwards.
// Run after `npm run build` (npm test does both).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../scripts/browsers.mjs';
import { ENGINES, openEngine } from './e2e/driver.mjs';
import { serveFiles } from '../www/lib/static.mjs';

const pkgDir = fileURLToPath(new URL('../pkg/', import.meta.url));
const CODES = [...readFileSync(new URL('../js/errors.d.ts', import.meta.url), 'utf8').matchAll(/\| '([a-z_]+)'/g)].map(
  (m) => m[1],
);

/**
 * Calls every function `module` exports with every value, once alone and once twice (for the two-argument
 * exports), and returns what happened: `[export, value, 'returned' | 'code:<code>' | 'WRONG <what>']`.
 * Written as one function so that its source runs unchanged in the browser (page.evaluate).
 */
async function probe(module, codes) {
  const hostile = (what) => {
    throw new Error(`hostile ${what}`);
  };
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const values = [
    ['undefined', undefined],
    ['null', null],
    ['0', 0],
    ['-1.5', -1.5],
    ['NaN', NaN],
    ['true', true],
    ['5n', 5n],
    ['Symbol()', Symbol('s')],
    ["'text'", 'text'],
    ["new String('MicroMessenger/8.0')", new String('MicroMessenger/8.0')],
    ['[]', []],
    ["[['a', 'b']]", [['a', 'b']]],
    ['() => {}', () => {}],
    ['{}', {}],
    ['getters that throw', Object.defineProperty({}, 'appid', { get: () => hostile('getter'), enumerable: true })],
    ['a Proxy whose traps throw', new Proxy({}, { get: () => hostile('get'), has: () => hostile('has') })],
    ['a revoked Proxy', revoked.proxy],
  ];
  const report = [];
  for (const [name, fn] of Object.entries(module)) {
    if (typeof fn !== 'function') continue;
    for (const [label, value] of values) {
      for (const args of [[value], [value, value]]) {
        let outcome;
        try {
          const result = fn(...args);
          // A promise must settle: a rejection is judged like a throw, a hang is a failure.
          if (result && typeof result.then === 'function') {
            await Promise.race([result, new Promise((_, reject) => setTimeout(() => reject(new Error('hang')), 5000))]);
          }
          outcome = 'returned';
        } catch (err) {
          const typed = err instanceof Error && err.name === 'SubscribeError' && codes.includes(err.code);
          outcome = typed ? `code:${err.code}` : `WRONG ${err?.name}: ${err?.message}`;
        }
        report.push([name, `${label} ×${args.length}`, outcome]);
      }
    }
  }
  return report;
}

/** What the module must still do after the probe: a panic in wasm would have killed it for the page. */
const VALID_LINK = {
  appid: 'wxaba38c7f163da69b',
  scene: 1000,
  templateId: 'T',
  redirectUrl: 'https://s.example/cb',
  reserved: 'r',
};

function judge(report, { exports, mustReturn = {} }) {
  assert.deepEqual([...new Set(report.map(([name]) => name))].sort(), [...exports].sort(), 'every export was called');
  const wrong = report.filter(([, , outcome]) => outcome.startsWith('WRONG'));
  assert.deepEqual(wrong, [], 'only SubscribeErrors with known codes');
  for (const [name, labels] of Object.entries(mustReturn)) {
    for (const [exported, label, outcome] of report.filter(([n]) => n === name)) {
      const expected = labels.some((l) => label.startsWith(`${l} ×`)) ? 'returned' : /^code:/;
      if (expected === 'returned') assert.equal(outcome, 'returned', `${exported}(${label})`);
      else assert.match(outcome, expected, `${exported}(${label})`);
    }
  }
}

test('Node: every export of node.js, every kind of value', async () => {
  const module = await import(`${pkgDir}node.js`);
  // openFileStore('text') opens ./text: in a directory of its own, not the repository.
  const cwd = process.cwd();
  const scratch = mkdtempSync(join(tmpdir(), 'wxsub-exports-'));
  process.chdir(scratch);
  let report;
  try {
    report = await probe(module, CODES);
  } finally {
    process.chdir(cwd);
    rmSync(scratch, { recursive: true, force: true });
  }
  judge(report, {
    exports: [
      'buildLink',
      'parseCallback',
      'isWeChat',
      'weChatVersion',
      'buildSendRequest',
      'explainErrcode',
      'decideSend',
      'priorAttemptMayHaveReachedWeChat',
      'readStableToken',
      'stableTokenProvider',
      'staticTokenProvider',
      'sendGrant',
      'startSendWorker',
      'parseGrant',
      'createGrantHandler',
      'createGrantListener',
      'openFileStore',
      'pgStore',
      'migrate',
      'migrationSql',
      // The browser's functions, as stand-ins for pages rendered on a server: each throws browser_only.
      'authorize',
      'handleCallback',
      'retryDeliveries',
    ],
    // Documented values: a user agent string is answered, null (a request without one) is not WeChat, and with
    // no argument a server cannot know (browser_only); an errcode number is explained.
    mustReturn: {
      isWeChat: ['null', "'text'"],
      weChatVersion: ['null', "'text'"],
      authorize: [],
      handleCallback: [],
      retryDeliveries: [],
      explainErrcode: ['0'],
      buildLink: [],
      parseCallback: [],
      buildSendRequest: [],
      parseGrant: [],
      createGrantHandler: [],
      createGrantListener: [],
      pgStore: [],
      migrate: [],
      // The default table, or a valid table name.
      migrationSql: ['undefined', 'null', "'text'"],
    },
  });
  assert.match(module.buildLink(VALID_LINK), /^https:\/\/mp\.weixin\.qq\.com\//);
  // A server cannot know the visitor's browser, and says so; the browser's functions name where to call them.
  for (const name of ['isWeChat', 'weChatVersion', 'authorize', 'handleCallback', 'retryDeliveries']) {
    const [, , outcome] = report.find(([n, label]) => n === name && label === 'undefined ×1');
    assert.equal(outcome, 'code:browser_only', `${name}() on the server`);
    const error = await (async () => module[name]())().then(
      () => null,
      (error) => error,
    );
    assert.ok(error?.message.startsWith(`${name}() `), `${name}() names itself: ${error?.message}`);
  }
});

let browser;
let server;

before(async () => {
  server = http.createServer(
    serveFiles({ root: pkgDir, mount: '/pkg/' }, { root: fileURLToPath(new URL('.', import.meta.url)) }),
  );
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  server?.close();
});

test('Chromium: every export of index.js, every kind of value', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`http://127.0.0.1:${server.address().port}/pkg/package.json`);
    const report = await page.evaluate(
      async ([source, codes]) => {
        const module = await import('/pkg/index.js');
        // eslint-disable-next-line no-new-func
        const probe = new Function(`return (${source})`)();
        return probe(module, codes);
      },
      [probe.toString(), CODES],
    );
    const exported = await page.evaluate(async () => Object.keys(await import('/pkg/index.js')));
    // The public API and nothing else: the core's exports that js/delivery.js binds to stay inside the entry.
    const api = ['authorize', 'buildLink', 'handleCallback', 'isWeChat', 'parseCallback', 'retryDeliveries'];
    assert.deepEqual([...exported].sort(), [...api, 'ready', 'weChatVersion'].sort());
    judge(report, {
      exports: api.concat('weChatVersion'),
      mustReturn: {
        isWeChat: ['undefined', 'null', "'text'"],
        weChatVersion: ['undefined', 'null', "'text'"],
        buildLink: [],
        authorize: [],
        parseCallback: [],
        handleCallback: [],
        retryDeliveries: [],
      },
    });
    const link = await page.evaluate(async (options) => (await import('/pkg/index.js')).buildLink(options), VALID_LINK);
    assert.match(link, /^https:\/\/mp\.weixin\.qq\.com\//, 'the module still works');
  } finally {
    await page.close();
  }
});

/**
 * Page code throwing through the module: `exceptions` throws from the browser objects the exports call into (the
 * URLSearchParams iterator, URL getters, URLSearchParams.append, navigator.userAgent), and `overflows` stack overflows
 * hit calls of every export at the edge of the JS stack (so some stop wasm code midway); then the whole flow runs.
 * Written as one function so that its source runs unchanged in a page.
 */
async function survive(module, { exceptions, overflows }) {
  const hostile = () => {
    throw new Error('hostile page code');
  };
  const query = '?openid=o1&template_id=T&action=confirm&scene=1&reserved=r1';
  const link = { appid: 'wxaba38c7f163da69b', scene: 1, templateId: 'T', redirectUrl: `${location.origin}/cb` };
  const sabotage = [
    [URLSearchParams.prototype, Symbol.iterator, () => module.parseCallback(query)],
    [URLSearchParams.prototype, 'append', () => module.buildLink({ ...link, reserved: 'r1' })],
    [URL.prototype, 'href', () => module.authorize(link)],
    [Navigator.prototype, 'userAgent', () => module.isWeChat()],
  ];
  const counts = { thrown: 0, overflows: 0, other: [] };
  for (let i = 0; counts.thrown < exceptions; i++) {
    const [target, key, call] = sabotage[i % sabotage.length];
    const own = Object.getOwnPropertyDescriptor(target, key);
    Object.defineProperty(target, key, { ...own, ...(own.get ? { get: hostile } : { value: hostile }) });
    try {
      call();
    } catch (error) {
      if (error?.name !== 'SubscribeError') counts.thrown += 1;
    } finally {
      Object.defineProperty(target, key, own);
    }
  }
  const calls = [
    () => module.isWeChat('MicroMessenger/8.0'),
    () => module.weChatVersion('MicroMessenger/8.0'),
    () => module.parseCallback(query),
    () => module.buildLink({ ...link, reserved: 'r1' }),
    () => module.authorize(link),
    () => module.handleCallback({ grantEndpoint: '/g', query: '?x=1' }).catch(() => {}),
    () => module.retryDeliveries({ grantEndpoint: '/g', fetch: () => Promise.reject(new Error('offline')) }),
  ];
  let turn = 0;
  let calm = false;
  // Down to the stack's edge, then, on the way back up, one export after another until one no longer overflows.
  const dive = (depth) => {
    try {
      dive(depth + 1);
    } catch {}
    while (!calm) {
      try {
        calls[turn++ % calls.length]();
        calm = true;
      } catch (error) {
        // Firefox calls a stack overflow InternalError ("too much recursion").
        if (error instanceof RangeError || error?.name === 'InternalError') counts.overflows += 1;
        else if (counts.other.length < 5) counts.other.push(String(error));
        return;
      }
    }
  };
  while (counts.overflows < overflows) {
    calm = false;
    dive(0);
  }
  sessionStorage.clear();
  localStorage.clear();
  // The flow, as a page runs it.
  const consent = new URL(module.authorize(link));
  const reserved = consent.searchParams.get('reserved');
  const callback = `?openid=oUser_1&template_id=T&action=confirm&scene=1&reserved=${reserved}`;
  const posts = [];
  const result = await module.handleCallback({
    grantEndpoint: '/api/grants',
    query: callback,
    cleanUrl: false,
    fetch: async (url, init) => {
      posts.push(init.body);
      return new Response(null, { status: 201 });
    },
  });
  return { counts, result, posts: posts.length };
}

/** Imports the entry in a page and runs survive() there (self-contained: it runs as a WebDriver script too). */
async function surviveIn(source) {
  const module = await import('/pkg/index.js');
  // eslint-disable-next-line no-new-func
  const run = new Function(`return (${source})`)();
  return run(module, { exceptions: 100_000, overflows: 10_000 });
}

for (const engine of ENGINES) {
  test(`${engine}: the module survives 100,000 exceptions and 10,000 stack overflows thrown through it`, async () => {
    const browser = await openEngine(engine);
    try {
      const tab = await browser.newTab();
      await tab.goto(`http://127.0.0.1:${server.address().port}/pkg/package.json`);
      const outcome = await tab.evaluate(surviveIn, survive.toString());
      assert.equal(outcome.counts.thrown, 100_000);
      assert.ok(outcome.counts.overflows >= 10_000, JSON.stringify(outcome.counts));
      assert.deepEqual(outcome.counts.other, [], "only the page's own errors and stack overflows came out");
      assert.deepEqual(
        [outcome.result.status, outcome.result.delivered, outcome.posts],
        ['granted', true, 1],
        JSON.stringify(outcome),
      );
    } finally {
      await browser.close();
    }
  });
}
