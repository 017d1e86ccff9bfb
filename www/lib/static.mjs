// Static files: correct MIME types (application/wasm for .wasm, text/javascript for .js), always
// revalidated (Cache-Control: no-cache + ETag), never outside the root, never a file the root hides.
import fs from 'node:fs';
import path from 'node:path';

export const MIME_TYPES = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
});

export function mimeType(file) {
  return MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Resolves a URL path (below a mount point) to a file inside root, or null.
 * Rejects encoded slashes, "..", NUL and dot-files.
 */
export function resolveInside(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter(Boolean);
  if (segments.some((s) => s === '..' || s.startsWith('.'))) return null;
  const file = path.resolve(root, ...segments);
  const resolvedRoot = path.resolve(root);
  return file === resolvedRoot || file.startsWith(resolvedRoot + path.sep) ? file : null;
}

/**
 * A handler serving files under `root` for URL paths starting with `mount` ("/" or "/pkg/").
 * `allow(relativePath)` may hide files (server code, data). Directories serve their index.html.
 * Returns true when it answered the request.
 */
export function createStaticHandler({ root, mount = '/', allow = () => true }) {
  return async function serveStatic(req, res, url) {
    if (!url.pathname.startsWith(mount)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let file = resolveInside(root, url.pathname.slice(mount.length));
    if (!file) return false;
    let stat = await fs.promises.stat(file).catch(() => null);
    if (stat?.isDirectory()) {
      if (!url.pathname.endsWith('/')) {
        res.writeHead(301, { Location: `${url.pathname}/${url.search}`, 'Cache-Control': 'no-cache' });
        res.end();
        return true;
      }
      file = path.join(file, 'index.html');
      stat = await fs.promises.stat(file).catch(() => null);
    }
    if (!stat?.isFile() || !allow(path.relative(root, file).split(path.sep).join('/'))) return false;

    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const headers = {
      'Content-Type': mimeType(file),
      'Cache-Control': 'no-cache',
      ETag: etag,
      'Last-Modified': stat.mtime.toUTCString(),
      'X-Content-Type-Options': 'nosniff',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'Content-Length': stat.size });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise((resolve) => {
      const stream = fs.createReadStream(file);
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      stream.on('end', resolve);
      stream.pipe(res);
    });
    return true;
  };
}

/**
 * A whole file server for tests and benches: serves each `{ root, mount = '/', allow }` in turn, the
 * first that has the file, and answers anything else 404. Returns a request listener (req, res); a
 * caller with routes of its own answers those first and hands the rest to it.
 */
export function serveFiles(...dirs) {
  const handlers = dirs.map(createStaticHandler);
  return async function serve(req, res) {
    const url = new URL(req.url, 'http://localhost');
    for (const handle of handlers) {
      if (await handle(req, res, url)) return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  };
}

/** The files of www/ that are pages or page assets (not the server, its modules or the data). */
export function isPublicWwwFile(rel) {
  if (rel === 'server.mjs') return false;
  return /^(?:js\/)?[\w.-]+\.(?:html|css|mjs|js|svg|png|ico)$/.test(rel);
}
