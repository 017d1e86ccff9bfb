// A local stand-in for WeChat's send API,
//   POST https://api.weixin.qq.com/cgi-bin/message/template/subscribe?access_token=ACCESS_TOKEN
// served at /wxapi/cgi-bin/message/template/subscribe (so WX_API_BASE defaults to http://HOST:PORT/wxapi).
// It answers like WeChat: HTTP 200 with {"errcode":…,"errmsg":"… rid: …"}, checking in this order:
//   POST (43002) → access_token present (41001) and right (40001) → JSON (47001) → touser is an openid
//   the simulated WeChat knows (40003) → template_id is one of TEMPLATE_ID (40037) → scene, title,
//   data.content.value, color, url, miniprogram well-formed (47003) → a permit for
//   (touser, template_id, scene) (43101) → delivered (0): the permit is consumed and the message lands
//   in the simulated inbox (/inbox).
// It is written independently of the package on purpose: it checks what buildSendRequest produces.
// GET /wxapi/simulator shows its state (users, permits, messages, call counts) for tests and curious people.
//
// The token: POST /wxapi/cgi-bin/stable_token {grant_type: 'client_credential', appid, secret, force_refresh?}
// answers like WeChat's normal mode: the same token to every caller until it expires ({access_token,
// expires_in: what is left}); force_refresh: true issues a new one and the old one stops working. The send API
// accepts that current token and SIM_ACCESS_TOKEN (the fixed token of the demo's configuration), and answers
// 40001 for any other (an invalidated or unknown token). POST /wxapi/simulator/faults { send: [...], token:
// [...] } queues answers for the next calls: an errcode, or for the send API 'lost' (delivered, then the
// connection dropped before the answer), 'reset' (dropped, nothing delivered) or 'hang' (no answer until the
// client gives up); { rotateToken: true } replaces the current token as another client's force_refresh would.
import crypto from 'node:crypto';
import { sendJson } from './http.mjs';
import { parseJson, readBody } from './request-body.mjs';
import { httpUrl, isAppId, isColor, isContent, isPagepath, isSceneText, isTitle } from './wechat-rules.mjs';

export const WXAPI_MOUNT = '/wxapi';
export const SEND_API_PATH = '/cgi-bin/message/template/subscribe';
export const STABLE_TOKEN_PATH = '/cgi-bin/stable_token';
export const SIMULATOR_STATE_PATH = `${WXAPI_MOUNT}/simulator`;
export const SIMULATOR_FAULTS_PATH = `${WXAPI_MOUNT}/simulator/faults`;
/** WeChat's tokens last two hours. */
export const TOKEN_LIFETIME_S = 7200;
const SEND_FAULTS = ['lost', 'reset', 'hang'];

export const ERRMSG = Object.freeze({
  0: 'ok',
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40125: 'invalid appsecret',
  40164: 'invalid ip, not in whitelist',
  42001: 'access_token expired',
  45009: 'reach max api daily quota limit',
  45011: 'api minute-quota reach limit  mustslower  retry next minute',
  48001: 'api unauthorized',
  40003: 'invalid openid',
  40037: 'invalid template_id',
  41001: 'access_token missing',
  43002: 'require POST method',
  43101: 'user refuse to accept the msg',
  47001: 'data format error',
  47003: 'argument invalid!',
});

/** WeChat appends a request id to every errmsg. */
function rid() {
  const hex = () => crypto.randomBytes(4).toString('hex');
  return `${hex()}-${hex()}-${hex()}`;
}

export function wxAnswer(errcode, detail = '') {
  if (errcode === 0) return { errcode: 0, errmsg: 'ok' };
  return { errcode, errmsg: `${ERRMSG[errcode] ?? 'error'}${detail ? ` ${detail}` : ''} rid: ${rid()}` };
}

/** A queued fault: an integer errcode, or for the send API one of SEND_FAULTS. */
function parseSimFault(value, { send }) {
  if (Number.isInteger(value) && value !== 0 && Math.abs(value) < 1e6) return value;
  if (send && SEND_FAULTS.includes(value)) return value;
  throw new Error(`a fault is a non-zero errcode${send ? ` or one of ${SEND_FAULTS.join(', ')}` : ''}`);
}

/**
 * Checks a send request's JSON body like WeChat. Returns { errcode, detail } for a refusal, or
 * { message } (the fields to deliver) when it may be delivered, permit permitting.
 */
