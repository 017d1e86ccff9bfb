// The package's types as TypeScript users get them: the packed tarball installed into an empty app, then
// `tsc --strict --noEmit` over a browser page (tests/types/browser.ts, with the DOM lib) and a Node server
// (tests/types/server.ts, lib es2022 only: no DOM) under moduleResolution bundler, node16 and nodenext. Each
// fixture has lines that must fail (@ts-expect-error): tsc reports a directive whose line compiles.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { appWithPackage } from './packed-app.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let app;

before(() => {
  app = appWithPackage('types');
  for (const file of ['browser.ts', 'server.ts'])
    fs.copyFileSync(path.join(root, 'tests', 'types', file), path.join(app, file));
});

after(() => {
  if (app) fs.rmSync(app, { recursive: true, force: true });
});

// Which condition each consumer needs where TypeScript cannot know the platform (README "TypeScript").
const CONSUMERS = {
  browser: { lib: ['es2022', 'dom'], conditions: { node16: ['browser'], nodenext: ['browser'] } },
  server: { lib: ['es2022'], conditions: { bundler: ['node'] } },
};
const RESOLUTIONS = { bundler: 'esnext', node16: 'node16', nodenext: 'nodenext' };

/** Runs tsc on one consumer; returns its diagnostics ('' when clean). */
function typeCheck(consumer, resolution) {
  const { lib, conditions } = CONSUMERS[consumer];
  const config = path.join(app, `tsconfig.${consumer}.${resolution}.json`);
  const compilerOptions = {
    strict: true,
    noEmit: true,
    target: 'es2022',
    lib,
    types: [],
    skipLibCheck: false,
    module: RESOLUTIONS[resolution],
    moduleResolution: resolution,
    ...(conditions[resolution] ? { customConditions: conditions[resolution] } : {}),
  };
  fs.writeFileSync(config, JSON.stringify({ compilerOptions, files: [`${consumer}.ts`] }, null, 2));
  try {
    execFileSync(process.execPath, [tsc, '-p', config], { cwd: app, stdio: 'pipe' });
    return '';
  } catch (err) {
    return `${err.stdout}${err.stderr}`;
  }
}

for (const consumer of Object.keys(CONSUMERS)) {
  for (const resolution of Object.keys(RESOLUTIONS)) {
    test(`${consumer} consumer, moduleResolution ${resolution}: tsc --strict finds exactly the expected errors`, () => {
      assert.equal(typeCheck(consumer, resolution), '');
    });
  }
}

test('node.d.ts stands alone and names no DOM type', () => {
  const dts = fs.readFileSync(path.join(app, 'node_modules', 'wx-subscribemsg', 'node.d.ts'), 'utf8');
  assert.doesNotMatch(dts, /\b(HeadersInit|RequestCredentials|RequestInfo|BufferSource|WebAssembly|Response)\b/);
  assert.doesNotMatch(dts, /\bimport\b/, 'node.d.ts stands alone');
});

// The seam between the core and js/delivery.js: delivery.js (// @ts-check) against js/core.d.ts, the one
// declaration of the core's internal exports, so a change on one side that the other does not follow fails here.
test('js/delivery.js type-checks against the core it is bound to (js/core.d.ts)', () => {
  const dir = fs.mkdtempSync(path.join(app, 'seam-'));
  const config = path.join(dir, 'tsconfig.json');
  const compilerOptions = {
    strict: true,
    noEmit: true,
    allowJs: true,
    checkJs: true,
    target: 'es2022',
    lib: ['es2022', 'dom'],
    module: 'esnext',
    moduleResolution: 'bundler',
    types: [],
  };
  fs.writeFileSync(config, JSON.stringify({ compilerOptions, files: [path.join(root, 'js', 'delivery.js')] }));
  let diagnostics = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', config], { cwd: dir, stdio: 'pipe' });
  } catch (err) {
    diagnostics = `${err.stdout}${err.stderr}`;
  }
  assert.equal(diagnostics, '');
});
