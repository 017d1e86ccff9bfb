// A sender in its own process, for tests/server/sender-processes.test.mjs. Configured by the environment:
// DATABASE_URL, TABLE (a migrated grant table), API_BASE (the simulator), APPID, SECRET, LEASE_MS, TIMEOUT_MS and
// MODE:
// - 'worker': a send worker until a round finds nothing due; prints {"counts":…} and exits.
// - 'die-after-answer': sendGrant for RESERVED with a fetch that, once WeChat has answered the send request, prints
//   "answered" and then waits forever, before the store is updated: the parent kills it with SIGKILL there.
import pg from 'pg';
import { pgStore, sendGrant, stableTokenProvider, startSendWorker } from '../../pkg/node.js';

const env = process.env;
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
const store = pgStore({ client: pool, table: env.TABLE });
const token = stableTokenProvider({ appid: env.APPID, secret: env.SECRET, apiBase: env.API_BASE });
const common = {
  store,
  token,
  apiBase: env.API_BASE,
  message: (grant) => ({ title: 'Order shipped', content: `For ${grant.openid}, scene ${grant.scene}` }),
  leaseMs: Number(env.LEASE_MS),
  timeoutMs: Number(env.TIMEOUT_MS),
};

if (env.MODE === 'worker') {
  const worker = startSendWorker({ ...common, intervalMs: 20, batch: 20 });
  let counts = await worker.drain();
  // A send that timed out on a loaded machine is retried after its backoff: drain until no grant waits.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (await store.list({ state: 'stored' })).length > 0) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    counts = await worker.drain();
  }
  await worker.stop();
  process.stdout.write(`${JSON.stringify({ counts, state: worker.state })}\n`);
  await pool.end();
} else if (env.MODE === 'die-after-answer') {
  const dieAfterAnswer = async (url, init) => {
    const response = await fetch(url, init);
    if (!url.includes('/message/template/subscribe')) return response;
    const text = await response.text(); // WeChat has answered (and delivered)…
    process.stdout.write(`answered ${text}\n`);
    await new Promise(() => {}); // …and this sender never gets to store.finish.
  };
  await sendGrant({ ...common, fetch: dieAfterAnswer, reserved: env.RESERVED });
  process.stdout.write('not killed\n');
} else {
  throw new Error(`unknown MODE ${env.MODE}`);
}