export function checkSendBody(body, { templateIds, knows }) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { errcode: 47001 };
  if (typeof body.touser !== 'string' || !knows(body.touser)) return { errcode: 40003 };
  if (typeof body.template_id !== 'string' || !templateIds.includes(body.template_id)) return { errcode: 40037 };
  const invalid = (field) => ({ errcode: 47003, detail: `${field} invalid` });
  // WeChat documents scene as a string; the simulator insists, so a number sent by mistake shows up here.
  if (!isSceneText(body.scene)) return invalid('scene');
  if (!isTitle(body.title)) return invalid('title');
  const content = body.data?.content;
  if (content === null || typeof content !== 'object' || !isContent(content.value))
    return invalid('data.content.value');
  if (content.color !== undefined && !isColor(content.color)) return invalid('data.content.color');
  if (body.url !== undefined && !httpUrl(body.url)) return invalid('url');
  const mp = body.miniprogram;
  if (mp !== undefined) {
    if (mp === null || typeof mp !== 'object' || !isAppId(mp.appid)) return invalid('miniprogram.appid');
    if (mp.pagepath !== undefined && !isPagepath(mp.pagepath)) return invalid('miniprogram.pagepath');
  }
  const message = {
    openid: body.touser,
    template_id: body.template_id,
    scene: body.scene,
    title: body.title,
    content: content.value,
    ...(content.color !== undefined && { color: content.color }),
    ...(body.url !== undefined && { url: body.url }),
    ...(mp !== undefined && {
      miniprogram: { appid: mp.appid, ...(mp.pagepath !== undefined && { pagepath: mp.pagepath }) },
    }),
  };
  return { message };
}

function sameSecret(a, b) {
  const digest = (s) => crypto.createHash('sha256').update(String(s)).digest();
  return crypto.timingSafeEqual(digest(a), digest(b));
}

/**
 * Handlers of WXAPI_MOUNT + SEND_API_PATH (send, for every method: WeChat answers 43002 itself),
 * WXAPI_MOUNT + STABLE_TOKEN_PATH (stableToken), SIMULATOR_STATE_PATH (showState) and SIMULATOR_FAULTS_PATH
 * (setFaults). config: { appid, templateIds, simAccessToken, simAppSecret }; state: the simulated WeChat;
 * tokenLifetimeS: the lifetime of an issued token; now: the clock. Also returns, for tests in the same process,
 * faults (the same as POST SIMULATOR_FAULTS_PATH), rotateToken() and stats.
 */
