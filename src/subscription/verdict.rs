//! What the grant endpoint's answer to one POST means for the grant.
//!
//! The decision lives here, in the core; `js/delivery.js` only reports what it saw (a [`Reply`]) and waits what
//! [`crate::subscription::retry`] tells it between attempts.

/// What one POST of a grant got back, as `js/delivery.js` reports it: `number | 'redirected' | 'no_answer'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The endpoint itself answered with this HTTP status.
    Status(u16),
    /// A redirect of any kind. `fetch` with `redirect: 'manual'` hides the real 3xx status, and a followed
    /// redirect would hand over the answer of another page (a login page's 200 must not count as a delivery).
    Redirected,
    /// No answer: a network error, a timeout, or a CORS failure.
    NoAnswer,
}

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

/// Reads a reply. Statuses a POST should not end on (1xx, 3xx, anything outside HTTP's range) are never trusted
/// as a delivery, so an odd proxy or an expired session never costs a grant.
///
/// ```
/// use wx_subscribemsg::subscription::verdict::{verdict, Reply, Verdict};
/// assert_eq!(verdict(Reply::Status(204)), Verdict::Delivered);
/// assert_eq!(verdict(Reply::Status(503)), Verdict::Retry);
/// assert_eq!(verdict(Reply::Redirected), Verdict::Retry);
/// assert_eq!(verdict(Reply::Status(403)), Verdict::Rejected(403));
/// ```
pub fn verdict(reply: Reply) -> Verdict {
    match reply {
        Reply::Status(200..=299) => Verdict::Delivered,
        Reply::Status(408 | 429) => Verdict::Retry,
        Reply::Status(status @ 400..=499) => Verdict::Rejected(status),
        Reply::Status(_) | Reply::Redirected | Reply::NoAnswer => Verdict::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn replies() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(verdict(Reply::Status(s)), Verdict::Delivered, "{s}");
        }
        for s in [
            0, 100, 199, 300, 301, 302, 303, 304, 307, 308, 408, 429, 500, 502, 503, 504, 599, 600, 999,
        ] {
            assert_eq!(verdict(Reply::Status(s)), Verdict::Retry, "{s}");
        }
        assert_eq!(verdict(Reply::Redirected), Verdict::Retry);
        assert_eq!(verdict(Reply::NoAnswer), Verdict::Retry);
        for s in [400, 401, 403, 404, 409, 422, 499] {
            assert_eq!(verdict(Reply::Status(s)), Verdict::Rejected(s), "{s}");
        }
    }
}
