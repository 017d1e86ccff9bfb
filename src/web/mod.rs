//! The browser shell: the functions the npm package exports, converting JS values to the core's types
//! and back, and reaching storage, crypto and history. No flow logic lives here; the network I/O is in
//! `js/delivery.js` (see `delivery`).

#[cfg(feature = "backend")]
mod backend;
pub mod delivery;
mod error;
mod options;
mod storage;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::address;
use crate::callback::Callback;
use crate::error::{Error, Result};
use crate::flow::{self, Context, Request, DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS};
use crate::link::Link;
use crate::params::Reserved;
use crate::record::Record;
use crate::ua;
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
  /** Absolute http(s) landing page; a fragment (hash route) is allowed. */
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
  /** Must have the current page's origin: the nonce lives in this origin's sessionStorage. */
  redirectUrl: string;
  /** Registered business domain (a host name); when given, redirectUrl's host must equal it. */
  businessDomain?: string;
  /** Seconds the user has to answer on WeChat's consent page (1..86400, default 600). */
  ttlSeconds?: number;
  authorizeUrl?: string;
  /** Refuse with not_in_wechat outside the WeChat client (default false). */
  requireWeChat?: boolean;
}

/** A well-formed callback, not yet verified. */
export interface CallbackParams {
  action: 'confirm' | 'cancel';
  /** Present exactly when action is 'confirm'. */
  openid?: string;
  templateId: string;
  scene: number;
  reserved: string;
}

/** Where and how grants are posted. */
export interface DeliveryOptions {
  /** URL the grant is POSTed to as JSON {appid, openid, template_id, scene, reserved}. */
  grantEndpoint: string;
  /** Extra request headers (e.g. a CSRF token of your site). */
  headers?: HeadersInit;
  /** fetch credentials mode (default 'same-origin'). */
  credentials?: RequestCredentials;
  /** Retries after the first attempt on 408, 429, 5xx, network errors and timeouts (0..10, default 3). */
  retries?: number;
  /** Per-attempt timeout in ms (default 8000). */
  timeoutMs?: number;
  /** Wait before the first retry in ms, doubled each time (default 500). */
  retryDelayMs?: number;
}

/** Options of handleCallback(). */
export interface HandleCallbackOptions extends DeliveryOptions {
  /** The callback's query string (default location.search). */
  query?: string;
  /** Remove WeChat's parameters from the address bar and restore redirectUrl's fragment (default true). */
  cleanUrl?: boolean;
}

/** The user allowed one message. */
export interface GrantedResult {
  status: 'granted';
  openid: string;
  templateId: string;
  scene: number;
  /** The grant endpoint acknowledged it; when false it stays stored for retryDeliveries(). */
  delivered: boolean;
  /** This callback had been handled before; this is its first outcome. */
  replayed: boolean;
}

/** The user declined. */
export interface CancelledResult {
  status: 'cancelled';
  templateId: string;
  scene: number;
  replayed: boolean;
}

export type CallbackResult = GrantedResult | CancelledResult;

/**
 * Verifies the callback on the landing page, posts the grant to grantEndpoint (retrying 408, 429, 5xx,
 * network errors and timeouts), and cleans the address. Concurrent calls for one callback share one POST.
 */
export function handleCallback(options: HandleCallbackOptions): Promise<CallbackResult>;

/**
 * Posts every grant still owed to the backend (from this tab's sessionStorage or any tab's localStorage
 * copy). Call it on any page load, or from a "try again" button.
 */
export function retryDeliveries(options: DeliveryOptions): Promise<RetryResult>;

/** Counts after retryDeliveries(). */
export interface RetryResult {
  delivered: number;
  /** Still undelivered (kept for the next try). */
  pending: number;
  /** Refused by the backend for good. */
  rejected: number;
}

export type SubscribeErrorCode =
  | 'invalid_appid' | 'invalid_scene' | 'invalid_template_id' | 'invalid_reserved' | 'invalid_redirect_url'
  | 'invalid_option' | 'domain_mismatch' | 'not_in_wechat' | 'storage_unavailable' | 'crypto_unavailable'
  | 'missing_param' | 'duplicate_param' | 'invalid_param' | 'unknown_reserved' | 'expired'
  | 'template_mismatch' | 'scene_mismatch' | 'backend_rejected' | 'invalid_openid' | 'invalid_title'
  | 'invalid_content' | 'invalid_color' | 'invalid_url' | 'invalid_miniprogram';

/** What every function of this package throws or rejects with. */
export interface SubscribeError extends Error {
  name: 'SubscribeError';
  code: SubscribeErrorCode;
}
"#;

