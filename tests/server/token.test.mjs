// stableTokenProvider and staticTokenProvider (js/server/token.js) against the WeChat API simulator over HTTP on
// 127.0.0.1: one request in flight, the cache by expires_in, invalidate(token) for that exact token, typed errors
// that never carry the secret or the token, and never a force_refresh. Run after `npm run build`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { staticTokenProvider, stableTokenProvider } from '../../pkg/node.js';
import { APPID, SECRET, startWxApiSimulator } from './wxapi-simulator.mjs';

let wx;
before(async () => {
  wx = await startWxApiSimulator();
});
after(() => wx?.close());

/** A fetch that records each request's parsed body, then does it. */
function recordingFetch() {
  const bodies = [];
  const fetchFn = (url, init) => {
    bodies.push(JSON.parse(init.body));
    return fetch(url, init);
  };
  return { bodies, fetch: fetchFn };
}

const calls = () => wx.sim.stats.tokenCalls;

/** Asserts err is a SubscribeError with `code` that says nothing of the secret or `token`. */
function assertTyped(err, code, token = 'no token') {
  assert.equal(err.name, 'SubscribeError');
  assert.equal(err.code, code);
  for (const text of [err.message, String(err), err.stack, JSON.stringify(err)]) {
    assert.doesNotMatch(text, new RegExp(SECRET));
    assert.ok(!text.includes(token), 'no token in the error');
  }
}

