// sendGrant and startSendWorker (js/server/sender.js) end to end: a grant store, the token provider on the
// simulator's stable_token, and the simulator's send API over HTTP on 127.0.0.1, which checks the permits: the
// decision table row by row, one token refresh and one retry (counted at the simulator), a lost answer, a sender
// that died mid-send, and the worker's stop and pause. Every test runs against each store in STORES.
// Run after `npm run build`.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sendGrant, stableTokenProvider, startSendWorker } from '../../pkg/node.js';
import { closeStores, storeFactories } from './stores.mjs';
import { APPID, SECRET, TEMPLATE_ID, startWxApiSimulator } from './wxapi-simulator.mjs';

const MESSAGE = { title: '发货通知', content: '您的订单已发货' };
// Generous for a loaded machine: a send slower than this counts as no answer, which some tests do not expect.
const TIMEOUT_MS = 1_500;
const LEASE_MS = 2 * TIMEOUT_MS + 1_000;

let wx;
before(async () => {
  wx = await startWxApiSimulator();
});
after(async () => {
  await wx?.close();
  await closeStores();
});

const reserved = () => crypto.randomBytes(12).toString('hex');
let user = 0;
const newOpenid = () => `oSender_${process.pid}_${(user += 1)}`;

for (const factory of storeFactories()) {
  describe(`sender on the ${factory.name} store`, () => {
    let store;
    let token;
    before(async () => {
      store = await factory.open();
      token = stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase });
    });
    const workers = [];
    /** startSendWorker, stopped after the tests even when one fails (a running worker keeps the process alive). */
    const startWorker = (options) => {
      const w = startSendWorker(options);
      workers.push(w);
      return w;
    };
    after(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await store?.close();
    });

    /** A grant in the store; with `permit`, the user tapped Allow at the simulated WeChat. */
    async function grant({ permit = true, openid = newOpenid(), scene = 1000, templateId = TEMPLATE_ID } = {}) {
      if (permit) await wx.permit(openid, scene, templateId);
      else await wx.state.seeUser(openid); // known to WeChat, without a permit
      const g = { appid: APPID, openid, templateId, scene, reserved: reserved() };
      await store.insert(g);
      return g;
    }
    const send = (g, extra = {}) =>
      sendGrant({
        store,
        token,
        reserved: g.reserved,
        message: MESSAGE,
        apiBase: wx.apiBase,
        timeoutMs: TIMEOUT_MS,
        leaseMs: LEASE_MS,
        ...extra,
      });
    const messagesTo = (g) => wx.messages().filter((m) => m.openid === g.openid && m.scene === String(g.scene));
    const stored = (g) => store.get(g.reserved);

    /** Sends `g` with `faults` queued at the simulator; checks the outcome and the stored grant. */
    async function row(g, faults, expected) {
      wx.sim.faults({ send: faults });
      const calls = wx.sim.stats.calls;
      const outcome = await send(g);
      wx.sim.faults({ send: [] });
      const { state, name, errcode } = outcome;
      assert.deepEqual({ state, name, errcode }, expected.outcome);
      const after = await stored(g);
      assert.equal(after.state, expected.outcome.state);
      assert.equal(after.detail, expected.outcome.name);
      assert.equal(after.errcode, expected.outcome.errcode);
      assert.equal(wx.sim.stats.calls - calls, expected.calls ?? 1, 'send API calls');
      assert.equal(messagesTo(g).length, expected.outcome.state === 'sent' ? 1 : 0, 'messages at WeChat');
      return outcome;
    }

    test('the decision table, row by row, against the simulator', async () => {
      const o = (state, name, errcode) => ({ outcome: { state, name, errcode } });
      await row(await grant(), [], o('sent', 'ok', 0));
      await row(await grant({ permit: false }), [], o('refused', 'user_refused', 43101));
      await row(await grant({ permit: false }), [], o('refused', 'user_refused', 43101));
      const busy = await row(await grant(), [-1], o('stored', 'system_busy', -1));
      assert.equal(busy.retryInMs, 1_000);
      const quota = await row(await grant(), [45009], o('stored', 'api_limit_reached', 45009));
      assert.equal(quota.pauseQueue, true);
      assert.equal(quota.retryInMs, 3_600_000);
      const rate = await row(await grant(), [45011], o('stored', 'api_minute_limit_reached', 45011));
      assert.equal(rate.retryInMs, 60_000);
      for (const [errcode, name] of [
        [40164, 'invalid_ip'],
        [48001, 'api_unauthorized'],
      ]) {
        const stop = await row(await grant(), [errcode], o('blocked', name, errcode));
        assert.equal(stop.stopQueue, true);
      }
      // 40003 and 40037 from the simulator's own checks: an openid it never saw, a template it does not have.
      await row(await grant({ permit: false }), [], o('refused', 'user_refused', 43101));
      const stranger = {
        appid: APPID,
        openid: 'oNeverSeenByWeChat',
        templateId: TEMPLATE_ID,
        scene: 1,
        reserved: reserved(),
      };
      await store.insert(stranger);
      await row(stranger, [], o('blocked', 'invalid_openid', 40003));
      await row(
        await grant({ templateId: 'NOT_A_TEMPLATE_OF_THIS_ACCOUNT' }),
        [],
        o('blocked', 'invalid_template_id', 40037),
      );
      await row(await grant(), [47003], o('blocked', 'argument_invalid', 47003));
      // A refused token: refreshed once and sent again, within the attempt.
      for (const errcode of [40001, 40014, 42001])
        await row(await grant(), [errcode], { ...o('sent', 'ok', 0), calls: 2 });
      // Refused again after the refresh: stored with backoff, no third call.
      await row(await grant(), [40001, 40001], { ...o('stored', 'invalid_credential', 40001), calls: 2 });
      // No answer: the connection reset before anything, or a timeout.
      await row(await grant(), ['reset'], o('stored', 'no_answer', null));
      await row(await grant(), ['hang'], o('stored', 'no_answer', null));
    });

    test('a token invalidated at WeChat: exactly one refresh, one retry, no loop', async () => {
      const g = await grant();
      await token.get(); // cached
      wx.sim.rotateToken(); // another client's force_refresh: the cached token now gets 40001
      const before = {
        calls: wx.sim.stats.calls,
        tokenCalls: wx.sim.stats.tokenCalls,
        e40001: wx.sim.stats.byErrcode[40001] ?? 0,
      };
      const outcome = await send(g);
      assert.equal(outcome.state, 'sent');
      assert.equal(wx.sim.stats.calls - before.calls, 2, 'two send calls: the refused one and the retry');
      assert.equal(wx.sim.stats.tokenCalls - before.tokenCalls, 1, 'one token request');
      assert.equal((wx.sim.stats.byErrcode[40001] ?? 0) - before.e40001, 1);
      assert.equal(wx.sim.stats.forceRefreshes, 0, 'never a force_refresh');
      assert.equal(messagesTo(g).length, 1);
    });

    test('a token that stays refused: two calls per attempt, never a loop', async () => {
      const g = await grant();
      // A provider that keeps handing out a token WeChat refuses (its central service is broken).
      const bad = { get: async () => 'A_TOKEN_WECHAT_REFUSES', invalidate() {} };
      const calls = wx.sim.stats.calls;
      const outcome = await send(g, { token: bad });
      assert.deepEqual([outcome.state, outcome.name, outcome.retryInMs], ['stored', 'invalid_credential', 1_000]);
      assert.equal(wx.sim.stats.calls - calls, 2);
    });

    test('a lost answer, then -1: the grant keeps its mark, and the 43101 that follows is our own message', async () => {
      const g = await grant();
      wx.sim.faults({ send: ['lost'] });
      const lost = await send(g);
      assert.deepEqual([lost.state, lost.name, lost.errcode, lost.retryInMs], ['stored', 'no_answer', null, 1_000]);
      assert.equal(messagesTo(g).length, 1, 'WeChat delivered before the connection dropped');
      await new Promise((resolve) => setTimeout(resolve, 1_050)); // the backoff of the first attempt
      wx.sim.faults({ send: [-1] });
      const busy = await send(g);
      assert.deepEqual([busy.state, busy.name, busy.errcode], ['stored', 'no_answer', -1], 'still maybe delivered');
      await new Promise((resolve) => setTimeout(resolve, 2_050));
      const outcome = await send(g);
      assert.deepEqual([outcome.state, outcome.name, outcome.errcode], ['sent', 'sent_earlier', 43101]);
      assert.equal(messagesTo(g).length, 1, 'exactly one message');
      assert.equal((await stored(g)).attempts, 3);
    });

    test('-1 twice, then 43101: refused (nothing of ours reached WeChat)', async () => {
      const g = await grant({ permit: false });
      wx.sim.faults({ send: [-1] });
      assert.equal((await send(g)).name, 'system_busy');
      await new Promise((resolve) => setTimeout(resolve, 1_050));
      wx.sim.faults({ send: [-1] });
      assert.equal((await send(g)).name, 'system_busy');
      await new Promise((resolve) => setTimeout(resolve, 2_050));
      const outcome = await send(g);
      assert.deepEqual([outcome.state, outcome.name, outcome.errcode], ['refused', 'user_refused', 43101]);
    });

    test('a lost answer while a newer grant of the same triple waits: unknown, never retried', async () => {
      const openid = newOpenid();
      const old = await grant({ openid, scene: 7 });
      await grant({ openid, scene: 7 }); // a second Allow of the same scene: one permit for both
      wx.sim.faults({ send: ['lost'] });
      const outcome = await send(old);
      assert.deepEqual([outcome.state, outcome.name], ['unknown', 'no_answer_newer_grant']);
      assert.equal((await stored(old)).state, 'unknown');
    });

    test('a sender that died after sending: after the lease, the next sender ends it sent, one message', async () => {
      const g = await grant();
      // The first sender claims and sends, then "dies" before store.finish: its claim is never finished.
      const [claim] = await store.claim({ leaseMs: LEASE_MS, reserved: g.reserved });
      assert.ok(claim);
      await send(g).then(
        () => assert.fail('claimed by another sender: not due'),
        (err) => assert.equal(err.code, 'grant_not_due'),
      );
      const { buildSendRequest } = await import('../../pkg/node.js');
      const body = buildSendRequest({ ...MESSAGE, openid: g.openid, templateId: g.templateId, scene: g.scene });
      const answer = await fetch(`${wx.apiBase}/cgi-bin/message/template/subscribe?access_token=${await token.get()}`, {
        method: 'POST',
        body: JSON.stringify(body),
      }).then((r) => r.json());
      assert.equal(answer.errcode, 0);
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 50));
      const outcome = await send(g);
      assert.deepEqual([outcome.state, outcome.name, outcome.errcode], ['sent', 'sent_earlier', 43101]);
      assert.equal(messagesTo(g).length, 1);
      assert.equal(await store.finish(claim, { state: 'refused' }), false, "the dead sender's lease is gone");
    });

    test('sendGrant: grant_not_due for a finished or absent grant; a bad message gives the grant back', async () => {
      const g = await grant();
      await send(g);
      await assert.rejects(
        send(g),
        (err) => err.name === 'SubscribeError' && err.code === 'grant_not_due' && /was sent/.test(err.message),
      );
      await assert.rejects(send({ reserved: 'NoSuchGrant1' }), (err) => err.code === 'grant_not_due');
      const h = await grant();
      await assert.rejects(
        send(h, { message: { title: 'x'.repeat(16), content: 'c' } }),
        (err) => err.code === 'invalid_title',
      );
      assert.equal((await stored(h)).state, 'stored', 'given back');
      const outcome = await send(h);
      assert.equal(outcome.state, 'sent', 'and sendable afterwards');
      await send(await grant(), { message: (grant) => ({ title: 'T', content: `for ${grant.openid}` }) });
    });

    test('sendGrant and startSendWorker: bad options are typed errors', async () => {
      const ok = { store, token, reserved: 'abc', message: MESSAGE };
      for (const [options, code] of [
        [undefined, 'invalid_option'],
        [{ ...ok, store: undefined }, 'invalid_option'],
        [{ ...ok, token: 'token' }, 'invalid_option'],
        [{ ...ok, reserved: 'not valid!' }, 'invalid_reserved'],
        [{ ...ok, message: 'hello' }, 'invalid_option'],
        [{ ...ok, leaseMs: 1_000, timeoutMs: 1_000 }, 'invalid_option'],
        [{ ...ok, apiBase: 'ftp://x' }, 'invalid_option'],
      ]) {
        await assert.rejects(sendGrant(options), (err) => err.name === 'SubscribeError' && err.code === code);
      }
      assert.throws(
        () => startWorker({ store, token }),
        (err) => err.code === 'invalid_option',
      );
      assert.throws(
        () => startWorker({ store, token, message: MESSAGE, batch: 0 }),
        (err) => err.code === 'invalid_option',
      );
    });

    test('the worker sends every due grant once, stops on 40164 and says why', async () => {
      const grants = [];
      for (let i = 0; i < 12; i += 1) grants.push(await grant({ permit: i % 4 !== 0 }));
      const outcomes = [];
      const worker = startWorker({
        store,
        token,
        message: MESSAGE,
        apiBase: wx.apiBase,
        timeoutMs: TIMEOUT_MS,
        leaseMs: LEASE_MS,
        intervalMs: 50,
        batch: 5,
        onOutcome: (o) => outcomes.push(o),
      });
      await worker.drain();
      for (const g of grants) {
        const s = await stored(g);
        assert.ok(['sent', 'refused'].includes(s.state), s.state);
        assert.equal(messagesTo(g).length, s.state === 'sent' ? 1 : 0);
      }
      assert.equal(worker.state, 'running');
      // Now the account's IP whitelist refuses: the queue stops, the rest wait, unsent.
      wx.sim.faults({ send: [40164] });
      const more = [];
      for (let i = 0; i < 6; i += 1) more.push(await grant());
      await worker.drain();
      assert.equal(worker.state, 'stopped');
      assert.match(worker.reason, /invalid_ip \(errcode 40164\)/);
      const stops = outcomes.filter((o) => o.stopQueue);
      assert.deepEqual(
        stops.map((o) => [o.state, o.name]),
        [['blocked', 'invalid_ip']],
      );
      for (const g of more) {
        assert.ok(['stored', 'blocked'].includes((await stored(g)).state));
        assert.equal(messagesTo(g).length, 0);
      }
      const calls = wx.sim.stats.calls;
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(wx.sim.stats.calls, calls, 'no sends after the stop');
      await worker.stop();
      // The site fixed its whitelist: it unblocks and starts again. Every grant goes out, once: the ones given back
      // were not taken for lost answers.
      assert.ok((await store.unblock()) >= 1); // this one, and the blocked grants of earlier tests
      const again = startWorker({
        store,
        token,
        message: MESSAGE,
        apiBase: wx.apiBase,
        timeoutMs: TIMEOUT_MS,
        leaseMs: LEASE_MS,
        intervalMs: 50,
      });
      await again.drain();
      await again.stop();
      for (const g of more) {
        assert.equal((await stored(g)).state, 'sent');
        assert.equal(messagesTo(g).length, 1);
      }
    });

    test('the worker: a message it cannot make blocks (typed) or waits (thrown) that grant only', async () => {
      const bad = await grant();
      const broken = await grant();
      const good = await grant();
      const worker = startWorker({
        store,
        token,
        apiBase: wx.apiBase,
        timeoutMs: TIMEOUT_MS,
        leaseMs: LEASE_MS,
        intervalMs: 50,
        message: (g) => {
          if (g.reserved === bad.reserved) return { title: 'x'.repeat(16), content: 'too long a title' };
          if (g.reserved === broken.reserved) throw new Error('the order database is down');
          return MESSAGE;
        },
      });
      await worker.drain();
      await worker.stop();
      const [b, k, o] = await Promise.all([stored(bad), stored(broken), stored(good)]);
      assert.deepEqual([b.state, b.detail], ['blocked', 'argument_invalid']);
      assert.deepEqual([k.state, k.detail], ['stored', 'argument_invalid']);
      assert.ok(k.dueAt > Date.now() + 30_000, 'tried again in a minute');
      assert.equal(o.state, 'sent');
      assert.equal(messagesTo(bad).length + messagesTo(broken).length, 0);
    });

    test('the worker sends a grant only while its lease outlasts the attempt; the rest of a slow batch goes back', async () => {
      const grants = [];
      for (let i = 0; i < 4; i += 1) grants.push(await grant());
      const slowFetch = async (url, init) => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        return fetch(url, init);
      };
      const worker = startWorker({
        store,
        token,
        message: MESSAGE,
        apiBase: wx.apiBase,
        fetch: slowFetch,
        timeoutMs: TIMEOUT_MS,
        leaseMs: 2 * TIMEOUT_MS + 1_100, // 100 ms to start sending after a claim
        intervalMs: 20,
        batch: 4,
      });
      await worker.drain();
      await worker.stop();
      for (const g of grants) {
        const s = await stored(g);
        assert.equal(s.state, 'sent');
        assert.equal(messagesTo(g).length, 1);
      }
      assert.ok(
        (await Promise.all(grants.map(stored))).some((g) => g.attempts > 1),
        'some grants were given back and claimed again',
      );
    });

    test('the worker and the token endpoint: a refused secret stops it, a limit pauses it; nothing claimed, nothing leaked', async () => {
      const g = await grant();
      const lines = [];
      const wrongSecret = `${SECRET}_WRONG`;
      const refused = startWorker({
        store,
        token: stableTokenProvider({ appid: APPID, secret: wrongSecret, apiBase: wx.apiBase }),
        message: MESSAGE,
        apiBase: wx.apiBase,
        timeoutMs: TIMEOUT_MS,
        leaseMs: LEASE_MS,
        intervalMs: 20,
        log: (line) => lines.push(line),
      });
      await refused.drain();
      assert.equal(refused.state, 'stopped');
      assert.match(refused.reason, /^token_refused: .*invalid_appsecret/);
      const calls = wx.sim.stats.tokenCalls;
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal(wx.sim.stats.tokenCalls, calls, 'not asked again: stopped');
      wx.sim.faults({ token: [45011] });
      const limited = startWorker({
        store,
        token: stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase }),
        message: MESSAGE,
        apiBase: wx.apiBase,
        timeoutMs: TIMEOUT_MS,
        leaseMs: LEASE_MS,
        intervalMs: 20,
        log: (line) => lines.push(line),
      });
      await limited.drain();
      assert.equal(limited.state, 'paused');
      assert.match(limited.reason, /^token_rate_limited/);
      await limited.stop();
      const s = await stored(g);
      assert.deepEqual([s.state, s.attempts], ['stored', 0], 'nothing claimed without a token');
      assert.ok(lines.length >= 2, lines.join('\n'));
      const token = await stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase }).get();
      for (const line of lines) {
        assert.ok(!line.includes(SECRET) && !line.includes(token), `no secret or token in: ${line}`);
      }
    });

    test('the worker pauses on 45011 and resumes', async () => {
      const g = await grant();
      wx.sim.faults({ send: [45011] });
      const worker = startWorker({
        store,
        token,
        message: MESSAGE,
        apiBase: wx.apiBase,
        timeoutMs: TIMEOUT_MS,
        leaseMs: LEASE_MS,
        intervalMs: 50,
      });
      await worker.drain();
      assert.equal(worker.state, 'paused');
      assert.match(worker.reason, /api_minute_limit_reached/);
      assert.ok(worker.pausedUntil > Date.now() + 50_000);
      await worker.stop();
      assert.equal(worker.state, 'stopped');
      assert.equal((await stored(g)).state, 'stored');
    });
  });
}
