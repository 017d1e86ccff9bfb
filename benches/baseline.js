// The benchmark's baseline: what a careful developer would hand-write instead of the package, in plain JS.
// Same exported names and argument shapes as pkg/index.js, same validation rules and error codes, so
// the bench pages differ only in their import. Deliberately NOT included (the package does them): the
// localStorage copy, the cap on stored records, delivery retries, in-flight de-duplication, address-bar cleaning
// and its replay marker. A record is found directly by its key wxsub:<nonce>, as the package finds it.
const fail = (code) => Object.assign(new Error(code), { name: 'SubscribeError', code });
const token = (max, extra = '') => new RegExp(`^[A-Za-z0-9${extra}]{1,${max}}$`);
const APPID = /^wx[0-9a-fA-F]{16}$/,
  TEMPLATE = token(128, '_-'),
  RESERVED = token(128),
  OPENID = token(64, '_-');
const check = (ok, code) => {
  if (!ok) throw fail(code);
};
function httpUrl(s, code) {
  check(typeof s === 'string' && !/[\x00-\x20\x7f]/.test(s) && URL.canParse(s), code);
  const u = new URL(s);
  check((u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password, code);
  return u;
}

export function buildLink({
  appid,
  scene,
  templateId,
  redirectUrl,
  reserved,
  authorizeUrl = 'https://mp.weixin.qq.com/mp/subscribemsg',
}) {
  check(typeof appid === 'string' && APPID.test(appid), 'invalid_appid');
  check(Number.isInteger(scene) && scene >= 0 && scene <= 10000, 'invalid_scene');
  check(typeof templateId === 'string' && TEMPLATE.test(templateId), 'invalid_template_id');
  // Sent as the browser serialises it, as the package sends it.
  const redirect = httpUrl(redirectUrl, 'invalid_redirect_url').href;
  check(typeof reserved === 'string' && RESERVED.test(reserved), 'invalid_reserved');
  check(typeof authorizeUrl === 'string' && !/[?#]/.test(authorizeUrl), 'invalid_option');
  httpUrl(authorizeUrl, 'invalid_option');
  const q = new URLSearchParams({
    action: 'get_confirm',
    appid,
    scene: String(scene),
    template_id: templateId,
    redirect_url: redirect,
    reserved,
  });
  return `${authorizeUrl}?${q}#wechat_redirect`;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function nonce() {
  let out = '';
  while (out.length < 32) {
    for (const b of crypto.getRandomValues(new Uint8Array(48))) if (b < 248 && out.length < 32) out += ALPHABET[b % 62];
  }
  return out;
}

export function authorize({ ttlSeconds = 600, ...options }) {
  check(Number.isInteger(ttlSeconds) && ttlSeconds >= 1 && ttlSeconds <= 86400, 'invalid_option');
  const reserved = nonce();
  const link = buildLink({ ...options, reserved });
  check(new URL(options.redirectUrl).origin === location.origin, 'invalid_redirect_url');
  const { appid, scene, templateId, redirectUrl } = options;
  const record = {
    appid,
    scene,
    templateId,
    redirectUrl,
    reserved,
    expires: Date.now() + ttlSeconds * 1000,
    state: 'pending',
  };
  try {
    sessionStorage.setItem(`wxsub:${reserved}`, JSON.stringify(record));
  } catch {
    throw fail('storage_unavailable');
  }
  return link;
}

export function parseCallback(query) {
  check(typeof query === 'string', 'invalid_option');
  const input = query.split('#')[0];
  const q = /^https?:/i.test(input) ? input.slice(input.indexOf('?') + 1 || input.length) : input.replace(/^\?/, '');
  const found = {};
  for (const [k, v] of new URLSearchParams(q)) {
    if (['openid', 'template_id', 'action', 'scene', 'reserved'].includes(k)) {
      check(!(k in found), 'duplicate_param');
      found[k] = v;
    }
  }
  check(Object.keys(found).length > 0, 'no_callback');
  const get = (k, ok) => {
    check(k in found, 'missing_param');
    check(ok(found[k]), 'invalid_param');
    return found[k];
  };
  const templateId = get('template_id', (v) => TEMPLATE.test(v));
  const action = get('action', (v) => v === 'confirm' || v === 'cancel');
  const scene = Number(get('scene', (v) => /^(0|[1-9]\d{0,4})$/.test(v) && Number(v) <= 10000));
  const reserved = get('reserved', (v) => RESERVED.test(v));
  const openid = action === 'confirm' ? get('openid', (v) => OPENID.test(v)) : undefined;
  return openid === undefined
    ? { action, templateId, scene, reserved }
    : { action, openid, templateId, scene, reserved };
}

export async function handleCallback({ grantEndpoint, query = location.search }) {
  const cb = parseCallback(query);
  const key = `wxsub:${cb.reserved}`;
  const record = JSON.parse(sessionStorage.getItem(key) ?? 'null');
  check(record, 'unknown_reserved');
  check(record.templateId === cb.templateId, 'template_mismatch');
  check(record.scene === cb.scene, 'scene_mismatch');
  const replayed = record.state !== 'pending';
  if (!replayed) {
    // A late answer counts, as in the package.
    Object.assign(record, cb.action === 'confirm' ? { state: 'granted', openid: cb.openid } : { state: 'cancelled' });
    sessionStorage.setItem(key, JSON.stringify(record));
    if (record.state === 'granted') {
      const { appid, openid, templateId: template_id, scene, reserved } = record;
      const res = await fetch(grantEndpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ appid, openid, template_id, scene, reserved }),
      });
      check(res.ok, 'backend_rejected');
    }
  }
  const { templateId, scene, openid } = record;
  return record.state === 'granted'
    ? { status: 'granted', openid, templateId, scene, delivered: true, replayed }
    : { status: 'cancelled', templateId, scene, replayed };
}
