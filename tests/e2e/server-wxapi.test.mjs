// The simulator of WeChat's send API (/wxapi/cgi-bin/message/template/subscribe) over HTTP: its
// errcodes in WeChat's order (40001, 40003, 40037, 47003, 43101, 0 and the transport ones), the
// permit rule per (openid, template_id, scene) set by the consent simulator's Allow, where a message
// lands (follow or not), the inbox page, and durability across restarts. Needs no built package.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TEMPLATE_A, TEMPLATE_B, consentOverHttp as consent, startInProcess, tempDataDir } from './harness.mjs';

const TOKEN = 'SIMULATED_ACCESS_TOKEN';

/** POSTs a raw body to the simulated send API. */
async function callApi(base, body, { token = TOKEN, method = 'POST', raw } = {}) {
  const url = new URL('/wxapi/cgi-bin/message/template/subscribe', base);
  if (token !== null) url.searchParams.set('access_token', token);
  const response = await fetch(url, {
    method,
    headers: method === 'POST' ? { 'Content-Type': 'application/json' } : {},
    body: method === 'POST' ? (raw ?? JSON.stringify(body)) : undefined,
  });
  assert.equal(response.status, 200, 'WeChat answers HTTP 200 whatever the errcode');
  return response.json();
}

/** A body as the package builds it (key order included). */
const message = (openid, over = {}) => ({
  touser: openid,
  template_id: TEMPLATE_A,
  scene: '1000',
  title: 'Order shipped',
  data: { content: { value: 'It arrives tomorrow.' } },
  ...over,
});

const state = async (base) => (await fetch(new URL('/wxapi/simulator', base))).json();

