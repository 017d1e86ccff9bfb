//! How the grant endpoint's answers are read, and how long to wait before trying again.

/// What to do after one attempt to post a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: the backend has the grant.
    Delivered,
    /// 408, 429, 5xx, a network error or a timeout: worth another try; the grant stays stored.
    Retry,
    /// Any other 4xx: the backend will never take it; retrying would only repeat the refusal.
    Rejected(u16),
}

/// Reads an HTTP status. Statuses a `fetch` should not end on (1xx, 3xx) are retried rather than
/// trusted either way, so an odd proxy never costs a grant.
///
/// ```
/// use wx_subscribemsg::delivery::{verdict, Verdict};
/// assert_eq!(verdict(204), Verdict::Delivered);
/// assert_eq!(verdict(503), Verdict::Retry);
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

/// Longest wait between two attempts.
pub const MAX_BACKOFF_MS: u32 = 30_000;

/// The wait before retry number `retry` (0 for the first retry): `base_ms` doubled each time, capped.
pub fn backoff_ms(retry: u32, base_ms: u32) -> u32 {
    base_ms
        .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
        .min(MAX_BACKOFF_MS)
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
        for s in [0, 100, 301, 304, 408, 429, 500, 502, 503, 504, 599] {
            assert_eq!(verdict(s), Verdict::Retry, "{s}");
        }
        for s in [400, 401, 403, 404, 409, 422, 499] {
            assert_eq!(verdict(s), Verdict::Rejected(s), "{s}");
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(
            (0..5).map(|r| backoff_ms(r, 500)).collect::<Vec<_>>(),
            [500, 1000, 2000, 4000, 8000]
        );
        assert_eq!(backoff_ms(10, 500), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(40, 500), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(3, 0), 0);
    }
}
