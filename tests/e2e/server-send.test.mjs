// POST /api/send over HTTP, with the built package's Node entry (buildSendRequest, explainErrcode):
// the request WeChat receives, the typed validation errors, the local 43101 for a used grant, what
// each errcode of the API does to the grant's permit (against a stub API), network failures, one
// API call for concurrent sends, durability, and the access token staying on the server.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  APPID,
  PKG_DIR,
  TEMPLATE_A,
  consentOverHttp,
  requirePackage,
  startInProcess,
  tempDataDir,
} from './harness.mjs';

let pkg;
before(async () => {
  requirePackage();
  pkg = await import(pathToFileURL(path.join(PKG_DIR, 'node.js')).href);
});

let nextKey = 0;
/** Allow on the consent simulator, then deliver the grant to the sink like the package does. */
async function grant(base, { scene = 1000, template = TEMPLATE_A, cookie } = {}) {
  nextKey += 1;
  const reserved = `Grant${nextKey}x${scene}`;
  const user = await consentOverHttp(base, { scene, template, cookie, reserved });
  const response = await fetch(new URL('/api/grants', base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': reserved },
    body: JSON.stringify({ appid: APPID, openid: user.openid, template_id: template, scene, reserved }),
  });
  assert.equal(response.status, 201);
  return { ...user, reserved, scene, template };
}

