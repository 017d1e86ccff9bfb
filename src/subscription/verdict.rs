//! What the grant endpoint's answer to one POST means for the grant.
//!
//! The decision lives here, in the core; `js/delivery.js` only reports what it saw (a status, a redirect, or
//! no answer) and decides when to try again and when to stop.

/// A redirect of any kind. `fetch` with `redirect: 'manual'` hides the real 3xx status, and a followed
/// redirect would hand over the answer of another page (a login page's 200 must not count as a delivery).
pub const REDIRECTED: u16 = 300;

/// No answer: a network error, a timeout, or a CORS failure.
pub const NO_ANSWER: u16 = 0;

/// What an answer means for the grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx from the endpoint itself: the backend has the grant.
    Delivered,
    /// No answer, a redirect, 408, 429, 5xx, or anything else that is not a refusal: the grant stays undelivered
    /// and is posted again (now with backoff, or by `retryDeliveries()` later).
    Retry,
    /// Any other 4xx: the backend will never take it; posting again would only repeat the refusal.
    Rejected(u16),
}

/// Reads an answer: an HTTP status, [`REDIRECTED`] or [`NO_ANSWER`]. Statuses a POST should not end on
/// (1xx, 3xx) are never trusted as a delivery, so an odd proxy or an expired session never costs a grant.
///
/// ```
/// use wx_subscribemsg::subscription::verdict::{verdict, Verdict, REDIRECTED};
/// assert_eq!(verdict(204), Verdict::Delivered);
/// assert_eq!(verdict(503), Verdict::Retry);
/// assert_eq!(verdict(REDIRECTED), Verdict::Retry);
/// assert_eq!(verdict(403), Verdict::Rejected(403));
/// ```
pub fn verdict(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        408 | 429 => Verdict::Retry,
        400..=499 => Verdict::Rejected(status),
        _ => Verdict::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn statuses() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(verdict(s), Verdict::Delivered, "{s}");
        }
        for s in [
            NO_ANSWER, REDIRECTED, 100, 301, 302, 303, 304, 307, 308, 408, 429, 500, 502, 503, 504, 599, 600,
        ] {
            assert_eq!(verdict(s), Verdict::Retry, "{s}");
        }
        for s in [400, 401, 403, 404, 409, 422, 499] {
            assert_eq!(verdict(s), Verdict::Rejected(s), "{s}");
        }
    }
}
