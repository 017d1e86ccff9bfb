// An empty app with the package installed from its packed tarball, as a user's project gets it (`npm pack ./pkg`,
// then `npm install` of the tarball), plus any tools the app itself uses, at the versions this repository pins.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Makes the app; `tools` are package names from this repository's devDependencies. Returns its directory. */
export function appWithPackage(name, tools = []) {
  assert.ok(fs.existsSync(path.join(root, 'pkg', 'index.js')), 'pkg/ is missing: run `npm run build`');
  const app = fs.mkdtempSync(path.join(os.tmpdir(), `wxsub-${name}-`));
  const npm = (...args) =>
    execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, stdio: 'pipe' })
      .toString()
      .trim();
  fs.writeFileSync(path.join(app, 'package.json'), `{ "name": "${name}", "private": true, "type": "module" }\n`);
  const tarball = npm('pack', path.join(root, 'pkg'), '--pack-destination', app).split('\n').pop();
  const pinned = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies;
  npm('install', path.join(app, tarball), ...tools.map((tool) => `${tool}@${pinned[tool]}`));
  return app;
}
