//! The synchronous half of `handleCallback()` and `retryDeliveries()`, exported for `js/delivery.js`,
//! which does the asynchronous half (fetch, timers). These exports start with `_`: they are the
//! package's internals, not its API, and its `.d.ts` does not list them.
//!
//! Why the split: an async executor in wasm (wasm-bindgen-futures and the fetch bindings) cost 9.3 KB
//! gzip of a module users download on a phone (5 KB net of the JS that replaced it), and bought no
//! correctness a promise chain lacks.
//! Everything that decides stays here: option checks, verification, the records, what an answer means.

use js_sys::{Array, JSON};
use wasm_bindgen::prelude::*;
use web_sys::Headers;

use super::options::Options;
use super::storage::Stores;
use super::{clean_address, now_ms, object, set};
use crate::callback::Callback;
use crate::delivery::{backoff_ms, verdict, Verdict};
use crate::error::{Error, Result};
use crate::flow;
use crate::record::{Grant, State};

/// `grantEndpoint`, `headers`, `credentials`, `retries`, `timeoutMs` and `retryDelayMs`, checked and with
/// their defaults.
#[wasm_bindgen(js_name = _deliveryOptions, skip_typescript)]
pub fn delivery_options(options: JsValue) -> Result<JsValue, JsValue> {
    let options = Options::new(options, "options")?;
    let url = options.string("grantEndpoint", Error::InvalidOption("grantEndpoint"))?;
    if url.is_empty() {
        return Err(Error::InvalidOption("grantEndpoint").into());
    }
    let credentials = options
        .opt_string("credentials")?
        .unwrap_or_else(|| "same-origin".into());
    if !["same-origin", "include", "omit"].contains(&credentials.as_str()) {
        return Err(Error::InvalidOption("credentials").into());
    }
    let headers: Option<JsValue> = options.opt_object("headers")?;
    // Refuse now what fetch would refuse, rather than after the grant is recorded.
    if let Some(h) = &headers {
        Headers::new_with_str_sequence_sequence(h).map_err(|_| Error::InvalidOption("headers"))?;
    }
    let out = object(&[
        ("url", url.into()),
        ("credentials", credentials.into()),
        ("retries", options.opt_u32("retries", 3, 0..=10)?.into()),
        ("timeoutMs", options.opt_u32("timeoutMs", 8000, 1..=120_000)?.into()),
        ("retryDelayMs", options.opt_u32("retryDelayMs", 500, 0..=60_000)?.into()),
    ]);
    if let Some(h) = headers {
        set(&out, "headers", h);
    }
    Ok(out)
}

/// Verifies the callback (`query`, or the page's own `location.search`), records the answer and cleans the
/// address. Returns `{ result, post? }`: the result as JS sees it, and the grant to post when one is owed.
#[wasm_bindgen(js_name = _verifyCallback, skip_typescript)]
pub fn verify_callback(options: JsValue) -> Result<JsValue, JsValue> {
    let options = Options::new(options, "options")?;
    // Every option is read before anything is recorded.
    let clean_url = options.opt_bool("cleanUrl", true)?;
    let query = match options.opt_string("query")? {
        Some(query) => query,
        None => web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default(),
    };
    let callback = Callback::parse(&query)?;
    let stores = Stores::open();
    let verified = flow::verify(&callback, &stores.ledger(), now_ms())?;
    if clean_url {
        clean_address(&verified.record);
    }
    let record = &verified.record;
    let result = object(&[
        ("templateId", record.template_id.as_str().into()),
        ("scene", record.scene.get().into()),
        ("replayed", verified.replayed.into()),
    ]);
    // verify() leaves only these two kinds of record: granted (delivered or not) and cancelled.
    if let State::Granted { openid, delivered } = &record.state {
        set(&result, "status", "granted".into());
        set(&result, "openid", openid.as_str().into());
        set(&result, "delivered", (*delivered).into());
    } else {
        set(&result, "status", "cancelled".into());
    }
    let out = object(&[("result", result)]);
    if let Some(grant) = record.undelivered_grant() {
        set(&out, "post", post(&verified.key, &grant));
    }
    Ok(out)
}

/// Records the answer to one attempt (an HTTP status, or 0 for no answer): true when delivered, false to
/// try again; a final refusal is recorded and thrown as `backend_rejected`.
#[wasm_bindgen(js_name = _settleGrant, skip_typescript)]
pub fn settle_grant(key: &str, status: u16) -> Result<bool, JsValue> {
    let verdict = verdict(status);
    let stores = Stores::open();
    let ledger = stores.ledger();
    if let Some(mut record) = ledger.get(key)? {
        flow::settle(&ledger, key, &mut record, verdict)?;
    }
    match verdict {
        Verdict::Delivered => Ok(true),
        Verdict::Retry => Ok(false),
        Verdict::Rejected(status) => Err(Error::BackendRejected(status).into()),
    }
}

/// Every grant still owed to the backend, as posts.
#[wasm_bindgen(js_name = _owedGrants, skip_typescript)]
pub fn owed_grants() -> Result<JsValue, JsValue> {
    let stores = Stores::open();
    let posts = Array::new();
    for (key, record) in stores.ledger().records()? {
        if let Some(grant) = record.undelivered_grant() {
            posts.push(&post(&key, &grant));
        }
    }
    Ok(posts.into())
}

/// The wait before retry number `retry`.
#[wasm_bindgen(js_name = _backoffMs, skip_typescript)]
pub fn backoff(retry: u32, base_ms: u32) -> u32 {
    backoff_ms(retry, base_ms)
}

/// `{ key, idempotencyKey, body }`, the body being `{"appid","openid","template_id","scene","reserved"}`:
/// WeChat's names, serialised by the browser.
fn post(key: &str, grant: &Grant<'_>) -> JsValue {
    let body = object(&[
        ("appid", grant.appid.as_str().into()),
        ("openid", grant.openid.as_str().into()),
        ("template_id", grant.template_id.as_str().into()),
        ("scene", grant.scene.get().into()),
        ("reserved", grant.reserved.as_str().into()),
    ]);
    let json = JSON::stringify(&body).map(JsValue::from).unwrap_or_default();
    object(&[
        ("key", key.into()),
        ("idempotencyKey", grant.reserved.as_str().into()),
        ("body", json),
    ])
}
