// Types of js/server/token.js: WeChat's access_token for the send API.

/** WeChat's API host. */
export declare const WECHAT_API_BASE: 'https://api.weixin.qq.com';
/** The token endpoint's path under the API host. */
export declare const STABLE_TOKEN_PATH: '/cgi-bin/stable_token';

/** The part of `fetch` the server half uses (Node's global fetch fits). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: any },
) => Promise<{ status: number; text(): Promise<string> }>;

/** Where a sender gets its access_token. */
export interface TokenProvider {
  /** The current token. Rejects with a SubscribeError: 'token_refused', 'token_rate_limited', 'token_unavailable'. */
  get(): Promise<string>;
  /** The send API refused this token (40001, 40014, 42001): forget it, so the next get() asks for a new one.
   * A stale call, for a token already replaced, does nothing. */
  invalidate(token: string): void;
}

export interface StableTokenOptions {
  /** The Service Account's AppID. */
  appid: string;
  /** Its AppSecret: only ever sent to the token endpoint, never logged or put in an error message. */
  secret: string;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Default 'https://api.weixin.qq.com'; the demo's simulator is 'http://HOST:PORT/wxapi'. */
  apiBase?: string;
  /** Per request, default 10000. */
  timeoutMs?: number;
  /** The clock, ms since the epoch (tests). Default Date.now. */
  now?: () => number;
}

/**
 * A token provider on WeChat's `cgi-bin/stable_token` in normal mode (never `force_refresh`): every process and
 * machine gets the same token, so no lock is needed. Cached for `expires_in` minus a margin (a tenth, at most 5
 * minutes); one request in flight per process, shared by concurrent get()s; a failed get() rejects and caches
 * nothing, and the next get() asks again (no retry loop inside).
 */
export declare function stableTokenProvider(options: StableTokenOptions): TokenProvider;

/**
 * A token provider for a site with its own central token service: get() calls `fn` each time; invalidate(token)
 * calls `onInvalid(token)` when given. A value of `fn` that is not a token rejects with 'token_unavailable'.
 */
export declare function staticTokenProvider(
  fn: () => string | Promise<string>,
  options?: { onInvalid?: (token: string) => void },
): TokenProvider;
