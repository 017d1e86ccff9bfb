// The asynchronous edge of handleCallback() and retryDeliveries(): fetch with a timeout, retries with
// backoff, and one POST per callback on a page. Every decision comes from the wasm core passed in as `core`:
// what to post, how long to wait, what an answer means, and the typed errors. scripts/build.mjs puts this
// file into the package's entry module; tests/browser.rs loads it as it is.

/** Binds handleCallback and retryDeliveries to the core's internal exports. */
export function delivery(core) {
  /** Grants being posted from this page, by record: a second concurrent call shares the first's POST. */
  const inFlight = new Map();

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** One attempt: the HTTP status, or 0 for a network error or a timeout. */
  async function postOnce(endpoint, post) {
    const headers = new Headers(endpoint.headers ?? undefined);
    headers.set('Content-Type', 'application/json');
    headers.set('Idempotency-Key', post.idempotencyKey);
    const controller = new AbortController();
    let timer;
    // Raced as well as aborted, so a fetch that ignores its signal cannot hang the page.
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve(0);
      }, endpoint.timeoutMs);
    });
    const answer = fetch(endpoint.url, {
      method: 'POST',
      headers,
      body: post.body,
      credentials: endpoint.credentials,
      signal: controller.signal,
    }).then(
      (response) => response.status,
      () => 0,
    );
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Posts until the backend answers for good or the retries run out; true when delivered. The core records
   * each answer and throws backend_rejected for a final refusal. */
  async function deliver(endpoint, post) {
    for (let attempt = 0; ; attempt += 1) {
      if (attempt > 0) await sleep(core.backoffMs(attempt - 1, endpoint.retryDelayMs));
      const delivered = core.settleGrant(post.key, await postOnce(endpoint, post));
      if (delivered || attempt >= endpoint.retries) return delivered;
    }
  }

  function handleCallback(options) {
    let endpoint;
    let verified;
    try {
      endpoint = core.deliveryOptions(options);
      verified = core.verifyCallback(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const { result, post } = verified;
    if (!post) return Promise.resolve(result);
    // A grant still owed while this page is posting it: the same callback handled twice at once.
    const first = inFlight.get(post.key);
    if (first) return first.then((outcome) => ({ ...outcome, replayed: true }));
    const shared = deliver(endpoint, post)
      .then((delivered) => ({ ...result, delivered }))
      .finally(() => inFlight.delete(post.key));
    inFlight.set(post.key, shared);
    return shared;
  }

  async function retryDeliveries(options) {
    const endpoint = core.deliveryOptions(options);
    const counts = { delivered: 0, pending: 0, rejected: 0 };
    for (const post of core.owedGrants()) {
      try {
        counts[(await deliver(endpoint, post)) ? 'delivered' : 'pending'] += 1;
      } catch (error) {
        if (error?.code !== 'backend_rejected') throw error;
        counts.rejected += 1;
      }
    }
    return counts;
  }

  return { handleCallback, retryDeliveries };
}
