// @ts-check
// Sending each grant's one message: claim the grant in the store (a lease), build the body with the crate's
// buildSendRequest, POST it to WeChat's send API, ask the crate's decideSend what the answer means, and record the
// outcome with store.finish. The decisions (which state, retry with a new token, backoff, pause, stop) are the
// crate's (src/server/outcome.rs); this file does the I/O and the order of the steps.
//
// Exactly once: a grant is sent only under a lease, so two workers or machines never send it at the same time; a
// sender that dies leaves a lease that expires, and the next claimer sends again. That is safe because WeChat
// answers 43101 rather than deliver a second message for one permit, and a 43101 after an attempt that may have
// reached WeChat is our own earlier message (decideSend: 'sent_earlier'). The one case where sending again is not
// safe — a newer grant of the same (openid, template, scene) is waiting, whose permit a retry would spend — ends
// the old grant 'unknown' before any request.
import {
  buildSendRequest,
  checkSendOptions,
  decideSend,
  grantNotDueError,
  priorAttemptMayHaveReachedWeChat,
} from '../node/wx_subscribemsg.js';
import { WECHAT_API_BASE } from './token.js';

export const SEND_API_PATH = '/cgi-bin/message/template/subscribe';
/** How long a claim holds a grant unless told otherwise; longer than two requests' timeouts. */
export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * @typedef {import('./sender.js').SendOutcome} SendOutcome
 * @typedef {import('./sender.js').SendMessage} SendMessage
 * @typedef {import('./token.js').TokenProvider} TokenProvider
 * @typedef {import('./token.js').FetchLike} FetchLike
 * @typedef {{ grant: any, lease: string }} Claim
 * @typedef {{ store: any, token: TokenProvider, message: SendMessage | ((grant: any) => SendMessage |
 *   Promise<SendMessage>), apiBase: string, fetch: FetchLike, timeoutMs: number }} Context
 */

/**
 * The options every form shares, with defaults; `what` is checkSendOptions' kind.
 * @param {any} options
 * @param {'send' | 'worker'} what
 */
function context(options, what) {
  checkSendOptions(options, what);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  // A lease must outlive the attempt (two requests, the first with a refused token), or another claimer could send
  // while this one still waits for WeChat.
  if (leaseMs < 2 * timeoutMs + 1_000) checkSendOptions({ leaseMs: 0 }, 'static');
  return {
    ctx: /** @type {Context} */ ({
      store: options.store,
      token: options.token,
      message: options.message,
      apiBase: (options.apiBase ?? WECHAT_API_BASE).replace(/\/+$/, ''),
      fetch: options.fetch ?? globalThis.fetch,
      timeoutMs,
    }),
    leaseMs,
  };
}

/**
 * One POST of `body` with `accessToken`: WeChat's errcode, or `null` when no answer came (a network failure, a
 * timeout, an answer without an integer errcode) — the request may have reached WeChat.
 * @param {Context} ctx
 * @param {unknown} body
 * @param {string} accessToken
 * @returns {Promise<number | null>}
 */
