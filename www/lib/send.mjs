// POST /api/send: the demo backend pushes the one message a stored grant allows, with the package's sender.
//
//   { reserved, title, content, color?, url?, miniprogram? }
//     → finds the grant in the package's grant store (the one the sink writes, under its Idempotency-Key),
//     → refuses locally (409, errcode 43101, source 'local') when that grant is finished (sent or refused): no API
//       call is spent on an answer known in advance,
//     → checks the message with the package's buildSendRequest (typed errors → 400 { error: { code, message } }),
//     → sends it with the package's sendGrant: the grant claimed under a lease, the access_token from the token
//       provider (the simulator's cgi-bin/stable_token by default, or WX_ACCESS_TOKEN through staticTokenProvider),
//       a refused token dropped and the send retried once with a new one, the outcome decided by the crate's
//       decideSend and recorded in the store,
//     → appends WeChat's answer to DATA_DIR/sends.jsonl, then answers
//       { errcode, errmsg, explanation: explainErrcode(errcode), source: 'wechat', permit, request: body }.
//
// The demo is a manual sender: a click is its retry policy. So a grant WeChat did not take (any answer but 0 and
// 43101, or no answer) goes back to 'stored', sendable at the next click, where the package's worker would back off,
// pause or block (see README "Step 2"). The store says whether the permit is used: 'sent' and 'refused' grants are
// finished. A network failure or timeout (502) leaves the grant stored and records no answer: if the request did
// reach WeChat, the next click gets 43101, which the sender then counts as this grant's own message ('sent').
// Sends of one grant are serialised, so two concurrent clicks make one API call, not two.
// HTTP status: 200 sent; 409 no permit (local or WeChat); 502 WeChat refused otherwise (errcode in the body) or
// could not be reached (error.code api_unreachable / api_bad_answer, or a token_* code of the token provider);
// 400/404/413/415 for a bad request; 503 when the package is not built.
import { sendError, sendJson } from './http.mjs';
import { openJsonLog } from './jsonl.mjs';
import { parseJson, readJson } from './request-body.mjs';
import { SEND_API_PATH, STABLE_TOKEN_PATH } from './api-simulator.mjs';
import { isReserved } from './wechat-rules.mjs';

export const SEND_PATH = '/api/send';
export const SENDS_PATH = '/api/sends';
export const SENDS_FILE = 'sends.jsonl';
const FIELDS = ['reserved', 'title', 'content', 'color', 'url', 'miniprogram'];

/** The grant states whose permit is gone (or may be: 'unknown'): the demo does not call WeChat for them. */
export const FINISHED = Object.freeze(['sent', 'refused', 'unknown']);

/** The send log: every attempt WeChat answered, for GET /api/sends (the grant store is the authority). */
export async function openSendLog(dataDir) {
  const entries = [];
  const used = new Map(); // reserved -> the entry that used the permit
  const apply = (entry) => {
    if (typeof entry.reserved !== 'string') return;
    entries.push(entry);
    if (entry.consumed && !used.has(entry.reserved)) used.set(entry.reserved, entry);
  };
  const log = await openJsonLog(dataDir, SENDS_FILE, apply);
  return {
    file: log.file,
    skipped: log.skipped,
    list: () => entries.slice(),
    usedBy: (reserved) => used.get(reserved) ?? null,
    record: (entry) => log.append(entry).then(() => apply(entry)),
    close: () => log.close(),
  };
}

/**
 * Handlers of SEND_PATH (postSend) and SENDS_PATH (listSends). grants: the package's grant store; sends: the send
 * log; pkg: the package's Node entry or null when it is not built; apiBase: WX_API_BASE (or a function returning it:
 * the local simulator's address is known once the server listens); accessToken: WX_ACCESS_TOKEN, or empty for the
 * simulator's stable_token with { appid, appSecret }. Tokens never leave the server except towards apiBase.
 */
