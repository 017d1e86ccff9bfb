//! What one send attempt's result means for the grant: the decision table of "send exactly once".
//!
//! A grant moves `stored → sending (lease) → sent | refused | blocked | unknown`, or back to `stored` to be
//! retried. [`decide`] takes what happened to one attempt — WeChat's errcode, or no answer at all — and says
//! which state the grant goes to, whether to retry at once with a new access_token, and whether the whole
//! queue stops or pauses. What each errcode does to a grant is the [`Effect`] column of the one errcode table
//! ([`crate::wechat::errcode`]): this module reads it, it does not repeat it.
//!
//! The rules that are not per errcode:
//! - **The token, once.** 40001/40014/42001/41001 mean the token was refused before anything else: get a new one
//!   and retry once ([`Decision::retry_with_new_token`]). The same answer after a refresh puts the grant back
//!   with backoff: never a loop.
//! - **Bounded backoff.** -1 (busy), no answer, and a token refused twice retry after 1 s, 2 s, 4 s … doubling per
//!   attempt up to [`BACKOFF_CAP_MS`] (5 minutes). After [`MAX_ATTEMPTS`] attempts the grant is `blocked`
//!   (`retries_exhausted`): kept, not retried automatically, until the site unblocks it.
//! - **Quotas pause the queue.** 45011 (the per-minute rate) pauses everything for [`RATE_PAUSE_MS`] (one
//!   minute, as WeChat's errmsg asks); 45009 (the daily quota) for [`QUOTA_PAUSE_MS`] (one hour: the quota resets
//!   at midnight Beijing time or when the site clears it on the platform, and one call an hour finds out). The
//!   grant is `stored`, however many attempts it has had. (Attempts are the store's claims, pauses and grants
//!   given back unsent included: a grant that waited through many pauses has fewer backoff retries left.)
//! - **No answer.** A network failure or timeout after the request may have reached WeChat: WeChat may have
//!   delivered. Retrying is safe, because WeChat answers 43101 rather than deliver a second message for one
//!   permit — unless a newer grant of the same (openid, template, scene) is stored: two Allows make one permit,
//!   so a retry could spend the newer grant's. Then the old grant ends `unknown` (never retried).
//! - **43101 after a lost answer means sent.** An Allow gave this grant a permit. If an earlier attempt of this
//!   grant may have reached WeChat (its answer was lost, or the sender crashed after sending), a 43101 now says
//!   the permit is spent — most likely by that earlier attempt, which delivered the message. The grant ends
//!   `sent` (`sent_earlier`), not `refused`: the user got the one message. The mark is kept: every later attempt
//!   that puts the grant back records `no_answer` (its errcode tells the latest answer). See
//!   [`prior_attempt_may_have_reached_wechat`] for how a sender knows, and the one case it cannot.

use crate::wechat::errcode;

/// The outcome name of an attempt that got no answer, kept by the later attempts that put the grant back.
pub const NO_ANSWER: &str = "no_answer";

/// The name a sender records when it gives a claimed grant back without sending it (its worker paused or
/// stopped): [`prior_attempt_may_have_reached_wechat`] knows that nothing went to WeChat.
pub const NOT_SENT: &str = "not_sent";

/// Most attempts (claims) of one grant retried for transient causes before it is `blocked`.
pub const MAX_ATTEMPTS: u32 = 10;
/// First backoff delay; doubles with every attempt.
pub const BACKOFF_FIRST_MS: u64 = 1_000;
/// Longest backoff delay.
pub const BACKOFF_CAP_MS: u64 = 5 * 60 * 1_000;
/// The pause after 45011 (the API's per-minute rate limit).
pub const RATE_PAUSE_MS: u64 = 60 * 1_000;
/// The pause after 45009 (the daily quota).
pub const QUOTA_PAUSE_MS: u64 = 60 * 60 * 1_000;

