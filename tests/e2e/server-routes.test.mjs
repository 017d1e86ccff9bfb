// The server's route table and its one error body: every route answers a method it does not take with
// 405 and the Allow header, and every JSON error of the server is { error: { code, message } } (the grant
// endpoint's invalid_grant adds its problems). The grant endpoint is the built package's (npm run build).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startInProcess } from './harness.mjs';

const ROUTES = [
  ['/config.json', 'POST', 'GET'],
  ['/mp/subscribemsg', 'PUT', 'GET, POST'],
  ['/api/grants', 'DELETE', 'GET, POST'],
  ['/api/faults', 'PATCH', 'GET, PUT, POST, DELETE'],
  ['/api/send', 'GET', 'POST'],
  ['/api/sends', 'POST', 'GET'],
  ['/wxapi/simulator', 'POST', 'GET'],
  ['/inbox', 'POST', 'GET'],
  ['/inbox/follow', 'GET', 'POST'],
];

const json = { 'Content-Type': 'application/json' };
const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
// [what, path, request, status, code]
const ERRORS = [
  ['an unknown API', '/api/nope', {}, 404, 'not_found'],
  ['a grant that is not JSON', '/api/grants', { method: 'POST', headers: json, body: '{' }, 400, 'invalid_grant'],
  ['a grant that is not JSON at all', '/api/grants', { method: 'POST', body: '{}' }, 415, 'unsupported_media_type'],
  [
    'a grant over 16 KiB',
    '/api/grants',
    { method: 'POST', headers: json, body: JSON.stringify({ x: 'x'.repeat(20_000) }) },
    413,
    'body_too_large',
  ],
  [
    'a grant without Idempotency-Key',
    '/api/grants',
    { method: 'POST', headers: json, body: '{}' },
    400,
    'invalid_grant',
  ],
  [
    'a fault switch that is not JSON',
    '/api/faults',
    { method: 'PUT', headers: json, body: 'down' },
    400,
    'invalid_json',
  ],
  [
    'a fault switch sent as text',
    '/api/faults',
    { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: '{"down":503}' },
    415,
    'unsupported_media_type',
  ],
  [
    'a fault that is not one',
    '/api/faults',
    { method: 'PUT', headers: json, body: '{"down":"soon"}' },
    400,
    'invalid_faults',
  ],
  ['a send that is not JSON', '/api/send', { method: 'POST', body: '{}' }, 415, 'unsupported_media_type'],
  [
    'a follow that is neither 1 nor 0',
    '/inbox/follow',
    { method: 'POST', headers: form, body: 'following=yes' },
    400,
    'invalid_following',
  ],
  [
    'a follow form over 1 KiB',
    '/inbox/follow',
    { method: 'POST', headers: form, body: `following=${'1'.repeat(2000)}` },
    413,
    'body_too_large',
  ],
  [
    'a consent form over 8 KiB',
    '/mp/subscribemsg',
    { method: 'POST', headers: form, body: `decision=${'x'.repeat(9000)}` },
    413,
    'body_too_large',
  ],
];

describe('routes', () => {
  let server;
  before(async () => {
    server = await startInProcess();
  });
  after(() => server.stop());

  for (const [pathname, method, allow] of ROUTES) {
    test(`${method} ${pathname}: 405, Allow: ${allow}`, async () => {
      const response = await fetch(new URL(pathname, server.url), { method });
      assert.equal(response.status, 405);
      assert.equal(response.headers.get('allow'), allow);
      const body = await response.json();
      assert.equal(body.error.code, 'method_not_allowed');
      assert.match(body.error.message, new RegExp(allow.split(', ').join(' or ')));
    });
  }

  test('HEAD is answered like GET, without a body', async () => {
    const response = await fetch(new URL('/config.json', server.url), { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(await response.text(), '');
  });

  test("WeChat's send API takes every method and answers for itself (43002 for a GET)", async () => {
    const response = await fetch(new URL('/wxapi/cgi-bin/message/template/subscribe', server.url), { method: 'PUT' });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).errcode, 43002);
  });

  for (const [what, pathname, request, status, code] of ERRORS) {
    test(`${what}: ${status} { error: { code: ${code}, message } }`, async () => {
      const response = await fetch(new URL(pathname, server.url), request);
      assert.equal(response.status, status);
      assert.match(response.headers.get('content-type'), /^application\/json/);
      const body = await response.json();
      assert.deepEqual(
        Object.keys(body.error),
        code === 'invalid_grant' ? ['code', 'message', 'problems'] : ['code', 'message'],
      );
      assert.equal(body.error.code, code);
      assert.equal(typeof body.error.message, 'string');
    });
  }

  test('nothing refused changed the sink or its fault switch', async () => {
    const list = await server.sink.list();
    assert.deepEqual([list.grants, list.faults], [[], { queue: [], down: null }]);
  });
});