async function post(ctx, body, accessToken) {
  try {
    const response = await ctx.fetch(`${ctx.apiBase}${SEND_API_PATH}?access_token=${encodeURIComponent(accessToken)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
    const answer = JSON.parse(await response.text());
    return Number.isInteger(answer?.errcode) ? answer.errcode : null;
  } catch {
    // The error's text may carry the URL, whose query is the token: it goes nowhere.
    return null;
  }
}

/**
 * Ends a claim with `decision` and returns the outcome.
 * @param {Context} ctx
 * @param {Claim} claim
 * @param {any} decision decideSend's result
 * @param {number | null} errcode
 * @returns {Promise<SendOutcome>}
 */
async function finish(ctx, claim, decision, errcode) {
  const recorded = await ctx.store.finish(claim, {
    state: decision.state,
    errcode,
    detail: decision.name,
    ...(decision.retryInMs !== null && { retryInMs: decision.retryInMs }),
  });
  return {
    reserved: claim.grant.reserved,
    state: decision.state,
    errcode,
    name: decision.name,
    retryInMs: decision.retryInMs,
    stopQueue: decision.stopQueue,
    pauseQueue: decision.pauseQueue,
    recorded,
  };
}

/** The message of a grant could not be made (the site's function failed, or buildSendRequest refused it). */
class MessageFailed {
  /** @param {unknown} cause */
  constructor(cause) {
    this.cause = cause;
  }
}

/**
 * Sends one claimed grant with `accessToken` (already fetched) and finishes the claim. Rejects with MessageFailed
 * before any request when there is no message, or with the store's error (the claim then stays, and its lease
 * expires: the next claimer sends again, which WeChat's permit makes safe).
 * @param {Context} ctx
 * @param {Claim} claim
 * @param {string} accessToken
 * @returns {Promise<SendOutcome>}
 */
async function sendClaimed(ctx, claim, accessToken) {
  const { grant } = claim;
  // An earlier attempt may have delivered (its answer was lost, or its sender died). Sending again is safe unless a
  // newer grant of the same triple is waiting: its Allow renewed the permit, which this retry would spend.
  if (priorAttemptMayHaveReachedWeChat(grant) && (await ctx.store.hasNewer(grant))) {
    return finish(ctx, claim, decideSend({ noAnswer: true, attempts: grant.attempts, newerGrant: true }), null);
  }
  let body;
  try {
    const message = typeof ctx.message === 'function' ? await ctx.message({ ...grant }) : ctx.message;
    body = buildSendRequest({ ...message, openid: grant.openid, templateId: grant.templateId, scene: grant.scene });
  } catch (err) {
    throw new MessageFailed(err);
  }
  let token = accessToken;
  let tokenRefreshed = false;
  for (;;) {
    const errcode = await post(ctx, body, token);
    const decision =
      errcode === null
        ? decideSend({ noAnswer: true, attempts: grant.attempts, newerGrant: await ctx.store.hasNewer(grant) })
        : decideSend({ errcode, attempts: grant.attempts, tokenRefreshed, lastDetail: grant.detail });
    if (!decision.retryWithNewToken) return finish(ctx, claim, decision, errcode);
    // Once: the refused token is dropped (only that one), a new one fetched, the same body sent again. If no new
    // token comes, the decision stands (stored, with backoff).
    ctx.token.invalidate(token);
    try {
      token = await ctx.token.get();
    } catch {
      return finish(ctx, claim, decision, errcode);
    }
    tokenRefreshed = true;
  }
}

/**
 * Releases a claim without sending (the queue paused or stopped, or the message could not be made): back to
 * 'stored' after `retryInMs` (or 'blocked'), recording `name` — 'not_sent' or 'argument_invalid', names decideSend
 * knows as "nothing was sent", so the next attempt does not take this one for a lost answer — or 'no_answer' when
 * an earlier attempt may have delivered.
 * @param {Context} ctx
 * @param {Claim} claim
 * @param {{ state?: 'stored' | 'blocked', name: string, retryInMs?: number }} how
 */
function release(ctx, claim, { state = 'stored', name, retryInMs = 0 }) {
  return ctx.store.finish(claim, {
    state,
    errcode: null,
    // A grant an earlier attempt may have delivered keeps that mark ('no_answer'), whatever this claim did.
    detail: priorAttemptMayHaveReachedWeChat(claim.grant) ? 'no_answer' : name,
    ...(state === 'stored' && { retryInMs }),
  });
}

/**
 * Sends the one message of the grant stored under `reserved`, now. Resolves the outcome; rejects with the token
 * provider's error (nothing claimed), with `grant_not_due` when the grant cannot be claimed (absent, finished,
 * blocked, not yet due, or leased by another sender), or with the message's error from buildSendRequest (the
 * grant is released, unsent).
 * @param {any} options
 * @returns {Promise<SendOutcome>}
 */
export async function sendGrant(options) {
  const { ctx, leaseMs } = context(options, 'send');
  const accessToken = await ctx.token.get();
  const [claim] = await ctx.store.claim({ leaseMs, limit: 1, reserved: options.reserved });
  if (!claim) {
    const grant = await ctx.store.get(options.reserved);
    throw grantNotDueError(grant?.state ?? 'absent');
  }
  try {
    return await sendClaimed(ctx, claim, accessToken);
  } catch (err) {
    if (!(err instanceof MessageFailed)) throw err;
    // Nothing was sent. 'argument_invalid' is the crate's name for a message WeChat would refuse, which decideSend
    // knows sent nothing.
    await release(ctx, claim, { name: 'argument_invalid' });
    throw err.cause;
  }
}

/**
 * Starts a worker that claims due grants (oldest first, `batch` at a time) and sends them, until stop(). See
 * sender.d.ts for the options and the handle.
 * @param {any} options
 */
export function startSendWorker(options) {
  const { ctx, leaseMs } = context(options, 'worker');
  const intervalMs = options.intervalMs ?? 1_000;
  const batch = options.batch ?? 10;
  const log = typeof options.log === 'function' ? options.log : () => {};
  const onOutcome = typeof options.onOutcome === 'function' ? options.onOutcome : () => {};
  const now = Date.now;

  /** @type {'running' | 'paused' | 'stopped'} */
  let state = 'running';
  // Read through a call: sends change it while the loop awaits, which TypeScript's narrowing does not see.
  const current = () => state;
  /** @type {string | null} */
  let reason = null;
  let pausedUntil = 0;
  let stopping = false;
  let tokenFailures = 0;
  const counts = { sent: 0, refused: 0, stored: 0, blocked: 0, unknown: 0 };
  /** @type {Array<() => void>} */
  let drainWaiters = [];
  /** @type {(() => void) | null} */
  let wake = null;

  const sleep = (/** @type {number} */ ms) =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve(undefined);
      }
      wake = done;
    });
  const drained = () => {
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const resolve of waiters) resolve();
  };
  const stopQueue = (/** @type {string} */ why) => {
    state = 'stopped';
    reason = why;
    log(`send worker stopped: ${why}`);
  };

  /** One round: a token, a batch of claims, each sent in turn. Resolves the number of grants claimed. */
  async function round() {
    /** @type {string} */
    let accessToken;
    try {
      accessToken = await ctx.token.get();
      tokenFailures = 0;
    } catch (err) {
      // Nothing claimed. A refused AppID/secret/IP stops the queue; a limit pauses it; anything else is retried
      // with backoff (never a tight loop).
      const code = /** @type {any} */ (err)?.code;
      if (code === 'token_refused') stopQueue(`${code}: ${/** @type {any} */ (err).message}`);
      else {
        tokenFailures += 1;
        const wait = code === 'token_rate_limited' ? 60_000 : Math.min(intervalMs * 2 ** tokenFailures, 60_000);
        pause(wait, `${code ?? 'token error'}: ${/** @type {any} */ (err)?.message}`);
      }
      return 0;
    }
    const claimedAt = now();
    const claims = await ctx.store.claim({ leaseMs, limit: batch });
    // A grant is sent only while its lease surely outlasts the attempt (two requests), so no other claimer can
    // take it meanwhile; the rest of a slow batch goes back unsent (the first is sent: it was just claimed).
    const lastStart = claimedAt + leaseMs - (2 * ctx.timeoutMs + 1_000);
    for (let i = 0; i < claims.length; i += 1) {
      const claim = claims[i];
      if (state !== 'running' || stopping || (i > 0 && now() > lastStart)) {
        // Paused or stopped by an earlier grant of this batch, or out of lease time: back unsent.
        await release(ctx, claim, { name: 'not_sent', retryInMs: Math.max(0, pausedUntil - now()) });
        continue;
      }
      let outcome;
      try {
        // Cached: the same token unless a send of this batch had it refused and refreshed.
        accessToken = await ctx.token.get().catch(() => accessToken);
        outcome = await sendClaimed(ctx, claim, accessToken);
      } catch (err) {
        if (!(err instanceof MessageFailed)) throw err; // the store failed: the round ends, the loop logs it
        // The message for this grant could not be made: a bug or missing data of the site. Typed errors will not
        // fix themselves (blocked); anything else is tried again in a minute.
        const typed = /** @type {any} */ (err.cause)?.name === 'SubscribeError';
        log(`send worker: no message for a grant (${typed ? /** @type {any} */ (err.cause).code : 'error'})`);
        await release(ctx, claim, { state: typed ? 'blocked' : 'stored', name: 'argument_invalid', retryInMs: 60_000 });
        continue;
      }
      counts[outcome.state] += 1;
      try {
        onOutcome(outcome);
      } catch {
        // The site's callback failed; the outcome is recorded all the same.
      }
      if (outcome.stopQueue) stopQueue(`${outcome.name} (errcode ${outcome.errcode})`);
      else if (outcome.pauseQueue)
        pause(outcome.retryInMs ?? intervalMs, `${outcome.name} (errcode ${outcome.errcode})`);
    }
    return claims.length;
  }

  /**
   * @param {number} ms
   * @param {string} why
   */
  function pause(ms, why) {
    state = 'paused';
    reason = why;
    pausedUntil = now() + ms;
    log(`send worker paused for ${Math.round(ms / 1000)} s: ${why}`);
  }

  const loop = (async () => {
    while (!stopping && current() !== 'stopped') {
      if (current() === 'paused') {
        const left = pausedUntil - now();
        if (left > 0) {
          drained(); // nothing will be sent before the pause ends
          await sleep(left);
          continue;
        }
        state = 'running';
        reason = null;
      }
      let claimed = 0;
      try {
        claimed = await round();
      } catch (err) {
        // The store failed (store_unavailable): nothing is lost, the grants stay claimable; try again later.
        log(`send worker: ${/** @type {any} */ (err)?.code ?? 'error'}; retrying in ${intervalMs} ms`);
      }
      if (claimed === 0 && state === 'running') {
        drained();
        await sleep(intervalMs);
      }
    }
    drained();
  })();

  return {
    /** 'running', 'paused' (a quota, or the token endpoint failing) or 'stopped'. */
    get state() {
      return state;
    },
    /** Why it is paused or stopped, e.g. 'invalid_ip (errcode 40164)'; null while running. */
    get reason() {
      return reason;
    },
    /** While paused: when sending resumes, ms since the epoch. */
    get pausedUntil() {
      return state === 'paused' ? pausedUntil : null;
    },
    /** Outcomes so far, by state. */
    get counts() {
      return { ...counts };
    },
    /** Resolves when a round finds no due grant (or the worker stops). */
    drain() {
      return new Promise((resolve) => {
        drainWaiters.push(() => resolve({ ...counts }));
        wake?.();
      });
    },
    /** Stops claiming; resolves once the grant being sent is finished. */
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      if (state !== 'stopped') stopQueue('stopped by stop()');
    },
  };
}
