// README.md's backend example ("A backend that sends"), run as written: the block is saved as
// send-message.mjs next to a node_modules/wx-subscribemsg that is the built package, and run with Node
// against the demo server's send API simulator, on grants the demo's sink stored.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  APPID,
  PKG_DIR,
  ROOT,
  TEMPLATE_A,
  consentOverHttp,
  requirePackage,
  startInProcess,
  tempDataDir,
} from './harness.mjs';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const block = /<!-- readme-demo:send-message[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];

function run(dir, args, env) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['send-message.mjs', ...args],
      { cwd: dir, env: { PATH: process.env.PATH, ...env }, timeout: 15_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? err.code : 0, stdout, stderr });
      },
    );
  });
}

describe('README: the backend that sends', () => {
  let server;
  let dir;
  let env;
  const grants = [];

  before(async () => {
    assert.ok(block, 'README.md lost its readme-demo:send-message block');
    requirePackage();
    server = await startInProcess({}, { pkgDir: PKG_DIR });
    dir = tempDataDir();
    fs.writeFileSync(path.join(dir, 'send-message.mjs'), block);
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(PKG_DIR, path.join(dir, 'node_modules', 'wx-subscribemsg'), 'dir');
    let cookie;
    for (const [i, scene] of [1000, 1000, 1001].entries()) {
      const reserved = `ReadmeGrant${i}`;
      const user = await consentOverHttp(server.url, { scene, cookie, reserved });
      cookie = user.cookie;
      const response = await fetch(new URL('/api/grants', server.url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': reserved },
        body: JSON.stringify({ appid: APPID, openid: user.openid, template_id: TEMPLATE_A, scene, reserved }),
      });
      assert.equal(response.status, 201);
      grants.push(reserved);
    }
    // The script's grants.jsonl, as the README makes it from the demo's listing (GET /api/grants).
    const listed = (await server.sink.grants()).map((g) => `${JSON.stringify(g)}\n`).join('');
    fs.writeFileSync(path.join(dir, 'grants.jsonl'), listed);
    env = { WX_API_BASE: `${server.url}wxapi`, WX_ACCESS_TOKEN: 'SIMULATED_ACCESS_TOKEN' };
  });
  after(async () => {
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const simulator = async () => (await fetch(new URL('/wxapi/simulator', server.url))).json();
  const sends = () =>
    fs
      .readFileSync(path.join(dir, 'sends.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  test('sends the grant\'s message: exit 0, "0 ok", delivered with its colour', async () => {
    const { code, stdout, stderr } = await run(
      dir,
      [grants[0], 'Order shipped', 'It arrives tomorrow.', '#173177'],
      env,
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^0 ok: The message was sent\.$/m);
    const { messages } = await simulator();
    assert.deepEqual(
      messages.map((m) => [m.title, m.content, m.color, m.scene]),
      [['Order shipped', 'It arrives tomorrow.', '#173177', '1000']],
    );
    assert.deepEqual(
      sends().map((s) => [s.reserved, s.errcode, s.consumed]),
      [[grants[0], 0, true]],
    );
  });

  test('the same grant again: 43101 known locally, WeChat not called', async () => {
    const calls = (await simulator()).stats.calls;
    const { code, stdout } = await run(dir, [grants[0], 'Again', 'x'], env);
    assert.equal(code, 1);
    assert.match(stdout, /^43101 user_refused \(known here; WeChat not called\)/m);
    assert.match(stdout, /^What to do: Ask the user to subscribe again/m);
    assert.equal((await simulator()).stats.calls, calls);
  });

  test('a second grant of the same scene: 43101 from WeChat, recorded as used', async () => {
    const { code, stdout } = await run(dir, [grants[1], 'Second', 'Same scene.'], env);
    assert.equal(code, 1);
    assert.match(stdout, /^43101 user_refused: /m);
    assert.doesNotMatch(stdout, /known here/);
    assert.equal(sends().at(-1).consumed, true);
  });

  test('an invalid message: the typed error, exit 2, nothing sent', async () => {
    const calls = (await simulator()).stats.calls;
    const { code, stderr } = await run(dir, [grants[2], 'A title that is far too long', 'x'], env);
    assert.equal(code, 2);
    assert.match(stderr, /^invalid_title: title must be 1 to 15 characters/m);
    assert.equal((await simulator()).stats.calls, calls);
  });
  test('a wrong token: 40001, retried once with a "fresh" one, the permit kept; then it sends', async () => {
    const calls = (await simulator()).stats.calls;
    const wrong = await run(dir, [grants[2], 'Scene 1001', 'A second scene.'], { ...env, WX_ACCESS_TOKEN: 'Wrong' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /^40001 invalid_credential: /m);
    assert.equal((await simulator()).stats.calls - calls, 2, 'tried twice');
    assert.deepEqual([sends().at(-1).errcode, sends().at(-1).consumed], [40001, false]);
    const ok = await run(dir, [grants[2], 'Scene 1001', 'A second scene.'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await simulator()).messages.length, 2);
  });
});
