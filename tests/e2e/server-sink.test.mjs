// The grant sink over HTTP: the package's grant endpoint and file store (body checks, Idempotency-Key dedupe,
// durability across restarts) behind the demo's fault switch (FAULTS=… and /api/faults). Needs the built package.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPostgres } from '../server/postgres.mjs';
import { APPID, TEMPLATE_A, startInProcess, tempDataDir } from './harness.mjs';

const KEY = 'Ab3dEf6hIj9kLm2nOp5qRs8t';
const grant = (over = {}) => ({
  appid: APPID,
  openid: 'oTestUser1234567890abcdefghi',
  template_id: TEMPLATE_A,
  scene: 1000,
  reserved: KEY,
  ...over,
});

async function post(base, body, options = {}) {
  const { contentType = 'application/json', raw, redirect, signal } = options;
  const key = 'key' in options ? options.key : body?.reserved;
  const headers = {};
  if (contentType) headers['Content-Type'] = contentType;
  if (key !== undefined) headers['Idempotency-Key'] = key;
  const response = await fetch(new URL('/api/grants', base), {
    method: 'POST',
    headers,
    body: raw ?? JSON.stringify(body),
    redirect,
    signal,
  });
  return { status: response.status, headers: response.headers, body: await response.json().catch(() => null) };
}

const STORE_FILE = 'grant-store.jsonl';
const lines = (dataDir) => fs.readFileSync(path.join(dataDir, STORE_FILE), 'utf8').split('\n').filter(Boolean);

describe('grant sink', () => {
  let server;
  before(async () => {
    server = await startInProcess();
  });
  after(() => server.stop());

  test('stores a valid grant once, answers 201 then 200 for the same Idempotency-Key', async () => {
    const first = await post(server.url, grant());
    assert.equal(first.status, 201);
    assert.equal(first.body.status, 'created');
    const again = await post(server.url, grant());
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'duplicate');

    const list = await server.sink.list();
    assert.equal(list.grants.length, 1);
    const [stored] = list.grants;
    assert.deepEqual(
      {
        appid: stored.appid,
        openid: stored.openid,
        template_id: stored.template_id,
        scene: stored.scene,
        reserved: stored.reserved,
        key: stored.idempotency_key,
      },
      { ...grant(), key: KEY, reserved: KEY },
    );
    assert.match(stored.received_at, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(list.stats, { posts: 2, created: 1, duplicates: 1, rejected: 0, faulted: 0 });
    assert.equal(lines(server.dataDir).length, 1, 'one JSON line on disk');
    const record = JSON.parse(lines(server.dataDir)[0]);
    assert.deepEqual(
      [record.reserved, record.openid, record.templateId, record.scene, record.state],
      [KEY, stored.openid, stored.template_id, stored.scene, 'stored'],
    );
  });

  test('the same Idempotency-Key with another grant is a 409 conflict', async () => {
    const response = await post(server.url, grant({ scene: 1001 }));
    assert.equal(response.status, 409);
    assert.equal(response.body.error.code, 'idempotency_conflict');
    assert.equal((await server.sink.grants()).length, 1);
  });

  test('concurrent POSTs of one new key store it exactly once', async () => {
    const key = 'Concurrent0123456789';
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(server.url, grant({ reserved: key }))));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 201]);
    assert.equal((await server.sink.grants()).filter((g) => g.idempotency_key === key).length, 1);
    assert.equal(lines(server.dataDir).filter((l) => l.includes(key)).length, 1);
  });

  const invalid = [
    ['no Content-Type', () => [grant({ reserved: 'Nx1' }), { contentType: null }], 415, 'unsupported_media_type'],
    ['text/plain', () => [grant({ reserved: 'Nx2' }), { contentType: 'text/plain' }], 415, 'unsupported_media_type'],
    [
      'no Idempotency-Key',
      () => [grant({ reserved: 'Nx3' }), { key: undefined }],
      400,
      'invalid_grant',
      ['key_mismatch'],
    ],
    [
      'Idempotency-Key with a dash',
      () => [grant({ reserved: 'Nx4' }), { key: 'Nx-4' }],
      400,
      'invalid_grant',
      ['key_mismatch'],
    ],
    [
      'Idempotency-Key other than reserved',
      () => [grant({ reserved: 'Nx5' }), { key: 'Other5' }],
      400,
      'invalid_grant',
      ['key_mismatch'],
    ],
    ['not JSON', () => [null, { key: 'Nx6', raw: '{"appid":' }], 400, 'invalid_grant', ['invalid_body']],
    ['a JSON array', () => [null, { key: 'Nx7', raw: '[]' }], 400, 'invalid_grant', ['invalid_body']],
    ['scene as a string', () => [grant({ reserved: 'Nx8', scene: '1000' })], 400, 'invalid_grant', ['invalid_scene']],
    ['scene 10001', () => [grant({ reserved: 'Nx9', scene: 10001 })], 400, 'invalid_grant', ['invalid_scene']],
    ['scene 1.5', () => [grant({ reserved: 'Nx10', scene: 1.5 })], 400, 'invalid_grant', ['invalid_scene']],
    [
      'another appid',
      () => [grant({ reserved: 'Nx11', appid: 'wx0000000000000000' })],
      400,
      'invalid_grant',
      ['appid_mismatch'],
    ],
    [
      'an unknown template',
      () => [grant({ reserved: 'Nx12', template_id: 'nope' })],
      400,
      'invalid_grant',
      ['template_not_accepted'],
    ],
    ['no openid', () => [grant({ reserved: 'Nx13', openid: undefined })], 400, 'invalid_grant', ['invalid_openid']],
    ['reserved too long', () => [grant({ reserved: 'a'.repeat(129) })], 400, 'invalid_grant', ['invalid_reserved']],
  ];
  for (const [name, args, status, error, problems] of invalid) {
    test(`rejects ${name} with ${status} ${error}`, async () => {
      const [body, options] = args();
      const response = await post(server.url, body, options);
      assert.equal(response.status, status);
      assert.equal(response.body.error.code, error);
      if (problems)
        assert.deepEqual(
          response.body.error.problems.map((p) => p.code),
          problems,
        );
    });
  }

  test('rejects a body over 16 KiB with 413', async () => {
    const response = await post(server.url, grant({ reserved: 'Big1', padding: 'x'.repeat(20_000) }));
    assert.equal(response.status, 413);
  });

  test('nothing invalid was stored', async () => {
    const keys = (await server.sink.grants()).map((g) => g.idempotency_key).sort();
    assert.deepEqual(keys, [KEY, 'Concurrent0123456789'].sort());
  });

  test('other methods get 405 with Allow', async () => {
    const response = await fetch(new URL('/api/grants', server.url), { method: 'DELETE' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET, POST');
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });
});