async function send(base, body, { contentType = 'application/json', raw } = {}) {
  const response = await fetch(new URL('/api/send', base), {
    method: 'POST',
    headers: contentType ? { 'Content-Type': contentType } : {},
    body: raw ?? JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const simState = async (base) => (await fetch(new URL('/wxapi/simulator', base))).json();
const sendsOf = async (base, reserved) =>
  (await (await fetch(new URL(`/api/sends?reserved=${reserved}`, base))).json()).sends;

describe('/api/send against the simulator', () => {
  let server;
  let base;
  before(async () => {
    server = await startInProcess({}, { pkgDir: PKG_DIR });
    base = server.url;
  });
  after(() => server.stop());

  test("sends the grant's message: 200, errcode 0, the explanation, and the exact body WeChat received", async () => {
    const g = await grant(base);
    const input = {
      reserved: g.reserved,
      title: 'Order shipped',
      content: 'It arrives tomorrow.',
      color: '#173177',
      url: 'https://example.com/o/1',
    };
    const { status, body } = await send(base, input);
    assert.equal(status, 200);
    assert.equal(body.errcode, 0);
    assert.equal(body.errmsg, 'ok');
    assert.deepEqual(body.explanation, pkg.explainErrcode(0));
    assert.equal(body.source, 'wechat');
    assert.equal(body.permit, 'used');
    const expected = pkg.buildSendRequest({
      openid: g.openid,
      templateId: TEMPLATE_A,
      scene: 1000,
      title: input.title,
      content: input.content,
      color: input.color,
      url: input.url,
    });
    assert.deepEqual(body.request, expected);
    assert.equal(
      JSON.stringify(body.request),
      `{"touser":"${g.openid}","template_id":"${TEMPLATE_A}","url":"https://example.com/o/1","scene":"1000","title":"Order shipped","data":{"content":{"value":"It arrives tomorrow.","color":"#173177"}}}`,
      "WeChat's field order, scene as a string",
    );

    const { messages, permits, stats } = await simState(base);
    assert.equal(messages.length, 1);
    assert.deepEqual(
      [messages[0].openid, messages[0].scene, messages[0].title, messages[0].color],
      [g.openid, '1000', 'Order shipped', '#173177'],
    );
    assert.equal(permits[0].permits, 0);
    assert.equal(stats.calls, 1);
    const sends = await sendsOf(base, g.reserved);
    assert.deepEqual(
      sends.map((s) => [s.errcode, s.consumed]),
      [[0, true]],
    );
    const lines = fs.readFileSync(path.join(server.dataDir, 'sends.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]), sends[0]);
  });

  test('a second send of the same grant: 409, 43101 explained, source local, WeChat not called', async () => {
    const [g] = (await (await fetch(new URL('/api/grants', base))).json()).grants;
    const callsBefore = (await simState(base)).stats.calls;
    const { status, body } = await send(base, { reserved: g.reserved, title: 'Again', content: 'Once more.' });
    assert.equal(status, 409);
    assert.equal(body.errcode, 43101);
    assert.equal(body.source, 'local');
    assert.equal(body.permit, 'used');
    assert.equal(body.request, null);
    assert.deepEqual(body.explanation, pkg.explainErrcode(43101));
    assert.equal(body.explanation.name, 'user_refused');
    assert.equal((await simState(base)).stats.calls, callsBefore, 'no API call spent on a known answer');
    assert.equal((await simState(base)).messages.length, 1);
    assert.equal((await sendsOf(base, g.reserved)).length, 1, 'a local refusal is not an attempt');
  });

  const invalid = [
    ['a title of 16 characters', { title: 'x'.repeat(16) }, 400, 'invalid_title'],
    ['an empty title', { title: '' }, 400, 'invalid_title'],
    ['a title that is a number', { title: 5 }, 400, 'invalid_title'],
    ['content of 201 characters', { content: 'y'.repeat(201) }, 400, 'invalid_content'],
    ['no content', { content: undefined }, 400, 'invalid_content'],
    ['colour "red"', { color: 'red' }, 400, 'invalid_color'],
    ['an ftp url', { url: 'ftp://example.com/x' }, 400, 'invalid_url'],
    ['a relative url', { url: '/orders/1' }, 400, 'invalid_url'],
    ['a miniprogram with a bad appid', { miniprogram: { appid: 'wx1' } }, 400, 'invalid_miniprogram'],
    ['a miniprogram that is a string', { miniprogram: 'wx0123456789abcdef' }, 400, 'invalid_miniprogram'],
    ['an unknown field (a typo of color)', { colour: '#173177' }, 400, 'invalid_option'],
    ['no reserved', { reserved: undefined }, 400, 'invalid_reserved'],
    ['a reserved with a dash', { reserved: 'abc-def' }, 400, 'invalid_reserved'],
    ['a reserved no grant has', { reserved: 'NoSuchGrant123' }, 404, 'unknown_grant'],
  ];
  describe('refuses a bad request without calling WeChat or using the permit', () => {
    let g;
    let callsBefore;
    before(async () => {
      g = await grant(base, { scene: 2000 });
      callsBefore = (await simState(base)).stats.calls;
    });
    for (const [name, over, status, code] of invalid) {
      test(`${name}: ${status} ${code}`, async () => {
        const { status: got, body } = await send(base, {
          reserved: g.reserved,
          title: 'Fine title',
          content: 'Fine content.',
          ...over,
        });
        assert.equal(got, status);
        assert.equal(body.error.code, code);
        assert.equal(typeof body.error.message, 'string');
        assert.ok(body.error.message.length > 10);
      });
    }
    test('not JSON: 400 invalid_json; a JSON array: 400; no Content-Type: 415; over 16 KiB: 413; GET: 405', async () => {
      assert.deepEqual(
        [
          (await send(base, null, { raw: '{"reserved":' })).status,
          (await send(base, null, { raw: '{"reserved":' })).body.error.code,
        ],
        [400, 'invalid_json'],
      );
      assert.equal((await send(base, [])).status, 400);
      assert.equal((await send(base, { reserved: g.reserved }, { contentType: null })).status, 415);
      assert.equal((await send(base, { reserved: g.reserved, title: 'x', content: 'y'.repeat(20_000) })).status, 413);
      const get = await fetch(new URL('/api/send', base));
      assert.equal(get.status, 405);
      assert.equal(get.headers.get('allow'), 'POST');
    });
    test('afterwards: no API call was made, and the grant still sends (15 Chinese characters fit)', async () => {
      assert.equal((await simState(base)).stats.calls, callsBefore);
      assert.equal((await sendsOf(base, g.reserved)).length, 0);
      const { status, body } = await send(base, {
        reserved: g.reserved,
        title: '订单已发货订单已发货订单已发货',
        content: '包'.repeat(200),
      });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.request.scene, '2000');
    });
  });

  test('a mini program and a url: both are sent; the inbox opens the mini program', async () => {
    const g = await grant(base, { scene: 3000 });
    const { status, body } = await send(base, {
      reserved: g.reserved,
      title: 'Mini program',
      content: 'Open it.',
      url: 'https://example.com/fallback',
      miniprogram: { appid: 'wx0123456789abcdef', pagepath: 'pages/order?id=1' },
    });
    assert.equal(status, 200);
    assert.match(
      JSON.stringify(body.request),
      /"url":"https:\/\/example.com\/fallback","miniprogram":\{"appid":"wx0123456789abcdef","pagepath":"pages\/order\?id=1"\},"scene":"3000"/,
    );
    const html = await (
      await fetch(new URL('/inbox?chat=notifications', base), { headers: { Cookie: g.cookie } })
    ).text();
    assert.match(html, /data-testid="message-link" data-kind="miniprogram"/);
  });

  test('two grants of the same scene (two Allows): one permit; the second send is 43101 from WeChat', async () => {
    const first = await grant(base, { scene: 4000 });
    const second = await grant(base, { scene: 4000, cookie: first.cookie });
    assert.equal(first.openid, second.openid);
    assert.notEqual(first.reserved, second.reserved);
    const permit = (await simState(base)).permits.find((p) => p.openid === first.openid && p.scene === '4000');
    assert.deepEqual([permit.permits, permit.authorizations], [1, 2]);

    assert.equal(
      (await send(base, { reserved: second.reserved, title: 'One', content: 'The one message.' })).status,
      200,
    );
    const refused = await send(base, { reserved: first.reserved, title: 'Two', content: 'No permit left.' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.errcode, 43101);
    assert.equal(refused.body.source, 'wechat');
    assert.match(refused.body.errmsg, /^user refuse to accept the msg rid: /);
    assert.equal(refused.body.permit, 'used', 'WeChat says there is no permit: the grant is spent');
    assert.deepEqual(
      (await sendsOf(base, first.reserved)).map((s) => [s.errcode, s.consumed]),
      [[43101, true]],
    );
    // and now it is refused locally
    assert.equal((await send(base, { reserved: first.reserved, title: 'Three', content: 'x' })).body.source, 'local');
  });

  test('concurrent sends of one grant: one API call, one message, the others refused locally', async () => {
    const g = await grant(base, { scene: 5000 });
    const before = await simState(base);
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        send(base, { reserved: g.reserved, title: `Click ${i}`, content: 'Impatient.' }),
      ),
    );
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409, 409, 409, 409]);
    assert.ok(answers.filter((a) => a.status === 409).every((a) => a.body.source === 'local'));
    const after = await simState(base);
    assert.equal(after.stats.calls - before.stats.calls, 1);
    assert.equal(after.messages.length - before.messages.length, 1);
  });

  test('a wrong WX_ACCESS_TOKEN: 40001 from the simulator, 502, the permit stays available', async () => {
    const other = await startInProcess({ WX_ACCESS_TOKEN: 'WrongToken' }, { pkgDir: PKG_DIR });
    try {
      assert.equal(other.apiBase, `${other.url}wxapi`, 'WX_ACCESS_TOKEN alone keeps the local simulator');
      const g = await grant(other.url);
      const { status, body } = await send(other.url, { reserved: g.reserved, title: 'Hello', content: 'World' });
      assert.equal(status, 502);
      assert.equal(body.errcode, 40001);
      assert.equal(body.explanation.retry, 'refresh_token');
      assert.equal(body.permit, 'available');
      assert.equal((await simState(other.url)).permits[0].permits, 1, "WeChat's permit is untouched too");
      assert.ok(
        other.lines.some((l) => /^ {2}WX_ACCESS_TOKEN +\(set, 10 characters, not shown\)$/.test(l)),
        other.lines.join('\n'),
      );
      assert.ok(!other.lines.join('\n').includes('WrongToken'), 'the token is never printed');
    } finally {
      await other.stop();
    }
  });

  const simFaults = (base, faults) =>
    fetch(new URL('/wxapi/simulator/faults', base), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(faults),
    });

  test("the token is the simulator's stable_token; rotated there, it is refreshed once and the send retried once", async () => {
    const g = await grant(base, { scene: 6000 });
    const before = (await simState(base)).stats;
    await simFaults(base, { rotateToken: true });
    const { status, body } = await send(base, { reserved: g.reserved, title: 'Hi', content: 'There' });
    assert.deepEqual([status, body.state, body.errcode], [200, 'sent', 0]);
    const after = (await simState(base)).stats;
    assert.equal(after.calls - before.calls, 2, 'the refused send and the retry');
    assert.ok(after.tokenCalls - before.tokenCalls <= 2, 'at most the first token and one refresh');
    assert.equal(after.forceRefreshes, 0);
  });

  test('a lost answer: 502, the grant stays sendable; the next click gets 43101 and the grant is sent, one message', async () => {
    const g = await grant(base, { scene: 6001 });
    await simFaults(base, { send: ['lost'] });
    const lost = await send(base, { reserved: g.reserved, title: 'Hi', content: 'There' });
    assert.deepEqual([lost.status, lost.body.error.code], [502, 'api_unreachable']);
    const messages = async () =>
      (await simState(base)).messages.filter((m) => m.openid === g.openid && m.scene === '6001');
    assert.equal((await messages()).length, 1, 'WeChat delivered before the connection dropped');
    const again = await send(base, { reserved: g.reserved, title: 'Hi', content: 'There' });
    assert.deepEqual(
      [again.status, again.body.state, again.body.name, again.body.errcode],
      [200, 'sent', 'sent_earlier', 43101],
    );
    assert.equal((await messages()).length, 1, 'exactly one message');
    const third = await send(base, { reserved: g.reserved, title: 'Hi', content: 'There' });
    assert.deepEqual([third.status, third.body.source], [409, 'local']);
  });

  test('the access token never reaches the browser', async () => {
    const config = await (await fetch(new URL('/config.json', base))).text();
    assert.doesNotMatch(config, /SIMULATED_ACCESS_TOKEN|access_token/i);
    const grants = await (await fetch(new URL('/api/sends', base))).text();
    assert.doesNotMatch(grants, /SIMULATED_ACCESS_TOKEN/);
  });
});

