// The consent simulator over HTTP: what it validates like WeChat, the consent page, the 303 back to
// redirect_url (confirm/cancel), the stable per-user openid and the reported fragment mangling.
// Needs no built package.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { callbackLocation } from '../../www/lib/simulator.mjs';
import { APPID, TEMPLATE_A, TEMPLATE_B, startInProcess } from './harness.mjs';

const RESERVED = 'Nonce0123456789abcdefXYZ';

function linkParams(base, over = {}) {
  const params = {
    action: 'get_confirm',
    appid: APPID,
    scene: '1000',
    template_id: TEMPLATE_A,
    redirect_url: new URL('/callback.html?from=demo', base).href,
    reserved: RESERVED,
    ...over,
  };
  return Object.entries(params).filter(([, v]) => v !== undefined);
}

const consentUrl = (base, over) => new URL(`/mp/subscribemsg?${new URLSearchParams(linkParams(base, over))}`, base);

async function decide(base, decision, { over, cookie } = {}) {
  const body = new URLSearchParams([...linkParams(base, over), ['decision', decision]]);
  const response = await fetch(new URL('/mp/subscribemsg', base), {
    method: 'POST',
    headers: cookie ? { Cookie: cookie } : {},
    body,
    redirect: 'manual',
  });
  return {
    status: response.status,
    location: response.headers.get('location'),
    cookie: response.headers.get('set-cookie')?.split(';')[0],
  };
}

describe('consent simulator', () => {
  let server;
  let base;
  before(async () => {
    server = await startInProcess();
    base = server.url;
  });
  after(() => server.stop());

  test('a valid link shows the consent page with Allow and Cancel and sets the simulated user', async () => {
    const response = await fetch(consentUrl(base));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/html/);
    // Path=/: the simulated inbox (/inbox) is the same simulated user.
    assert.match(response.headers.get('set-cookie'), /^wxsim_user=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Lax/);
    const html = await response.text();
    assert.match(html, /data-testid="consent"/);
    assert.match(html, /name="decision" value="confirm">Allow/);
    assert.match(html, /name="decision" value="cancel">Cancel/);
    assert.match(html, /data-testid="consent-scene">1000</);
    assert.match(
      html,
      /data-testid="consent-not-wechat"/,
      'fetch is not WeChat: the page says the simulator lets it through',
    );
    assert.match(
      html,
      /data-testid="consent-placement" data-following="false">You do not follow this Service Account: its message will arrive in Service Notifications\./,
    );
    const inWeChat = await fetch(consentUrl(base), {
      headers: { 'User-Agent': 'Mozilla/5.0 (iPhone) MicroMessenger/8.0.42(0x18002a2f)' },
    });
    assert.doesNotMatch(await inWeChat.text(), /data-testid="consent-not-wechat"/);
  });

  test('scene 0 and 10000, no reserved and the second template are accepted', async () => {
    for (const over of [
      { scene: '0' },
      { scene: '10000' },
      { reserved: undefined },
      { template_id: TEMPLATE_B },
      { reserved: 'a'.repeat(128) },
    ]) {
      assert.equal((await fetch(consentUrl(base, over))).status, 200, JSON.stringify(over));
    }
  });

  const invalid = [
    ['action=get_confirm missing', { action: undefined }, 'action'],
    ['another action', { action: 'confirm' }, 'action'],
    ['no appid', { appid: undefined }, 'appid'],
    ['a malformed appid', { appid: 'wx123' }, 'appid'],
    ['another Service Account', { appid: 'wx0123456789abcdef' }, 'appid'],
    ['no scene', { scene: undefined }, 'scene'],
    ['scene -1', { scene: '-1' }, 'scene'],
    ['scene 10001', { scene: '10001' }, 'scene'],
    ['scene 1.5', { scene: '1.5' }, 'scene'],
    ['scene 0100', { scene: '0100' }, 'scene'],
    ['scene abc', { scene: 'abc' }, 'scene'],
    ['no template_id', { template_id: undefined }, 'template_id'],
    ['an unknown template_id', { template_id: 'NotOurTemplate' }, 'template_id'],
    ['no redirect_url', { redirect_url: undefined }, 'redirect_url'],
    ['a relative redirect_url', { redirect_url: '/callback.html' }, 'redirect_url'],
    ['a javascript: redirect_url', { redirect_url: 'javascript:alert(1)' }, 'redirect_url'],
    ['a redirect_url on another host', { redirect_url: 'http://evil.example/callback.html' }, 'redirect_url'],
    [
      'a redirect_url on a subdomain of it',
      { redirect_url: 'http://x.127.0.0.1.nip.io/callback.html' },
      'redirect_url',
    ],
    ['a redirect_url with credentials', { redirect_url: 'http://user:pw@127.0.0.1/callback.html' }, 'redirect_url'],
    ['reserved with a dash', { reserved: 'abc-def' }, 'reserved'],
    ['reserved of 129 characters', { reserved: 'a'.repeat(129) }, 'reserved'],
    ['an empty reserved (the package would refuse the callback)', { reserved: '' }, 'reserved'],
  ];
  for (const [name, over, param] of invalid) {
    test(`refuses ${name} (400, names ${param})`, async () => {
      const response = await fetch(consentUrl(base, over));
      assert.equal(response.status, 400);
      const html = await response.text();
      assert.match(html, /data-testid="consent-error"/);
      assert.match(html, new RegExp(`data-param="${param}"`));
    });
  }

  test('refuses a repeated parameter', async () => {
    const url = consentUrl(base);
    url.searchParams.append('scene', '1001');
    const response = await fetch(url);
    assert.equal(response.status, 400);
    assert.match(await response.text(), /scene appears 2 times/);
  });

  test('Allow answers 303 to redirect_url with openid, template_id, action=confirm, scene, reserved', async () => {
    const { status, location } = await decide(base, 'confirm');
    assert.equal(status, 303);
    const url = new URL(location);
    assert.equal(url.origin + url.pathname, new URL('/callback.html', base).href);
    assert.deepEqual([...url.searchParams.keys()], ['from', 'openid', 'template_id', 'action', 'scene', 'reserved']);
    assert.equal(url.searchParams.get('from'), 'demo', "redirect_url's own query is kept");
    assert.match(url.searchParams.get('openid'), /^o[A-Za-z0-9_-]{27}$/);
    assert.equal(url.searchParams.get('template_id'), TEMPLATE_A);
    assert.equal(url.searchParams.get('action'), 'confirm');
    assert.equal(url.searchParams.get('scene'), '1000');
    assert.equal(url.searchParams.get('reserved'), RESERVED);
    assert.equal(url.hash, '');
  });

  test('Cancel answers 303 with action=cancel and no openid', async () => {
    const { status, location } = await decide(base, 'cancel');
    assert.equal(status, 303);
    const url = new URL(location);
    assert.deepEqual([...url.searchParams.keys()], ['from', 'template_id', 'action', 'scene', 'reserved']);
    assert.equal(url.searchParams.get('action'), 'cancel');
  });

  test('the openid is stable per simulated user (cookie) and differs between users', async () => {
    const first = await decide(base, 'confirm');
    assert.ok(first.cookie, 'a new user gets a cookie');
    const again = await decide(base, 'confirm', { cookie: first.cookie });
    const other = await decide(base, 'confirm');
    const openid = (r) => new URL(r.location).searchParams.get('openid');
    assert.equal(openid(again), openid(first));
    assert.notEqual(openid(other), openid(first));
  });

  test('a fragment in redirect_url comes back mangled: #/done -> #%23/done, after the query', async () => {
    const { location } = await decide(base, 'confirm', {
      over: { redirect_url: new URL('/callback.html#/done', base).href },
    });
    assert.match(
      location,
      /^http:\/\/127\.0\.0\.1:\d+\/callback\.html\?openid=o[\w-]{27}&template_id=\w+&action=confirm&scene=1000&reserved=\w+#%23\/done$/,
    );
  });

  test('the POST of a decision is validated again, and needs a decision', async () => {
    assert.equal((await decide(base, 'confirm', { over: { redirect_url: 'http://evil.example/' } })).status, 400);
    assert.equal((await decide(base, 'confirm', { over: { scene: '20000' } })).status, 400);
    assert.equal((await decide(base, 'maybe')).status, 400);
  });

  test('other methods get 405', async () => {
    assert.equal((await fetch(new URL('/mp/subscribemsg', base), { method: 'PUT' })).status, 405);
  });
});

