// Builds the npm package into pkg/: wasm-pack's release builds (target "web"; the browser module, and the
// Node one with the server-side exports), entry modules that initialise the wasm so users import with no init
// ceremony, and the manifest; then prints the shipped size.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { coreExports } from './core-exports.mjs';
import { writePackageReadmes } from './package-readme.mjs';
import { shippedSizes } from './size.mjs';
import { dropClosureShims, emit, exportStackPointer, optimize, readWasm, renameBindings } from './wasm-post.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = join(root, 'pkg');
const home = process.env.HOME ?? '';
// wasm-opt must be the npm binaryen: Debian's (v108) corrupts wasm-bindgen's output.
const PATH = [join(root, 'node_modules', '.bin'), join(home, '.cargo', 'bin'), process.env.PATH].join(delimiter);

const wasmPack = (outDir, ...extra) =>
  execFileSync(
    'wasm-pack',
    ['build', '--release', '--target', 'web', '--out-dir', outDir, '--out-name', 'wx_subscribemsg', root, ...extra],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, PATH },
    },
  );
// The browser module, without std (Cargo.toml, feature "std": a panic traps rather than formatting a message),
// then the Node one with the server-side exports (feature "backend", which brings std with serde-wasm-bindgen).
wasmPack('pkg', '--no-default-features');
wasmPack('pkg/node', '--features', 'backend');
for (const extra of ['package.json', 'README.md', '.gitignore']) rmSync(join(pkg, 'node', extra), { force: true });

/**
 * What a .d.ts declares for users: its functions (and which of them return a promise) and types, without
 * wasm-bindgen's init API.
 */
function declared(dtsFile) {
  const dts = readFileSync(dtsFile, 'utf8');
  const internal = new Set(['initSync', 'InitInput', 'InitOutput', 'SyncInitInput']);
  const names = (kind) =>
    [...new Set([...dts.matchAll(new RegExp(`^export ${kind} (\\w+)`, 'gm'))].map((m) => m[1]))].filter(
      (name) => !internal.has(name),
    );
  const async = [...dts.matchAll(/^export function (\w+)\([^;]*\): Promise</gm)].map((m) => m[1]);
  return { functions: names('function'), async, types: names('(?:interface|type)') };
}
const browser = declared(join(pkg, 'wx_subscribemsg.d.ts'));
const server = declared(join(pkg, 'node', 'wx_subscribemsg.d.ts'));
// js/delivery.js's exports, which the browser entry adds (handleCallback, retryDeliveries).
const delivered = declared(join(root, 'js', 'delivery.d.ts'));
// The Node entry has what works without a browser page, plus the server side of Step 2.
const pageOnly = new Set(['authorize']);
// The package's own server code (js/server/) and Node entry call these; they are not part of the entry's API.
const serverInternal = new Set([
  'storeError',
  'checkGrant',
  'checkSendOptions',
  'grantNotDueError',
  'browserOnlyError',
]);
server.functions = server.functions.filter((name) => !pageOnly.has(name) && !serverInternal.has(name));
const reexport = (names, from) => `export { ${names.join(', ')} } from '${from}';\n`;

