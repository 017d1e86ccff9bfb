//! The synchronous half of `handleCallback()` and `retryDeliveries()`, exported for `js/delivery.js`, which
//! does the asynchronous half (fetch, timers) and binds these exports under the same names. They are the
//! package's internals, not its API: the entry module keeps them to itself (only `handleCallback` and
//! `retryDeliveries` leave it), and they check their arguments all the same. `js/core.d.ts` declares them
//! for the type checker of `js/delivery.js`, and scripts/build.mjs binds exactly what it declares.
//!
//! The split: wasm decides what an answer means, what is stored and how long to wait (the options, the
//! verification, the records, the verdict on each reply, the retry schedule, the typed errors); JS fetches,
//! waits what it was told, and shares one POST per grant on a page. An async executor in wasm
//! (wasm-bindgen-futures and the fetch bindings) cost 9.3 KB gzip of a module users download on a phone
//! (5 KB net of the JS that replaced it), and bought no correctness a promise chain lacks.

use js_sys::{Array, Function, Object, JSON};
use wasm_bindgen::prelude::*;
use web_sys::Headers;

use super::history;
use super::options::Options;
use super::storage::Stores;
use super::{bare_object, now_ms, object, set};
use crate::error::{Error, Result};
use crate::http_url::HttpUrl;
use crate::subscription::flow;
use crate::subscription::ledger::Copies;
use crate::subscription::record::{Record, State};
use crate::subscription::retry;
use crate::subscription::verdict::{verdict, Reply, Verdict};
use crate::wechat::callback::Callback;
use crate::wechat::params::Reserved;

/// Checks the options of `handleCallback()` and `retryDeliveries()` and returns the plan of delivery:
/// `{ url, credentials, timeoutMs, delaysMs, cleanUrl, headers?, fetch?, query? }`, `url` being `grantEndpoint`
/// resolved against the page and `delaysMs` the wait before each retry ([`retry::delays`]). Called before
/// anything is recorded.
#[wasm_bindgen(js_name = checkOptions, skip_typescript)]
pub fn check_options(options: JsValue) -> Result<JsValue, JsValue> {
    let options = Options::new(options, "options")?;
    let endpoint = options.string("grantEndpoint", Error::InvalidOption("grantEndpoint"))?;
    // An empty endpoint (or one of only the spaces and controls a URL parser strips) resolves to the landing page
    // itself, which may well answer 200 without storing anything.
    if endpoint.bytes().all(|b| b <= b' ') {
        return Err(Error::InvalidOption("grantEndpoint").into());
    }
    let page = web_sys::window().and_then(|w| w.location().href().ok());
    // An endpoint fetch cannot reach would keep every grant owed forever: refuse it now.
    let url =
        HttpUrl::parse_with_base(&endpoint, page.as_deref()).map_err(|_| Error::InvalidOption("grantEndpoint"))?;
    let credentials = options
        .opt_string("credentials", Error::InvalidOption("credentials"))?
        .unwrap_or_else(|| "same-origin".into());
    if !["same-origin", "include", "omit"].contains(&credentials.as_str()) {
        return Err(Error::InvalidOption("credentials").into());
    }
    // Read once, into a Headers of the package's own: refused now if fetch would refuse it, rather than after the
    // grant is recorded, and never read again (a getter, a Proxy or a one-shot iterable gives what it gave here).
    let headers = options
        .opt_value("headers", Error::InvalidOption("headers"), JsValue::is_object)?
        .map(|h| Headers::new_with_str_sequence_sequence(&h).map_err(|_| Error::InvalidOption("headers")))
        .transpose()?
        .map(JsValue::from);
    let retries = options.opt_u32("retries", retry::DEFAULT_RETRIES, 0..=retry::MAX_RETRIES)?;
    let timeout = options.opt_u32("timeoutMs", retry::DEFAULT_TIMEOUT_MS, 1..=retry::MAX_TIMEOUT_MS)?;
    let first_delay = options.opt_u32(
        "retryDelayMs",
        retry::DEFAULT_RETRY_DELAY_MS,
        0..=retry::MAX_RETRY_DELAY_MS,
    )?;
    let delays = js_sys::Uint32Array::from(retry::delays(retries, first_delay).as_slice());
    let out = bare_object(&[
        ("url", url.as_str().into()),
        ("credentials", credentials.into()),
        ("timeoutMs", timeout.into()),
        ("delaysMs", delays.into()),
        ("cleanUrl", options.opt_bool("cleanUrl", true)?.into()),
    ]);
    let optional = [
        ("headers", headers),
        (
            "fetch",
            options.opt_value("fetch", Error::InvalidOption("fetch"), |v| {
                v.is_instance_of::<Function>()
            })?,
        ),
        (
            "query",
            options
                .opt_string("query", Error::InvalidOption("query"))?
                .map(JsValue::from),
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            set(&out, name, value);
        }
    }
    Ok(out.into())
}

