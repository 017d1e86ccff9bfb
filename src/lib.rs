//! WeChat one-time subscription messages for Service Account H5 pages.
//!
//! The flow (WeChat's document: "Subscribe to messages at once"):
//! 1. [`flow::authorize`] builds the [`Link`] to WeChat's consent page after storing a pending [`Record`]
//!    with a fresh `reserved` [`nonce`], the CSRF guard.
//! 2. WeChat redirects back with a [`Callback`]; [`flow::verify`] matches it to the stored record.
//! 3. The grant (openid, template, scene) goes to the site's backend, which may then push one message;
//!    [`verdict`] says what the backend's answer means.
//!
//! Everything here is plain Rust, tested natively and in the browser, with one exception: [`whatwg`] parses
//! URLs with the browser's own `URL` in wasm (the `url` crate natively). The `web` module (wasm32 only) is
//! the thin browser shell that the npm package exports; `js/delivery.js` in the package does the network I/O.

#![no_std]
#![forbid(unsafe_code)]
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

pub mod address;
pub mod callback;
pub mod errcode;
pub mod error;
pub mod flow;
pub mod http_url;
pub mod ledger;
pub mod link;
pub mod nonce;
pub mod params;
pub mod record;
pub mod send;
pub mod store;
pub mod ua;
pub mod verdict;
pub mod whatwg;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use callback::{Answer, Callback};
pub use error::{Error, Result, UrlProblem};
pub use http_url::HttpUrl;
pub use link::{Link, AUTHORIZE_URL};
pub use params::{AppId, OpenId, Reserved, Scene, TemplateId};
pub use record::{Record, State};

/// Talc instead of Rust's default dlmalloc: the module is downloaded on a phone, and talc is about half
/// dlmalloc's size in wasm for the handful of small allocations a page makes here.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Without std (the package's build), a panic traps: the module is built so that none happens (every export checks
/// its input and returns a typed error), and std's panic machinery with `core::fmt` would cost kilobytes a phone
/// downloads. Tests link std and get its messages.
#[cfg(all(target_arch = "wasm32", not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
