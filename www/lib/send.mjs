// POST /api/send: the demo backend pushes the one message a stored grant allows.
//
//   { reserved, title, content, color?, url?, miniprogram? }
//     → finds the grant the sink stored under that reserved (its Idempotency-Key),
//     → refuses locally (409, errcode 43101, source 'local') when that grant's permit is already used:
//       no API call is spent on an answer known in advance,
//     → builds the body with the package's buildSendRequest (typed errors → 400 { error: { code, message } }),
//     → POSTs it to ${WX_API_BASE}/cgi-bin/message/template/subscribe?access_token=${WX_ACCESS_TOKEN},
//     → records the outcome durably in DATA_DIR/sends.jsonl, then answers
//       { errcode, errmsg, explanation: explainErrcode(errcode), source: 'wechat', permit, request: body }.
//
// The grant's permit is marked used only when WeChat's answer says WeChat's permit is gone:
//   0 (sent) and 43101 (no permit: already used, or never given). Every other answer leaves it
//   available: -1 (busy), 40001/42001 (token), 40003/40037/48001 (configuration) and 47003 (the
//   message) are refused before WeChat spends the permit, so the same grant can be sent once the cause
//   is fixed. A network failure or timeout (502) leaves it available too: if the request did reach
//   WeChat, a retry gets 43101 and never a second message, because WeChat enforces the permit itself.
// Sends of one grant are serialised, so two concurrent clicks make one API call, not two.
// HTTP status: 200 sent; 409 no permit (local or WeChat); 502 WeChat refused otherwise (errcode in
// the body) or could not be reached (error.code api_unreachable / api_bad_answer); 400/404/413/415
// for a bad request; 503 when the package is not built.
import { sendError, sendJson } from './http.mjs';
import { openJsonLog } from './jsonl.mjs';
import { parseJson, readJson } from './request-body.mjs';
import { SEND_API_PATH } from './api-simulator.mjs';
import { isReserved } from './wechat-rules.mjs';

export const SEND_PATH = '/api/send';
export const SENDS_PATH = '/api/sends';
export const SENDS_FILE = 'sends.jsonl';
const FIELDS = ['reserved', 'title', 'content', 'color', 'url', 'miniprogram'];

/** Errcodes after which WeChat's permit for the grant is known to be gone. */
export const CONSUMING_ERRCODES = Object.freeze([0, 43101]);

/** The send log: every attempt that reached a decision, and which grants' permits are used. */
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
 * Handlers of SEND_PATH (postSend) and SENDS_PATH (listSends). grants: the grant store; sends: the send log; pkg: the package's Node entry
 * ({ buildSendRequest, explainErrcode }) or null when it is not built; apiBase: WX_API_BASE (or a
 * function returning it: the local simulator's address is known once the server listens);
 * accessToken: WX_ACCESS_TOKEN, which never leaves the server except towards apiBase.
 */
export function createSender({
  grants,
  sends,
  pkg,
  apiBase: apiBaseOption,
  accessToken,
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

  async function callApi(body) {
    const apiBase = typeof apiBaseOption === 'function' ? apiBaseOption() : apiBaseOption;
    const target = `${apiBase}${SEND_API_PATH}?access_token=${encodeURIComponent(accessToken)}`;
    let response;
    let text;
    try {
      response = await fetch(target, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      const reason =
        err.name === 'TimeoutError'
          ? `no answer within ${timeoutMs / 1000} s`
          : (err.cause?.code ?? err.cause?.message ?? err.message);
      return {
        failure: 'api_unreachable',
        message: `could not reach the send API at ${apiBase}${SEND_API_PATH} (${reason})`,
      };
    }
    const answer = parseJson(text);
    if (!Number.isInteger(answer?.errcode)) {
      return {
        failure: 'api_bad_answer',
        message: `the send API at ${apiBase}${SEND_API_PATH} answered HTTP ${response.status} without an errcode`,
      };
    }
    return { errcode: answer.errcode, errmsg: typeof answer.errmsg === 'string' ? answer.errmsg : '' };
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

      const used = sends.usedBy(reserved);
      if (used) {
        log(`send: 409 local 43101, the grant of scene=${grant.scene} was used at ${used.at}`);
        return sendJson(res, 409, {
          errcode: 43101,
          errmsg: `this grant's one message was already used at ${used.at} (errcode ${used.errcode}); refused here without calling WeChat`,
          explanation: pkg.explainErrcode(43101),
          source: 'local',
          permit: 'used',
          request: null,
        });
      }

      let body;
      try {
        body = pkg.buildSendRequest({
          openid: grant.openid,
          templateId: grant.templateId,
          scene: grant.scene,
          title: input.title,
          content: input.content,
          ...(input.color !== undefined && { color: input.color }),
          ...(input.url !== undefined && { url: input.url }),
          ...(input.miniprogram !== undefined && { miniprogram: input.miniprogram }),
        });
      } catch (err) {
        if (err?.name !== 'SubscribeError') throw err;
        log(`send: 400 ${err.code}`);
        return sendError(res, 400, err.code, err.message);
      }

      const result = await callApi(body);
      if (result.failure) {
        log(`send: 502 ${result.message}; the permit stays available`);
        return sendError(
          res,
          502,
          result.failure,
          `${result.message}. Nothing was recorded: the grant's permit is still available, and retrying is safe (WeChat answers 43101 rather than deliver twice).`,
          { permit: 'available', request: body },
        );
      }
      const consumed = CONSUMING_ERRCODES.includes(result.errcode);
      const explanation = pkg.explainErrcode(result.errcode);
      await sends.record({
        reserved,
        openid: grant.openid,
        template_id: grant.templateId,
        scene: grant.scene,
        errcode: result.errcode,
        errmsg: result.errmsg,
        consumed,
        title: body.title,
        at: new Date().toISOString(),
      });
      log(
        `send: errcode ${result.errcode} (${explanation.name}) scene=${grant.scene}; permit ${consumed ? 'used' : 'kept'}`,
      );
      const status = result.errcode === 0 ? 200 : result.errcode === 43101 ? 409 : 502;
      return sendJson(res, status, {
        errcode: result.errcode,
        errmsg: result.errmsg,
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
