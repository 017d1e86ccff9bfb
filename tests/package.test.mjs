// The built package as users receive it: its manifest, its types, its size, and importing it from Node.
// Run after `npm run build` (npm test does both).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { coreExports } from '../scripts/core-exports.mjs';
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
  const core = coreExports(fileURLToPath(new URL('../js/core.d.ts', import.meta.url)));
  assert.deepEqual(core, ['checkOptions', 'recordCallbackAndCleanAddress', 'recordAnswer', 'undeliveredGrants']);
  for (const name of core) {
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

// Frameworks bundle the Node entry into their server builds and move it (tests/frameworks.test.mjs runs them): a
// file named relative to the module would not be where it looks.
test('the Node entry names no file to load: its wasm is embedded, and its glue has no URL loader', () => {
  const node = ['node.js', ...readdirSync(`${pkgDir}node`).map((f) => `node/${f}`)].filter((f) => f.endsWith('.js'));
  assert.deepEqual(node.sort(), ['node.js', 'node/wasm.js', 'node/wx_subscribemsg.js']);
  for (const file of node) assert.doesNotMatch(read(file), /import\.meta|node:fs|readFileSync|\.wasm['"]/, file);
  assert.ok(!readdirSync(`${pkgDir}node`).some((f) => f.endsWith('.wasm')), 'no .wasm file beside the Node glue');
  const bytes = Buffer.from(read('node/wasm.js').match(/^export default '([A-Za-z0-9+/=]+)';$/m)[1], 'base64');
  assert.ok(WebAssembly.validate(bytes), 'node/wasm.js holds a valid module');
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

// The entry is minified (scripts/build.mjs, esbuild) with a source map in the package, so stack traces and the
// debugger still show wasm-bindgen's glue, js/delivery.js and js/loader.js as written.
test('the entry is minified and ships its source map', () => {
  const entry = read('index.js');
  assert.match(entry, /\n\/\/# sourceMappingURL=index\.js\.map\n$/);
  // V8's explicit compile hint must be the file's first line (README "Cold start"); the source map leaves it unmapped.
  assert.ok(entry.startsWith('//# allFunctionsCalledOnLoad\n'), "index.js starts with V8's compile hint");
  assert.ok(entry.split('\n').length <= 4, 'index.js is minified');
  const map = JSON.parse(read('index.js.map'));
  assert.equal(map.version, 3);
  assert.ok(map.mappings.startsWith(';'), 'the source map counts the hint as a line of its own');
  for (const source of ['../js/delivery.js', '../js/loader.js', 'wx_subscribemsg.js']) {
    const i = map.sources.indexOf(source);
    assert.ok(i >= 0, `the source map lists ${source}: ${map.sources}`);
    assert.ok(map.sourcesContent[i].length > 1000, `the source map carries ${source}`);
  }
  assert.ok(JSON.parse(read('package.json')).files.includes('index.js.map'));
  // Bundlers (Vite, webpack) find the wasm through this literal.
  assert.match(entry, /new URL\("\.\/wx_subscribemsg_bg\.wasm",import\.meta\.url\)/);
});

// The glue's and the module's binding names are shortened on both sides (scripts/wasm-post.mjs): no hashed
// wasm-bindgen name is left in the wasm, and the function table stays private to it.
test('the wasm binds to the entry by short names and keeps its function table private', () => {
  const module = new WebAssembly.Module(readFileSync(`${pkgDir}wx_subscribemsg_bg.wasm`));
  const imports = WebAssembly.Module.imports(module);
  assert.ok(imports.length > 10);
  for (const { module: from, name } of imports) assert.ok(from.length <= 2 && name.length <= 3, `${from}.${name}`);
  const exported = WebAssembly.Module.exports(module);
  assert.deepEqual(
    exported.filter((e) => e.kind === 'table').length,
    1,
    'only the externref table is exported: the function table is not',
  );
  for (const { name } of exported) assert.doesNotMatch(name, /__wbg|__wbindgen|_[0-9a-f]{16}$/);
});

// The post-processing fails the build when wasm-bindgen's output is not what it expects.
test('wasm post-processing: the closure shims go, and any other shape fails loudly', async () => {
  const { default: binaryen } = await import('binaryen');
  const { dropClosureShims, renameBindings } = await import('../scripts/wasm-post.mjs');
  const SHIM = 'wasm_bindgen::convert::closures::_::invoke::h0123456789abcdef';
  const make = ({ names = [SHIM, 'core::live'], exportTable = false } = {}) => {
    const m = new binaryen.Module();
    m.setFeatures(binaryen.Features.All);
    for (const name of new Set(names)) m.addFunction(name, binaryen.none, binaryen.none, [], m.nop());
    m.addFunctionImport('imp', 'wbg', '__wbg_log_0123456789abcdef', binaryen.none, binaryen.none);
    m.addFunctionExport('core::live', '__wbindgen_start');
    m.addTable('0', names.length, names.length);
    m.addActiveElementSegment('0', 'elem', names, m.i32.const(1));
    if (exportTable) m.addTableExport('0', '__wbindgen_export_0');
    return m;
  };
  const table = (m) => binaryen.getElementSegmentInfo(m.getElementSegmentByIndex(0)).data;

  const ok = make();
  assert.equal(dropClosureShims(ok), 1);
  assert.deepEqual(table(ok), ['wxsub_dead_table_slot', 'core::live']);
  assert.throws(() => dropClosureShims(make({ exportTable: true })), /is exported/);
  assert.throws(() => dropClosureShims(make({ names: ['core::live'] })), /no closure shims/);
  assert.throws(() => dropClosureShims(make({ names: ['1', '2'] })), /no function names/);

  const renamed = make();
  renameBindings(renamed, { __wbg_log_0123456789abcdef: 'a', __wbindgen_start: 'b' }, 'wbg', 'w');
  assert.deepEqual(binaryen.getFunctionInfo(renamed.getFunction('imp')).base, 'a');
  assert.equal(binaryen.getExportInfo(renamed.getExportByIndex(0)).name, 'b');
  assert.throws(() => renameBindings(make(), { __wbg_gone: 'a' }, 'wbg', 'w'), /neither an import nor an export/);
  assert.throws(() => renameBindings(make(), {}, 'other', 'w'), /is not from other/);
});
