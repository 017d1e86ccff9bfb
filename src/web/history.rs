//! The landing page's address: where its callback comes from, and cleaning it once handled.
//!
//! A cleaned address no longer carries the callback, so cleaning leaves a marker for later calls: the callback
//! query in `history.state` (under `wxsub`), which the browser keeps for that history entry across reloads and
//! back/forward, and a page-level memo for when history refuses. A later `handleCallback()` on that address
//! finds the callback there and gets the first outcome as a replay.

use crate::prelude::*;
use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{Error, Result};
use crate::wechat::callback::Callback;
use crate::wechat::landing;

const MARKER: &str = "wxsub";

/// The address (path and query) this page last cleaned, and the callback it carried. The page's one thread is
/// the only one to take the lock.
static CLEANED: spin::Mutex<Option<(String, String)>> = spin::Mutex::new(None);

/// The page's callback: in its address, or, on an address cleaned before, in the marker or the memo.
/// [`Error::NoCallback`] when there is none anywhere; the address's own error when it carries a broken one.
pub fn page_callback() -> Result<Callback> {
    let location = web_sys::window().map(|w| w.location());
    let path = location.as_ref().and_then(|l| l.pathname().ok()).unwrap_or_default();
    let search = location.as_ref().and_then(|l| l.search().ok()).unwrap_or_default();
    let hash = location.as_ref().and_then(|l| l.hash().ok()).unwrap_or_default();
    match address_callback(&search, &hash) {
        Err(Error::NoCallback) => {}
        parsed => return parsed,
    }
    let here = crate::text::concat(&[&path, &search]);
    let memo = || {
        CLEANED
            .lock()
            .as_ref()
            .filter(|(at, _)| *at == here)
            .map(|(_, callback)| callback.clone())
    };
    Callback::parse(&marker().or_else(memo).ok_or(Error::NoCallback)?)
}

/// The callback in an address: in its query, else in its fragment's (`#/done?openid=…`, where WeChat is reported to
/// put it when the redirect URL ends in a hash route).
fn address_callback(search: &str, hash: &str) -> Result<Callback> {
    match Callback::parse(search) {
        Err(Error::NoCallback) => Callback::parse(landing::fragment_query(hash).unwrap_or_default()),
        parsed => parsed,
    }
}

/// The marker a cleaning left in this history entry's state, if any.
fn marker() -> Option<String> {
    let state = web_sys::window()?.history().ok()?.state().ok()?;
    // An own data property only: not one inherited from a polluted prototype, nor a getter.
    let own = Reflect::get_own_property_descriptor::<JsValue>(state.dyn_ref()?, &MARKER.into()).ok()?;
    super::text(&Reflect::get(own.dyn_ref()?, &"value".into()).ok()?)
}

/// Removes WeChat's parameters from the address (its query or its fragment's), restores `fragment` (the redirect
/// URL's, which WeChat is reported to mangle), and marks the history entry with `callback` (a verified callback's query). Does nothing
/// on an address without WeChat's parameters, or with another callback than `callback` (a `query` passed by hand
/// while the address holds a callback of its own, which must stay there to be handled). Best effort: a page whose
/// history refuses still has its outcome and the memo.
pub fn clean_address(callback: &str, fragment: Option<&str>) {
    let Some(window) = web_sys::window() else { return };
    let location = window.location();
    let (Ok(path), Ok(search), Ok(hash)) = (location.pathname(), location.search(), location.hash()) else {
        return;
    };
    if !address_callback(&search, &hash).is_ok_and(|here| here.to_query() == callback) {
        return;
    }
    let url = landing::cleaned(&path, &search, fragment);
    let at = url.split('#').next().unwrap_or_default().to_owned();
    *CLEANED.lock() = Some((at, callback.to_owned()));
    let Ok(history) = window.history() else { return };
    // The page's own state (a router's) is kept; the marker is added beside it.
    let state = Object::new();
    if let Ok(old) = history.state() {
        if old.is_object() {
            Object::assign(&state, &old.into());
        }
    }
    let _ = Reflect::set(&state, &MARKER.into(), &JsValue::from_str(callback));
    let _ = history.replace_state_with_url(&state, "", Some(&url));
}
