// `npm run bench:backend`: the server half's throughput, on this machine, over HTTP on 127.0.0.1 (client, server,
// store and simulator in this one process, PostgreSQL in its own throwaway cluster: tests/server/postgres.mjs).
// - Grants accepted per second and latency (p50, p99) through createGrantListener, for the file store and
//   PostgreSQL, at 1 and 8 concurrent clients, each grant new (201).
// - Sends per second: startSendWorker over due grants, against the WeChat API simulator (www/lib/api-simulator.mjs,
//   which fsyncs each delivered message), with each store.
// A benchmark, not a test: it prints Markdown tables and judges nothing. Knobs (environment): BENCH_GRANTS grants per
// run (default 1000), BENCH_SENDS grants sent per store (default 500). Run after `npm run build`.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import {
  createGrantListener,
  migrate,
  openFileStore,
  pgStore,
  stableTokenProvider,
  startSendWorker,
} from '../pkg/node.js';
import { startPostgres } from '../tests/server/postgres.mjs';
import { APPID, SECRET, TEMPLATE_ID, startWxApiSimulator } from '../tests/server/wxapi-simulator.mjs';

const GRANTS = Number(process.env.BENCH_GRANTS ?? 1000);
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

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (x) => x.toFixed(1);

/** POSTs GRANTS new grants with `clients` concurrent loops; resolves { perSecond, p50, p99 }. */
async function acceptGrants(store, clients) {
  const server = http.createServer(createGrantListener({ appid: APPID, templateIds: [TEMPLATE_ID], store }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${/** @type {any} */ (server.address()).port}/api/grants`;
  const latencies = [];
  let next = 0;
  const run = `c${clients}t${Date.now().toString(36)}`;
  const client = async () => {
    while (next < GRANTS) {
      const i = (next += 1);
      const reserved = `${run}n${i}`;
      const t0 = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': reserved },
        body: JSON.stringify({ appid: APPID, openid: `oBench${i}`, template_id: TEMPLATE_ID, scene: 1, reserved }),
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (response.status !== 201) throw new Error(`HTTP ${response.status}`);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - t0) / 1000;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  latencies.sort((a, b) => a - b);
  return { perSecond: GRANTS / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

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
  console.log(`Grants accepted (${GRANTS} new grants per row, POST /api/grants over HTTP on 127.0.0.1):\n`);
  console.log('| store | clients | grants/s | p50 ms | p99 ms |\n|---|---|---|---|---|');
  for (const [name, open] of Object.entries(STORES)) {
    for (const clients of [1, 8]) {
      const store = await open();
      const r = await acceptGrants(store, clients);
      await store.close();
      console.log(`| ${name} | ${clients} | ${Math.round(r.perSecond)} | ${ms(r.p50)} | ${ms(r.p99)} |`);
    }
  }
  const wx = await startWxApiSimulator();
  console.log(`\nSends (${SENDS} due grants, one worker, against the simulator over HTTP on 127.0.0.1):\n`);
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
