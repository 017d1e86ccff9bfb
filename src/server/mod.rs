//! The server's half of the promise "one Allow → exactly one message": pure decisions, no I/O.
//!
//! The package's Node entry (`js/server/`) does the I/O — HTTP, the grant store, the token and send requests —
//! and asks these modules what an input or an answer means, as the browser's `js/delivery.js` asks
//! [`crate::grant`]. A Rust server (axum, actix) calls them natively.
//!
//! - [`grant`]: a grant POSTed by `handleCallback()`, checked by the crate's own rules.
//! - [`outcome`]: what WeChat's answer to one send means for the grant (sent, refused, retried, blocked…).
//! - [`token`]: what `cgi-bin/stable_token` answered.

pub mod grant;
pub mod outcome;
pub mod token;
