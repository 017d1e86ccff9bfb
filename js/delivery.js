// @ts-check
// The asynchronous half of handleCallback() and retryDeliveries(): fetch, waits, and one POST per grant on a page.
// The wasm core (src/web/delivery.rs, declared in js/core.d.ts and passed in as `core`) decides what a reply means,
// what is stored and how long to wait; this file fetches and waits what it is told. scripts/build.mjs puts it into
// the package's entry module; tests/browser.rs loads it as it is.

/** @typedef {import('./core.js').Core} Core */
/** @typedef {import('./core.js').DeliveryPlan} DeliveryPlan */
/** @typedef {import('./core.js').Post} Post */
/** @typedef {import('./core.js').Reply} Reply */
/** @typedef {import('./core.js').Outcome} Outcome */
/** @typedef {import('./core.js').Sleep} Sleep */
/** @typedef {import('./delivery.js').CallbackResult} CallbackResult */
/** @typedef {import('./delivery.js').RetryResult} RetryResult */

/** @type {Sleep} */
const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** The page's query and fragment, as a router records them after its path; undefined where there is no page. */
const address = () => globalThis.location && location.search + location.hash;

/**
 * Binds handleCallback and retryDeliveries to the core's exports.
 * @param {Core} core
 * @param {Sleep} [wait] how to wait: tests pass a fake clock
 */
export function delivery(core, wait = sleep) {
  /** The delivery of each grant being posted from this page, by nonce: concurrent calls share it.
   * @type {Map<string, Promise<Outcome>>} */
  const inFlight = new Map();
  /** The grants this page handled and has not delivered yet, by nonce: retryDeliveries() posts them even
   * when the browser's storage could not keep them. @type {Map<string, Post>} */
  const handled = new Map();

  /**
   * One attempt: what the endpoint itself replied.
   * @param {DeliveryPlan} plan
   * @param {Post} post
   * @returns {Promise<Reply>}
   */
  async function postOnce(plan, post) {
    const headers = new Headers(plan.headers);
    headers.set('Content-Type', 'application/json');
    headers.set('Idempotency-Key', post.reserved);
    const controller = new AbortController();
    // Raced as well as aborted, so a fetch that ignores its signal cannot hang the page. Aborting once the race is
    // settled also ends the wait (an answered fetch's unread body is all it cancels).
    /** @type {Promise<Reply>} */
    const timeout = wait(plan.timeoutMs, controller.signal).then(() => {
      controller.abort();
      return 'no_answer';
    });
    /** @type {Promise<Reply>} */
    const answer = Promise.resolve()
      .then(() =>
        (plan.fetch ?? fetch)(plan.url, {
          method: 'POST',
          headers,
          body: post.body,
          credentials: plan.credentials,
          // A redirect (an expired session sent to a login page) is not the endpoint's answer.
          redirect: 'manual',
          signal: controller.signal,
        }),
      )
      .then((response) => (response.type === 'opaqueredirect' || response.redirected ? 'redirected' : response.status))
      // A rejected fetch, and a `fetch` option that resolved to something other than a response (null, an object
      // whose getters throw): nothing the endpoint said.
      .catch(() => 'no_answer');
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      controller.abort();
    }
  }

  /**
   * Posts until the core says the grant is delivered or refused, or the plan's retries run out; resolves the
   * core's outcome, rejects with backend_rejected for a refusal.
   * @param {DeliveryPlan} plan
   * @param {Post} post
   * @returns {Promise<Outcome>}
   */
  async function deliver(plan, post) {
    for (let attempt = 0; ; attempt += 1) {
      if (attempt > 0) await wait(plan.delaysMs[attempt - 1]);
      const outcome = core.recordAnswer(post.reserved, await postOnce(plan, post));
      if (outcome.delivered || attempt >= plan.delaysMs.length) return outcome;
    }
  }

  /**
   * The one delivery of `post` on this page: a call while it runs shares it.
   * @param {DeliveryPlan} plan
   * @param {Post} post
   */
  function deliverOnce(plan, post) {
    let shared = inFlight.get(post.reserved);
    if (!shared) {
      handled.set(post.reserved, post);
      shared = deliver(plan, post).finally(() => inFlight.delete(post.reserved));
      inFlight.set(post.reserved, shared);
      shared.then(
        (outcome) => outcome.delivered && handled.delete(post.reserved),
        () => handled.delete(post.reserved),
      );
    }
    return shared;
  }

  /**
   * @param {unknown} options
   * @returns {Promise<CallbackResult>}
   */
  function handleCallback(options) {
    /** @type {DeliveryPlan} */
    let plan;
    /** @type {import('./core.js').Recorded} */
    let recorded;
    try {
      // Every option is checked before anything is recorded.
      plan = core.checkOptions(options);
      const before = address();
      recorded = core.recordCallbackAndCleanAddress(plan.query, plan.cleanUrl);
      // A router that records the address in history.state writes that record back as the address when it next
      // navigates (vue-router's `current`, so Nuxt's too): it gets the cleaned address, or Back would return to
      // the callback.
      const state = globalThis.history?.state;
      const after = address();
      if (typeof state?.current == 'string' && before != after && state.current.endsWith(before)) {
        history.replaceState({ ...state, current: state.current.slice(0, -before.length) + after }, '');
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (!recorded.post) return Promise.resolve(recorded.result);
    const { result } = recorded;
    return deliverOnce(plan, recorded.post).then((outcome) => ({ ...result, ...outcome }));
  }

  /**
   * @param {unknown} options
   * @returns {Promise<RetryResult>}
   */
  async function retryDeliveries(options) {
    const plan = core.checkOptions(options);
    const posts = new Map(handled);
    for (const post of core.undeliveredGrants()) posts.set(post.reserved, post);
    const counts = { delivered: 0, pending: 0, rejected: 0 };
    for (const post of posts.values()) {
      try {
        counts[(await deliverOnce(plan, post)).delivered ? 'delivered' : 'pending'] += 1;
      } catch (error) {
        if (/** @type {{ code?: unknown } | undefined} */ (error)?.code !== 'backend_rejected') throw error;
        counts.rejected += 1;
      }
    }
    return counts;
  }

  return { handleCallback, retryDeliveries };
}