/// What an errcode of the send API does to the grant: the errcode table's column ([`errcode::Errcode::effect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Delivered: the grant's permit is used.
    Sent,
    /// No permit for (openid, template, scene): used, or never given.
    NoPermit,
    /// The access_token was refused before anything else: get a new one and retry once.
    NewToken,
    /// WeChat is busy: retry with backoff.
    Backoff,
    /// A quota or rate limit of the whole account: every send waits this many milliseconds.
    Pause(u64),
    /// This request cannot succeed as it is (a template, openid or argument problem, or an errcode nobody
    /// knows); the permit is unused, and the grant can be sent once the cause is fixed and it is unblocked.
    Block,
    /// The account's setup refuses every send (IP whitelist, API permission, credentials): block the grant and
    /// stop the queue until someone fixes it.
    StopQueue,
}

impl Effect {
    /// The coarse advice `explainErrcode` gives as `retry`, derived so the two cannot disagree.
    pub const fn retry(self) -> errcode::Retry {
        match self {
            Effect::Sent => errcode::Retry::Done,
            Effect::NewToken => errcode::Retry::AfterTokenRefresh,
            Effect::Backoff | Effect::Pause(_) => errcode::Retry::Later,
            Effect::NoPermit | Effect::Block | Effect::StopQueue => errcode::Retry::No,
        }
    }
}

/// Where a grant goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantState {
    /// Waiting to be sent (again), claimable from its due time.
    Stored,
    /// The message was delivered: the permit is used. Final.
    Sent,
    /// WeChat has no permit for it. Final.
    Refused,
    /// Kept with its permit unused, not retried until the site unblocks it.
    Blocked,
    /// May or may not have been delivered, and retrying could spend another grant's permit. Final.
    Unknown,
}

impl GrantState {
    /// The state's name in the store and in JS.
    pub const fn as_str(self) -> &'static str {
        match self {
            GrantState::Stored => "stored",
            GrantState::Sent => "sent",
            GrantState::Refused => "refused",
            GrantState::Blocked => "blocked",
            GrantState::Unknown => "unknown",
        }
    }
}

/// What happened to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// WeChat answered with this errcode.
    Answered {
        /// WeChat's errcode (0 on success).
        errcode: i64,
        /// This answer came from the retry with a freshly fetched token.
        token_refreshed: bool,
        /// An earlier attempt of this grant may have reached WeChat ([`prior_attempt_may_have_reached_wechat`]).
        prior_may_have_reached_wechat: bool,
    },
    /// No answer: a network failure, a timeout, or an answer without an errcode. The request may have reached
    /// WeChat.
    NoAnswer {
        /// A newer grant of the same (openid, template, scene) is `stored` or `sending`.
        newer_grant: bool,
    },
}

/// One attempt's result with the grant's attempt count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendInput {
    /// What happened.
    pub attempt: Attempt,
    /// Attempts claimed so far, this one included (1 on the first).
    pub attempts: u32,
}

/// What to do with the grant after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The grant's next state.
    pub state: GrantState,
    /// Why, as a stable snake_case name: the errcode's name in [`crate::wechat::errcode`], or one of `sent_earlier`,
    /// `no_answer`, `no_answer_newer_grant`, `retries_exhausted`. The store keeps it as the grant's `detail`.
    /// After an attempt that may have reached WeChat, a grant put back or blocked keeps `no_answer` (the errcode
    /// tells the latest answer): see [`prior_attempt_may_have_reached_wechat`].
    pub name: &'static str,
    /// Get a new access_token (invalidating the refused one) and send again now, within this attempt. When the
    /// caller cannot, it applies `state` (stored, with `retry_in_ms`).
    pub retry_with_new_token: bool,
    /// Stop sending anything until someone fixes the account's setup.
    pub stop_queue: bool,
    /// Pause every send for `retry_in_ms` (a quota or rate limit of the whole account).
    pub pause_queue: bool,
    /// With state `stored`: when to try again, in milliseconds from now.
    pub retry_in_ms: Option<u64>,
}

impl Decision {
    const fn new(state: GrantState, name: &'static str) -> Self {
        Decision {
            state,
            name,
            retry_with_new_token: false,
            stop_queue: false,
            pause_queue: false,
            retry_in_ms: None,
        }
    }

    const fn retry_in(name: &'static str, ms: u64) -> Self {
        Decision {
            retry_in_ms: Some(ms),
            ..Decision::new(GrantState::Stored, name)
        }
    }
}

