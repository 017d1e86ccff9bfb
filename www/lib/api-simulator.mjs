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
import crypto from 'node:crypto';
import { sendJson } from './http.mjs';
import { parseJson, readBody } from './request-body.mjs';
import { httpUrl, isAppId, isColor, isContent, isPagepath, isSceneText, isTitle } from './wechat-rules.mjs';

export const WXAPI_MOUNT = '/wxapi';
export const SEND_API_PATH = '/cgi-bin/message/template/subscribe';
export const SIMULATOR_STATE_PATH = `${WXAPI_MOUNT}/simulator`;

export const ERRMSG = Object.freeze({
  0: 'ok',
  40001: 'invalid credential, access_token is invalid or not latest',
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
  return { errcode, errmsg: `${ERRMSG[errcode]}${detail ? ` ${detail}` : ''} rid: ${rid()}` };
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
 * Handlers of WXAPI_MOUNT + SEND_API_PATH (send, for every method: WeChat answers 43002 itself) and
 * SIMULATOR_STATE_PATH (showState). config: { templateIds, simAccessToken }; state: the simulated WeChat.
 */
export function createApiSimulator(config, { state, log = () => {} }) {
  const stats = { calls: 0, byErrcode: {} };

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
    const token = url.searchParams.get('access_token');
    if (!token) return answer(res, wxAnswer(41001));
    if (!sameSecret(token, config.simAccessToken)) {
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

  function showState(req, res) {
    sendJson(res, 200, { ...state.snapshot(), stats: { calls: stats.calls, byErrcode: { ...stats.byErrcode } } });
  }

  return { send, showState };
}
