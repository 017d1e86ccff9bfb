// @ts-check
// The grant endpoint: receives what handleCallback() POSTs and answers the README's backend contract, as a Web
// standard `(Request) => Promise<Response>` (Next.js route handlers, Hono, Fastify, Deno, workers). The rules of a
// grant are the crate's (parseGrant); the store is the site's choice (openFileStore, pgStore). What the browser does
// with each answer decides the statuses: a 2xx drops the grant from the browser's queue, so one is sent only once
// the grant is durable; a 5xx (or no answer) makes it keep and retry the grant; any other 4xx drops it.
import { parseGrant, storeError } from '../node/wx_subscribemsg.js';
import { invalidOption } from './store-common.js';

/** @typedef {import('./grant-handler.js').GrantHandlerOptions} GrantHandlerOptions */
/** @typedef {import('./file-store.js').Grant} Grant */

const DEFAULT_MAX_BODY_BYTES = 16 * 1024;
const ALLOW = 'POST, OPTIONS';

/**
 * Reads an option, a throwing getter or Proxy being invalid_option too.
 * @param {object} options
 * @param {string} name
 */
function read(options, name) {
  try {
    return /** @type {any} */ (options)[name];
  } catch {
    throw invalidOption(name);
  }
}

/**
 * The CORS setting: exact origins ('https://shop.example.com'), and whether cookies go along.
 * @param {unknown} cors
 * @returns {{ origins: Set<string>, credentials: boolean } | null}
 */
function corsOption(cors) {
  if (cors === undefined || cors === null) return null;
  if (typeof cors !== 'object') throw invalidOption('cors');
  const origins = read(cors, 'origins');
  const credentials = read(cors, 'credentials') ?? false;
  if (
    !Array.isArray(origins) ||
    !origins.length ||
    !origins.every((o) => typeof o === 'string' && /^https?:\/\/[^/\s]+$/.test(o)) ||
    typeof credentials !== 'boolean'
  ) {
    throw invalidOption('cors');
  }
  return { origins: new Set(origins), credentials };
}

/**
 * Makes the handler. Options are checked now, so a misconfiguration fails at start, not at the first grant.
 * @param {GrantHandlerOptions} options
 * @returns {(request: Request) => Promise<Response>}
 */
export function createGrantHandler(options) {
  if (typeof options !== 'object' || options === null) throw invalidOption('options');
  const policy = { appid: read(options, 'appid'), templateIds: read(options, 'templateIds') };
  checkPolicy(policy);
  const store = read(options, 'store');
  if (typeof store !== 'object' || store === null || typeof read(store, 'insert') !== 'function') {
    throw invalidOption('store');
  }
  const authorize = read(options, 'authorize');
  if (authorize !== undefined && authorize !== null && typeof authorize !== 'function')
    throw invalidOption('authorize');
  const cors = corsOption(read(options, 'cors'));
  const maxBodyBytes = read(options, 'maxBodyBytes') ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 256 || maxBodyBytes > 1024 * 1024) {
    throw invalidOption('maxBodyBytes');
  }
  const onError = read(options, 'onError') ?? defaultOnError;
  if (typeof onError !== 'function') throw invalidOption('onError');
  /** @param {unknown} failure */
  const report = (failure) => {
    try {
      onError(failure);
    } catch {
      // A failing logger must not turn the answer into another failure.
    }
  };

  return async function handleGrant(request) {
    if (!isRequest(request)) throw invalidOption('request');
    const headers = corsHeaders(cors, request);
    try {
      return await answer(request, headers);
    } catch (failure) {
      // Only a bug of the site's hook or store gets here: a 5xx keeps the grant in the browser, which retries.
      report(failure);
      return reply(500, headers, error('internal_error', 'the grant endpoint failed: see the server log'));
    }
  };

  /**
   * @param {Request} request
   * @param {Headers} headers
   */
  async function answer(request, headers) {
    if (request.method === 'OPTIONS') return preflight(cors, request, headers);
    if (request.method !== 'POST') {
      headers.set('Allow', ALLOW);
      return reply(405, headers, error('method_not_allowed', 'POST the grant'));
    }
    const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') {
      return reply(415, headers, error('unsupported_media_type', 'the grant must be sent as application/json'));
    }
    const text = await readLimited(request, maxBodyBytes);
    if (text === TOO_LARGE) {
      headers.set('Connection', 'close');
      return reply(413, headers, error('body_too_large', `the grant must be at most ${maxBodyBytes} bytes`));
    }
    /** @type {Grant} */
    let grant;
    try {
      grant = parseGrant(parseJson(text), request.headers.get('idempotency-key'), policy);
    } catch (refusal) {
      const e = /** @type {any} */ (refusal);
      if (e?.code !== 'invalid_grant') throw refusal;
      return reply(400, headers, { error: { code: e.code, message: e.message, problems: e.problems } });
    }
    if (authorize && (await authorize(grant, request)) === false) {
      return reply(403, headers, error('forbidden', 'this grant is not accepted for this visitor'));
    }
    let result;
    try {
      result = await store.insert(grant);
    } catch (failure) {
      const e = /** @type {any} */ (failure);
      if (e?.code !== 'store_unavailable') throw failure;
      // The browser keeps the grant and retries: nothing is lost while the store is down. What failed (a
      // database's address, a file's path) goes to the site's log, not to the client.
      report(failure);
      headers.set('Retry-After', '5');
      return reply(503, headers, error(e.code, storeError('store_unavailable', '').message));
    }
    if (result.created) return reply(201, headers, { status: 'created', reserved: grant.reserved });
    const known = result.grant;
    const same =
      known.appid.toLowerCase() === grant.appid.toLowerCase() &&
      known.openid === grant.openid &&
      known.templateId === grant.templateId &&
      known.scene === grant.scene;
    return same
      ? reply(200, headers, { status: 'duplicate', reserved: grant.reserved })
      : reply(409, headers, error('idempotency_conflict', 'this Idempotency-Key came with another grant'));
  }
}

