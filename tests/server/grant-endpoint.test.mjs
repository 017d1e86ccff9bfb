// The grant endpoint of the built package (pkg/node.js) against the README's backend contract, row by row, with
// both stores (a temporary file, a throwaway PostgreSQL) and in both forms: the Web handler called with a Request,
// and the node:http listener over real HTTP on 127.0.0.1. Then the endpoint in two processes sharing PostgreSQL,
// and PostgreSQL stopped mid-run. Run after `node scripts/build.mjs`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { listeningPort } from './listening.mjs';
import { startPostgres } from './postgres.mjs';

const { createGrantHandler, createGrantListener, openFileStore, pgStore, migrate } = await import(
  new URL('../../pkg/node.js', import.meta.url).href
);

const APPID = 'wxaba38c7f163da69b';
const TEMPLATE = '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc';
let n = 0;
const body = (over = {}) => ({
  appid: APPID,
  openid: 'oL61gjnUEzTYJsoqc2XpvsCjHuaQ',
  template_id: TEMPLATE,
  scene: 1000,
  reserved: `adecaQftk5UNqQwC${process.pid}x${(n += 1)}`,
  ...over,
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let db;
const cleanups = [];
before(async () => {
  db = await startPostgres();
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await db?.stop();
});

const newPool = (max = 4) => {
  const pool = new pg.Pool({ connectionString: db.url, max });
  // Idle connections die when the test stops the database: not an error of the test.
  pool.on('error', () => {});
  cleanups.push(() => pool.end().catch(() => {}));
  return pool;
};

const STORES = {
  file: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxsub-endpoint-'));
    const store = await openFileStore(join(dir, 'grants.jsonl'));
    cleanups.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return store;
  },
  pg: async () => {
    const table = `endpoint_${(n += 1)}`;
    const pool = newPool();
    await migrate(pool, { table });
    return pgStore({ client: pool, table });
  },
};

/**
 * The two forms as one `send(init)` → { status, headers, json }: the Web handler with a Request, or the node:http
 * listener behind a real server on 127.0.0.1 reached with fetch.
 */
const FORMS = {
  handler: async (options) => {
    const handle = createGrantHandler(options);
    return async ({ method = 'POST', headers = {}, body: payload } = {}) => {
      const response = await handle(
        new Request('http://127.0.0.1/api/grants', { method, headers, body: payload, duplex: 'half' }),
      );
      return { status: response.status, headers: response.headers, json: await response.json().catch(() => null) };
    };
  },
  http: async (options) => {
    const server = http.createServer(createGrantListener(options));
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${server.address().port}/api/grants`;
    return async ({ method = 'POST', headers = {}, body: payload } = {}) => {
      const response = await fetch(url, { method, headers, body: payload, redirect: 'manual', duplex: 'half' });
      return { status: response.status, headers: response.headers, json: await response.json().catch(() => null) };
    };
  },
};

/** POSTs a grant as handleCallback() does: JSON, with its reserved as the Idempotency-Key. */
const grantRequest = (grant, options = {}) => {
  const { headers = {} } = options;
  const key = 'key' in options ? options.key : grant?.reserved;
  const type = 'type' in options ? options.type : 'application/json';
  return {
    headers: {
      ...(type ? { 'Content-Type': type } : {}),
      ...(key !== undefined ? { 'Idempotency-Key': key } : {}),
      ...headers,
    },
    body: typeof grant === 'string' ? grant : JSON.stringify(grant),
  };
};

for (const [storeKind, makeStore] of Object.entries(STORES)) {
  for (const [formKind, makeForm] of Object.entries(FORMS)) {
    describe(`the contract, ${formKind} form, ${storeKind} store`, () => {
      let store;
      let send;
      const authorized = [];
      const failures = [];
      before(async () => {
        store = await makeStore();
        send = await makeForm({
          appid: APPID,
          templateIds: [TEMPLATE, 'TPL_2'],
          store,
          maxBodyBytes: 1024,
          authorize: (grant, request) => {
            authorized.push([grant, request.headers.get('idempotency-key')]);
            if (grant.openid === 'oThrows') throw new Error('the site’s bug');
            return grant.openid !== 'oForbidden';
          },
          cors: { origins: ['https://shop.example.com'], credentials: true },
          onError: (e) => failures.push(e),
        });
      });

      test('201 for a new grant, stored before the answer', async () => {
        const grant = body();
        const answer = await send(grantRequest(grant));
        assert.equal(answer.status, 201);
        assert.deepEqual(answer.json, { status: 'created', reserved: grant.reserved });
        assert.equal(answer.headers.get('cache-control'), 'no-store');
        const stored = await store.get(grant.reserved);
        assert.deepEqual(
          [stored.appid, stored.openid, stored.templateId, stored.scene, stored.state],
          [grant.appid, grant.openid, grant.template_id, grant.scene, 'stored'],
        );
        // The hook saw the typed grant and the request.
        assert.deepEqual(authorized.at(-1), [
          { appid: APPID, openid: grant.openid, templateId: TEMPLATE, scene: 1000, reserved: grant.reserved },
          grant.reserved,
        ]);
      });

      test('200 for the same key and the same grant; 409 for the same key with another grant', async () => {
        const grant = body();
        assert.equal((await send(grantRequest(grant))).status, 201);
        const again = await send(grantRequest(grant));
        assert.equal(again.status, 200);
        assert.deepEqual(again.json, { status: 'duplicate', reserved: grant.reserved });
        const other = await send(grantRequest({ ...grant, scene: 1001 }));
        assert.equal(other.status, 409);
        assert.equal(other.json.error.code, 'idempotency_conflict');
        assert.equal((await store.get(grant.reserved)).scene, 1000, 'the first grant stays');
      });

      test('400 lists every problem with the crate’s codes', async () => {
        const bad = await send(
          grantRequest(
            { appid: 'wx0000000000000000', openid: 'o 1', template_id: 'TPL_3', scene: 1.5, reserved: 'abc' },
            { key: 'abd' },
          ),
        );
        assert.equal(bad.status, 400);
        assert.equal(bad.json.error.code, 'invalid_grant');
        assert.match(bad.json.error.message, /5 problem/);
        assert.deepEqual(
          bad.json.error.problems.map((p) => [p.field, p.code]),
          [
            ['appid', 'appid_mismatch'],
            ['openid', 'invalid_openid'],
            ['template_id', 'template_not_accepted'],
            ['scene', 'invalid_scene'],
            ['Idempotency-Key', 'key_mismatch'],
          ],
        );
        for (const problem of bad.json.error.problems) assert.equal(typeof problem.message, 'string');
        const noKey = await send(grantRequest(body(), { key: undefined }));
        assert.deepEqual(
          noKey.json.error.problems.map((p) => p.code),
          ['key_mismatch'],
        );
        for (const raw of ['{"appid":', '[]', 'null', '"grant"', '\u00ff']) {
          const answer = await send(grantRequest(raw, { key: 'abc' }));
          assert.equal(answer.status, 400, raw);
          assert.deepEqual(
            answer.json.error.problems.map((p) => [p.field, p.code]),
            [['body', 'invalid_body']],
          );
        }
        const notUtf8 = await send({
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'abc' },
          body: new Uint8Array([0x7b, 0xff, 0x7d]),
        });
        assert.equal(notUtf8.status, 400);
      });

      test('403 when authorize says no; 500 (retried by the browser) when it throws', async () => {
        const forbidden = body({ openid: 'oForbidden' });
        const answer = await send(grantRequest(forbidden));
        assert.equal(answer.status, 403);
        assert.equal(answer.json.error.code, 'forbidden');
        assert.equal(await store.get(forbidden.reserved), null);
        const failing = await send(grantRequest(body({ openid: 'oThrows' })));
        assert.equal(failing.status, 500);
        assert.doesNotMatch(JSON.stringify(failing.json), /site’s bug/, 'no internals in the answer');
        assert.equal(failures.at(-1).message, 'the site’s bug', 'but the site is told');
      });

      test('413 above maxBodyBytes, declared or streamed', async () => {
        const big = grantRequest({ ...body(), padding: 'x'.repeat(2000) });
        const answer = await send(big);
        assert.equal(answer.status, 413);
        assert.equal(answer.json.error.code, 'body_too_large');
        // No Content-Length, and a body that never ends: the limit holds while reading the stream.
        const endless = new ReadableStream({
          pull(controller) {
            controller.enqueue(new TextEncoder().encode('y'.repeat(100)));
          },
        });
        const streamed = await send({ headers: { 'Content-Type': 'application/json' }, body: endless });
        assert.equal(streamed.status, 413);
      });

      test('415 without Content-Type: application/json; 405 for other methods', async () => {
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
          const answer = await send(grantRequest(body(), { type }));
          assert.equal(answer.status, 415, String(type));
          assert.equal(answer.json.error.code, 'unsupported_media_type');
        }
        assert.equal((await send(grantRequest(body(), { type: 'Application/JSON; charset=utf-8' }))).status, 201);
        for (const method of ['GET', 'PUT', 'DELETE']) {
          const answer = await send({ method });
          assert.equal(answer.status, 405, method);
          assert.equal(answer.headers.get('allow'), 'POST, OPTIONS');
        }
      });

      test('CORS: the preflight and the answers carry the allowed origin only', async () => {
        const preflight = await send({
          method: 'OPTIONS',
          headers: {
            Origin: 'https://shop.example.com',
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type, idempotency-key, x-csrf-token',
          },
        });
        assert.equal(preflight.status, 204);
        assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://shop.example.com');
        assert.equal(preflight.headers.get('access-control-allow-methods'), 'POST');
        assert.equal(
          preflight.headers.get('access-control-allow-headers'),
          'content-type, idempotency-key, x-csrf-token',
        );
        assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
        const posted = await send(grantRequest(body(), { headers: { Origin: 'https://shop.example.com' } }));
        assert.equal(posted.status, 201);
        assert.equal(posted.headers.get('access-control-allow-origin'), 'https://shop.example.com');
        const stranger = await send(grantRequest(body(), { headers: { Origin: 'https://evil.example' } }));
        assert.equal(stranger.headers.get('access-control-allow-origin'), null);
        const strangerPreflight = await send({ method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
        assert.equal(strangerPreflight.headers.get('access-control-allow-origin'), null);
      });
    });
  }

  test(`503 while the ${storeKind} store cannot write, and never a redirect`, async () => {
    const store = await makeStore();
    const told = [];
    const send = await FORMS.http({ appid: APPID, templateIds: [TEMPLATE], store, onError: (e) => told.push(e) });
    const grant = body();
    await store.close();
    const answer = await send(grantRequest(grant));
    assert.equal(answer.status, 503);
    assert.equal(answer.json.error.code, 'store_unavailable');
    assert.equal(answer.headers.get('retry-after'), '5');
    // What failed goes to the site's log, not to the client.
    assert.doesNotMatch(answer.json.error.message, /closed|\(/);
    assert.equal(told.length, 1);
    assert.equal(told[0].code, 'store_unavailable');
    assert.match(told[0].message, /closed/);
  });
}

test('options are checked at creation, with typed errors', () => {
  const store = { insert: async () => ({ created: true }) };
  const good = { appid: APPID, templateIds: [TEMPLATE], store };
  const code = (options) => {
    try {
      createGrantHandler(options);
      return 'created';
    } catch (error) {
      assert.equal(error.name, 'SubscribeError');
      return error.code;
    }
  };
  assert.equal(code(good), 'created');
  assert.equal(code({ ...good, appid: 'wx1' }), 'invalid_appid');
  assert.equal(code({ ...good, templateIds: [] }), 'invalid_option');
  assert.equal(code({ ...good, templateIds: ['a b'] }), 'invalid_template_id');
  assert.equal(code({ ...good, store: {} }), 'invalid_option');
  assert.equal(code({ ...good, authorize: 'yes' }), 'invalid_option');
  assert.equal(code({ ...good, cors: { origins: ['*'] } }), 'invalid_option');
  assert.equal(code({ ...good, maxBodyBytes: 10 }), 'invalid_option');
  assert.equal(code(null), 'invalid_option');
  assert.equal(code({ ...good, onError: 'log' }), 'invalid_option');
  assert.throws(() => createGrantListener({}), { name: 'SubscribeError' });
});

test('the handler rejects what is not a Request with a typed error', async () => {
  const handle = createGrantHandler({ appid: APPID, templateIds: [TEMPLATE], store: { insert: async () => ({}) } });
  for (const value of [undefined, null, 'POST /api/grants', {}, { method: 'POST' }]) {
    await assert.rejects(handle(value), { name: 'SubscribeError', code: 'invalid_option' });
  }
});

/** Starts the endpoint in its own process on `table`; resolves its URL. */
async function serverProcess(table) {
  const child = spawn(process.execPath, [new URL('./grant-server.mjs', import.meta.url).pathname], {
    env: { ...process.env, DATABASE_URL: db.url, TABLE: table, APPID, TEMPLATE_ID: TEMPLATE },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => {
    child.kill('SIGKILL');
  });
  const port = await listeningPort(child);
  return `http://127.0.0.1:${port}/api/grants`;
}

const postTo = async (url, grant) => {
  const response = await fetch(url, { method: 'POST', redirect: 'manual', ...grantRequest(grant) });
  await response.arrayBuffer();
  return response.status;
};

describe('two server processes sharing PostgreSQL', () => {
  let urls;
  let table;
  let pool;
  before(async () => {
    table = `shared_${(n += 1)}`;
    pool = newPool();
    await migrate(pool, { table });
    urls = await Promise.all([serverProcess(table), serverProcess(table)]);
  });

  test('one grant POSTed 50 times at once: stored once, every answer 201 or 200', async () => {
    const grant = body();
    const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => postTo(urls[i % 2], grant)));
    assert.equal(statuses.filter((s) => s === 201).length, 1, statuses.join(' '));
    assert.equal(statuses.filter((s) => s === 200).length, 49);
    const { rows } = await pool.query(`SELECT count(*)::int AS count FROM ${table} WHERE reserved = $1`, [
      grant.reserved,
    ]);
    assert.equal(rows[0].count, 1);
  });

  test('PostgreSQL stopped mid-run: 503 meanwhile, every grant stored once after it is back', async () => {
    const grants = Array.from({ length: 30 }, () => body({ openid: `oMany${(n += 1)}` }));
    const seen = [];
    // A browser's delivery: retry on 5xx or no answer until a 2xx.
    const deliver = async (grant, i) => {
      for (;;) {
        const status = await postTo(urls[i % 2], grant).catch(() => 0);
        seen.push(status);
        if (status === 200 || status === 201) return status;
        assert.ok(status === 503 || status === 0 || status === 500, `status ${status}`);
        await sleep(100);
      }
    };
    const delivered = [];
    for (let i = 0; i < 10; i += 1) delivered.push(await deliver(grants[i], i));
    await db.kill();
    const during = grants.slice(10).map((grant, i) => deliver(grant, i));
    await sleep(1500);
    assert.ok(seen.includes(503), 'the endpoint answered 503 while the database was down');
    await db.restart();
    delivered.push(...(await Promise.all(during)));
    // 200 only if a COMMIT made it to disk but its answer was cut by the stop: stored either way, once.
    assert.deepEqual(
      delivered.filter((s) => s !== 201 && s !== 200),
      [],
    );
    const { rows } = await pool.query(`SELECT reserved FROM ${table} WHERE openid LIKE 'oMany%' ORDER BY sequence`);
    assert.deepEqual(rows.map((r) => r.reserved).sort(), grants.map((g) => g.reserved).sort());
  });
});