/// Builds the authorization link from given parameters, `reserved` included. Pure: stores nothing.
#[wasm_bindgen(js_name = buildLink)]
pub fn build_link(#[wasm_bindgen(unchecked_param_type = "LinkOptions")] options: JsValue) -> Result<String, JsValue> {
    let options = Options::new(options, "options")?;
    let (appid, scene, template_id, redirect_url) = options.link_fields()?;
    let reserved = Reserved::parse(&options.string("reserved", Error::InvalidReserved)?)?;
    let authorize_url = options.opt_string("authorizeUrl")?;
    Ok(Link {
        appid,
        scene,
        template_id,
        redirect_url,
        reserved,
    }
    .to_url(authorize_url.as_deref())?)
}

/// Generates the nonce, stores the pending subscription and returns the link to navigate to.
#[wasm_bindgen]
pub fn authorize(
    #[wasm_bindgen(unchecked_param_type = "AuthorizeOptions")] options: JsValue,
) -> Result<String, JsValue> {
    let options = Options::new(options, "options")?;
    let (appid, scene, template_id, redirect_url) = options.link_fields()?;
    let request = Request {
        appid,
        scene,
        template_id,
        redirect_url,
        business_domain: options.opt_string("businessDomain")?,
        ttl_seconds: options.opt_u32("ttlSeconds", DEFAULT_TTL_SECONDS, 1..=MAX_TTL_SECONDS)?,
        authorize_url: options.opt_string("authorizeUrl")?,
    };
    if options.opt_bool("requireWeChat", false)? && !ua::is_wechat(&user_agent()) {
        return Err(Error::NotInWechat.into());
    }
    let window = web_sys::window().ok_or(Error::StorageUnavailable)?;
    let origin = window.location().origin().map_err(|_| Error::StorageUnavailable)?;
    let stores = Stores::open();
    let cx = Context {
        ledger: &stores.ledger(),
        page_origin: &origin,
        now_ms: now_ms(),
        fill: getrandom::fill,
    };
    Ok(flow::authorize(request, cx)?)
}

/// Parses a callback query string. Pure: checks form, not authenticity.
#[wasm_bindgen(js_name = parseCallback, unchecked_return_type = "CallbackParams")]
pub fn parse_callback(#[wasm_bindgen(unchecked_param_type = "string")] query: JsValue) -> Result<JsValue, JsValue> {
    let cb = Callback::parse(&query.as_string().ok_or(Error::InvalidOption("query"))?)?;
    let out = object(&[
        ("action", cb.action.as_str().into()),
        ("templateId", cb.template_id.as_str().into()),
        ("scene", cb.scene.get().into()),
        ("reserved", cb.reserved.as_str().into()),
    ]);
    if let Some(openid) = &cb.openid {
        set(&out, "openid", openid.as_str().into());
    }
    Ok(out)
}

/// True inside WeChat's own browser (not WeCom). Defaults to `navigator.userAgent`.
#[wasm_bindgen(js_name = isWeChat)]
pub fn is_wechat(#[wasm_bindgen(js_name = userAgent)] user_agent: Option<String>) -> bool {
    ua::is_wechat(&user_agent.unwrap_or_else(self::user_agent))
}

/// WeChat's version from the user agent (e.g. "8.0.42.2460"), or null outside WeChat.
#[wasm_bindgen(js_name = weChatVersion, unchecked_return_type = "string | null")]
pub fn wechat_version(#[wasm_bindgen(js_name = userAgent)] user_agent: Option<String>) -> JsValue {
    match ua::wechat_version(&user_agent.unwrap_or_else(self::user_agent)) {
        Some(version) => version.into(),
        None => JsValue::NULL,
    }
}

fn user_agent() -> String {
    web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default()
}

pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Replaces the address without WeChat's parameters and with the original fragment. Best effort: a
/// page whose history refuses still has its outcome.
pub(crate) fn clean_address(record: &Record) {
    let Some(window) = web_sys::window() else { return };
    let location = window.location();
    let (Ok(path), Ok(search)) = (location.pathname(), location.search()) else {
        return;
    };
    let url = address::clean(&path, &search, record.redirect_url.fragment());
    if let Ok(history) = window.history() {
        let state = history.state().unwrap_or(JsValue::NULL);
        let _ = history.replace_state_with_url(&state, "", Some(&url));
    }
}

pub(crate) fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let out: JsValue = Object::new().into();
    for (name, value) in fields {
        set(&out, name, value.clone());
    }
    out
}

pub(crate) fn set(target: &JsValue, name: &str, value: JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(name), &value);
}
