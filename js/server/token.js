// @ts-check
// WeChat's access_token for the send API, from cgi-bin/stable_token in normal mode: while a token is valid, every
// process and machine asking gets that same token, so nobody invalidates anybody (the older cgi-bin/token does:
// each call invalidates the last, the most common failure of WeChat backends). What an answer means — a token
// and how long to keep it, or a typed error — is the crate's (src/server/token.rs, readStableToken); this file
// does the request, the cache and the one-request-in-flight rule. No token or secret is ever logged or put in an
// error message.
import { checkSendOptions, readStableToken } from '../node/wx_subscribemsg.js';

/** WeChat's API host; the simulator or a proxy takes its place with `apiBase`. */
export const WECHAT_API_BASE = 'https://api.weixin.qq.com';
export const STABLE_TOKEN_PATH = '/cgi-bin/stable_token';

/**
 * @typedef {{ get(): Promise<string>, invalidate(token: string): void }} TokenProvider
 * @typedef {(url: string, init: { method: string, headers: Record<string, string>, body: string,
 *   signal?: any }) => Promise<{ status: number, text(): Promise<string> }>} FetchLike
 */

/**
 * A token provider on cgi-bin/stable_token (normal mode, `force_refresh: false`, always).
 * - `get()` resolves the cached token while it is fresh (WeChat's `expires_in` minus a margin), otherwise asks
 *   WeChat; concurrent calls share one request. A failure rejects with a SubscribeError (`token_refused`,
 *   `token_rate_limited`, `token_unavailable`) and caches nothing: the next `get()` asks again.
 * - `invalidate(token)` forgets that exact token (the send API refused it: 40001, 40014, 42001). A stale call, for
 *   a token already replaced, does nothing.
 * @param {{ appid: string, secret: string, fetch?: FetchLike, apiBase?: string, timeoutMs?: number,
 *   now?: () => number }} options
 * @returns {TokenProvider}
 */
export function stableTokenProvider(options) {
  checkSendOptions(options, 'token');
  const { appid, secret, apiBase = WECHAT_API_BASE, timeoutMs = 10_000, now = Date.now } = options;
  const fetchFn = /** @type {FetchLike} */ (options.fetch ?? globalThis.fetch);
  const url = `${apiBase.replace(/\/+$/, '')}${STABLE_TOKEN_PATH}`;
  // Built once: the secret lives in this closure and in the request body, nowhere else.
  const body = JSON.stringify({ grant_type: 'client_credential', appid, secret, force_refresh: false });

  /** @type {{ token: string, until: number } | null} */
  let cached = null;
  /** @type {Promise<string> | null} */
  let inFlight = null;

  async function ask() {
    /** @type {unknown} */
    let answer;
    try {
      const response = await fetchFn(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      try {
        answer = JSON.parse(text);
      } catch {
        answer = null; // not JSON: token_unavailable ("not a token")
      }
    } catch {
      // No answer. The cause (a network error, a timeout) is not passed on: its text is not ours to vouch for.
      answer = undefined;
    }
    const read = readStableToken(answer); // throws the typed error
    cached = { token: read.accessToken, until: now() + read.cacheMs };
    return read.accessToken;
  }

  return {
    get() {
      if (cached && now() < cached.until) return Promise.resolve(cached.token);
      if (!inFlight) {
        inFlight = ask().finally(() => {
          inFlight = null;
        });
      }
      return inFlight;
    },
    invalidate(token) {
      if (cached && cached.token === token) cached = null;
    },
  };
}

/**
 * A token provider for sites whose access_token comes from their own central token service: `get()` calls
 * `fn()` every time (the service caches), `invalidate(token)` calls `onInvalid(token)` when given. `fn` must
 * resolve a token string; anything else rejects with `token_unavailable`.
 * @param {() => string | Promise<string>} fn
 * @param {{ onInvalid?: (token: string) => void }} [options]
 * @returns {TokenProvider}
 */
export function staticTokenProvider(fn, options = {}) {
  checkSendOptions({ fn }, 'static');
  return {
    async get() {
      const token = await fn();
      // The crate's rule for what a token looks like; a bad value is token_unavailable, not a send with garbage.
      return readStableToken({ access_token: token, expires_in: 1 }).accessToken;
    },
    invalidate(token) {
      options.onInvalid?.(token);
    },
  };
}
