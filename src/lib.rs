//! WeChat one-time subscription messages for Service Account H5 pages, and the server that sends them.
//!
//! The flow (WeChat's document: "Subscribe to messages at once"):
//! 1. [`subscription::flow::authorize`] builds the [`Link`] to WeChat's consent page after storing a pending
//!    [`Record`] with a fresh `reserved` [`wechat::nonce`], the CSRF guard.
//! 2. WeChat redirects back with a [`Callback`]; [`subscription::flow::verify`] matches it to the stored record.
//! 3. The grant (openid, template, scene) goes to the site's backend; [`subscription::verdict`] says what the
//!    backend's answer means for the page.
//! 4. The backend checks the grant ([`server::grant`]) and pushes its one message ([`wechat::send`]);
//!    [`server::outcome`] says what WeChat's answer means for the grant.
//!
//! The layers, each a folder or file: [`error`], [`http_url`] and [`whatwg`] (foundations); [`wechat`] (the
//! protocol); [`subscription`] (the page's stored state and policy); [`server`] (the backend's decisions); `web`
//! (wasm32 only: the thin shell the npm package exports). Everything but `web` is plain Rust, tested natively and
//! in the browser, with one exception: [`whatwg`] parses URLs with the browser's own `URL` in wasm (the `url`
//! crate natively). The package's JS does the I/O: `js/delivery.js` in the page, `js/server/` on the server.

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

// no_std everywhere, so the browser build cannot reach std by accident; `alloc` has what the crate uses.
extern crate alloc;
#[cfg(test)]
extern crate std;

/// What std's prelude would bring in, from `alloc`.
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::string::String;
    #[cfg(test)]
    pub(crate) use alloc::string::ToString;
    pub(crate) use alloc::vec::Vec;
}

// Foundations: the error type, strings, URLs.
pub mod error;
pub mod http_url;
mod text;
pub mod whatwg;
// WeChat's protocol: what the link, the callback and the send API are.
pub mod wechat;
// The page's subscriptions, from the link to the delivered grant: records, storage, the flow, the backend's verdict.
pub mod subscription;
// The server's decisions: a posted grant, a send's outcome, the access_token. Like Step 2's request and errcodes, only
// where a server runs: natively and in the Node build's wasm, never in the browser's module.
#[cfg(any(not(target_arch = "wasm32"), feature = "backend"))]
pub mod server;
// How the module runs in wasm: its allocator and its panic.
mod runtime;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, PageCall, Result, UrlProblem};
pub use http_url::HttpUrl;
pub use subscription::record::{Record, State};
pub use wechat::callback::{Answer, Callback};
pub use wechat::link::{Link, AUTHORIZE_URL};
pub use wechat::params::{AppId, OpenId, Reserved, Scene, TemplateId};

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
