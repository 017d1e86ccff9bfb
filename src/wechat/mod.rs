//! WeChat's protocol, as its document states it: the parameters and their rules, the authorization link, the
//! callback WeChat redirects to, the landing address it leaves behind, its browser's user agent, the `reserved`
//! nonce, and Step 2's send request and errcodes. Nothing here is stored or decided about a particular user.

pub mod callback;
#[cfg(any(not(target_arch = "wasm32"), feature = "backend"))]
pub mod errcode;
pub mod landing;
pub mod link;
pub mod nonce;
pub mod params;
#[cfg(any(not(target_arch = "wasm32"), feature = "backend"))]
pub mod send;
pub mod ua;
#[cfg(test)]
pub(crate) mod vectors;