// The entry is one minified module (esbuild): wasm-bindgen's glue, the asynchronous delivery (js/delivery.js) bound
// to the core's internal exports under their own names, and the loader (js/loader.js) called at the end
// (top-level await), so importing is all a page does and the page fetches two files (entry, then wasm) rather than a
// chain. Browsers and bundlers (Vite, webpack 5) resolve the wasm next to it through new URL(…, import.meta.url).
// The glue's import and export names (wasm-bindgen's __wbg_…_<hash>) are shortened on both sides: esbuild renames
// the properties and reports how, and the same renames are made in the wasm (scripts/wasm-post.mjs).
const glueFile = join(pkg, 'wx_subscribemsg.js');
const glue = readFileSync(glueFile, 'utf8');
const CORE = coreExports(join(root, 'js', 'core.d.ts'));
for (const name of [...CORE, ...browser.functions]) {
  if (!new RegExp(`^export function ${name}\\(`, 'm').test(glue)) {
    throw new Error(`wasm-bindgen glue has no export ${name}: the entry re-exports it`);
  }
}
// The module name wasm-bindgen gives the imports; renamed too.
const IMPORT_MODULE = './wx_subscribemsg_bg.js';
if (!glue.includes(`"${IMPORT_MODULE}": import0`)) {
  throw new Error(`wasm-bindgen glue changed shape: no "${IMPORT_MODULE}" import object`);
}
const raw = (name) => `${name}_`;
const entrySource = `import { __wbg_get_imports, __wbg_finalize_init, ${[...CORE, ...browser.functions].map((n) => `${n} as ${raw(n)}`).join(', ')} } from './wx_subscribemsg.js';
import { delivery } from '../js/delivery.js';
import { load } from '../js/loader.js';

// Resolves even when the wasm cannot be loaded: then \`ready\` rejects and every export throws wasm_unavailable.
const { api, ready } = await load(new URL('./wx_subscribemsg_bg.wasm', import.meta.url), __wbg_get_imports, __wbg_finalize_init);
export { ready };
${browser.functions.map((n) => `export const ${n} = api(${raw(n)});`).join('\n')}
export const { handleCallback, retryDeliveries } = delivery({ ${CORE.map((n) => `${n}: api(${raw(n)})`).join(', ')} });
`;
// A catch import's exception is the module's answer ("not a URL", "storage full"), except a stack overflow: read as
// one, a page calling at the stack's edge got invalid_redirect_url or no_callback for a valid call, and a storage write
// that never ran was taken for a full storage. The glue's handleError throws it on (js/loader.js, overflowed()).
const CATCH_IMPORT = '    } catch (e) {\n        const idx = addToExternrefTable0(e);';
if (glue.split(CATCH_IMPORT).length !== 2)
  throw new Error('wasm-bindgen glue changed shape: no one handleError to patch');
