// @ts-check
// The grant endpoint for node:http and Express: `(req, res) => void` around createGrantHandler's Web handler.
// A small adapter rather than a dependency: @hono/node-server's getRequestListener does this and more, but needs
// `hono` as a peer; the endpoint needs only the method, the headers and the body as a stream, so the limit on its
// size still applies while reading. Mount it before any body parser (express.json() would consume the stream);
// a body already read by express.raw() or express.text() (a Buffer or a string) is used as it is.
import { createGrantHandler } from './grant-handler.js';

/** @typedef {import('./grant-handler.js').GrantHandlerOptions} GrantHandlerOptions */

/**
 * The node:http / Express form of createGrantHandler.
 * @param {GrantHandlerOptions} options
 * @returns {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void}
 */
export function createGrantListener(options) {
  const handle = createGrantHandler(options);
  return (req, res) => {
    // toRequest throws on a header value the Fetch API refuses: answered like any other failure.
    Promise.resolve()
      .then(() => handle(toRequest(req)))
      .then(async (response) => {
        const body = Buffer.from(await response.arrayBuffer());
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(body);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end('{"error":{"code":"internal_error","message":"the grant endpoint failed"}}');
      });
  };
}

/**
 * The Web Request for a node:http request: its method, headers and body (streamed, never buffered here).
 * @param {import('node:http').IncomingMessage} req
 */
function toRequest(req) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  // The URL matters to no rule of the endpoint; the host is the request's own, on a fixed base if absent.
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  /** @type {RequestInit & { duplex?: 'half' }} */
  const init = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    const parsed = /** @type {{ body?: unknown }} */ (req).body;
    init.body =
      typeof parsed === 'string' ? parsed : Buffer.isBuffer(parsed) ? new Uint8Array(parsed) : bodyStream(req);
    init.duplex = 'half';
  }
  return new Request(url, init);
}

/**
 * The request's body as a Web stream, with backpressure. Unlike stream.Readable.toWeb, cancelling it (the endpoint
 * stops reading a body over its limit) drains the rest rather than destroying the socket, so the 413 still reaches
 * the client; the answer carries Connection: close.
 * @param {import('node:http').IncomingMessage} req
 * @returns {ReadableStream<Uint8Array>}
 */
function bodyStream(req) {
  let done = false;
  return new ReadableStream({
    start(controller) {
      req.on('data', (chunk) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on('end', () => {
        if (!done) controller.close();
        done = true;
      });
      req.on('error', (error) => {
        if (!done) controller.error(error);
        done = true;
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      done = true;
      req.resume();
    },
  });
}