export function createSender({
  grants,
  sends,
  pkg,
  apiBase: apiBaseOption,
  accessToken,
  appid,
  appSecret,
  log = () => {},
  timeoutMs = 10_000,
}) {
  const locks = new Map();

  /** Runs fn after any earlier send of the same grant has finished. */
  function oneAtATime(key, fn) {
    const run = (locks.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => {});
    locks.set(key, tail);
    tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
    return run;
  }

  const apiBase = () => (typeof apiBaseOption === 'function' ? apiBaseOption() : apiBaseOption);
  let tokenProvider = null;
  /** The token provider, made at the first send (the simulator's address is known by then). */
  function token() {
    tokenProvider ??= accessToken
      ? pkg.staticTokenProvider(() => accessToken)
      : pkg.stableTokenProvider({ appid, secret: appSecret, apiBase: apiBase(), timeoutMs });
    return tokenProvider;
  }

  /**
   * The grant store as the demo's manual sender uses it: an outcome that would wait (stored with a delay) or block
   * goes back to 'stored', due at once; sent, refused and unknown stay what the package decided.
   */
  const clickStore = {
    ...grants,
    claim: (options) => grants.claim(options),
    get: (reserved) => grants.get(reserved),
    hasNewer: (grant) => grants.hasNewer(grant),
    finish: (claim, outcome) =>
      grants.finish(claim, {
        ...outcome,
        ...((outcome.state === 'stored' || outcome.state === 'blocked') && { state: 'stored', retryInMs: 0 }),
      }),
  };

  /** A fetch that keeps the send API's last answer (its errmsg) or failure for the demo's answer. */
  function watchingFetch() {
    const seen = { text: null, status: 0, error: null };
    const watched = async (url, init) => {
      try {
        const response = await fetch(url, init);
        seen.status = response.status;
        seen.text = await response.text();
        seen.error = null;
        return { status: seen.status, text: async () => seen.text };
      } catch (err) {
        seen.error = err;
        throw err;
      }
    };
    return { seen, fetch: watched };
  }

  async function postSend(req, res) {
    if (!pkg) {
      return sendError(
        res,
        503,
        'package_not_built',
        'the package is not built (pkg/node.js is missing): run `npm run build`, then restart the server',
      );
    }
    const input = await readJson(req, res, 16 * 1024);
    if (input === undefined) return;
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      return sendError(
        res,
        400,
        'invalid_option',
        'the body must be a JSON object { reserved, title, content, color?, url?, miniprogram? }',
      );
    }
    // The package ignores options it does not know; a typo ("colour") would be dropped silently here.
    const unknown = Object.keys(input).filter((k) => !FIELDS.includes(k));
    if (unknown.length)
      return sendError(
        res,
        400,
        'invalid_option',
        `unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}; the fields are ${FIELDS.join(', ')}`,
      );
    const { reserved } = input;
    if (!isReserved(reserved)) {
      return sendError(
        res,
        400,
        'invalid_reserved',
        "reserved must be the grant's reserved value (1..128 letters or digits)",
      );
    }

    await oneAtATime(reserved, async () => {
      const grant = await grants.get(reserved);
      if (!grant) return sendError(res, 404, 'unknown_grant', 'no grant is stored under this reserved value');

      if (FINISHED.includes(grant.state)) {
        const at = new Date(grant.updatedAt).toISOString();
        log(`send: 409 local 43101, the grant of scene=${grant.scene} is ${grant.state} since ${at}`);
        return sendJson(res, 409, {
          errcode: 43101,
          errmsg: `this grant's one message was already used at ${at} (the grant is ${grant.state}: ${grant.detail}); refused here without calling WeChat`,
          explanation: pkg.explainErrcode(43101),
          source: 'local',
          permit: 'used',
          request: null,
        });
      }

      const message = {
        title: input.title,
        content: input.content,
        ...(input.color !== undefined && { color: input.color }),
        ...(input.url !== undefined && { url: input.url }),
        ...(input.miniprogram !== undefined && { miniprogram: input.miniprogram }),
      };
      let body;
      try {
        // Checked here, before the grant is claimed: a message to fix does not touch the grant. The same call
        // sendGrant makes, so `request` is exactly what WeChat receives.
        body = pkg.buildSendRequest({
          openid: grant.openid,
          templateId: grant.templateId,
          scene: grant.scene,
          ...message,
        });
      } catch (err) {
        if (err?.name !== 'SubscribeError') throw err;
        log(`send: 400 ${err.code}`);
        return sendError(res, 400, err.code, err.message);
      }

      const watch = watchingFetch();
      let outcome;
      try {
        outcome = await pkg.sendGrant({
          store: clickStore,
          token: token(),
          reserved,
          message,
          apiBase: apiBase(),
          fetch: watch.fetch,
          timeoutMs,
          leaseMs: 3 * timeoutMs,
        });
      } catch (err) {
        if (err?.name !== 'SubscribeError') throw err;
        // The token provider failed (token_refused, token_rate_limited, token_unavailable), or the grant is being
        // sent by another process (grant_not_due).
        log(`send: ${err.code}`);
        const status = err.code === 'grant_not_due' ? 409 : 502;
        return sendError(res, status, err.code, err.message, { permit: 'available', request: body });
      }
      const target = `${apiBase()}${SEND_API_PATH}`;
      if (outcome.errcode === null) {
        const { error, status } = watch.seen;
        const reason =
          error?.name === 'TimeoutError'
            ? `no answer within ${timeoutMs / 1000} s`
            : (error?.cause?.code ?? error?.cause?.message ?? error?.message);
        const [code, text] = error
          ? ['api_unreachable', `could not reach the send API at ${target} (${reason})`]
          : ['api_bad_answer', `the send API at ${target} answered HTTP ${status} without an errcode`];
        log(`send: 502 ${text}; the permit stays available`);
        return sendError(
          res,
          502,
          code,
          `${text}. Nothing was recorded: the grant's permit is still available, and retrying is safe (WeChat answers 43101 rather than deliver twice).`,
          { permit: 'available', request: body },
        );
      }
      const answer = parseJson(watch.seen.text ?? '');
      const errmsg = typeof answer?.errmsg === 'string' ? answer.errmsg : '';
      const consumed = outcome.state === 'sent' || outcome.state === 'refused';
      const explanation = pkg.explainErrcode(outcome.errcode);
      await sends.record({
        reserved,
        openid: grant.openid,
        template_id: grant.templateId,
        scene: grant.scene,
        errcode: outcome.errcode,
        errmsg,
        consumed,
        state: outcome.state,
        title: body.title,
        at: new Date().toISOString(),
      });
      log(
        `send: errcode ${outcome.errcode} (${explanation.name}) scene=${grant.scene}; the grant is ${outcome.state} (${outcome.name})`,
      );
      const status = outcome.state === 'sent' ? 200 : outcome.state === 'refused' ? 409 : 502;
      return sendJson(res, status, {
        // The grant's state and decideSend's name: 'sent' with 'sent_earlier' for a 43101 after a lost answer.
        state: outcome.state,
        name: outcome.name,
        errcode: outcome.errcode,
        errmsg,
        explanation,
        source: 'wechat',
        permit: consumed ? 'used' : 'available',
        request: body,
      });
    });
  }

  function listSends(req, res, url) {
    const reserved = url.searchParams.get('reserved');
    sendJson(res, 200, { sends: sends.list().filter((s) => !reserved || s.reserved === reserved) });
  }

  return { postSend, listSends };
}