describe('send API simulator: errcodes', () => {
  let server;
  let base;
  let user;
  before(async () => {
    server = await startInProcess();
    base = server.url;
    user = await consent(base, { scene: 1000 });
  });
  after(() => server.stop());

  test('a wrong access_token is 40001, a missing one 41001, before the body is even read', async () => {
    const wrong = await callApi(base, message(user.openid), { token: 'not-the-token' });
    assert.equal(wrong.errcode, 40001);
    assert.match(
      wrong.errmsg,
      /^invalid credential, access_token is invalid or not latest rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/,
    );
    assert.equal((await callApi(base, null, { token: 'not-the-token', raw: 'garbage' })).errcode, 40001);
    assert.equal((await callApi(base, message(user.openid), { token: null })).errcode, 41001);
  });

  test('GET is 43002 and a body that is not JSON is 47001', async () => {
    assert.equal((await callApi(base, null, { method: 'GET' })).errcode, 43002);
    assert.equal((await callApi(base, null, { raw: '{"touser":' })).errcode, 47001);
    assert.equal((await callApi(base, null, { raw: '[]' })).errcode, 47001);
  });

  test('an openid the simulated WeChat never saw is 40003; so is a missing touser', async () => {
    assert.deepEqual(Object.keys(await callApi(base, message('oUnknownUser0000000000000000'))), ['errcode', 'errmsg']);
    assert.equal((await callApi(base, message('oUnknownUser0000000000000000'))).errcode, 40003);
    assert.equal((await callApi(base, message(undefined))).errcode, 40003);
    assert.match((await callApi(base, message('x'))).errmsg, /^invalid openid rid: /);
  });

  test('a template that is not one of TEMPLATE_ID is 40037', async () => {
    const answer = await callApi(base, message(user.openid, { template_id: 'SubscriptionNotificationTemplate' }));
    assert.equal(answer.errcode, 40037);
    assert.match(answer.errmsg, /^invalid template_id rid: /);
  });

  const invalid = [
    ['a title of 16 characters', { title: 'x'.repeat(16) }, 'title'],
    ['an empty title', { title: '' }, 'title'],
    ['no title', { title: undefined }, 'title'],
    ['content of 201 characters', { data: { content: { value: 'y'.repeat(201) } } }, 'data.content.value'],
    ['empty content', { data: { content: { value: '' } } }, 'data.content.value'],
    ['no data', { data: undefined }, 'data.content.value'],
    ['scene 10001', { scene: '10001' }, 'scene'],
    ['scene -1', { scene: '-1' }, 'scene'],
    ['scene as a JSON number', { scene: 1000 }, 'scene'],
    ['a colour that is not #RRGGBB', { data: { content: { value: 'z', color: 'red' } } }, 'data.content.color'],
    ['a relative url', { url: '/orders/1' }, 'url'],
    ['a miniprogram without a valid appid', { miniprogram: { appid: 'wx123' } }, 'miniprogram.appid'],
    [
      'a miniprogram with an empty pagepath',
      { miniprogram: { appid: 'wx0123456789abcdef', pagepath: '' } },
      'miniprogram.pagepath',
    ],
  ];
  for (const [name, over, field] of invalid) {
    test(`47003 for ${name}`, async () => {
      const answer = await callApi(base, message(user.openid, over));
      assert.equal(answer.errcode, 47003);
      assert.match(answer.errmsg, new RegExp(`^argument invalid! ${field.replace(/\./g, '\\.')} invalid rid: `));
    });
  }

  test('no permit for this scene (never allowed) is 43101', async () => {
    const answer = await callApi(base, message(user.openid, { scene: '4242' }));
    assert.equal(answer.errcode, 43101);
    assert.match(answer.errmsg, /^user refuse to accept the msg rid: /);
    assert.equal(
      (await callApi(base, message(user.openid, { template_id: TEMPLATE_B }))).errcode,
      43101,
      'a permit is per template too',
    );
  });

  test('refused requests spent nothing: a valid one is then delivered (0, "ok"), in Service Notifications', async () => {
    assert.equal((await state(base)).messages.length, 0);
    const answer = await callApi(
      base,
      message(user.openid, {
        title: '订单已发货订单已发货订单已发货', // 15 Chinese characters fit: WeChat counts characters, not bytes
        url: 'https://example.com/orders/1',
        data: { content: { value: 'y'.repeat(200), color: '#173177' } },
      }),
    );
    assert.deepEqual(answer, { errcode: 0, errmsg: 'ok' });
    const { messages, permits } = await state(base);
    assert.equal(messages.length, 1);
    assert.deepEqual(
      { ...messages[0], id: undefined, at: undefined, type: undefined },
      {
        id: undefined,
        at: undefined,
        type: undefined,
        openid: user.openid,
        template_id: TEMPLATE_A,
        scene: '1000',
        title: '订单已发货订单已发货订单已发货',
        content: 'y'.repeat(200),
        color: '#173177',
        url: 'https://example.com/orders/1',
        placement: 'notifications',
      },
    );
    assert.deepEqual(
      permits.map((p) => [p.scene, p.permits, p.authorizations]),
      [['1000', 0, 1]],
    );
  });

  test('the permit is used: the same message again is 43101 and delivers nothing', async () => {
    assert.equal((await callApi(base, message(user.openid))).errcode, 43101);
    assert.equal((await state(base)).messages.length, 1);
  });

  test('Allow again under the same scene gives back one permit (not more)', async () => {
    await consent(base, { scene: 1000, cookie: user.cookie, reserved: 'R2' });
    await consent(base, { scene: 1000, cookie: user.cookie, reserved: 'R3' });
    const permit = (await state(base)).permits.find((p) => p.scene === '1000');
    assert.deepEqual([permit.permits, permit.authorizations], [1, 3]);
    assert.equal((await callApi(base, message(user.openid))).errcode, 0);
    assert.equal((await callApi(base, message(user.openid))).errcode, 43101, 'two Allows in a row made one permit');
    assert.equal((await state(base)).messages.length, 2);
  });

  test('Cancel gives no permit', async () => {
    await consent(base, { scene: 77, cookie: user.cookie, decision: 'cancel' });
    assert.equal((await callApi(base, message(user.openid, { scene: '77' }))).errcode, 43101);
  });

  test('a second scene is a second permit; the mini program and url are both kept', async () => {
    await consent(base, { scene: 1001, cookie: user.cookie });
    const answer = await callApi(
      base,
      message(user.openid, {
        scene: '1001',
        url: 'https://example.com/x',
        miniprogram: { appid: 'wx0123456789abcdef', pagepath: 'pages/order?id=1' },
      }),
    );
    assert.equal(answer.errcode, 0);
    const last = (await state(base)).messages.at(-1);
    assert.deepEqual(
      [last.scene, last.url, last.miniprogram],
      ['1001', 'https://example.com/x', { appid: 'wx0123456789abcdef', pagepath: 'pages/order?id=1' }],
    );
  });

  test('the call counter counts every call by errcode', async () => {
    const { stats } = await state(base);
    assert.equal(stats.byErrcode[0], 3);
    assert.ok(stats.byErrcode[47003] >= invalid.length);
    assert.equal(
      stats.calls,
      Object.values(stats.byErrcode).reduce((a, b) => a + b, 0),
    );
  });
});

