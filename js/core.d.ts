// The wasm core's internal exports that js/delivery.js is bound to (src/web/delivery.rs), declared once: tsc checks
// js/delivery.js against this (tests/types.test.mjs), and scripts/build.mjs binds exactly the members of `Core`.
// Not shipped: the package's users see handleCallback() and retryDeliveries() (js/delivery.d.ts).

import type { CallbackResult, GrantedResult } from './delivery.js';

/** What checkOptions() makes of DeliveryOptions: every default applied and every timing decided. */
export interface DeliveryPlan {
  /** grantEndpoint, resolved against the page. */
  url: string;
  credentials: RequestCredentials;
  /** How long one attempt may take before it counts as 'no_answer'. */
  timeoutMs: number;
  /** The wait before each retry, in order: as many retries as there are entries (src/subscription/retry.rs). */
  delaysMs: Uint32Array;
  cleanUrl: boolean;
  /** The `headers` option, read once when checked. */
  headers?: Headers;
  fetch?: typeof fetch;
  query?: string;
}

/** One grant to POST: the nonce (also the Idempotency-Key) and the JSON body. */
export interface Post {
  reserved: string;
  body: string;
}

/** What one POST got back: the endpoint's own HTTP status, a redirect, or nothing (network error, timeout). */
export type Reply = number | 'redirected' | 'no_answer';

/** What a reply means for the page: the result's two delivery fields, decided by the core alone. */
export type Outcome = Pick<GrantedResult, 'delivered' | 'kept'>;

/** A verified callback: its result, and the grant to post when one is undelivered. A granted result that comes with
 * a post lacks `delivered` and `kept`: the reply to that post decides them (recordAnswer). */
export type Recorded =
  { result: CallbackResult; post?: undefined } | { result: Omit<GrantedResult, 'delivered' | 'kept'>; post: Post };

/** The core's exports that js/delivery.js uses, under their own names. */
export interface Core {
  /** Checks handleCallback()'s and retryDeliveries()'s options before anything is recorded. */
  checkOptions(options: unknown): DeliveryPlan;
  /** Verifies the callback (`query`, or the page's address when undefined), records the answer, cleans the address. */
  recordCallbackAndCleanAddress(query: string | undefined, cleanUrl: boolean): Recorded;
  /** Records one reply for the grant `reserved`; throws backend_rejected for a refusal. */
  recordAnswer(reserved: string, reply: Reply): Outcome;
  /** Every grant this browser's storage holds that the backend has not acknowledged. */
  undeliveredGrants(): Post[];
}

/** How js/delivery.js waits (injected by tests): resolves after `ms`, or at once when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;