const entryGlue = `import { overflowed } from '../js/loader.js';\n${glue.replace(
  CATCH_IMPORT,
  '    } catch (e) {\n        if (overflowed(e)) throw e;\n        const idx = addToExternrefTable0(e);',
)}`;
// wasm-bindgen's glue keeps these two private; the entry calls them in place of its loader (__wbg_init and
// friends), which esbuild then leaves out. esbuild fails the build if the glue no longer declares them.
const exposeInit = {
  name: 'expose-wasm-bindgen-init',
  setup(build) {
    build.onLoad({ filter: /wx_subscribemsg\.js$/ }, () => ({
      contents: `${entryGlue}\nexport { __wbg_get_imports, __wbg_finalize_init };\n`,
      loader: 'js',
    }));
  },
};
const bundled = await esbuild.build({
  stdin: { contents: entrySource, resolveDir: pkg, sourcefile: 'entry.js' },
  bundle: true,
  format: 'esm',
  // The oldest engines of README "Where it runs" (top-level await is the newest syntax the entry needs).
  target: ['chrome96', 'safari15', 'firefox89'],
  minify: true,
  // The wasm's exported functions are reached only as properties (`wasm.authorize(…)`, and the core's through
  // `core.recordAnswer(…)`): renamed with the rest, while the entry's own exports keep their names.
  mangleProps: new RegExp(
    `^(__wbg_|__wbindgen_|__externref_|\\./wx_subscribemsg_bg\\.js$|(${[...CORE, ...browser.functions].join('|')})$)`,
  ),
  mangleQuoted: true,
  mangleCache: {},
  sourcemap: 'linked',
  sourcesContent: true,
  // V8's explicit compile hint (Chromium 136 and later; to other engines a comment): every function of the entry is
  // compiled when the file is, rather than each at its first call. The entry's functions do run on load (the loader,
  // then the glue behind the first authorize() or handleCallback()). README "Cold start" has what it measured.
  banner: { js: '//# allFunctionsCalledOnLoad' },
  outfile: join(pkg, 'index.js'),
  plugins: [exposeInit],
  write: false,
  logLevel: 'warning',
});
const mangled = bundled.mangleCache;
const newImportModule = mangled[IMPORT_MODULE];
if (!newImportModule) throw new Error('esbuild did not rename the import object: the glue changed shape');
delete mangled[IMPORT_MODULE];
const wasmFile = join(pkg, 'wx_subscribemsg_bg.wasm');
const wasm = readWasm(readFileSync(wasmFile));
const emptied = dropClosureShims(wasm);
exportStackPointer(wasm, 'sp');
renameBindings(wasm, mangled, IMPORT_MODULE, newImportModule);
optimize(wasm);
writeFileSync(wasmFile, emit(wasm));
wasm.dispose();
for (const file of bundled.outputFiles) writeFileSync(file.path, file.contents);
rmSync(glueFile);
console.log(
  `[build] ${emptied} closure shims out of the function table; ${Object.keys(mangled).length} import and export names shortened`,
);
// The Node build: optimised alike (bytes matter less on a server), then embedded in a JS module as base64 and
// compiled by the glue itself when first imported. Frameworks bundle the Node entry too (Next.js's server
// rendering, with Turbopack or webpack; Nitro's in Nuxt) and move it elsewhere: a file read beside the module
// (`readFileSync(new URL('./….wasm', import.meta.url))`) is rewritten by both Next.js bundlers into a URL object
// readFileSync refuses when the build collects page data (TypeError … "path" … Received an instance of URL; the
// framework test fails that way with this read put back), and wasm-bindgen's own default `new URL('….wasm',
// import.meta.url)` is an asset bundlers resolve and copy. Bytes in a module are JS every bundler carries as it is. Cost, measured on 2026-12-04: the installed
// package grows by 37 KB (the base64 text is 4/3 of the module's 107 KB, and the file goes), the tarball by 17 KB;
// Buffer.from decodes it in 0.09 ms (atob: 11 ms), and importing node.js takes the same 24.8 ms (median of 15 fresh
// processes) as reading the file did.
const nodeWasmFile = join(pkg, 'node', 'wx_subscribemsg_bg.wasm');
const nodeWasm = readWasm(readFileSync(nodeWasmFile));
optimize(nodeWasm);
const nodeWasmBytes = emit(nodeWasm);
nodeWasm.dispose();
for (const file of ['wx_subscribemsg_bg.wasm', 'wx_subscribemsg_bg.wasm.d.ts']) rmSync(join(pkg, 'node', file));
writeFileSync(
  join(pkg, 'node', 'wasm.js'),
  `// The Node build's wasm module (${nodeWasmBytes.length} bytes), base64. Generated by scripts/build.mjs.\nexport default '${Buffer.from(nodeWasmBytes).toString('base64')}';\n`,
);
const nodeGlueFile = join(pkg, 'node', 'wx_subscribemsg.js');
writeFileSync(nodeGlueFile, nodeGlue(readFileSync(nodeGlueFile, 'utf8')));

