// The asynchronous half of handleCallback() and retryDeliveries(): fetch with a timeout, retries with backoff,
// and one POST per grant on a page. The wasm core (src/web/delivery.rs, passed in as `core` under the same
// export names) decides what an answer means and what is stored; this file decides when to try and when to
// stop. scripts/build.mjs puts it into the package's entry module; tests/browser.rs loads it as it is.

/** Longest wait between two attempts. */
const MAX_BACKOFF_MS = 30_000;
/** What recordAnswer() is told for a redirect (fetch with redirect: 'manual' hides the real 3xx status). */
const REDIRECTED = 300;
/** What recordAnswer() is told when nothing answered: a network error, a CORS failure or a timeout. */
const NO_ANSWER = 0;

/** Binds handleCallback and retryDeliveries to the core's exports. */
export function delivery(core) {
  /** The delivery of each grant being posted from this page, by nonce: concurrent calls share it. */
  const inFlight = new Map();
  /** The grants this page handled and has not delivered yet, by nonce: retryDeliveries() posts them even
   * when the browser's storage could not keep them. */
  const handled = new Map();

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** One attempt: what the endpoint itself answered (a status), REDIRECTED or NO_ANSWER. */
  async function postOnce(options, post) {
    const headers = new Headers(options.headers ?? undefined);
    headers.set('Content-Type', 'application/json');
    headers.set('Idempotency-Key', post.reserved);
    const controller = new AbortController();
    let timer;
    // Raced as well as aborted, so a fetch that ignores its signal cannot hang the page.
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve(NO_ANSWER);
      }, options.timeoutMs);
    });
    const answer = Promise.resolve()
      .then(() =>
        (options.fetch ?? fetch)(options.url, {
          method: 'POST',
          headers,
          body: post.body,
          credentials: options.credentials,
          // A redirect (an expired session sent to a login page) is not the endpoint's answer.
          redirect: 'manual',
          signal: controller.signal,
        }),
      )
      .then(
        (response) => (response.type === 'opaqueredirect' || response.redirected ? REDIRECTED : response.status),
        () => NO_ANSWER,
      );
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Posts until the core says the grant is delivered or refused, or the retries run out; resolves the core's
   * `{ delivered, kept }`, rejects with backend_rejected for a refusal. */
  async function deliver(options, post) {
    for (let attempt = 0; ; attempt += 1) {
      if (attempt > 0) await sleep(Math.min(options.retryDelayMs * 2 ** (attempt - 1), MAX_BACKOFF_MS));
      const answer = core.recordAnswer(post.reserved, await postOnce(options, post));
      if (answer.delivered || attempt >= options.retries) return answer;
    }
  }

  /** The one delivery of `post` on this page: a call while it runs shares it. */
  function deliverOnce(options, post) {
    let shared = inFlight.get(post.reserved);
    if (!shared) {
      handled.set(post.reserved, post);
      shared = deliver(options, post).finally(() => inFlight.delete(post.reserved));
      inFlight.set(post.reserved, shared);
      shared.then(
        (answer) => answer.delivered && handled.delete(post.reserved),
        () => handled.delete(post.reserved),
      );
    }
    return shared;
  }

  function handleCallback(options) {
    let verified;
    try {
      // Every option is checked before anything is recorded.
      options = core.checkOptions(options);
      verified = core.recordCallbackAndCleanAddress(options.query, options.cleanUrl);
    } catch (error) {
      return Promise.reject(error);
    }
    const { result, post } = verified;
    if (!post) return Promise.resolve(result);
    return deliverOnce(options, post).then((answer) => ({ ...result, ...answer }));
  }

  async function retryDeliveries(options) {
    options = core.checkOptions(options);
    const posts = new Map(handled);
    for (const post of core.undeliveredGrants()) posts.set(post.reserved, post);
    const counts = { delivered: 0, pending: 0, rejected: 0 };
    for (const post of posts.values()) {
      try {
        counts[(await deliverOnce(options, post)).delivered ? 'delivered' : 'pending'] += 1;
      } catch (error) {
        if (error?.code !== 'backend_rejected') throw error;
        counts.rejected += 1;
      }
    }
    return counts;
  }

  return { handleCallback, retryDeliveries };
}