export function createApiSimulator(
  config,
  { state, log = () => {}, tokenLifetimeS = TOKEN_LIFETIME_S, now = Date.now },
) {
  const stats = { calls: 0, byErrcode: {}, tokenCalls: 0, tokenByErrcode: {}, forceRefreshes: 0, tokensIssued: 0 };
  const queued = { send: [], token: [] };
  /** The stable token: the same for every caller until it expires or a force_refresh replaces it. */
  let current = null; // { token, expiresAt }

  function issueToken() {
    current = { token: crypto.randomBytes(24).toString('base64url'), expiresAt: now() + tokenLifetimeS * 1000 };
    stats.tokensIssued += 1;
    return current;
  }
  const currentToken = () => (current && now() < current.expiresAt ? current : null);
  const acceptsToken = (token) =>
    sameSecret(token, config.simAccessToken) || Boolean(currentToken() && sameSecret(token, current.token));

  /** Queues faults: { send?: [...], token?: [...], rotateToken?: true }; replaces the queues given. */
  function faults(body) {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new Error('expected an object { send?, token?, rotateToken? }');
    for (const kind of ['send', 'token']) {
      if (body[kind] === undefined) continue;
      if (!Array.isArray(body[kind]) || body[kind].length > 10_000) throw new Error(`${kind} must be an array`);
      queued[kind] = body[kind].map((f) => parseSimFault(f, { send: kind === 'send' }));
    }
    if (body.rotateToken === true) issueToken();
  }

  function answer(res, result) {
    stats.byErrcode[result.errcode] = (stats.byErrcode[result.errcode] ?? 0) + 1;
    const text = JSON.stringify(result);
    res.writeHead(200, {
      'Content-Type': 'application/json; encoding=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(text);
  }

  async function send(req, res, url) {
    stats.calls += 1;
    if (req.method !== 'POST') return answer(res, wxAnswer(43002));
    const fault = queued.send.shift();
    if (typeof fault === 'number') {
      log(`wxapi: ${fault} (a queued fault)`);
      return answer(res, wxAnswer(fault));
    }
    if (fault === 'reset') return req.socket.destroy();
    if (fault === 'hang') return new Promise((resolve) => req.socket.once('close', resolve));
    if (fault === 'lost') {
      // Answered normally, but the answer never leaves: the connection drops first.
      res.writeHead = () => res;
      res.end = () => req.socket.destroy();
    }
    const token = url.searchParams.get('access_token');
    if (!token) return answer(res, wxAnswer(41001));
    if (!acceptsToken(token)) {
      log('wxapi: 40001 wrong access_token');
      return answer(res, wxAnswer(40001));
    }
    const text = await readBody(req, 64 * 1024);
    const body = text === null ? undefined : parseJson(text);
    if (body === undefined) return answer(res, wxAnswer(47001));
    const checked = checkSendBody(body, { templateIds: config.templateIds, knows: state.knows });
    if (!checked.message) {
      log(`wxapi: ${checked.errcode} ${checked.detail ?? ERRMSG[checked.errcode]}`);
      return answer(res, wxAnswer(checked.errcode, checked.detail));
    }
    const outcome = await state.deliver(checked.message);
    if (outcome.refused) {
      log(`wxapi: 43101 no permit for scene=${checked.message.scene}`);
      return answer(res, wxAnswer(43101));
    }
    log(
      `wxapi: 0 delivered to ${outcome.delivered.placement === 'account' ? 'the Service Account chat' : 'Service Notifications'} (scene=${checked.message.scene})`,
    );
    return answer(res, wxAnswer(0));
  }

  async function stableToken(req, res) {
    stats.tokenCalls += 1;
    const tokenAnswer = (result) => {
      stats.tokenByErrcode[result.errcode ?? 0] = (stats.tokenByErrcode[result.errcode ?? 0] ?? 0) + 1;
      const text = JSON.stringify(result);
      res.writeHead(200, {
        'Content-Type': 'application/json; encoding=utf-8',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (req.method !== 'POST') return tokenAnswer(wxAnswer(43002));
    const fault = queued.token.shift();
    if (fault !== undefined) return tokenAnswer(wxAnswer(fault));
    const text = await readBody(req, 16 * 1024);
    const body = text === null ? undefined : parseJson(text);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return tokenAnswer(wxAnswer(47001));
    if (body.grant_type !== 'client_credential') return tokenAnswer(wxAnswer(40002));
    if (body.appid !== config.appid) return tokenAnswer(wxAnswer(40013));
    if (typeof body.secret !== 'string' || !sameSecret(body.secret, config.simAppSecret))
      return tokenAnswer(wxAnswer(40125));
    if (body.force_refresh !== undefined && typeof body.force_refresh !== 'boolean')
      return tokenAnswer(wxAnswer(47001));
    if (body.force_refresh) stats.forceRefreshes += 1;
    const valid = body.force_refresh ? issueToken() : (currentToken() ?? issueToken());
    log(`wxapi: stable_token ${body.force_refresh ? 'force_refresh, a new token' : 'normal mode'}`);
    return tokenAnswer({ access_token: valid.token, expires_in: Math.ceil((valid.expiresAt - now()) / 1000) });
  }

  function showState(req, res) {
    sendJson(res, 200, {
      ...state.snapshot(),
      stats: {
        calls: stats.calls,
        byErrcode: { ...stats.byErrcode },
        tokenCalls: stats.tokenCalls,
        tokenByErrcode: { ...stats.tokenByErrcode },
        forceRefreshes: stats.forceRefreshes,
        tokensIssued: stats.tokensIssued,
      },
    });
  }

  async function setFaults(req, res) {
    const text = await readBody(req, 256 * 1024);
    const body = text === null ? undefined : parseJson(text);
    try {
      faults(body);
    } catch (err) {
      return sendJson(res, 400, { error: { code: 'invalid_faults', message: err.message } });
    }
    sendJson(res, 200, { send: [...queued.send], token: [...queued.token] });
  }

  return { send, stableToken, showState, setFaults, faults, rotateToken: () => void issueToken(), stats };
}