/** A stand-in for WeChat's API answering the queued errcodes (or failures) in turn. */
async function stubApi() {
  const queue = [];
  const received = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      received.push({ url: req.url, method: req.method, type: req.headers['content-type'], body: text });
      const next = queue.shift() ?? 0;
      if (next === 'reset') return req.socket.destroy();
      if (next === 'html') {
        res.writeHead(500, { 'Content-Type': 'text/html' });
        return res.end('<h1>Bad gateway</h1>');
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ errcode: next, errmsg: next === 0 ? 'ok' : `stub ${next}` }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    queue,
    received,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('/api/send against another WX_API_BASE: what each answer does to the permit', () => {
  let stub;
  let server;
  before(async () => {
    stub = await stubApi();
    server = await startInProcess(
      { WX_API_BASE: `${stub.base}/`, WX_ACCESS_TOKEN: 'Real-Looking_Token.123' },
      { pkgDir: PKG_DIR },
    );
  });
  after(async () => {
    await server?.stop();
    await stub?.close();
  });

  test('the request: POST base/cgi-bin/message/template/subscribe?access_token=…, JSON body; printed without the token', async () => {
    const g = await grant(server.url);
    stub.queue.push(0);
    assert.equal((await send(server.url, { reserved: g.reserved, title: 'Hi', content: 'There' })).status, 200);
    const [request] = stub.received;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/cgi-bin/message/template/subscribe?access_token=Real-Looking_Token.123');
    assert.match(request.type, /^application\/json/);
    assert.equal(
      request.body,
      JSON.stringify(
        pkg.buildSendRequest({ openid: g.openid, templateId: TEMPLATE_A, scene: 1000, title: 'Hi', content: 'There' }),
      ),
    );
    const printed = server.lines.join('\n');
    assert.match(printed, new RegExp(`^ {2}WX_API_BASE +${stub.base.replace(/[.]/g, '\\.')}$`, 'm'));
    assert.doesNotMatch(printed, /Real-Looking_Token/);
    const config = await (await fetch(new URL('/config.json', server.url))).json();
    assert.equal(config.sendApi, 'remote');
    assert.doesNotMatch(JSON.stringify(config), /Real-Looking_Token|127\.0\.0\.1:\d+/);
  });

  const kept = [-1, 40001, 42001, 40003, 40037, 47003, 48001, 45009];
  test(`errcodes ${kept.join(', ')}: 502 with the explanation; the permit stays available, each time`, async () => {
    const g = await grant(server.url, { scene: 2 });
    for (const errcode of kept) {
      // A refused token is dropped and the send retried once with a new one (here the same WX_ACCESS_TOKEN): two
      // requests, both refused.
      const tokenCode = pkg.explainErrcode(errcode).retry === 'refresh_token';
      stub.queue.push(...(tokenCode ? [errcode, errcode] : [errcode]));
      const requests = stub.received.length;
      const { status, body } = await send(server.url, { reserved: g.reserved, title: 'Hi', content: 'There' });
      assert.equal(stub.received.length - requests, tokenCode ? 2 : 1, `${errcode}: requests`);
      assert.equal(status, 502, `${errcode}`);
      assert.equal(body.errcode, errcode);
      assert.equal(body.errmsg, `stub ${errcode}`);
      assert.deepEqual(body.explanation, pkg.explainErrcode(errcode));
      assert.equal(body.permit, 'available', `${errcode} keeps the permit`);
      assert.equal(body.source, 'wechat');
    }
    assert.deepEqual(
      (await sendsOf(server.url, g.reserved)).map((s) => [s.errcode, s.consumed]),
      kept.map((e) => [e, false]),
    );
    stub.queue.push(0);
    assert.equal(
      (await send(server.url, { reserved: g.reserved, title: 'Hi', content: 'There' })).status,
      200,
      'then it sends',
    );
  });

  test('43101: 409, the permit is used (WeChat says it is gone), and the next try is refused locally', async () => {
    const g = await grant(server.url, { scene: 3 });
    stub.queue.push(43101);
    const { status, body } = await send(server.url, { reserved: g.reserved, title: 'Hi', content: 'There' });
    assert.deepEqual([status, body.errcode, body.source, body.permit], [409, 43101, 'wechat', 'used']);
    const calls = stub.received.length;
    assert.equal(
      (await send(server.url, { reserved: g.reserved, title: 'Hi', content: 'There' })).body.source,
      'local',
    );
    assert.equal(stub.received.length, calls);
  });

  test('a dropped connection or an answer without errcode: 502, permit available, nothing recorded; a retry sends', async () => {
    const g = await grant(server.url, { scene: 4 });
    stub.queue.push('reset', 'html', 0);
    const dropped = await send(server.url, { reserved: g.reserved, title: 'Hi', content: 'There' });
    assert.equal(dropped.status, 502);
    assert.equal(dropped.body.error.code, 'api_unreachable');
    assert.match(
      dropped.body.error.message,
      /could not reach the send API at http:\/\/127\.0\.0\.1:\d+\/cgi-bin\/message\/template\/subscribe/,
    );
    assert.doesNotMatch(dropped.body.error.message, /access_token|Real-Looking/);
    assert.equal(dropped.body.permit, 'available');
    const html = await send(server.url, { reserved: g.reserved, title: 'Hi', content: 'There' });
    assert.deepEqual([html.status, html.body.error.code], [502, 'api_bad_answer']);
    assert.equal((await sendsOf(server.url, g.reserved)).length, 0);
    assert.equal((await send(server.url, { reserved: g.reserved, title: 'Hi', content: 'There' })).status, 200);
  });
});

describe('/api/send: unreachable API, restarts, no package', () => {
  test('WX_API_BASE on a closed port: 502 api_unreachable, the permit stays available', async () => {
    const closed = http.createServer();
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address();
    await new Promise((resolve) => closed.close(resolve));
    const server = await startInProcess(
      { WX_API_BASE: `http://127.0.0.1:${port}`, WX_ACCESS_TOKEN: 'T' },
      { pkgDir: PKG_DIR },
    );
    try {
      const g = await grant(server.url);
      const { status, body } = await send(server.url, { reserved: g.reserved, title: 'Hi', content: 'There' });
      assert.equal(status, 502);
      assert.equal(body.error.code, 'api_unreachable');
      assert.match(body.error.message, /ECONNREFUSED/);
      assert.equal(body.permit, 'available');
      assert.equal((await sendsOf(server.url, g.reserved)).length, 0);
    } finally {
      await server.stop();
    }
  });

  test('a used grant stays used after a restart; an unused one still sends', async () => {
    const dataDir = tempDataDir();
    try {
      let server = await startInProcess({ DATA_DIR: dataDir }, { pkgDir: PKG_DIR });
      const used = await grant(server.url, { scene: 1 });
      const unused = await grant(server.url, { scene: 2, cookie: used.cookie });
      assert.equal((await send(server.url, { reserved: used.reserved, title: 'Hi', content: 'There' })).status, 200);
      await server.stop();
      server = await startInProcess({ DATA_DIR: dataDir }, { pkgDir: PKG_DIR });
      try {
        const again = await send(server.url, { reserved: used.reserved, title: 'Hi', content: 'There' });
        assert.deepEqual([again.status, again.body.source], [409, 'local']);
        assert.equal(
          (await send(server.url, { reserved: unused.reserved, title: 'Hi', content: 'There' })).status,
          200,
        );
      } finally {
        await server.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('values the package accepts pass every part of the demo: uppercase AppIDs, a 128-character template', async () => {
    // Each part checked these with its own copy of WeChat's rules, and the copies had drifted.
    const appid = 'wxABA38C7F163DA69B';
    const template = `${'T'.repeat(127)}_`;
    const server = await startInProcess({ APPID: appid, TEMPLATE_ID: template }, { pkgDir: PKG_DIR });
    try {
      const reserved = 'UpperCaseFlow1';
      const link = new URL(
        pkg.buildLink({
          appid,
          scene: 10000,
          templateId: template,
          redirectUrl: new URL('/callback.html', server.url).href,
          reserved,
          authorizeUrl: new URL('/mp/subscribemsg', server.url).href,
        }),
      );
      const consent = await fetch(link);
      assert.equal(consent.status, 200, 'the consent simulator shows the link');
      const allowed = await fetch(new URL('/mp/subscribemsg', server.url), {
        method: 'POST',
        body: new URLSearchParams([...link.searchParams, ['decision', 'confirm']]),
        headers: { Cookie: consent.headers.get('set-cookie').split(';')[0] },
        redirect: 'manual',
      });
      assert.equal(allowed.status, 303, 'the consent simulator takes the decision');
      const callback = pkg.parseCallback(new URL(allowed.headers.get('location')).search);
      const delivered = await fetch(new URL('/api/grants', server.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': reserved },
        body: JSON.stringify({
          appid,
          openid: callback.openid,
          template_id: template,
          scene: callback.scene,
          reserved,
        }),
      });
      assert.equal(delivered.status, 201, 'the sink stores the grant');
      const sent = await send(server.url, {
        reserved,
        title: 'Shipped',
        content: 'It arrives tomorrow.',
        miniprogram: { appid, pagepath: 'pages/order?id=1' },
      });
      assert.deepEqual([sent.status, sent.body.errcode], [200, 0], 'the send API simulator delivers it');
    } finally {
      await server.stop();
    }
  });

  test("without the package's Node entry: 503 package_not_built, and the rest of the server works", async () => {
    const pkgDir = tempDataDir();
    const server = await startInProcess({}, { pkgDir });
    try {
      const { status, body } = await send(server.url, { reserved: 'Abc', title: 'Hi', content: 'There' });
      assert.equal(status, 503);
      assert.equal(body.error.code, 'package_not_built');
      assert.match(body.error.message, /npm run build/);
      assert.equal((await fetch(new URL('/inbox', server.url))).status, 200);
    } finally {
      await server.stop();
      fs.rmSync(pkgDir, { recursive: true, force: true });
    }
  });
});
