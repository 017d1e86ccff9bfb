// The heavy frameworks the framework recipes run on (Next.js, Nuxt, Vite 7), installed once per pinned set and
// kept across runs under node_modules/.cache/wxsub-frameworks/ (this repository's, gitignored with node_modules):
// a fresh machine installs each set once from the npm registry, later runs copy it. Each test app is a copy in the
// system's temporary directory, outside this repository (Next.js and Turbopack take the directory holding the
// outermost lockfile as the workspace root, and a project inside node_modules is treated as a library), with the
// packed tarball installed into it by npm, as a user's project gets it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const CACHE = path.join(root, 'node_modules', '.cache', 'wxsub-frameworks');

/**
 * The framework sets, at exact versions (what the registry served on 2026-12-04). Nuxt is the last 4.x whose
 * engines accept Node 20 (4.4.6 and later want Node 22), and it runs on Vite 7, the dev server issue 16 is about.
 */
export const FRAMEWORKS = {
  next: { next: '16.5.0', react: '19.3.1', 'react-dom': '19.3.1' },
  nuxt: { nuxt: '4.4.5', vue: '3.5.45', 'vue-router': '5.5.1' },
  vite7: {
    vite: '7.3.8',
    '@vitejs/plugin-vue': '6.0.11',
    vue: '3.5.45',
    'vue-router': '5.5.1',
  },
};

const npm = (cwd, ...args) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, stdio: 'pipe' })
    .toString()
    .trim();

/** The cached install of one set: installed now if this pinned set has none yet. Returns its directory. */
export function installed(name) {
  const deps = FRAMEWORKS[name];
  const key = createHash('sha256').update(JSON.stringify(deps)).digest('hex').slice(0, 12);
  const dir = path.join(CACHE, `${name}-${key}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  fs.mkdirSync(CACHE, { recursive: true });
  // Installs of other pins of this set are stale (a run's unfinished install starts with a dot: left alone).
  for (const old of fs.readdirSync(CACHE).filter((d) => d.startsWith(`${name}-`))) {
    fs.rmSync(path.join(CACHE, old), { recursive: true, force: true });
  }
  const work = fs.mkdtempSync(path.join(CACHE, `.${name}-`));
  fs.writeFileSync(
    path.join(work, 'package.json'),
    JSON.stringify({ name: `wxsub-${name}`, private: true, type: 'module', dependencies: deps }, null, 2) + '\n',
  );
  const started = Date.now();
  npm(work, 'install', '--save-exact');
  fs.writeFileSync(path.join(work, '.complete'), `installed in ${Date.now() - started} ms\n`);
  try {
    fs.renameSync(work, dir);
  } catch (err) {
    // Another run installed the same set meanwhile: use its copy.
    fs.rmSync(work, { recursive: true, force: true });
    if (!fs.existsSync(path.join(dir, '.complete'))) throw err;
  }
  return dir;
}

/**
 * A new app of framework set `name`, in the system's temporary directory: the cached install copied (hard links
 * for the packages, which no tool here writes; real copies of the files npm rewrites), then the packed tarball
 * installed by npm. Returns its directory.
 */
export function frameworkApp(name) {
  assert.ok(fs.existsSync(path.join(root, 'pkg', 'index.js')), 'pkg/ is missing: run `npm run build`');
  const from = installed(name);
  const app = fs.mkdtempSync(path.join(os.tmpdir(), `wxsub-${name}-`));
  execFileSync('cp', ['-al', `${from}/node_modules`, app]);
  for (const file of ['package.json', 'package-lock.json'])
    fs.copyFileSync(path.join(from, file), path.join(app, file));
  // npm rewrites its hidden lockfile in place: a link would change the cache.
  const hidden = path.join(app, 'node_modules', '.package-lock.json');
  fs.rmSync(hidden);
  fs.copyFileSync(path.join(from, 'node_modules', '.package-lock.json'), hidden);
  const tarball = npm(app, 'pack', path.join(root, 'pkg'), '--pack-destination', app).split('\n').pop();
  npm(app, 'install', path.join(app, tarball));
  return app;
}
