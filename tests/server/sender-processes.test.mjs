// Senders in separate processes sharing PostgreSQL, against the simulator over HTTP on 127.0.0.1: two workers over
// 1,000 due grants send 1,000 messages with no duplicate, and a sender killed with SIGKILL between WeChat's answer
// and the store's update leaves a grant that the next sender, after the lease, ends 'sent' with one message.
// Run after `npm run build`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sendGrant, stableTokenProvider } from '../../pkg/node.js';
import { closeStores, openPgStore, postgres } from './stores.mjs';
import { APPID, SECRET, TEMPLATE_ID, startWxApiSimulator } from './wxapi-simulator.mjs';

const CHILD = fileURLToPath(new URL('./send-child.mjs', import.meta.url));
const TIMEOUT_MS = 2_000;
const LEASE_MS = 5_000;

let wx;
before(async () => {
  wx = await startWxApiSimulator();
});
after(async () => {
  await wx?.close();
  await closeStores();
});

/** Starts send-child.mjs; resolves { child, lines, exited } where `exited` resolves { code, signal }. */
async function child(env) {
  const db = await postgres();
  const proc = spawn(process.execPath, [CHILD], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      API_BASE: wx.apiBase,
      APPID,
      SECRET,
      LEASE_MS: String(LEASE_MS),
      TIMEOUT_MS: String(TIMEOUT_MS),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = [];
  const waiters = [];
  let buffer = '';
  proc.stdout.on('data', (chunk) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const line = async (prefix) => {
    for (;;) {
      const found = lines.find((l) => l.startsWith(prefix));
      if (found) return found;
      await Promise.race([new Promise((resolve) => waiters.push(resolve)), exited]);
      if (proc.exitCode !== null && !lines.some((l) => l.startsWith(prefix))) throw new Error(`exited: ${lines}`);
    }
  };
  return { proc, lines, line, exited };
}

const key = (m) => `${m.openid}\n${m.template_id}\n${m.scene}`;

test('two send workers in two processes over 1,000 due grants: 1,000 messages, 0 duplicates', async () => {
  const store = await openPgStore();
  const N = 1_000;
  const run = crypto.randomBytes(3).toString('hex');
  const grants = [];
  for (let i = 0; i < N; i += 1) {
    const grant = {
      appid: APPID,
      openid: `oWorker_${run}_${i % 100}`,
      templateId: TEMPLATE_ID,
      scene: Math.floor(i / 100),
      reserved: `w${run}n${i}`,
    };
    grants.push(grant);
    await wx.permit(grant.openid, grant.scene);
    await store.insert(grant);
  }
  const before = wx.messages().length;
  const refusedBefore = wx.sim.stats.byErrcode[43101] ?? 0;
  const workers = [
    await child({ MODE: 'worker', TABLE: store.table }),
    await child({ MODE: 'worker', TABLE: store.table }),
  ];
  const results = await Promise.all(workers.map(async (w) => ({ exit: await w.exited, out: w.lines })));
  for (const { exit } of results) assert.deepEqual(exit, { code: 0, signal: null });
  const counts = results.map(({ out }) => JSON.parse(out.find((l) => l.startsWith('{'))).counts);
  assert.equal(counts[0].sent + counts[1].sent, N, 'each grant sent by exactly one worker');
  assert.ok(counts[0].sent > 0 && counts[1].sent > 0, `both workers sent: ${counts.map((c) => c.sent)}`);
  const messages = wx
    .messages()
    .slice(before)
    .filter((m) => m.openid.startsWith(`oWorker_${run}_`));
  assert.equal(messages.length, N, '1,000 messages at WeChat');
  assert.equal(new Set(messages.map(key)).size, N, '0 duplicates');
  assert.equal((await store.list({ state: 'sent' })).length, N);
  // A second request for a grant happens only after a timeout (a loaded machine), and WeChat answers it 43101.
  const earlier = (await store.list({ state: 'sent' })).filter((g) => g.detail === 'sent_earlier').length;
  assert.equal((wx.sim.stats.byErrcode[43101] ?? 0) - refusedBefore, earlier, 'no other second request');
  await store.close();
});

test("a sender killed by SIGKILL between WeChat's answer and the store: after the lease, sent, one message", async () => {
  const store = await openPgStore();
  const grant = {
    appid: APPID,
    openid: `oKilled_${crypto.randomBytes(3).toString('hex')}`,
    templateId: TEMPLATE_ID,
    scene: 5,
    reserved: `k${crypto.randomBytes(8).toString('hex')}`,
  };
  await wx.permit(grant.openid, grant.scene);
  await store.insert(grant);
  const dying = await child({ MODE: 'die-after-answer', TABLE: store.table, RESERVED: grant.reserved });
  const answered = await dying.line('answered ');
  assert.equal(JSON.parse(answered.slice('answered '.length)).errcode, 0, 'WeChat delivered');
  dying.proc.kill('SIGKILL');
  assert.deepEqual(await dying.exited, { code: null, signal: 'SIGKILL' });
  const mid = await store.get(grant.reserved);
  assert.deepEqual([mid.state, mid.attempts], ['sending', 1], 'the store never heard the answer');

  const token = stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase });
  const send = () =>
    sendGrant({
      store,
      token,
      reserved: grant.reserved,
      apiBase: wx.apiBase,
      message: { title: 'T', content: 'C' },
      leaseMs: LEASE_MS,
      timeoutMs: TIMEOUT_MS,
    });
  await assert.rejects(send(), { code: 'grant_not_due' }, "the dead sender's lease still holds");
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));
  const outcome = await send();
  assert.deepEqual([outcome.state, outcome.name, outcome.errcode], ['sent', 'sent_earlier', 43101]);
  const final = await store.get(grant.reserved);
  assert.deepEqual([final.state, final.attempts, final.detail], ['sent', 2, 'sent_earlier']);
  assert.equal(wx.messages().filter((m) => m.openid === grant.openid).length, 1, 'exactly one message');
  await store.close();
});
