//! When the page posts a grant again: every timing rule of delivery, so that `js/delivery.js` only waits what it
//! is told (`checkOptions()` hands it the timeout and the waits before each retry).

use crate::prelude::*;

/// Retries after the first attempt, by default, and at most.
pub const DEFAULT_RETRIES: u32 = 3;
/// The most retries `retries` may ask for.
pub const MAX_RETRIES: u32 = 10;
/// How long one attempt may take before it counts as no answer, by default (ms).
pub const DEFAULT_TIMEOUT_MS: u32 = 8_000;
/// The longest `timeoutMs` (ms).
pub const MAX_TIMEOUT_MS: u32 = 120_000;
/// The wait before the first retry, by default (ms); each later wait doubles it.
pub const DEFAULT_RETRY_DELAY_MS: u32 = 500;
/// The longest `retryDelayMs` (ms).
pub const MAX_RETRY_DELAY_MS: u32 = 60_000;
/// No wait between two attempts is longer than this (ms): the user is on the page, waiting for its answer.
pub const MAX_BACKOFF_MS: u32 = 30_000;

/// The waits before each of `retries` retries: `first_ms`, doubled each time, none over [`MAX_BACKOFF_MS`].
///
/// ```
/// use wx_subscribemsg::subscription::retry::delays;
/// assert_eq!(delays(3, 500), [500, 1000, 2000]);
/// assert_eq!(delays(4, 20_000), [20_000, 30_000, 30_000, 30_000]);
/// ```
pub fn delays(retries: u32, first_ms: u32) -> Vec<u32> {
    let mut wait = first_ms.min(MAX_BACKOFF_MS);
    (0..retries)
        .map(|_| {
            let this = wait;
            wait = wait.saturating_mul(2).min(MAX_BACKOFF_MS);
            this
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_default_schedule_doubles_from_half_a_second() {
        assert_eq!(delays(DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS), [500, 1000, 2000]);
        assert_eq!(delays(0, 500), [0u32; 0]);
        assert_eq!(delays(2, 0), [0, 0]);
    }

    #[test]
    fn no_wait_exceeds_the_cap() {
        let longest = delays(MAX_RETRIES, MAX_RETRY_DELAY_MS);
        assert_eq!(longest, [MAX_BACKOFF_MS; MAX_RETRIES as usize]);
        let doubling = delays(MAX_RETRIES, 500);
        assert_eq!(
            doubling,
            [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]
        );
    }
}
