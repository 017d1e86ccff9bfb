// The server half's JavaScript (js/server/, shipped as pkg/server/) type-checks against its JSDoc with tsc --strict:
// every file starts with // @ts-check, and this holds them to it. Run after `node scripts/build.mjs`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = `${root}pkg`;

test('pkg/server/*.js: tsc --checkJs --strict finds nothing', () => {
  const files = readdirSync(`${pkg}/server`)
    .filter((f) => f.endsWith('.js'))
    .map((f) => `server/${f}`);
  let output = '';
  try {
    execFileSync(
      process.execPath,
      [
        `${root}node_modules/typescript/bin/tsc`,
        ...['--noEmit', '--allowJs', '--checkJs', '--strict', '--skipLibCheck'],
        ...['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'],
        ...['--lib', 'es2022,dom', '--types', 'node'],
        ...files,
      ],
      { cwd: pkg, stdio: 'pipe', encoding: 'utf8' },
    );
  } catch (error) {
    output = `${error.stdout}${error.stderr}`;
  }
  assert.equal(output, '');
});