/**
 * The default onError: one line on the console, the error's message (the package's carry no secret).
 * @param {unknown} failure
 */
function defaultOnError(failure) {
  console.error(`[wx-subscribemsg] grant endpoint: ${failure instanceof Error ? failure.message : String(failure)}`);
}

/**
 * True for a Web standard Request (or anything with its method, headers and body).
 * @param {unknown} value
 * @returns {value is Request}
 */
function isRequest(value) {
  try {
    const r = /** @type {any} */ (value);
    return typeof r === 'object' && r !== null && typeof r.method === 'string' && typeof r.headers?.get === 'function';
  } catch {
    return false;
  }
}

/**
 * Checks the policy once, with the crate's parsers: parseGrant reads the policy before the body, so a valid policy
 * gets as far as refusing the empty body.
 * @param {{ appid: unknown, templateIds: unknown }} policy
 */
function checkPolicy(policy) {
  try {
    parseGrant(null, null, /** @type {any} */ (policy));
  } catch (e) {
    if (/** @type {any} */ (e)?.code !== 'invalid_grant') throw e;
  }
}

/**
 * The JSON body, or a value parseGrant refuses as `invalid_body` when it is not JSON.
 * @param {string | null} text
 */
function parseJson(text) {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const TOO_LARGE = Symbol('too large');

/**
 * The body as text, read chunk by chunk and abandoned as soon as it passes `max` bytes (a declared Content-Length
 * above it is refused before reading); null when it is not UTF-8.
 * @param {Request} request
 * @param {number} max
 * @returns {Promise<string | null | typeof TOO_LARGE>}
 */
async function readLimited(request, max) {
  const declared = Number(request.headers.get('content-length'));
  if (declared > max) {
    await request.body?.cancel().catch(() => {});
    return TOO_LARGE;
  }
  if (!request.body) return '';
  const reader = request.body.getReader();
  /** @type {Uint8Array[]} */
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return TOO_LARGE;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * @param {string} code
 * @param {string} message
 */
const error = (code, message) => ({ error: { code, message } });

/**
 * A JSON answer that no cache keeps.
 * @param {number} status
 * @param {Headers} headers
 * @param {unknown} body
 */
function reply(status, headers, body) {
  headers.set('Content-Type', 'application/json; charset=utf-8');
  headers.set('Cache-Control', 'no-store');
  return new Response(JSON.stringify(body), { status, headers });
}

/**
 * The CORS headers for an allowed Origin (every answer carries them, refusals too, so the page can read them).
 * @param {{ origins: Set<string>, credentials: boolean } | null} cors
 * @param {Request} request
 */
function corsHeaders(cors, request) {
  const headers = new Headers();
  if (!cors) return headers;
  headers.set('Vary', 'Origin');
  const origin = request.headers.get('origin');
  if (origin && cors.origins.has(origin)) {
    headers.set('Access-Control-Allow-Origin', origin);
    if (cors.credentials) headers.set('Access-Control-Allow-Credentials', 'true');
  }
  return headers;
}

/**
 * OPTIONS: the preflight of a cross-origin POST (Content-Type and Idempotency-Key are not simple headers), allowing
 * the headers the page asks for (its `headers` option, e.g. a CSRF token) when its origin is allowed.
 * @param {{ origins: Set<string>, credentials: boolean } | null} cors
 * @param {Request} request
 * @param {Headers} headers
 */
function preflight(cors, request, headers) {
  headers.set('Allow', ALLOW);
  if (cors && headers.has('Access-Control-Allow-Origin')) {
    headers.set('Access-Control-Allow-Methods', 'POST');
    const asked = request.headers.get('access-control-request-headers');
    headers.set(
      'Access-Control-Allow-Headers',
      asked && /^[\w\s,-]{1,1000}$/.test(asked) ? asked : 'Content-Type, Idempotency-Key',
    );
    headers.set('Access-Control-Max-Age', '600');
    headers.append('Vary', 'Access-Control-Request-Headers');
  }
  return new Response(null, { status: 204, headers });
}