/// The delay before retrying after attempt number `attempts`: 1 s, 2 s, 4 s … up to [`BACKOFF_CAP_MS`].
///
/// ```
/// use wx_subscribemsg::server::outcome::{backoff_ms, BACKOFF_CAP_MS};
/// assert_eq!((backoff_ms(1), backoff_ms(2), backoff_ms(3)), (1_000, 2_000, 4_000));
/// assert_eq!(backoff_ms(40), BACKOFF_CAP_MS);
/// ```
pub fn backoff_ms(attempts: u32) -> u64 {
    let doublings = attempts.saturating_sub(1).min(32);
    BACKOFF_FIRST_MS.saturating_mul(1 << doublings).min(BACKOFF_CAP_MS)
}

/// A transient failure: backoff while attempts remain, `blocked` after [`MAX_ATTEMPTS`].
fn retry_or_block(name: &'static str, attempts: u32) -> Decision {
    if attempts >= MAX_ATTEMPTS {
        Decision::new(GrantState::Blocked, "retries_exhausted")
    } else {
        Decision::retry_in(name, backoff_ms(attempts))
    }
}

/// The decision table.
///
/// ```
/// use wx_subscribemsg::server::outcome::{decide, Attempt, GrantState, SendInput};
/// let answered = |errcode, attempts| SendInput {
///     attempt: Attempt::Answered { errcode, token_refreshed: false, prior_may_have_reached_wechat: false },
///     attempts,
/// };
/// assert_eq!(decide(answered(0, 1)).state, GrantState::Sent);
/// assert_eq!(decide(answered(43101, 1)).state, GrantState::Refused);
/// assert!(decide(answered(40001, 1)).retry_with_new_token);
/// ```
pub fn decide(input: SendInput) -> Decision {
    let decision = decide_one(input);
    // Sticky: once an attempt may have reached WeChat, a grant put back (or blocked) records `no_answer`, not the
    // latest answer's name (its errcode says that), so the attempts after it still know the permit may be spent.
    let maybe_delivered = match input.attempt {
        Attempt::NoAnswer { .. } => true,
        Attempt::Answered {
            prior_may_have_reached_wechat,
            ..
        } => prior_may_have_reached_wechat,
    };
    match decision.state {
        GrantState::Stored | GrantState::Blocked if maybe_delivered => Decision {
            name: NO_ANSWER,
            ..decision
        },
        _ => decision,
    }
}

/// The table for one attempt, before the `no_answer` mark is kept.
fn decide_one(input: SendInput) -> Decision {
    let SendInput { attempt, attempts } = input;
    let (errcode, token_refreshed, prior_may_have_reached) = match attempt {
        Attempt::NoAnswer { newer_grant: true } => return Decision::new(GrantState::Unknown, "no_answer_newer_grant"),
        Attempt::NoAnswer { newer_grant: false } => return retry_or_block(NO_ANSWER, attempts),
        Attempt::Answered {
            errcode,
            token_refreshed,
            prior_may_have_reached_wechat,
        } => (errcode, token_refreshed, prior_may_have_reached_wechat),
    };
    let row = errcode::explain(errcode);
    match row.effect {
        Effect::Sent => Decision::new(GrantState::Sent, row.name),
        Effect::NoPermit if prior_may_have_reached => Decision::new(GrantState::Sent, "sent_earlier"),
        Effect::NoPermit => Decision::new(GrantState::Refused, row.name),
        Effect::NewToken if !token_refreshed => Decision {
            retry_with_new_token: true,
            ..retry_or_block(row.name, attempts)
        },
        Effect::NewToken | Effect::Backoff => retry_or_block(row.name, attempts),
        Effect::Pause(ms) => Decision {
            pause_queue: true,
            ..Decision::retry_in(row.name, ms)
        },
        Effect::Block => Decision::new(GrantState::Blocked, row.name),
        Effect::StopQueue => Decision {
            stop_queue: true,
            ..Decision::new(GrantState::Blocked, row.name)
        },
    }
}

