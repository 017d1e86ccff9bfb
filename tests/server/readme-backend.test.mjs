// README "Your backend": each block written to the file its marker names in an app directory that has the built
// package (and Express, Fastify and Hono from this repository), then run as a user would: Express and Fastify as
// servers on 127.0.0.1, the Hono app and the Next.js route handler called with Requests as their runtimes do. Each
// answers the contract: 201, 200 for the same grant, 400 with the problems, 415. Run after `node scripts/build.mjs`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = Object.fromEntries(
  [...readme.matchAll(/<!-- backend:(\S+)[^>]*-->\s*```js\n([\s\S]*?)```/g)].map(([, file, text]) => [file, text]),
);
const APPID = 'wxaba38c7f163da69b';
const TEMPLATE = '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc';
const env = { ...process.env, APPID, TEMPLATE_ID: `${TEMPLATE},TPL_2` };
let app;
const children = [];

before(() => {
  assert.deepEqual(Object.keys(blocks).sort(), [
    'app/api/grants/route.js',
    'express.mjs',
    'fastify.mjs',
    'grants.mjs',
    'hono.mjs',
  ]);
  app = fs.mkdtempSync(path.join(tmpdir(), 'wxsub-readme-backend-'));
  fs.writeFileSync(path.join(app, 'package.json'), '{ "type": "module", "private": true }\n');
  for (const [file, text] of Object.entries(blocks)) {
    fs.mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
    fs.writeFileSync(path.join(app, file), text);
  }
  fs.mkdirSync(path.join(app, 'node_modules'));
  fs.symlinkSync(path.join(root, 'pkg'), path.join(app, 'node_modules', 'wx-subscribemsg'), 'dir');
  for (const name of ['express', 'fastify', 'hono']) {
    fs.symlinkSync(path.join(root, 'node_modules', name), path.join(app, 'node_modules', name), 'dir');
  }
});

after(() => {
  for (const child of children) child.kill('SIGKILL');
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

let n = 0;
const grant = () => ({
  appid: APPID,
  openid: 'oL61gjnUEzTYJsoqc2XpvsCjHuaQ',
  template_id: TEMPLATE,
  scene: 1000,
  reserved: `Readme${process.pid}x${(n += 1)}`,
});
const init = (body, type = 'application/json') => ({
  method: 'POST',
  headers: { 'Content-Type': type, 'Idempotency-Key': body.reserved },
  body: JSON.stringify(body),
});

/** The contract through `send(init)` → Response. */
async function answersTheContract(send) {
  const g = grant();
  const created = await send(init(g));
  assert.equal(created.status, 201);
  assert.deepEqual(await created.json(), { status: 'created', reserved: g.reserved });
  assert.equal((await send(init(g))).status, 200);
  const bad = await send(init({ ...grant(), scene: 10001, template_id: 'TPL_3' }));
  assert.equal(bad.status, 400);
  assert.deepEqual(
    (await bad.json()).error.problems.map((p) => p.code),
    ['template_not_accepted', 'invalid_scene'],
  );
  assert.equal((await send(init(grant(), 'text/plain'))).status, 415);
}

const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Runs `file` in the app directory; resolves the child once `url` answers. */
async function serve(file, port) {
  const child = spawn(process.execPath, [file], { cwd: app, env: { ...env, PORT: String(port) }, stdio: 'inherit' });
  children.push(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; i < 100; i += 1) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (up) return { child, exited };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${file} did not start`);
}

for (const file of ['express.mjs', 'fastify.mjs']) {
  test(`${file} serves the endpoint as written`, async () => {
    const port = await freePort();
    const { child, exited } = await serve(file, port);
    try {
      await answersTheContract((request) => fetch(`http://127.0.0.1:${port}/api/grants`, request));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
}

test('hono.mjs and the Next.js route handler answer Requests as their runtimes pass them', async () => {
  // One process, as one server would import both: grants.mjs (and its store) once.
  const script = `
    const { default: hono } = await import('./hono.mjs');
    const { POST, runtime } = await import('./app/api/grants/route.js');
    const results = {};
    for (const [name, send] of [
      ['hono', (init) => hono.request('http://127.0.0.1/api/grants', init)],
      ['next', (init) => POST(new Request('http://127.0.0.1/api/grants', init))],
    ]) {
      const g = ${JSON.stringify(grant())};
      g.reserved += name;
      const init = (body) => ({ method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': g.reserved }, body: JSON.stringify(body) });
      const first = await send(init(g));
      const again = await send(init(g));
      const other = await send(init({ ...g, scene: 7 }));
      results[name] = [first.status, again.status, other.status, (await first.json()).status];
    }
    console.log(JSON.stringify({ results, runtime }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(out), {
    results: { hono: [201, 200, 409, 'created'], next: [201, 200, 409, 'created'] },
    runtime: 'nodejs',
  });
});
