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
#![deny(unsafe_code)]
#![warn(missing_docs)]

// no_std everywhere, so the browser build cannot reach std by accident; `alloc` has what the crate uses.
extern crate alloc;
#[cfg(test)]
extern crate std;

/// The strings of `parts` one after another. `[..].concat()` does this too, through a generic joiner that costs the
/// wasm module about 1 KB; this loop costs a tenth of that.
pub(crate) fn concat(parts: &[&str]) -> prelude::String {
    let mut out = prelude::String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// The decimal digits of `n`. The `itoa` crate does it faster, with digit tables and panic messages that weigh
/// more in the wasm module than this loop, and speed does not matter for the few numbers a page writes.
pub(crate) fn decimal(mut n: u64) -> prelude::String {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[start..].iter().map(|&d| char::from(d)).collect()
}

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
pub mod server;
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

/// lol_alloc's free list instead of Rust's default dlmalloc (or talc, used before): the module is downloaded on
/// a phone, and a page makes a handful of small allocations, for which a free list is enough; it measured 534 B
/// gzip smaller than talc, itself about half of dlmalloc. The `unsafe` is lol_alloc's contract for single-threaded
/// use, which wasm32 without the atomics feature is.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
#[allow(unsafe_code)]
// SAFETY: wasm32 without the atomics feature runs one thread, so nothing else can reach the allocator.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

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

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn decimal_and_concat() {
        assert_eq!(super::decimal(0), "0");
        assert_eq!(super::decimal(1000), "1000");
        assert_eq!(super::decimal(u64::MAX), "18446744073709551615");
        assert_eq!(super::concat(&["wxsub:", "", "abc"]), "wxsub:abc");
        assert_eq!(super::concat(&[]), "");
    }
}