/// Whether an earlier attempt of a grant may have reached WeChat, from what its store keeps: `attempts` (claims
/// so far, the one about to be made or just made included) and `last_detail` (the name the last finished
/// attempt recorded, `None` when none finished).
///
/// An attempt that got no answer records `no_answer`, and [`decide`] keeps that name on every later attempt that
/// puts the grant back, so the mark survives -1s, quotas and refused tokens. An attempt whose sender died records
/// nothing: a grant claimed again with no detail at all had every earlier attempt die, so they may have reached
/// WeChat. What the store cannot tell is a sender that died after an earlier attempt had recorded an answer that
/// sent nothing (say -1): that detail stays, and a 43101 then ends the grant `refused` although the dead sender's
/// request may have delivered. That needs a death between WeChat's answer and the store's update on a retry,
/// and it errs towards `refused` (a grant the user may have to allow again), never towards a second message.
///
/// ```
/// use wx_subscribemsg::server::outcome::prior_attempt_may_have_reached_wechat as may;
/// assert!(!may(1, None));
/// assert!(may(2, None));                  // the first attempt never finished: its sender died
/// assert!(may(5, Some("no_answer")));
/// assert!(!may(2, Some("system_busy")));  // WeChat answered -1: nothing sent
/// assert!(!may(9, Some("api_limit_reached")));
/// ```
pub fn prior_attempt_may_have_reached_wechat(attempts: u32, last_detail: Option<&str>) -> bool {
    attempts > 1 && last_detail.is_none_or(|name| !answered_without_sending(name))
}

