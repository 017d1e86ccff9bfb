// A local stand-in for https://mp.weixin.qq.com/mp/subscribemsg, WeChat's one-time subscription
// consent page. GET validates the link like WeChat and shows Allow / Cancel; the POST of that choice
// answers 303 to redirect_url with openid, template_id, action, scene and reserved.
//
// Fidelity notes:
// - "#wechat_redirect" is a URL fragment: browsers never send it, so no server (WeChat's or this one)
//   can check it. The simulator accepts links with or without it.
// - The openid is stable per simulated user (a cookie) and per appid, like WeChat's per-app openid.
//   The cookie is the same for the simulated inbox (/inbox): one simulated user, one WeChat.
// - Allow sets the send permit of (openid, template_id, scene) to 1 in the simulated WeChat
//   (wechat-state.mjs): authorizing the same scene again does not accumulate permits.
// - A fragment in redirect_url comes back mangled the way it was reported from WeChat: "#/x"
//   returns as "#%23/x", after the appended query parameters. The package repairs it.
import crypto from 'node:crypto';
import { parseCookies, sendHtml } from './http.mjs';
import { readForm } from './request-body.mjs';
import { consentPage, errorPage } from './consent-page.mjs';
import { httpUrl, isAppId, isReserved, isSceneText } from './wechat-rules.mjs';

export const SIMULATOR_PATH = '/mp/subscribemsg';
export const USER_COOKIE = 'wxsim_user';
const PARAMS = ['action', 'appid', 'scene', 'template_id', 'redirect_url', 'reserved'];

/**
 * Checks a consent link's parameters like WeChat does. Returns { ok: true, link } or
 * { ok: false, problems: [{ param, message }] }.
 */
export function validateLink(params, { appid, templateIds, businessDomain }) {
  const problems = [];
  const one = (name) => {
    const all = params.getAll(name);
    if (all.length > 1) problems.push({ param: name, message: `${name} appears ${all.length} times` });
    return all.length ? all[0] : null;
  };
  const values = Object.fromEntries(PARAMS.map((name) => [name, one(name)]));
  const missing = (name) => problems.push({ param: name, message: `${name} is required` });

  if (values.action === null) missing('action');
  else if (values.action !== 'get_confirm')
    problems.push({ param: 'action', message: `action must be get_confirm, got ${JSON.stringify(values.action)}` });

  if (values.appid === null) missing('appid');
  else if (!isAppId(values.appid))
    problems.push({
      param: 'appid',
      message: `appid ${JSON.stringify(values.appid)} is not an appid (wx + 16 hex digits)`,
    });
  else if (values.appid !== appid)
    problems.push({ param: 'appid', message: `appid ${values.appid} is not the simulated Service Account (${appid})` });

  if (values.scene === null) missing('scene');
  else if (!isSceneText(values.scene)) {
    problems.push({
      param: 'scene',
      message: `scene must be an integer from 0 to 10000, got ${JSON.stringify(values.scene)}`,
    });
  }

  if (values.template_id === null) missing('template_id');
  else if (!templateIds.includes(values.template_id)) {
    problems.push({
      param: 'template_id',
      message: `template_id ${JSON.stringify(values.template_id)} is not a template of this Service Account`,
    });
  }

  if (values.redirect_url === null) missing('redirect_url');
  else {
    const url = httpUrl(values.redirect_url);
    if (!url) {
      problems.push({
        param: 'redirect_url',
        message: `redirect_url must be an absolute http(s) URL, got ${JSON.stringify(values.redirect_url)}`,
      });
    } else if (url.hostname !== businessDomain) {
      problems.push({
        param: 'redirect_url',
        message: `redirect_url host ${url.hostname} is not the business domain ${businessDomain}`,
      });
    }
  }

  if (values.reserved !== null && !isReserved(values.reserved)) {
    problems.push({
      param: 'reserved',
      message: 'reserved, when given, must be 1..128 characters from a-z, A-Z and 0-9',
    });
  }

  return problems.length ? { ok: false, problems } : { ok: true, link: values };
}

/** The URL WeChat sends the user to: redirect_url plus the answer, with the fragment mangled. */
export function callbackLocation(link, { action, openid }) {
  const url = new URL(link.redirect_url);
  const fragment = url.hash; // "#/x" or ""
  url.hash = '';
  let base = url.href;
  if (base.endsWith('#')) base = base.slice(0, -1);
  const answer = [];
  if (action === 'confirm') answer.push(['openid', openid]);
  answer.push(['template_id', link.template_id], ['action', action], ['scene', link.scene]);
  if (link.reserved !== null) answer.push(['reserved', link.reserved]);
  const query = answer.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const separator = !base.includes('?') ? '?' : /[?&]$/.test(base) ? '' : '&';
  const mangled = fragment ? `#%23${fragment.slice(1)}` : '';
  return `${base}${separator}${query}${mangled}`;
}

/** WeChat's openid is per user and per appid: 28 characters starting with "o". */
export function openidFor(user, appid) {
  return `o${crypto.createHash('sha256').update(`${appid}:${user}`).digest('base64url').slice(0, 27)}`;
}

/**
 * The simulated WeChat user of this browser (a cookie for the whole site: the consent page and the
 * inbox share it), created on first sight.
 */
export function simulatedUser(req, res) {
  const existing = parseCookies(req.headers.cookie).get(USER_COOKIE);
  if (existing && /^[0-9a-f]{32}$/.test(existing)) return existing;
  const fresh = crypto.randomBytes(16).toString('hex');
  res.setHeader('Set-Cookie', `${USER_COOKIE}=${fresh}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000`);
  return fresh;
}

/**
 * Handlers of SIMULATOR_PATH: show (GET, the consent page) and decide (POST, Allow or Cancel). state: the
 * simulated WeChat (wechat-state.mjs), which learns the user and the permit on Allow.
 */
export function createSimulator(config, { state, log = () => {} } = {}) {
  async function show(req, res, url) {
    const result = validateLink(url.searchParams, config);
    if (!result.ok) {
      log(`simulator: rejected link (${result.problems.map((p) => p.param).join(', ')})`);
      return sendHtml(res, 400, errorPage(result.problems));
    }
    const openid = openidFor(simulatedUser(req, res), config.appid);
    await state?.seeUser(openid);
    const inWeChat = /MicroMessenger\//i.test(req.headers['user-agent'] ?? '');
    const fields = PARAMS.filter((name) => result.link[name] !== null).map((name) => [name, result.link[name]]);
    const following = state ? state.isFollowing(openid) : null;
    const page = consentPage(result.link, { openid, inWeChat, formAction: SIMULATOR_PATH, fields, following });
    sendHtml(res, 200, page, { 'Referrer-Policy': 'no-referrer' });
  }

  async function decide(req, res) {
    const form = await readForm(req, res, 8 * 1024);
    if (!form) return;
    const decision = form.get('decision');
    form.delete('decision');
    const result = validateLink(form, config);
    if (!result.ok || (decision !== 'confirm' && decision !== 'cancel')) {
      const problems = result.ok
        ? [{ param: 'decision', message: 'decision must be confirm or cancel' }]
        : result.problems;
      return sendHtml(res, 400, errorPage(problems));
    }
    const openid = openidFor(simulatedUser(req, res), config.appid);
    if (decision === 'confirm') await state?.authorize(openid, result.link.template_id, result.link.scene);
    else await state?.seeUser(openid);
    const location = callbackLocation(result.link, { action: decision, openid });
    log(`simulator: ${decision} scene=${result.link.scene} -> ${location.replace(/openid=[^&#]+/, 'openid=…')}`);
    res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
    res.end();
  }

  return { show, decide };
}