describe('grant sink durability', () => {
  test('grants survive a restart; the dedupe key too; a torn last line is cut off', async () => {
    const dataDir = tempDataDir();
    try {
      let server = await startInProcess({ DATA_DIR: dataDir });
      assert.equal((await post(server.url, grant())).status, 201);
      await server.stop();

      // A crash while writing leaves half a line; it was never acknowledged.
      fs.appendFileSync(path.join(dataDir, STORE_FILE), '{"reserved":"Torn","appid"');
      server = await startInProcess({ DATA_DIR: dataDir });
      try {
        assert.doesNotMatch(fs.readFileSync(path.join(dataDir, STORE_FILE), 'utf8'), /Torn/);
        assert.equal((await server.sink.grants()).length, 1);
        assert.equal((await post(server.url, grant())).status, 200, 'still a duplicate after the restart');
        assert.equal((await post(server.url, grant({ reserved: 'After1' }))).status, 201);
      } finally {
        await server.stop();
      }
      server = await startInProcess({ DATA_DIR: dataDir });
      try {
        assert.deepEqual(
          (await server.sink.grants()).map((g) => g.reserved),
          [KEY, 'After1'],
        );
      } finally {
        await server.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('fault switch', () => {
  test('FAULTS=503,503 fails the next two POSTs, then the sink works', async () => {
    const server = await startInProcess({ FAULTS: '503,503' });
    try {
      assert.ok(
        server.lines.some((l) => /FAULTS\s+503,503$/.test(l)),
        'the fault switch is printed at start',
      );
      assert.deepEqual((await server.sink.list()).faults, { queue: [503, 503], down: null });
      assert.equal((await post(server.url, grant())).status, 503);
      assert.equal((await server.sink.grants()).length, 0, 'a GET is not affected by faults');
      assert.equal((await post(server.url, grant())).status, 503);
      assert.equal((await post(server.url, grant())).status, 201);
      assert.deepEqual(await server.sink.stats(), { posts: 3, created: 1, duplicates: 0, rejected: 0, faulted: 2 });
    } finally {
      await server.stop();
    }
  });

  test('login redirects to a 200 page, lost stores then drops the answer, hang holds the POST', async () => {
    const server = await startInProcess();
    try {
      await server.sink.setFaults({ queue: ['login', 'lost', 'hang'] });
      const redirected = await post(server.url, grant(), { redirect: 'manual' });
      assert.equal(redirected.status, 302);
      assert.equal(redirected.headers.get('location'), '/login');
      const login = await fetch(new URL('/login', server.url));
      assert.equal(login.status, 200, 'the page an expired session sends a browser to answers 200');
      assert.equal((await server.sink.grants()).length, 0);

      await assert.rejects(post(server.url, grant()), TypeError, 'the answer is lost');
      assert.equal((await server.sink.grants()).length, 1, 'but the grant was stored');

      const held = post(server.url, grant(), { signal: AbortSignal.timeout(300) });
      await assert.rejects(held, /TimeoutError|aborted/);
      assert.equal((await post(server.url, grant())).status, 200, 'the retry is a duplicate');
      assert.deepEqual(await server.sink.stats(), { posts: 4, created: 1, duplicates: 1, rejected: 0, faulted: 3 });
    } finally {
      await server.stop();
    }
  });

  test('/api/faults: down until cleared, reset drops the connection, bad input is refused', async () => {
    const server = await startInProcess();
    try {
      assert.deepEqual((await server.sink.setFaults({ down: 503 })).body, { queue: [], down: 503 });
      for (let i = 0; i < 3; i += 1) assert.equal((await post(server.url, grant())).status, 503);
      assert.deepEqual((await server.sink.clearFaults()).body, { queue: [], down: null });
      assert.equal((await post(server.url, grant())).status, 201);

      await server.sink.setFaults({ queue: ['reset', 500] });
      await assert.rejects(post(server.url, grant({ reserved: 'Reset1' })), TypeError, 'the connection is dropped');
      assert.equal((await post(server.url, grant({ reserved: 'Reset1' }))).status, 500);
      assert.equal((await post(server.url, grant({ reserved: 'Reset1' }))).status, 201);

      assert.equal((await server.sink.setFaults({ queue: [200] })).status, 400);
      assert.equal((await server.sink.setFaults({ down: 'soon' })).status, 400);
      assert.equal((await server.sink.setFaults([503])).status, 400);
      assert.deepEqual(
        (await server.sink.list()).faults,
        { queue: [], down: null },
        'a refused change leaves the switch alone',
      );
    } finally {
      await server.stop();
    }
  });
});

describe('grant sink on PostgreSQL (DATABASE_URL)', () => {
  let db;
  before(async () => {
    db = await startPostgres();
  });
  after(() => db?.stop());

  test('the same contract, the grants kept in the database across restarts, 503 while it is down', async () => {
    let server = await startInProcess({ DATABASE_URL: db.url });
    try {
      assert.ok(
        server.lines.some((l) => l.includes(`(set: PostgreSQL at 127.0.0.1:${db.port}/postgres)`)),
        server.lines.join('\n'),
      );
      assert.equal((await post(server.url, grant())).status, 201);
      assert.equal((await post(server.url, grant())).status, 200);
      assert.equal((await post(server.url, grant({ scene: 1001 }))).status, 409);
      await db.kill();
      const down = await post(server.url, grant({ reserved: 'WhileDown1' }));
      assert.equal(down.status, 503);
      assert.equal(down.body.error.code, 'store_unavailable');
      assert.ok(
        server.lines.some((l) => /^sink: store_unavailable: .*(ECONNREFUSED|terminat)/i.test(l)),
        'what failed is in the demo log',
      );
      await db.restart();
      assert.equal((await post(server.url, grant({ reserved: 'WhileDown1' }))).status, 201);
    } finally {
      await server.stop();
    }
    server = await startInProcess({ DATABASE_URL: db.url });
    try {
      assert.deepEqual(
        (await server.sink.grants()).map((g) => [g.reserved, g.state]),
        [
          [KEY, 'stored'],
          ['WhileDown1', 'stored'],
        ],
      );
    } finally {
      await server.stop();
    }
  });
});
