// Types of js/delivery.js's exports as the package's entry module re-exports them.

/** Where and how grants are posted. */
export interface DeliveryOptions {
  /** URL the grant is POSTed to as JSON {appid, openid, template_id, scene, reserved}; relative to the page. */
  grantEndpoint: string;
  /** Extra request headers (e.g. a CSRF token of your site). */
  headers?: HeadersInit;
  /** fetch credentials mode (default 'same-origin'). */
  credentials?: RequestCredentials;
  /** Retries after the first attempt on no answer, redirects, 408, 429 and 5xx (0..10, default 3). */
  retries?: number;
  /** Per-attempt timeout in ms (1..120000, default 8000). */
  timeoutMs?: number;
  /** Wait before the first retry in ms, doubled each time up to 30 s (0..60000, default 500). */
  retryDelayMs?: number;
  /** The fetch to post with (default the global fetch): a wrapper of your own, or a stub in tests. */
  fetch?: typeof fetch;
}

/** Options of handleCallback(). */
export interface HandleCallbackOptions extends DeliveryOptions {
  /** The callback's query string (default: the page's address, or the callback it carried before cleaning). */
  query?: string;
  /** Remove WeChat's parameters from the address bar and restore redirectUrl's fragment (default true). */
  cleanUrl?: boolean;
}

/** The user allowed one message. */
export interface GrantedResult {
  status: 'granted';
  openid: string;
  templateId: string;
  scene: number;
  /** The subscription's nonce: the grant's Idempotency-Key at your backend, which names it there. */
  reserved: string;
  /** The grant endpoint acknowledged it (2xx from the endpoint itself). */
  delivered: boolean;
  /** The grant is safe beyond this tab: delivered, or saved in localStorage for retryDeliveries() on a later
   * visit. false: it is undelivered and lives only in this tab; ask the user to keep the page open and retry. */
  kept: boolean;
  /** This callback had been handled before (reload, back button, a second call); this is its first outcome. */
  replayed: boolean;
  /** The user answered after ttlSeconds; the grant counts all the same. */
  late: boolean;
}

/** The user declined. */
export interface CancelledResult {
  status: 'cancelled';
  templateId: string;
  scene: number;
  reserved: string;
  replayed: boolean;
  late: boolean;
}

export type CallbackResult = GrantedResult | CancelledResult;

/** Counts after retryDeliveries(). */
export interface RetryResult {
  delivered: number;
  /** Still undelivered (kept for the next try). */
  pending: number;
  /** Refused by the backend for good. */
  rejected: number;
}

/**
 * Verifies the callback on the landing page, records the answer, posts a grant to grantEndpoint (retrying no
 * answer, redirects, 408, 429 and 5xx), and cleans the address. On an address it cleaned before (a reload),
 * the first outcome again with `replayed: true`; on a page opened without a callback, rejects with
 * `no_callback`. Concurrent calls share one POST.
 *
 * @example
 * ```ts
 * try {
 *   const result = await handleCallback({ grantEndpoint: '/api/grants' });
 *   if (result.status === 'granted' && !result.kept) showKeepThisPageOpen();
 * } catch (err) {
 *   if ((err as SubscribeError).code !== 'no_callback') showError((err as SubscribeError).message);
 * }
 * ```
 */
export function handleCallback(options: HandleCallbackOptions): Promise<CallbackResult>;

/**
 * Posts every grant still owed to the backend (this tab's sessionStorage, any tab's localStorage copy, and
 * those this page handled). Call it on any page load, or from a "try again" button.
 *
 * @example
 * ```ts
 * const { delivered, pending } = await retryDeliveries({ grantEndpoint: '/api/grants' });
 * ```
 */
export function retryDeliveries(options: DeliveryOptions): Promise<RetryResult>;