/// `name` is what a finished attempt records when WeChat answered and delivered nothing.
fn answered_without_sending(name: &str) -> bool {
    name != NO_ANSWER
        && name != "no_answer_newer_grant"
        && name != "sent_earlier"
        && (name == "retries_exhausted"
            || name == NOT_SENT
            || errcode::by_name(name).is_some_and(|row| row.effect != Effect::Sent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::Vec;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn answered(errcode: i64, attempts: u32, token_refreshed: bool, prior: bool) -> Decision {
        decide(SendInput {
            attempt: Attempt::Answered {
                errcode,
                token_refreshed,
                prior_may_have_reached_wechat: prior,
            },
            attempts,
        })
    }

    fn no_answer(attempts: u32, newer_grant: bool) -> Decision {
        decide(SendInput {
            attempt: Attempt::NoAnswer { newer_grant },
            attempts,
        })
    }

    /// (state, name, retry_with_new_token, stop_queue, pause_queue, retry_in_ms)
    fn row(d: Decision) -> (&'static str, &'static str, bool, bool, bool, Option<u64>) {
        (
            d.state.as_str(),
            d.name,
            d.retry_with_new_token,
            d.stop_queue,
            d.pause_queue,
            d.retry_in_ms,
        )
    }

    #[test]
    fn the_table_row_by_row() {
        use GrantState::*;
        let s = |state: GrantState| state.as_str();
        for (errcode, expected) in [
            (0, (s(Sent), "ok", false, false, false, None)),
            (43101, (s(Refused), "user_refused", false, false, false, None)),
            (
                40001,
                (s(Stored), "invalid_credential", true, false, false, Some(1_000)),
            ),
            (
                40014,
                (s(Stored), "invalid_access_token", true, false, false, Some(1_000)),
            ),
            (
                42001,
                (s(Stored), "access_token_expired", true, false, false, Some(1_000)),
            ),
            (
                41001,
                (s(Stored), "access_token_missing", true, false, false, Some(1_000)),
            ),
            (-1, (s(Stored), "system_busy", false, false, false, Some(1_000))),
            (
                45009,
                (s(Stored), "api_limit_reached", false, false, true, Some(QUOTA_PAUSE_MS)),
            ),
            (
                45011,
                (
                    s(Stored),
                    "api_minute_limit_reached",
                    false,
                    false,
                    true,
                    Some(RATE_PAUSE_MS),
                ),
            ),
            (40164, (s(Blocked), "invalid_ip", false, true, false, None)),
            (48001, (s(Blocked), "api_unauthorized", false, true, false, None)),
            (40003, (s(Blocked), "invalid_openid", false, false, false, None)),
            (40037, (s(Blocked), "invalid_template_id", false, false, false, None)),
            (47003, (s(Blocked), "argument_invalid", false, false, false, None)),
            (47001, (s(Blocked), "data_format_error", false, false, false, None)),
            (12345, (s(Blocked), "unknown", false, false, false, None)),
        ] {
            assert_eq!(row(answered(errcode, 1, false, false)), expected, "errcode {errcode}");
        }
    }

    #[test]
    fn a_refused_token_is_refreshed_once_never_in_a_loop() {
        for errcode in [40001, 40014, 42001] {
            let after = answered(errcode, 1, true, false);
            assert!(!after.retry_with_new_token);
            assert_eq!((after.state, after.retry_in_ms), (GrantState::Stored, Some(1_000)));
        }
    }

    #[test]
    fn backoff_is_bounded_and_ends_blocked() {
        let delays: Vec<_> = (1..MAX_ATTEMPTS)
            .map(|n| answered(-1, n, false, false).retry_in_ms.unwrap())
            .collect();
        assert_eq!(&delays[..4], &[1_000, 2_000, 4_000, 8_000]);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
        assert!(delays.iter().all(|&d| d <= BACKOFF_CAP_MS));
        assert_eq!(backoff_ms(0), 1_000);
        assert_eq!(backoff_ms(u32::MAX), BACKOFF_CAP_MS);
        assert_eq!(
            row(answered(-1, MAX_ATTEMPTS, false, false)),
            ("blocked", "retries_exhausted", false, false, false, None)
        );
        // Exhausted after answers lost: blocked, and still marked as maybe delivered.
        assert_eq!(
            row(no_answer(MAX_ATTEMPTS + 5, false)),
            ("blocked", "no_answer", false, false, false, None)
        );
        // A quota pause is not the grant's fault: it never exhausts the attempts.
        assert_eq!(answered(45009, 50, false, false).state, GrantState::Stored);
    }

    #[test]
    fn no_answer_retries_unless_a_newer_grant_could_lose_its_permit() {
        assert_eq!(
            row(no_answer(1, false)),
            ("stored", "no_answer", false, false, false, Some(1_000))
        );
        assert_eq!(row(no_answer(3, false)).5, Some(4_000));
        assert_eq!(
            row(no_answer(1, true)),
            ("unknown", "no_answer_newer_grant", false, false, false, None)
        );
    }

    #[test]
    fn a_spent_permit_after_a_lost_answer_is_our_own_message() {
        assert_eq!(answered(43101, 2, false, true).state, GrantState::Sent);
        assert_eq!(answered(43101, 2, false, true).name, "sent_earlier");
        assert_eq!(answered(43101, 2, true, true).state, GrantState::Sent);
        assert_eq!(answered(43101, 2, false, false).state, GrantState::Refused);
        // Other answers keep their state; a grant put back or blocked keeps the mark.
        assert_eq!(answered(0, 2, false, true).name, "ok");
        assert_eq!(
            row(answered(40003, 2, false, true)),
            ("blocked", "no_answer", false, false, false, None)
        );
        assert_eq!(
            row(answered(-1, 3, false, true)),
            ("stored", "no_answer", false, false, false, Some(4_000))
        );
        let pause = answered(45011, 3, false, true);
        assert_eq!((pause.name, pause.pause_queue), ("no_answer", true));
        let token = answered(40001, 3, false, true);
        assert_eq!((token.name, token.retry_with_new_token), ("no_answer", true));
    }

    #[test]
    fn which_earlier_attempts_may_have_reached_wechat() {
        let may = prior_attempt_may_have_reached_wechat;
        assert!(!may(0, None) && !may(1, None) && !may(1, Some("no_answer")));
        assert!(may(2, None) && may(7, None));
        for name in [
            "no_answer",
            "no_answer_newer_grant",
            "sent_earlier",
            "ok",
            "not_a_name",
            "",
        ] {
            assert!(may(2, Some(name)) && may(9, Some(name)), "{name}");
        }
        for name in [
            "system_busy",
            "invalid_credential",
            "api_limit_reached",
            "invalid_openid",
            "retries_exhausted",
            "unknown",
            NOT_SENT,
        ] {
            assert!(!may(2, Some(name)) && !may(9, Some(name)), "{name}");
        }
    }

    #[test]
    fn the_coarse_retry_advice_follows_the_effect() {
        assert_eq!(Effect::Pause(1).retry(), errcode::Retry::Later);
        assert_eq!(Effect::StopQueue.retry(), errcode::Retry::No);
        assert_eq!(Effect::NewToken.retry(), errcode::Retry::AfterTokenRefresh);
    }
}