describe('send API simulator: where a message lands, the inbox', () => {
  let server;
  let base;
  before(async () => {
    server = await startInProcess({ SIM_ACCESS_TOKEN: 'AnotherFakeToken' });
    base = server.url;
  });
  after(() => server.stop());

  const follow = (cookie, value) =>
    fetch(new URL('/inbox/follow', base), {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `following=${value}`,
      redirect: 'manual',
    });
  const inbox = async (cookie, chat) =>
    (await fetch(new URL(chat ? `/inbox?chat=${chat}` : '/inbox', base), { headers: { Cookie: cookie } })).text();

  test('SIM_ACCESS_TOKEN is the token the simulator accepts', async () => {
    const user = await consent(base);
    assert.equal((await callApi(base, message(user.openid), { token: TOKEN })).errcode, 40001);
    assert.equal((await callApi(base, message(user.openid), { token: 'AnotherFakeToken' })).errcode, 0);
  });

  test('a follower gets the message in the Service Account chat; after unfollowing, in Service Notifications', async () => {
    const first = await inbox('');
    assert.match(first, /data-following="false"/);
    const user = await consent(base, { scene: 5 });
    const same = await fetch(new URL('/inbox', base), { headers: { Cookie: user.cookie } });
    assert.equal(same.headers.get('set-cookie'), null, "the consent page's cookie is the inbox's user: no new one");
    const followed = await follow(user.cookie, '1');
    assert.equal(followed.status, 303);
    assert.equal(followed.headers.get('location'), '/inbox');
    assert.match(await inbox(user.cookie), /data-testid="inbox" data-openid="[\w-]+" data-following="true"/);
    assert.equal(
      (
        await callApi(base, message(user.openid, { scene: '5', title: 'To the chat', url: 'https://example.com/a' }), {
          token: 'AnotherFakeToken',
        })
      ).errcode,
      0,
    );

    assert.equal((await follow(user.cookie, '0')).status, 303);
    await consent(base, { scene: 6, cookie: user.cookie });
    assert.equal(
      (await callApi(base, message(user.openid, { scene: '6', title: 'Not followed' }), { token: 'AnotherFakeToken' }))
        .errcode,
      0,
    );

    const placements = (await state(base)).messages
      .filter((m) => m.openid === user.openid)
      .map((m) => [m.title, m.placement]);
    assert.deepEqual(
      placements,
      [
        ['To the chat', 'account'],
        ['Not followed', 'notifications'],
      ],
      'placement is decided at delivery',
    );

    const list = await inbox(user.cookie);
    assert.match(list, /data-testid="chat-account" data-count="1"/);
    assert.match(list, /data-testid="chat-notifications" data-count="1"/);
    const chat = await inbox(user.cookie, 'account');
    assert.match(chat, /data-testid="thread" data-chat="account" data-count="1"/);
    assert.match(chat, /<h2 data-testid="message-title">To the chat<\/h2>/);
    assert.match(chat, /data-kind="url" href="https:\/\/example.com\/a"/);
    assert.doesNotMatch(chat, /Not followed/);
  });

  test('another simulated user sees none of it', async () => {
    const stranger = await consent(base, { scene: 1 });
    const list = await inbox(stranger.cookie);
    assert.match(list, /data-testid="chat-account" data-count="0"/);
    assert.match(list, /data-testid="chat-notifications" data-count="0"/);
  });

  test('the follow switch refuses anything but 1 or 0, and GET', async () => {
    assert.equal((await follow('', 'yes')).status, 400);
    assert.equal((await fetch(new URL('/inbox/follow', base))).status, 405);
    assert.equal((await fetch(new URL('/inbox', base), { method: 'POST' })).status, 405);
  });

  test('the inbox escapes what a message holds', async () => {
    const user = await consent(base, { scene: 9 });
    const evil = '<img src=x onerror=alert(1)>';
    assert.equal(
      (
        await callApi(
          base,
          message(user.openid, { scene: '9', title: '<b>x</b>', data: { content: { value: evil } } }),
          { token: 'AnotherFakeToken' },
        )
      ).errcode,
      0,
    );
    const html = await inbox(user.cookie, 'notifications');
    assert.doesNotMatch(html, /<img src=x/);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(html, /&lt;b&gt;x&lt;\/b&gt;/);
  });
});

describe('send API simulator: durability', () => {
  test('users, follows, permits and messages survive a restart; a torn last line is skipped', async () => {
    const dataDir = tempDataDir();
    try {
      let server = await startInProcess({ DATA_DIR: dataDir });
      const user = await consent(server.url, { scene: 1 });
      await consent(server.url, { scene: 2, cookie: user.cookie });
      await fetch(new URL('/inbox/follow', server.url), {
        method: 'POST',
        headers: { Cookie: user.cookie },
        body: 'following=1',
        redirect: 'manual',
      });
      assert.equal((await callApi(server.url, message(user.openid, { scene: '1' }))).errcode, 0);
      const before = await state(server.url);
      await server.stop();

      fs.appendFileSync(path.join(dataDir, 'wechat-sim.jsonl'), '{"type":"permit","openid":"');
      server = await startInProcess({ DATA_DIR: dataDir });
      try {
        assert.ok(
          server.lines.some((l) => /skipped 1 unreadable line\(s\) in .*wechat-sim\.jsonl/.test(l)),
          server.lines.join('\n'),
        );
        const after = await state(server.url);
        assert.deepEqual({ ...after, stats: null }, { ...before, stats: null });
        assert.equal(
          (await callApi(server.url, message(user.openid, { scene: '1' }))).errcode,
          43101,
          'the used permit stays used',
        );
        assert.equal(
          (await callApi(server.url, message(user.openid, { scene: '2' }))).errcode,
          0,
          'the other permit is still there',
        );
        assert.equal((await state(server.url)).messages.at(-1).placement, 'account', 'the follow survived');
      } finally {
        await server.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
