//! The browser shell: the functions the npm package exports, converting JS values to the core's types
//! and back, and reaching storage, crypto, the address and history. No flow logic lives here; the network
//! I/O is in `js/delivery.js`, around this module's `delivery` exports.
//!
//! Every export takes `JsValue`s and checks them, so any JS value gets a typed `SubscribeError` (or the
//! documented value), never a trap: a panic or a bad pointer in wasm would kill the module for the page.

use crate::prelude::*;
#[cfg(feature = "backend")]
mod backend;
pub mod delivery;
mod error;
mod history;
mod options;
mod storage;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::{Error, PageCall, Result};
use crate::subscription::flow::{self, AuthorizeRequest, DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS};
use crate::wechat::callback::{Answer, Callback};
use crate::wechat::link;
use crate::wechat::nonce;
use crate::wechat::params::Reserved;
use crate::wechat::ua;
use options::Options;
use storage::Stores;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Parameters of the authorization link. */
export interface LinkOptions {
  /** The Service Account's AppID: "wx" and 16 hex digits. */
  appid: string;
  /** Subscription scene, an integer from 0 to 10000. */
  scene: number;
  /** One-time subscription template ID. */
  templateId: string;
  /** Absolute http(s) landing page; a fragment (hash route) is allowed. Sent normalised, as the browser would. */
  redirectUrl: string;
  /** The CSRF nonce: 1 to 128 of A-Z a-z 0-9. */
  reserved: string;
  /** Consent page to link to; defaults to https://mp.weixin.qq.com/mp/subscribemsg. */
  authorizeUrl?: string;
}

/** Options of authorize(). */
export interface AuthorizeOptions {
  appid: string;
  scene: number;
  templateId: string;
  /** Must have the current page's origin: the nonce lives in this origin's storage. */
  redirectUrl: string;
  /** Registered business domain (a host name); when given, redirectUrl's host must equal it. */
  businessDomain?: string;
  /** Seconds in which an answer is on time (1..86400, default 600); a later answer is accepted as late. */
  ttlSeconds?: number;
  authorizeUrl?: string;
  /** Refuse with not_in_wechat outside the WeChat client (default false). */
  requireWeChat?: boolean;
}

/** A well-formed callback, not yet verified. */
export type CallbackParams =
  | { action: 'confirm'; openid: string; templateId: string; scene: number; reserved: string }
  | { action: 'cancel'; templateId: string; scene: number; reserved: string };
"#;

/// Builds the authorization link from given parameters, `reserved` included. Pure: stores nothing.
///
/// @example
/// ```ts
/// const link = buildLink({ appid: 'wxaba38c7f163da69b', scene: 1000, templateId: 'TPL_1',
///   redirectUrl: 'https://shop.example.com/done.html', reserved: 'k2Vx8rQp0aZt1mNc' });
/// ```
#[wasm_bindgen(js_name = buildLink)]
pub fn build_link(#[wasm_bindgen(unchecked_param_type = "LinkOptions")] options: JsValue) -> Result<String, JsValue> {
    let options = Options::new(options, "options")?;
    let link = options.link(|| Reserved::parse(&options.string("reserved", Error::InvalidReserved)?))?;
    let authorize_url = authorize_url(&options)?;
    Ok(link.to_url(authorize_url.as_ref()))
}

/// Generates the nonce, stores the pending subscription and returns the link to navigate to.
///
/// @example
/// ```ts
/// location.href = authorize({ appid: 'wxaba38c7f163da69b', scene: 1000, templateId: 'TPL_1',
///   redirectUrl: `${location.origin}/done.html` });
/// ```
#[wasm_bindgen]
pub fn authorize(
    #[wasm_bindgen(unchecked_param_type = "AuthorizeOptions")] options: JsValue,
) -> Result<String, JsValue> {
    let options = Options::new(options, "options")?;
    let request = AuthorizeRequest {
        link: options.link(|| nonce::generate(getrandom::fill))?,
        business_domain: options.opt_string("businessDomain", Error::InvalidOption("businessDomain"))?,
        ttl_seconds: options.opt_u32("ttlSeconds", DEFAULT_TTL_SECONDS, 1..=MAX_TTL_SECONDS)?,
        authorize_url: authorize_url(&options)?,
    };
    if options.opt_bool("requireWeChat", false)? && !ua::is_wechat(&user_agent()) {
        return Err(Error::NotInWechat.into());
    }
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let stores = Stores::open();
    Ok(flow::authorize(request, &stores.ledger(), &origin, now_ms())?)
}

fn authorize_url(options: &Options) -> Result<Option<crate::HttpUrl>> {
    let input = options.opt_string("authorizeUrl", Error::InvalidOption("authorizeUrl"))?;
    input.map(|url| link::authorize_url(&url)).transpose()
}