// The types of the JS half and of the errors are written by hand beside their code (js/*.d.ts).
for (const name of ['delivery.d.ts', 'errors.d.ts']) copyFileSync(join(root, 'js', name), join(pkg, name));
writeFileSync(
  join(pkg, 'index.d.ts'),
  `${reexport(browser.functions, './wx_subscribemsg.js')}export type { ${browser.types.join(', ')} } from './wx_subscribemsg.js';
export * from './delivery.js';
export type { SubscribeError, SubscribeErrorCode } from './errors.js';
/**
 * Settled once the import is: resolved when the wasm module runs, rejected with the SubscribeError
 * \`wasm_unavailable\` when it could not be loaded (its message names the cause and the fix). Importing never fails
 * for that reason: every other export then throws (its promise rejects with) that same error.
 *
 * @example
 * \`\`\`ts
 * ready.catch(() => showFallback('Open this page in a browser, or try again later.'));
 * \`\`\`
 */
export declare const ready: Promise<void>;
`,
);
// The Node entry: what works without a browser page, the send request and the errcode table, and the server half
// written in JS (js/server/: grant endpoint, stores, token, sender), which imports the glue, initialised by then.
// The browser entry's other functions are there too, as stand-ins that throw (or reject with) `browser_only`: a
// page rendered on a server (Next.js, Nuxt) imports the package under the `node` condition, and its imports must
// resolve there although the calls happen only in the browser.
cpSync(join(root, 'js', 'server'), join(pkg, 'server'), { recursive: true });
const browserExports = [...browser.functions, ...delivered.functions];
const pageOnlyExports = browserExports.filter((name) => !server.functions.includes(name));
const asyncExports = new Set([...browser.async, ...delivered.async]);
writeFileSync(
  join(pkg, 'node.js'),
  `import { browserOnlyError } from './node/wx_subscribemsg.js';
${reexport(server.functions, './node/wx_subscribemsg.js')}export * from './server/index.js';

// Needs a browser page: on a server, a stand-in so that pages rendered there import as in the browser.
${pageOnlyExports
  .map(
    (name) =>
      `export ${asyncExports.has(name) ? 'async ' : ''}function ${name}() {\n  throw browserOnlyError('${name}');\n}`,
  )
  .join('\n')}
`,
);
// Self-contained, so a server type-checks without the DOM lib; errors.d.ts and server/*.d.ts name no DOM type.
writeFileSync(
  join(pkg, 'node.d.ts'),
  `${nodeTypes(join(pkg, 'node', 'wx_subscribemsg.d.ts'), server.functions)}
${pageOnlyExports
  .map(
    (name) => `/**
 * Needs a browser page. The Node entry has it so that a page rendered on a server (Next.js, Nuxt) imports the
 * package as it does in the browser; called here it ${asyncExports.has(name) ? 'rejects with' : 'throws'} a SubscribeError with code \`browser_only\`.
 * Call it in the page: an event handler, an effect (\`useEffect\`), \`onMounted\`, a client-only module.
 */
export function ${name}(options?: unknown): ${asyncExports.has(name) ? 'Promise<never>' : 'never'};`,
  )
  .join('\n\n')}

export type { SubscribeError, SubscribeErrorCode } from './errors.js';
export * from './server/index.js';
`,
);
const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
const files = new Set([
  'delivery.d.ts',
  'errors.d.ts',
  ...(manifest.files ?? []).filter((f) => f !== 'wx_subscribemsg.js'),
  'index.js',
  'index.js.map',
  'index.d.ts',
  'node.js',
  'node.d.ts',
  'node/',
  'server/',
]);
Object.assign(manifest, {
  type: 'module',
  main: 'index.js',
  module: 'index.js',
  types: 'index.d.ts',
  exports: exportMap(),
  files: [...files],
  // Importing initialises the wasm: a bundler must keep the entry modules (the Node glue initialises itself).
  sideEffects: ['./index.js', './node.js', './node/wx_subscribemsg.js', './snippets/*'],
  // The PostgreSQL grant store (server/pg-store.js) uses the `pg` client the site passes in; the package never
  // imports it, and sites on the file store need none.
  peerDependencies: { pg: '>=8.11' },
  peerDependenciesMeta: { pg: { optional: true } },
});
writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
// wasm-pack copied the whole repository README: the package gets the user guide instead, in English and Chinese.
writePackageReadmes(root, pkg);

/**
 * wasm-bindgen's glue for the Node build, initialising itself from the embedded bytes (pkg/node/wasm.js) when first
 * imported, so the server modules that import it directly find it ready. Its asynchronous loader goes: it names the
 * `.wasm` file as `new URL(…, import.meta.url)`, which bundlers would try to resolve and copy. The build fails if
 * the glue no longer has the shape this cuts.
 */