describe('callbackLocation', () => {
  const link = { template_id: 'T', scene: '7', reserved: 'R', redirect_url: '' };
  const at = (redirect, answer = { action: 'confirm', openid: 'oX' }) =>
    callbackLocation({ ...link, redirect_url: redirect }, answer);

  test('adds "/" to a bare origin, "?" or "&" as needed', () => {
    assert.equal(at('http://127.0.0.1'), 'http://127.0.0.1/?openid=oX&template_id=T&action=confirm&scene=7&reserved=R');
    assert.equal(
      at('http://127.0.0.1/cb?'),
      'http://127.0.0.1/cb?openid=oX&template_id=T&action=confirm&scene=7&reserved=R',
    );
    assert.equal(
      at('http://127.0.0.1/cb?a=1&'),
      'http://127.0.0.1/cb?a=1&openid=oX&template_id=T&action=confirm&scene=7&reserved=R',
    );
    assert.equal(
      at('http://127.0.0.1/cb?a=b%20c'),
      'http://127.0.0.1/cb?a=b%20c&openid=oX&template_id=T&action=confirm&scene=7&reserved=R',
    );
  });

  test('omits reserved when the link had none; mangles only the fragment\'s "#"', () => {
    assert.equal(
      callbackLocation({ ...link, reserved: null, redirect_url: 'http://h/cb' }, { action: 'cancel' }),
      'http://h/cb?template_id=T&action=cancel&scene=7',
    );
    assert.equal(
      at('http://h/cb?x=1#/a/b?c=d'),
      'http://h/cb?x=1&openid=oX&template_id=T&action=confirm&scene=7&reserved=R#%23/a/b?c=d',
    );
  });
});
