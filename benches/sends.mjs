// `npm run bench:sends`: sends per second of one startSendWorker over due grants, against the WeChat API simulator
// (www/lib/api-simulator.mjs, which fsyncs each delivered message) over HTTP on 127.0.0.1, with the file store and
// PostgreSQL (a throwaway cluster: tests/server/postgres.mjs); worker, store and simulator in this one process.
// Grants accepted per second are `npm run bench:grants` (benches/grants.mjs).
// A benchmark, not a test: it prints a Markdown table and judges nothing. Knob (environment): BENCH_SENDS grants
// sent per store (default 500). Run after `npm run build`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { migrate, openFileStore, pgStore, stableTokenProvider, startSendWorker } from '../pkg/node.js';
import { startPostgres } from '../tests/server/postgres.mjs';
import { APPID, SECRET, TEMPLATE_ID, startWxApiSimulator } from '../tests/server/wxapi-simulator.mjs';

const SENDS = Number(process.env.BENCH_SENDS ?? 500);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxsub-bench-'));
const db = await startPostgres();
const pools = [];
let tables = 0;
let files = 0;

const STORES = {
  file: async () => openFileStore(path.join(dir, `grants-${(files += 1)}.jsonl`)),
  PostgreSQL: async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 8 });
    pools.push(pool);
    const table = `bench_${(tables += 1)}`;
    await migrate(pool, { table });
    return pgStore({ client: pool, table });
  },
};

/** Sends SENDS due grants with one worker; resolves sends per second. */
async function sendGrants(store, wx) {
  const run = Date.now().toString(36);
  for (let i = 0; i < SENDS; i += 1) {
    const grant = {
      appid: APPID,
      openid: `oSend${run}_${i}`,
      templateId: TEMPLATE_ID,
      scene: 1,
      reserved: `s${run}n${i}`,
    };
    await wx.permit(grant.openid, grant.scene);
    await store.insert(grant);
  }
  const token = stableTokenProvider({ appid: APPID, secret: SECRET, apiBase: wx.apiBase });
  await token.get();
  const t0 = performance.now();
  const worker = startSendWorker({
    store,
    token,
    apiBase: wx.apiBase,
    message: { title: 'T', content: 'C' },
    batch: 50,
    intervalMs: 10,
  });
  const counts = await worker.drain();
  await worker.stop();
  if (counts.sent !== SENDS) throw new Error(`sent ${counts.sent} of ${SENDS}`);
  return SENDS / ((performance.now() - t0) / 1000);
}

try {
  console.log(
    `Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), PostgreSQL in a local cluster\n`,
  );
  const wx = await startWxApiSimulator();
  console.log(`Sends (${SENDS} due grants, one worker, against the simulator over HTTP on 127.0.0.1):\n`);
  console.log('| store | sends/s |\n|---|---|');
  for (const [name, open] of Object.entries(STORES)) {
    const store = await open();
    console.log(`| ${name} | ${Math.round(await sendGrants(store, wx))} |`);
    await store.close();
  }
  await wx.close();
} finally {
  await Promise.all(pools.map((p) => p.end().catch(() => {})));
  await db.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