/// Finds the callback (`query` when a string, else the page's address, or the marker a cleaned address keeps),
/// verifies it and records the answer; then, unless `clean_url` is false, cleans the landing page's address:
/// WeChat's parameters go, the redirect URL's fragment comes back, and the history entry is marked so that a
/// reload replays the callback. Returns `{ result, post? }`: the result as JS sees it, and the grant to post when
/// one is undelivered, in which case the result's `delivered` and `kept` are [`record_answer`]'s to say. One
/// export rather than two, so the page crosses into wasm once per callback.
#[wasm_bindgen(js_name = recordCallbackAndCleanAddress, skip_typescript)]
pub fn record_callback_and_clean_address(query: JsValue, clean_url: JsValue) -> Result<JsValue, JsValue> {
    let callback = match super::text(&query) {
        Some(query) => Callback::parse(&query)?,
        None if query.is_undefined() => history::page_callback()?,
        None => return Err(Error::InvalidOption("query").into()),
    };
    let stores = Stores::open();
    let verified = flow::verify(&callback, &stores.ledger(), now_ms())?;
    let record = &verified.record;
    let result = object(&[
        (
            "status",
            if record.state == State::Cancelled {
                "cancelled"
            } else {
                "granted"
            }
            .into(),
        ),
        ("templateId", record.link.template_id.as_str().into()),
        ("scene", record.link.scene.get().into()),
        ("reserved", record.link.reserved.as_str().into()),
        ("replayed", verified.replayed.into()),
        ("late", record.late().into()),
    ]);
    // verify() leaves a record cancelled, allowed or delivered; only a grant has an openid and a delivery, and
    // an allowed one is posted: the answer to that POST says whether it is delivered and kept.
    if let State::Allowed(openid) | State::Delivered(openid) = &record.state {
        set(&result, "openid", openid.as_str().into());
    }
    if let State::Delivered(_) = record.state {
        set_outcome(&result, Verdict::Delivered, verified.kept);
    }
    if clean_url.as_bool() != Some(false) {
        history::clean_address(&callback.to_query(), record.link.redirect_url.fragment());
    }
    let out = bare_object(&[("result", result.into())]);
    if record.undelivered().is_some() {
        set(&out, "post", post(record));
    }
    Ok(out.into())
}

/// Records the reply to one POST of the grant for `reserved`: an HTTP status, `'redirected'` or `'no_answer'`.
/// Returns `{ delivered, kept }`; a final refusal is recorded and thrown as `backend_rejected`.
#[wasm_bindgen(js_name = recordAnswer, skip_typescript)]
pub fn record_answer(reserved: JsValue, reply: JsValue) -> Result<JsValue, JsValue> {
    let reserved = Reserved::parse(&reserved.as_string().ok_or(Error::InvalidOption("reserved"))?)?;
    let reply = match (reply.as_f64(), reply.as_string().as_deref()) {
        (Some(status), _) if status % 1.0 == 0.0 && (0.0..=999.0).contains(&status) => Reply::Status(status as u16),
        (_, Some("redirected")) => Reply::Redirected,
        (_, Some("no_answer")) => Reply::NoAnswer,
        _ => return Err(Error::InvalidOption("reply").into()),
    };
    let verdict = verdict(reply);
    let stores = Stores::open();
    let (verdict, kept) = flow::record_answer(&stores.ledger(), &reserved, verdict, now_ms());
    match verdict {
        Verdict::Rejected(status) => Err(Error::BackendRejected(status).into()),
        verdict => {
            let outcome = Object::new();
            set_outcome(&outcome, verdict, kept);
            Ok(outcome.into())
        }
    }
}

/// Every grant still owed to the backend in this browser's storage, as posts.
#[wasm_bindgen(js_name = undeliveredGrants, skip_typescript)]
pub fn undelivered_grants() -> Result<JsValue, JsValue> {
    let stores = Stores::open();
    let posts: Array = stores.ledger().undelivered()?.iter().map(post).collect();
    Ok(posts.into())
}

/// Sets `delivered` and `kept` of a result, for a replayed delivery and for each reply alike: `kept` when the grant
/// is safe beyond this tab, delivered or saved in localStorage for a later visit.
fn set_outcome(target: &Object, verdict: Verdict, copies: Copies) {
    let delivered = verdict == Verdict::Delivered;
    set(target, "delivered", delivered.into());
    set(target, "kept", (delivered || copies.local).into());
}

/// `{ reserved, body }`, the body being `{"appid","openid","template_id","scene","reserved"}`: WeChat's names,
/// serialised by the browser. The nonce is also the POST's `Idempotency-Key`: one grant, one key.
fn post(record: &Record) -> JsValue {
    let link = &record.link;
    // Without a prototype, so that a polluted `Object.prototype.toJSON` cannot replace the body.
    let body = bare_object(&[
        ("appid", link.appid.as_str().into()),
        (
            "openid",
            record.undelivered().map(|o| o.as_str()).unwrap_or_default().into(),
        ),
        ("template_id", link.template_id.as_str().into()),
        ("scene", link.scene.get().into()),
        ("reserved", link.reserved.as_str().into()),
    ]);
    let json = JSON::stringify(&body).map(JsValue::from).unwrap_or_default();
    object(&[("reserved", link.reserved.as_str().into()), ("body", json)]).into()
}
