// WeChat's rules for the values of a one-time subscription, for the parts of the demo that stand in for WeChat or
// check before the package is loaded: the configuration, the consent simulator, /api/send and the send API
// simulator. The demo's backend (the grant sink) has none: it is the package's own endpoint, with the crate's rules.
//
// Written apart from the package on purpose: the simulators stand in for WeChat, so they must catch what
// the package gets wrong rather than share its mistakes. tests/e2e/wechat-rules.test.mjs pins each rule to
// the package's own checks, so the demo can never refuse a value the package accepts, or the reverse.

const matches = (re) => (value) => typeof value === 'string' && re.test(value);

/** A Service Account (or mini program) AppID: "wx" and 16 hex digits, either case. */
export const isAppId = matches(/^wx[0-9A-Fa-f]{16}$/);

/** A template ID: 1..128 letters, digits, "-" or "_". */
export const isTemplateId = matches(/^[A-Za-z0-9_-]{1,128}$/);

/** The `reserved` state parameter (the grant's Idempotency-Key too): 1..128 letters or digits. */
export const isReserved = matches(/^[A-Za-z0-9]{1,128}$/);

export const SCENE_MAX = 10000;

/**
 * A scene as text (the link's query, the send API's JSON string): the decimal digits the package writes
 * for a valid scene, so no sign, fraction or leading zero.
 */
export const isSceneText = (value) =>
  typeof value === 'string' && /^(?:0|[1-9][0-9]{0,4})$/.test(value) && Number(value) <= SCENE_MAX;

// Limits in characters (code points), not bytes: fifteen Chinese characters make a title.
const codePoints = (s) => [...s].length;
const isText = (max, controlAllowed) => (value) =>
  typeof value === 'string' &&
  !/^\p{White_Space}*$/u.test(value) &&
  codePoints(value) <= max &&
  ![...value].some((c) => /\p{Cc}/u.test(c) && !controlAllowed.includes(c));

/** A message title: 1..15 characters, not blank, no control characters. */
export const isTitle = isText(15, []);

/** A message's content: 1..200 characters, not blank, no control characters but line feeds. */
export const isContent = isText(200, ['\n']);

/** A colour: "#RRGGBB". */
export const isColor = matches(/^#[0-9A-Fa-f]{6}$/);

/** A mini program page path: not empty, no spaces or control characters. */
export const isPagepath = matches(/^[^\x00-\x20]+$/);

/**
 * A URL WeChat may send a user to (the link's redirect_url, the message's url): absolute http(s), no
 * credentials, written without spaces or control characters (a parser would strip them silently).
 * Returns the parsed URL, or null.
 */
export function httpUrl(value) {
  if (typeof value !== 'string' || /[\x00-\x20\x7f]/.test(value)) return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return /^https?:$/.test(url.protocol) && !url.username && !url.password ? url : null;
}