function nodeGlue(glue) {
  const loader =
    /\nlet __wbg_init_promise;\nasync function __wbg_init\([\s\S]*?\n}\n\nasync function __wbg_init_once\([\s\S]*?\n}\n/;
  const exported = 'export { initSync, __wbg_init as default };';
  if (!loader.test(glue) || !glue.includes(exported)) {
    throw new Error('wasm-bindgen glue changed shape: no __wbg_init / __wbg_init_once to cut from the Node build');
  }
  const cut = glue.replace(loader, '\n').replace(exported, '');
  if (cut.includes('import.meta')) throw new Error('the Node glue still names a file through import.meta');
  return `import wasmBase64 from './wasm.js';
${cut}
// The Node build's wasm, compiled and instantiated here (scripts/build.mjs: why it is embedded as base64).
initSync({ module: Buffer.from(wasmBase64, 'base64') });
`;
}

/**
 * The Node entry's declarations, self-contained so that a server type-checks with `lib: ["es2022"]` alone: the
 * functions node.js exports and the types their signatures reach, copied from the generated .d.ts without
 * wasm-bindgen's init API, which names DOM types (RequestInfo, BufferSource, WebAssembly).
 */
function nodeTypes(dtsFile, functions) {
  const dts = readFileSync(dtsFile, 'utf8');
  const publicPart = dts.slice(0, dts.indexOf('export type InitInput'));
  // Top-level declarations with their doc comments; nested comments are indented, so they do not split.
  const blocks = [
    ...publicPart.matchAll(
      /(?:\/\*\*[\s\S]*?\*\/\n)?export (?:interface|type|function) (\w+)[\s\S]*?(?=\n(?:\/\*\*|export )|$)/g,
    ),
  ].map((m) => ({ name: m[1], text: m[0].trim() }));
  const declared = new Set(blocks.map((b) => b.name));
  const code = (text) => text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  const wanted = new Set(functions);
  for (let grew = true; grew;) {
    grew = false;
    for (const block of blocks.filter((b) => wanted.has(b.name))) {
      for (const [name] of code(block.text).matchAll(/\b[A-Z]\w*/g)) {
        if (declared.has(name) && !wanted.has(name)) grew = wanted.add(name);
      }
    }
  }
  const missing = functions.filter((name) => !declared.has(name));
  if (missing.length) throw new Error(`${dtsFile} does not declare ${missing.join(', ')}`);
  return `// The package's entry under Node (node.js): no DOM types needed. Generated by scripts/build.mjs.\n\n${blocks
    .filter((b) => wanted.has(b.name))
    .map((b) => b.text)
    .join('\n\n')}\n`;
}

/**
 * The export conditions. Resolvers take the first condition they know, in this order, so `node` must come before
 * the bare `types`: with `types` first TypeScript gave every consumer, servers too, the browser's index.d.ts.
 * - `browser` first: bundlers (Vite, webpack, esbuild, Rollup with `browser: true`) get the browser entry, and a
 *   browser project type-checked under moduleResolution node16/nodenext can say so with customConditions ["browser"].
 * - `node`: Node, and TypeScript under node16/nodenext (or bundler with customConditions ["node"]), get node.js and
 *   its DOM-free node.d.ts.
 * - otherwise (TypeScript under bundler, Rollup's node-resolve by default) the browser entry.
 */
function exportMap() {
  const browser = { types: './index.d.ts', default: './index.js' };
  return {
    '.': { browser, node: { types: './node.d.ts', default: './node.js' }, ...browser },
    './package.json': './package.json',
  };
}

const size = shippedSizes(pkg);
console.log(
  `[build] pkg/ ready. Shipped to the browser: ${size.files.map((f) => `${f.name} ${f.raw} B (gzip -9 ${f.gzip} B)`).join(', ')}`,
);
console.log(
  `[build] total gzip -9: ${size.gzip} B (${(size.gzip / 1024).toFixed(1)} KiB); limit ${size.limit} B, goal ${size.goal} B`,
);
