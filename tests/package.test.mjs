// The built package as users receive it: its manifest, its types, its size, and importing it from Node.
// Run after `npm run build` (npm test does both).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { anchors } from '../scripts/markdown.mjs';
import { shippedSizes } from '../scripts/size.mjs';
import { brokenLinks } from './links.mjs';

const pkgDir = fileURLToPath(new URL('../pkg/', import.meta.url));
const read = (name) => readFileSync(new URL(name, `file://${pkgDir}`), 'utf8');

test('pkg/ exists (run npm run build first)', () => {
  assert.ok(existsSync(`${pkgDir}index.js`), 'pkg/index.js is missing: run `npm run build`');
});

test('manifest names the entry modules and the types', () => {
  const manifest = JSON.parse(read('package.json'));
  assert.equal(manifest.name, 'wx-subscribemsg');
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.main, 'index.js');
  assert.equal(manifest.types, 'index.d.ts');
  assert.equal(manifest.exports['.'].default, './index.js');
  for (const file of [
    'index.js',
    'index.d.ts',
    'node.js',
    'node/',
    'wx_subscribemsg_bg.wasm',
    'wx_subscribemsg.d.ts',
  ]) {
    assert.ok(manifest.files.includes(file), `${file} is not in files`);
    assert.ok(existsSync(pkgDir + file), `${file} was not built`);
  }
});

test('the public types have no any', () => {
  const entry = read('index.d.ts');
  const types = read('wx_subscribemsg.d.ts');
  const delivery = read('delivery.d.ts');
  // The part users see: everything before wasm-bindgen's internal InitInput/InitOutput declarations.
  const publicPart = types.slice(0, types.indexOf('export type InitInput'));
  const code = (dts) => dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const part of [publicPart, delivery, read('errors.d.ts')]) assert.doesNotMatch(code(part), /[:<(,|=]\s*any\b/);
  for (const name of ['authorize', 'buildLink', 'parseCallback', 'isWeChat', 'weChatVersion']) {
    assert.match(entry, new RegExp(`export \\{[^}]*\\b${name}\\b[^}]*\\} from './wx_subscribemsg.js'`));
  }
  assert.match(entry, /^export \* from '\.\/delivery\.js';$/m);
  assert.match(delivery, /export function handleCallback\(options: HandleCallbackOptions\): Promise<CallbackResult>;/);
  assert.match(delivery, /export function retryDeliveries\(options: DeliveryOptions\): Promise<RetryResult>;/);
  assert.match(publicPart, /export function authorize\(options: AuthorizeOptions\): string;/);
  assert.match(publicPart, /export function weChatVersion\(userAgent\?: string \| null\): string \| null;/);
  assert.match(entry, /export type \{ SubscribeError, SubscribeErrorCode \} from '\.\/errors\.js';/);
  // The core's exports that js/delivery.js binds to are internals: not in the types users see.
  for (const name of ['checkOptions', 'recordCallback', 'cleanAddress', 'recordAnswer', 'owedGrants']) {
    assert.doesNotMatch(publicPart, new RegExp(`\\b${name}\\b`));
  }
});

test('the Node entry builds links and parses callbacks on a server', async () => {
  const m = await import(`${pkgDir}node.js`);
  const link = m.buildLink({
    appid: 'wxaba38c7f163da69b',
    scene: 1000,
    templateId: '1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc',
    redirectUrl: 'http://support.qq.com',
    reserved: 'test',
  });
  assert.equal(
    link,
    'https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid=wxaba38c7f163da69b&scene=1000' +
      '&template_id=1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc&redirect_url=http%3A%2F%2Fsupport.qq.com%2F&reserved=test#wechat_redirect',
  );
  assert.deepEqual(
    { ...m.parseCallback('?template_id=T&action=cancel&scene=3&reserved=r') },
    { action: 'cancel', templateId: 'T', scene: 3, reserved: 'r' },
  );
  assert.throws(
    () => m.buildLink({ appid: 'wx1', scene: 1 }),
    (e) => e instanceof Error && e.name === 'SubscribeError' && e.code === 'invalid_appid',
  );
  assert.throws(
    () => m.parseCallback('action=confirm'),
    (e) => e.code === 'missing_param' && /'template_id'/.test(e.message),
  );
  assert.equal(m.isWeChat('Mozilla/5.0 MicroMessenger/8.0.42.2460(0x28002A35)'), true);
  assert.equal(m.weChatVersion('Mozilla/5.0 Chrome/156'), null);
});