describe('stableTokenProvider', () => {
  test('concurrent get()s share one request; the token is cached; force_refresh is never sent', async () => {
    const rec = recordingFetch();
    const provider = stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase, fetch: rec.fetch });
    const before = calls();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => provider.get()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(calls() - before, 1, 'one request for 20 concurrent get()s');
    assert.equal(await provider.get(), tokens[0]);
    assert.equal(calls() - before, 1, 'cached');
    assert.deepEqual(rec.bodies, [
      { grant_type: 'client_credential', appid: APPID, secret: SECRET, force_refresh: false },
    ]);
    assert.equal(wx.sim.stats.forceRefreshes, 0);
  });

  test('two providers (two processes) get the same token in normal mode', async () => {
    const a = stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase });
    const b = stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase });
    assert.equal(await a.get(), await b.get());
  });

  test('kept for expires_in minus the margin, then asked again', async () => {
    let clock = 1_000_000;
    const provider = stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase, now: () => clock });
    const before = calls();
    const token = await provider.get();
    clock += 6_000_000; // within 7200 s − 300 s... of what the simulator said was left
    const left = wx.sim.stats.tokenCalls;
    await provider.get();
    // The simulator's token was issued earlier in this file, so less than 7200 s may be left: at most one more call.
    assert.ok(calls() - left <= 1);
    clock += 7_200_000;
    assert.equal(await provider.get(), token, 'normal mode: the same token while WeChat keeps it');
    assert.ok(calls() - before >= 2, 'asked again after expiry');
  });

  test('invalidate(token) drops that token only; a stale invalidate does nothing', async () => {
    const rec = recordingFetch();
    const provider = stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase, fetch: rec.fetch });
    const first = await provider.get();
    wx.sim.rotateToken(); // another client's force_refresh: the first token stops working
    provider.invalidate('some-other-token');
    assert.equal(await provider.get(), first, 'another token: nothing dropped');
    provider.invalidate(first);
    const second = await provider.get();
    assert.notEqual(second, first);
    const n = rec.bodies.length;
    provider.invalidate(first); // stale: the provider already moved on
    assert.equal(await provider.get(), second);
    assert.equal(rec.bodies.length, n, 'no request for a stale invalidate');
    assert.ok(rec.bodies.every((b) => b.force_refresh === false));
  });

  test('token endpoint errors are typed, never looped, and the next get() asks again', async () => {
    for (const [errcode, code] of [
      [40013, 'token_refused'],
      [40125, 'token_refused'],
      [40164, 'token_refused'],
      [45009, 'token_rate_limited'],
      [45011, 'token_rate_limited'],
      [-1, 'token_unavailable'],
    ]) {
      const provider = stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase });
      wx.sim.faults({ token: [errcode] });
      const before = calls();
      await assert.rejects(provider.get(), (err) => {
        assertTyped(err, code);
        return true;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(calls() - before, 1, `${errcode}: one request, no retry loop`);
      assert.ok(await provider.get(), 'the next get() asks again and succeeds');
      assert.equal(calls() - before, 2);
    }
  });

  test('a wrong secret: token_refused naming invalid_appsecret, not the secret', async () => {
    const wrong = `${SECRET}_WRONG`;
    const provider = stableTokenProvider({ appid: APPID, secret: wrong, apiBase: wx.apiBase });
    await assert.rejects(provider.get(), (err) => {
      assertTyped(err, 'token_refused');
      assert.match(err.message, /invalid_appsecret/);
      assert.ok(!err.message.includes(wrong));
      return true;
    });
    const otherApp = stableTokenProvider({ appid: 'wx0000000000000000', secret: SECRET, apiBase: wx.apiBase });
    await assert.rejects(otherApp.get(), /invalid_appid/);
  });

  test('no answer, or not a token: token_unavailable', async () => {
    const closed = stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: 'http://127.0.0.1:9/wxapi' });
    await assert.rejects(closed.get(), (err) => assertTyped(err, 'token_unavailable') ?? true);
    for (const text of ['<html>oops</html>', '{"access_token":"","expires_in":7200}', '{"expires_in":7200}', 'null']) {
      const provider = stableTokenProvider({
        appid: APPID,
        secret: SECRET,
        fetch: async () => ({ status: 200, text: async () => text }),
      });
      await assert.rejects(provider.get(), (err) => assertTyped(err, 'token_unavailable') ?? true);
    }
    const slow = stableTokenProvider({
      appid: APPID,
      secret: SECRET,
      timeoutMs: 50,
      fetch: (url, init) =>
        new Promise((resolve, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason))),
    });
    await assert.rejects(slow.get(), (err) => assertTyped(err, 'token_unavailable') ?? true);
  });

  test('the token itself never reaches an error message', async () => {
    const token = 'A_TOKEN_THAT_MUST_NOT_LEAK';
    const provider = stableTokenProvider({
      appid: APPID,
      secret: SECRET,
      fetch: async () => ({ status: 200, text: async () => JSON.stringify({ access_token: token, errcode: 40164 }) }),
    });
    await assert.rejects(provider.get(), (err) => assertTyped(err, 'token_refused', token) ?? true);
  });

  test('options: every kind of bad value is a typed error', () => {
    const ok = { appid: APPID, secret: SECRET };
    for (const [options, code] of [
      [undefined, 'invalid_option'],
      [null, 'invalid_option'],
      ['x', 'invalid_option'],
      [{ secret: SECRET }, 'invalid_appid'],
      [{ ...ok, appid: 'wx123' }, 'invalid_appid'],
      [{ appid: APPID }, 'invalid_option'],
      [{ ...ok, secret: '' }, 'invalid_option'],
      [{ ...ok, secret: 5 }, 'invalid_option'],
      [{ ...ok, apiBase: 'not a url' }, 'invalid_option'],
      [{ ...ok, fetch: 'fetch' }, 'invalid_option'],
      [{ ...ok, timeoutMs: -1 }, 'invalid_option'],
    ]) {
      assert.throws(
        () => stableTokenProvider(options),
        (err) => {
          assertTyped(err, code);
          return true;
        },
        JSON.stringify(options),
      );
    }
  });
});

describe('staticTokenProvider', () => {
  test('asks the function each time; invalidate goes to onInvalid; a non-token is token_unavailable', async () => {
    let n = 0;
    const invalid = [];
    const provider = staticTokenProvider(async () => `TOKEN_${(n += 1)}`, { onInvalid: (t) => invalid.push(t) });
    assert.equal(await provider.get(), 'TOKEN_1');
    assert.equal(await provider.get(), 'TOKEN_2');
    provider.invalidate('TOKEN_2');
    assert.deepEqual(invalid, ['TOKEN_2']);
    await assert.rejects(staticTokenProvider(() => '').get(), (err) => assertTyped(err, 'token_unavailable') ?? true);
    await assert.rejects(staticTokenProvider(() => 42).get(), (err) => assertTyped(err, 'token_unavailable') ?? true);
    assert.throws(
      () => staticTokenProvider('token'),
      (err) => assertTyped(err, 'invalid_option') ?? true,
    );
    staticTokenProvider(() => 'T').invalidate('T'); // without onInvalid: nothing happens
  });
});
