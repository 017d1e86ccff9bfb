// `npm run bench:grants`: the grant endpoint (createGrantListener) in a server process of its own on 127.0.0.1, over
// the file store and over PostgreSQL (a throwaway cluster, tests/server/postgres.mjs), POSTed new grants by 1 and by
// 8 concurrent clients: grants accepted per second and the latency of each answer (p50, p99), every answer a 201
// only once the grant is durable (fsync / COMMIT). Prints a Markdown table and writes benches/grants-results.json.
// A benchmark, not a test: the figures depend on the machine's disk and cores.
//
// Knobs (environment): BENCH_GRANTS grants per run (default 2000).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../tests/server/postgres.mjs';
import { listeningPort } from '../tests/server/listening.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GRANTS = Number(process.env.BENCH_GRANTS ?? 2000);
const APPID = 'wxaba38c7f163da69b';
const TEMPLATE = '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc';

// The server: one process, as a site runs it; the store chosen by STORE.
const SERVER = `
import http from 'node:http';
const pkg = await import(${JSON.stringify(new URL('../pkg/node.js', import.meta.url).href)});
let store;
if (process.env.STORE === 'pg') {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  await pkg.migrate(pool);
  store = pkg.pgStore({ client: pool });
} else {
  store = await pkg.openFileStore(process.env.FILE);
}
const server = http.createServer(pkg.createGrantListener({ appid: '${APPID}', templateIds: ['${TEMPLATE}'], store }));
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

async function startServer(env) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await listeningPort(child);
  return { port, stop: () => new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM')) };
}

/** POSTs one grant on a kept-alive connection; resolves the status. */
function post(agent, port, grant) {
  const body = JSON.stringify(grant);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/grants',
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'Idempotency-Key': grant.reserved,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** `clients` workers POST GRANTS new grants between them; resolves the figures. */
async function run(port, clients, label) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies = [];
  let next = 0;
  let wrong = 0;
  const worker = async () => {
    while (next < GRANTS) {
      const i = (next += 1);
      const grant = {
        appid: APPID,
        openid: `oBench${i % 97}`,
        template_id: TEMPLATE,
        scene: i % 10_001,
        reserved: `Bench${label}${i}`,
      };
      const start = process.hrtime.bigint();
      const status = await post(agent, port, grant);
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (status !== 201) wrong += 1;
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  if (wrong) throw new Error(`${wrong} answers were not 201`);
  return {
    clients,
    grants: GRANTS,
    perSecond: Math.round(GRANTS / seconds),
    p50Ms: Number(at(0.5).toFixed(2)),
    p99Ms: Number(at(0.99).toFixed(2)),
  };
}

const results = { machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`, runs: [] };
const dir = mkdtempSync(join(os.tmpdir(), 'wxsub-bench-'));
const db = await startPostgres();
try {
  for (const store of ['file', 'pg']) {
    for (const clients of [1, 8]) {
      const label = `${store}${clients}`;
      const server = await startServer({ STORE: store, FILE: join(dir, `${label}.jsonl`), DATABASE_URL: db.url });
      try {
        results.runs.push({
          store: store === 'pg' ? 'PostgreSQL' : 'file',
          ...(await run(server.port, clients, label)),
        });
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`Grant endpoint, ${GRANTS} new grants per run (${results.machine}):\n`);
console.log('| store | clients | grants/s | p50 | p99 |\n|---|---|---|---|---|');
for (const r of results.runs)
  console.log(`| ${r.store} | ${r.clients} | ${r.perSecond} | ${r.p50Ms} ms | ${r.p99Ms} ms |`);
writeFileSync(new URL('./grants-results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