test('the Node entry has the send request and the errcode table', async () => {
  const m = await import(`${pkgDir}node.js`);
  const body = m.buildSendRequest({
    openid: 'oUser_1',
    templateId: 'TPL_1',
    scene: 1000,
    title: '发货通知',
    content: '您的订单已发货',
  });
  assert.equal(
    JSON.stringify(body),
    '{"touser":"oUser_1","template_id":"TPL_1","scene":"1000","title":"发货通知","data":{"content":{"value":"您的订单已发货"}}}',
  );
  assert.throws(
    () =>
      m.buildSendRequest({
        openid: 'o1',
        templateId: 'T',
        scene: 1,
        title: '一二三四五六七八九十一二三四五六',
        content: 'c',
      }),
    (e) => e.code === 'invalid_title',
  );
  assert.deepEqual(
    { ...m.explainErrcode(43101) },
    {
      errcode: 43101,
      name: 'user_refused',
      ok: false,
      retry: 'no',
      meaning:
        'The user has not authorized this template and scene, or the one permit of the authorization is already used (authorizing again under the same scene does not add permits).',
      action: 'Ask the user to subscribe again; a second message at once needs a second scene.',
    },
  );
  // The browser module does not carry them.
  assert.doesNotMatch(read('index.js'), /buildSendRequest|explainErrcode/);
});

test('shipped size stays within the limit (bytes are deterministic)', () => {
  const size = shippedSizes(pkgDir);
  console.log(
    `shipped to the browser: raw ${size.raw} B, gzip -9 ${size.gzip} B (limit ${size.limit} B, goal ${size.goal} B)`,
  );
  assert.ok(size.gzip <= size.limit, `the browser module grew to ${size.gzip} B gzip, over the ${size.limit} B limit`);
});

// README "Where it runs" derives the minimum engine versions from the features the module declares: a new
// toolchain that turns on another one (SIMD, tail calls, …) must update that table.
test("the wasm declares exactly the features README's support table lists", () => {
  const wasmOpt = fileURLToPath(new URL('../node_modules/.bin/wasm-opt', import.meta.url));
  const printed = execFileSync(wasmOpt, [`${pkgDir}wx_subscribemsg_bg.wasm`, '--print-features'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  const declared = [...printed.matchAll(/^--enable-([\w-]+)$/gm)].map((m) => m[1]).sort();
  assert.ok(declared.length > 0, `wasm-opt printed no features:\n${printed}`);
  for (const file of ['README.md', 'README.zh-CN.md']) {
    const readme = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
    const table = readme.split('<!-- support:wasm-features')[1]?.split('\n\n')[0] ?? '';
    const listed = [...table.matchAll(/^\| `([\w-]+)` \|/gm)].map((m) => m[1]).sort();
    assert.deepEqual(declared, listed, `${file}'s support table`);
  }
});

/** The files `npm pack` puts in the tarball, as npm itself lists them. */
function packedFiles() {
  const [{ files }] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', pkgDir], { stdio: 'pipe' }));
  return new Set(files.map((f) => f.path));
}

// The npm README is the user guide, not the repository's whole README with its demo server and development notes.
test('the packed README is the user guide, with the Chinese guide beside it', () => {
  const packed = packedFiles();
  for (const file of ['README.md', 'README.zh-CN.md']) assert.ok(packed.has(file), `${file} is not in the tarball`);
  const readme = read('README.md');
  const sections = anchors(readme);
  for (const user of ['install', 'quick-start', 'bundlers', 'react-and-vue', 'where-it-runs', 'api', 'error-codes']) {
    assert.ok(sections.has(user), `the packed README lacks #${user}`);
  }
  for (const user of [
    'backend-contract-what-handlecallback-sends-to-your-server',
    'step-2-sending-the-message-server-side',
    'size',
  ]) {
    assert.ok(sections.has(user), `the packed README lacks #${user}`);
  }
  for (const development of [
    'two-commands',
    'demo-the-whole-flow-offline-npm-start',
    'performance',
    'toolchain',
    'layout',
  ]) {
    assert.ok(!sections.has(development), `the packed README has the repository's #${development}`);
  }
  assert.match(readme, /^# wx-subscribemsg\n/);
  assert.doesNotMatch(readme, /npm-readme:/);
  assert.match(readme, /\]\(README\.zh-CN\.md\)/);
});

// Links in the package resolve among the packed files; links into the repository name its files and headings.
test("the packed READMEs' links resolve, in the package or in the repository", () => {
  const packed = packedFiles();
  const repository = JSON.parse(read('package.json')).repository.url;
  const repoReadme = anchors(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
  const inRepository = (url) => {
    if (!url.startsWith(repository)) return null;
    const [path, anchor] = url.slice(repository.length).split('#');
    if (path === '') return repoReadme.has(anchor) ? null : `no heading #${anchor} in the repository's README`;
    const file = path.replace(/^\/blob\/HEAD\//, '');
    return existsSync(new URL(`../${file}`, import.meta.url)) ? null : `no file ${file} in the repository`;
  };
  const docs = { 'README.md': read('README.md'), 'README.zh-CN.md': read('README.zh-CN.md') };
  assert.deepEqual(
    brokenLinks(docs, (file) => packed.has(file), inRepository),
    [],
  );
});