/// Parses a callback query string (or a whole URL). Pure: checks form, not authenticity.
///
/// @example
/// ```ts
/// const params = parseCallback(location.search);
/// if (params.action === 'confirm') console.log(params.openid, params.scene);
/// ```
#[wasm_bindgen(js_name = parseCallback, unchecked_return_type = "CallbackParams")]
pub fn parse_callback(#[wasm_bindgen(unchecked_param_type = "string")] query: JsValue) -> Result<JsValue, JsValue> {
    let cb = Callback::parse(&text(&query).ok_or(Error::InvalidOption("query"))?)?;
    let out = object(&[("action", cb.answer.action().into())]);
    if let Answer::Confirm(openid) = &cb.answer {
        set(&out, "openid", openid.as_str().into());
    }
    set(&out, "templateId", cb.template_id.as_str().into());
    set(&out, "scene", cb.scene.get().into());
    set(&out, "reserved", cb.reserved.as_str().into());
    Ok(out.into())
}

/// True inside WeChat's own browser (not WeCom). Reads `navigator.userAgent` when `userAgent` is absent; on a
/// server (the Node entry, e.g. while a framework renders the page there) pass the request's `User-Agent` header
/// (`null` for a request without one: false): called without it there, this throws `browser_only`, since a server
/// cannot know which browser will show the page.
///
/// @example
/// ```ts
/// isWeChat(); // in the page
/// isWeChat(request.headers.get('user-agent')); // on the server
/// ```
#[wasm_bindgen(js_name = isWeChat)]
pub fn is_wechat(
    #[wasm_bindgen(js_name = userAgent, unchecked_optional_param_type = "string | null")] user_agent: JsValue,
) -> Result<bool, JsValue> {
    Ok(ua::is_wechat(&user_agent_or_own(user_agent, PageCall::IsWeChat)?))
}

/// WeChat's version from the user agent (e.g. "8.0.42.2460"), or null outside WeChat. Reads
/// `navigator.userAgent` when `userAgent` is absent; on a server pass the request's `User-Agent` header (`null`
/// for a request without one), or this throws `browser_only`.
#[wasm_bindgen(js_name = weChatVersion, unchecked_return_type = "string | null")]
pub fn wechat_version(
    #[wasm_bindgen(js_name = userAgent, unchecked_optional_param_type = "string | null")] user_agent: JsValue,
) -> Result<JsValue, JsValue> {
    let user_agent = user_agent_or_own(user_agent, PageCall::WeChatVersion)?;
    Ok(match ua::wechat_version(&user_agent) {
        Some(version) => version.into(),
        None => JsValue::NULL,
    })
}

/// A user agent passed in, or the browser's own when absent; anything but a string is `invalid_option`. The Node
/// build outside a browser has no user agent of its own: no argument there is `browser_only` rather than a silent
/// "not WeChat", which a server rendering the page would show and the browser would then contradict; `null` there
/// is a request without the header (`headers.get('user-agent')`), which WeChat always sends: not WeChat.
fn user_agent_or_own(value: JsValue, call: PageCall) -> Result<String> {
    if value.is_undefined() || value.is_null() {
        #[cfg(feature = "backend")]
        if web_sys::window().is_none() {
            return if value.is_null() {
                Ok(String::new())
            } else {
                Err(Error::BrowserOnly(call))
            };
        }
        let _ = call;
        return Ok(user_agent());
    }
    text(&value).ok_or(Error::InvalidOption("userAgent"))
}

fn user_agent() -> String {
    web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default()
}

/// The longest string an export reads, in UTF-16 units: far above anything WeChat or a page sends (URLs are refused
/// by servers well before this), and checked before the string is copied into the module, so a hostile 200 MB value
/// costs one length read rather than seconds of copying.
pub(crate) const MAX_TEXT: u32 = 16 * 1024;

/// `value` as a string of at most [`MAX_TEXT`] units; `None` for anything else.
pub(crate) fn text(value: &JsValue) -> Option<String> {
    let string: &js_sys::JsString = value.dyn_ref()?;
    (string.length() <= MAX_TEXT).then(|| string.into())
}

pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub(crate) fn object(fields: &[(&str, JsValue)]) -> Object {
    fill(Object::new(), fields)
}

/// An object without a prototype, for what crosses to `js/delivery.js` or into `JSON.stringify`: a field it lacks
/// reads as `undefined` there even when a page polluted `Object.prototype`.
pub(crate) fn bare_object(fields: &[(&str, JsValue)]) -> Object {
    fill(Object::create(JsValue::NULL.unchecked_ref()), fields)
}

fn fill(out: Object, fields: &[(&str, JsValue)]) -> Object {
    for (name, value) in fields {
        set(&out, name, value.clone());
    }
    out
}

pub(crate) fn set(target: &Object, name: &str, value: JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(name), &value);
}
