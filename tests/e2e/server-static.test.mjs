// The server's plumbing: static files and MIME types (application/wasm, text/javascript), caching
// headers, what stays hidden, /config.json, configuration from the environment, and the CLI
// (`node www/server.mjs`: prints its URL, starts fast, fails clearly, imports without side effects).
// Needs no built package: /pkg/ is pointed at a fixture directory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig, parseFaults } from '../../www/lib/config.mjs';
import { serveFiles } from '../../www/lib/static.mjs';
import { APPID, ROOT, TEMPLATE_A, TEMPLATE_B, startDemo, startInProcess, tempDataDir } from './harness.mjs';

describe('static files', () => {
  let server;
  let pkgDir;
  before(async () => {
    pkgDir = tempDataDir();
    fs.writeFileSync(path.join(pkgDir, 'index.js'), 'export const ok = true;\n');
    fs.writeFileSync(path.join(pkgDir, 'wx_subscribemsg_bg.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    fs.writeFileSync(path.join(pkgDir, 'package.json'), '{"name":"wx-subscribemsg"}\n');
    fs.writeFileSync(path.join(pkgDir, 'index.d.ts'), 'export declare const ok: boolean;\n');
    server = await startInProcess({}, { pkgDir });
    fs.writeFileSync(path.join(server.dataDir, 'MP_verify_AbC123.txt'), 'AbC123');
  });
  after(async () => {
    await server.stop();
    fs.rmSync(pkgDir, { recursive: true, force: true });
  });
  const get = (pathname, init) => fetch(new URL(pathname, server.url), init);

  const types = [
    ['/', 'text/html; charset=utf-8'],
    ['/index.html', 'text/html; charset=utf-8'],
    ['/callback.html', 'text/html; charset=utf-8'],
    ['/app.css', 'text/css; charset=utf-8'],
    ['/favicon.svg', 'image/svg+xml'],
    ['/js/subscribe.mjs', 'text/javascript; charset=utf-8'],
    ['/js/callback.mjs', 'text/javascript; charset=utf-8'],
    ['/pkg/index.js', 'text/javascript; charset=utf-8'],
    ['/pkg/wx_subscribemsg_bg.wasm', 'application/wasm'],
    ['/pkg/package.json', 'application/json; charset=utf-8'],
    ['/pkg/index.d.ts', 'text/plain; charset=utf-8'],
    ['/MP_verify_AbC123.txt', 'text/plain; charset=utf-8'],
  ];
  for (const [pathname, type] of types) {
    test(`${pathname} is ${type}, revalidated on every use`, async () => {
      const response = await get(pathname);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), type);
      assert.equal(response.headers.get('cache-control'), 'no-cache');
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(response.headers.get('etag'));
      assert.equal(Number(response.headers.get('content-length')), (await response.arrayBuffer()).byteLength);
    });
  }

  test('a matching If-None-Match gets 304; a rebuilt file gets a new ETag', async () => {
    const first = await get('/pkg/index.js');
    const etag = first.headers.get('etag');
    assert.equal((await get('/pkg/index.js', { headers: { 'If-None-Match': etag } })).status, 304);
    fs.writeFileSync(path.join(pkgDir, 'index.js'), 'export const ok = "rebuilt";\n');
    const rebuilt = await get('/pkg/index.js', { headers: { 'If-None-Match': etag } });
    assert.equal(rebuilt.status, 200);
    assert.match(await rebuilt.text(), /rebuilt/);
  });

  test('HEAD answers the headers only', async () => {
    const response = await get('/pkg/wx_subscribemsg_bg.wasm', { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/wasm');
    assert.equal(response.headers.get('content-length'), '8');
  });

  for (const pathname of [
    '/server.mjs',
    '/lib/config.mjs',
    '/lib/sink.mjs',
    '/README-demo.md',
    '/data/grants.jsonl',
    '/grants.jsonl',
    '/MP_verify_x.html',
    '/pkg/..%2f..%2fpackage.json',
    '/%2e%2e/package.json',
    '/js/%2e%2e/%2e%2e/package.json',
    '/pkg/%00',
    '/.gitignore',
    '/nope.html',
    '/sends.jsonl',
    '/wechat-sim.jsonl',
    '/lib/send.mjs',
  ]) {
    test(`${pathname} is not served`, async () => {
      const response = await get(pathname);
      assert.equal(response.status, 404);
    });
  }

  test('/pkg/ without a build says how to build it', async () => {
    const response = await get('/pkg/missing.js');
    assert.equal(response.status, 404);
    assert.match(await response.text(), /npm run build/);
  });

  test('/config.json gives the pages their configuration', async () => {
    const response = await get('/config.json');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await response.json(), {
      appid: APPID,
      templateIds: [TEMPLATE_A, TEMPLATE_B],
      businessDomain: '127.0.0.1',
      authorizeUrl: '/mp/subscribemsg',
      simulator: true,
      grantEndpoint: '/api/grants',
      faultsEndpoint: '/api/faults',
      pkgBuilt: true,
      sendEndpoint: '/api/send',
      sendsEndpoint: '/api/sends',
      sendApi: 'simulator',
      inboxUrl: '/inbox',
    });
  });
});

describe('serveFiles: the static file server for tests and benches', () => {
  test('serves each directory at its mount with its MIME type, 404 for the rest, nothing outside', async () => {
    const pkgDir = tempDataDir();
    const siteDir = tempDataDir();
    fs.writeFileSync(path.join(pkgDir, 'm_bg.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    fs.writeFileSync(path.join(siteDir, 'index.html'), '<!doctype html><title>home</title>');
    fs.writeFileSync(path.join(siteDir, 'app.js'), 'export {};');
    const server = http.createServer(serveFiles({ root: pkgDir, mount: '/pkg/' }, { root: siteDir }));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const get = (pathname) => fetch(`http://127.0.0.1:${server.address().port}${pathname}`);
    try {
      const types = async (pathname) => [
        (await get(pathname)).status,
        (await get(pathname)).headers.get('content-type'),
      ];
      assert.deepEqual(await types('/pkg/m_bg.wasm'), [200, 'application/wasm']);
      assert.deepEqual(await types('/'), [200, 'text/html; charset=utf-8']);
      assert.deepEqual(await types('/app.js'), [200, 'text/javascript; charset=utf-8']);
      for (const pathname of ['/nope.js', '/pkg/nope.wasm', '/pkg/..%2findex.html', '/%2e%2e/%2e%2e/etc/passwd']) {
        assert.equal((await get(pathname)).status, 404, pathname);
      }
    } finally {
      server.close();
      fs.rmSync(pkgDir, { recursive: true, force: true });
      fs.rmSync(siteDir, { recursive: true, force: true });
    }
  });
});

describe('configuration', () => {
  test('defaults', () => {
    const config = loadConfig({});
    assert.equal(config.appid, APPID);
    assert.deepEqual(config.templateIds, [TEMPLATE_A, TEMPLATE_B]);
    assert.equal(config.businessDomain, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, path.join(ROOT, 'www', 'data'));
    assert.equal(config.authorizeUrl, '');
    assert.deepEqual(config.faults, { queue: [], down: null });
    assert.equal(config.wxApiBase, '', 'the local send API simulator');
    assert.equal(config.wxAccessToken, '');
    assert.equal(config.simAccessToken, 'SIMULATED_ACCESS_TOKEN');
  });

  test('the send API: WX_API_BASE needs WX_ACCESS_TOKEN; a trailing slash is dropped; bad values are named', () => {
    const real = loadConfig({ WX_API_BASE: 'https://api.weixin.qq.com/', WX_ACCESS_TOKEN: 'ACCESS_TOKEN_123' });
    assert.equal(real.wxApiBase, 'https://api.weixin.qq.com');
    assert.equal(real.wxAccessToken, 'ACCESS_TOKEN_123');
    assert.throws(
      () => loadConfig({ WX_API_BASE: 'https://api.weixin.qq.com' }),
      /WX_ACCESS_TOKEN is required when WX_API_BASE is set/,
    );
    assert.throws(
      () => loadConfig({ WX_API_BASE: 'api.weixin.qq.com?x=1', WX_ACCESS_TOKEN: 'has space', SIM_ACCESS_TOKEN: 'é' }),
      (err) => {
        assert.deepEqual(
          err.problems.map((p) => p.split(' ')[0]),
          ['WX_API_BASE', 'SIM_ACCESS_TOKEN', 'WX_ACCESS_TOKEN'],
        );
        return true;
      },
    );
  });

  test('environment overrides', () => {
    const config = loadConfig({
      APPID: 'wx0123456789abcdef',
      TEMPLATE_ID: 'OnlyOne',
      BUSINESS_DOMAIN: 'Demo.Example.com',
      PORT: '0',
      DATA_DIR: 'relative/dir',
      AUTHORIZE_URL: 'https://mp.weixin.qq.com/mp/subscribemsg',
      FAULTS: '503,reset,down:500',
    });
    assert.equal(config.appid, 'wx0123456789abcdef');
    assert.deepEqual(config.templateIds, ['OnlyOne']);
    assert.equal(config.businessDomain, 'demo.example.com');
    assert.equal(config.port, 0);
    assert.equal(config.dataDir, path.resolve('relative/dir'));
    assert.equal(config.authorizeUrl, 'https://mp.weixin.qq.com/mp/subscribemsg');
    assert.deepEqual(config.faults, { queue: [503, 'reset'], down: 500 });
  });

  test('APPID and TEMPLATE_ID take what the package takes: uppercase hex digits, template ids of 65..128 characters', () => {
    const long = 'T'.repeat(128);
    const config = loadConfig({ APPID: 'wxABA38C7F163DA69B', TEMPLATE_ID: `${'a'.repeat(65)},${long}` });
    assert.equal(config.appid, 'wxABA38C7F163DA69B');
    assert.deepEqual(config.templateIds, ['a'.repeat(65), long]);
    assert.throws(() => loadConfig({ TEMPLATE_ID: `${long}x` }), /TEMPLATE_ID "T+x" is not a template id/);
  });

  test('every invalid variable is reported at once', () => {
    assert.throws(
      () =>
        loadConfig({
          APPID: 'wxABC',
          BUSINESS_DOMAIN: 'https://example.com/path',
          PORT: '99999',
          AUTHORIZE_URL: 'mp.weixin.qq.com',
          FAULTS: '200',
        }),
      (err) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(
          err.problems.map((p) => p.split(' ')[0]),
          ['APPID', 'BUSINESS_DOMAIN', 'PORT', 'AUTHORIZE_URL', 'FAULTS:'],
        );
        return true;
      },
    );
  });

  test('FAULTS syntax', () => {
    assert.deepEqual(parseFaults(''), { queue: [], down: null });
    assert.deepEqual(parseFaults('503, 503'), { queue: [503, 503], down: null });
    assert.deepEqual(parseFaults('down'), { queue: [], down: 503 });
    assert.throws(() => parseFaults('later'), /not a fault/);
  });
});

describe('the CLI: node www/server.mjs', () => {
  test('prints its URL and configuration within a second, serves, and stops on SIGTERM', async () => {
    const started = performance.now();
    const server = await startDemo({ TEMPLATE_ID: TEMPLATE_A });
    const elapsed = performance.now() - started;
    try {
      assert.ok(elapsed < 1000, `started in ${Math.round(elapsed)} ms`);
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const output = server.output();
      for (const name of [
        'APPID',
        'TEMPLATE_ID',
        'BUSINESS_DOMAIN',
        'PORT',
        'DATA_DIR',
        'AUTHORIZE_URL',
        'WX_API_BASE',
        'WX_ACCESS_TOKEN',
        'SIM_ACCESS_TOKEN',
      ]) {
        assert.match(output, new RegExp(`^  ${name} +\\S`, 'm'), `${name} is printed`);
      }
      assert.match(output, /^ {2}AUTHORIZE_URL +http:\/\/127\.0\.0\.1:\d+\/mp\/subscribemsg \(local simulator\)/m);
      assert.match(output, /^ {2}WX_API_BASE +http:\/\/127\.0\.0\.1:\d+\/wxapi \(local send API simulator\)/m);
      assert.equal((await fetch(server.url)).status, 200);
    } finally {
      await server.stop();
    }
    assert.equal(server.child.signalCode ?? server.child.exitCode, 0, 'a clean exit on SIGTERM');
  });

  test('an invalid configuration exits 1 and names the variable', async () => {
    const dataDir = tempDataDir();
    const { code, output } = await run(['www/server.mjs'], { APPID: 'not-an-appid', PORT: '0', DATA_DIR: dataDir });
    fs.rmSync(dataDir, { recursive: true, force: true });
    assert.equal(code, 1);
    assert.match(output, /APPID must be "wx" followed by 16 hex digits/);
  });

  test('a port in use exits 1 and says to set PORT', async () => {
    const blocker = net.createServer();
    await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const dataDir = tempDataDir();
      const { code, output } = await run(['www/server.mjs'], {
        PORT: String(blocker.address().port),
        DATA_DIR: dataDir,
      });
      fs.rmSync(dataDir, { recursive: true, force: true });
      assert.equal(code, 1);
      assert.match(output, /is in use; set PORT/);
    } finally {
      blocker.close();
    }
  });

  test('importing the module starts nothing', async () => {
    const { code, output } = await run(
      ['--input-type=module', '-e', "const m = await import('./www/server.mjs'); console.log(typeof m.startServer);"],
      {},
    );
    assert.equal(code, 0);
    assert.equal(output, 'function\n');
  });
});

function run(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH, ...env } });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
