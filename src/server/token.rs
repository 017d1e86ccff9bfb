//! What WeChat's `cgi-bin/stable_token` answered: a token with how long to keep it, or a typed error.
//!
//! `POST https://api.weixin.qq.com/cgi-bin/stable_token` with
//! `{"grant_type":"client_credential","appid":…,"secret":…,"force_refresh":false}` answers
//! `{"access_token":"…","expires_in":7200}`, or `{"errcode":40125,"errmsg":"…"}`. In this normal mode every
//! caller gets the same token while it is valid (`expires_in` is then what is left of it), so several processes
//! and machines need no lock and do not invalidate each other's token, unlike the older `cgi-bin/token`.
//!
//! A token is kept for `expires_in` minus a margin ([`cache_ms`]), so it is replaced before WeChat stops
//! accepting it. Errors never carry the token or the secret: [`AccessToken`]'s `Debug` hides it, and the
//! messages are fixed texts with the errcode's name.

use crate::prelude::*;

use crate::error::{Error, Result};
use crate::server::outcome::Effect;
use crate::wechat::errcode;

/// The token endpoint.
pub const STABLE_TOKEN_API: &str = "https://api.weixin.qq.com/cgi-bin/stable_token";

/// The longest margin kept before a token's expiry: five minutes.
pub const MAX_MARGIN_MS: u64 = 5 * 60 * 1_000;

/// Longest token accepted: WeChat asks for room for at least 512 characters.
pub const MAX_TOKEN_LEN: usize = 2_048;

/// An access_token. Its `Debug` does not show it, so it cannot reach a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// The token, to put in a request's `access_token` query parameter and nowhere else.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AccessToken(…)")
    }
}

/// A token and how long to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StableToken {
    /// The token.
    pub token: AccessToken,
    /// WeChat's `expires_in`, in seconds.
    pub expires_in_s: u64,
    /// How long to keep using it, in milliseconds from when the answer arrived: [`cache_ms`].
    pub cache_ms: u64,
}

/// The answer's fields that matter, as read from its JSON (absent fields `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TokenAnswer<'a> {
    /// `access_token`.
    pub access_token: Option<&'a str>,
    /// `expires_in`, a number of seconds.
    pub expires_in: Option<f64>,
    /// `errcode`, present on a refusal (and 0 on some successes).
    pub errcode: Option<f64>,
}

/// How long to keep a token that expires in `expires_in_s` seconds: its lifetime minus a margin of a tenth of
/// it, at most [`MAX_MARGIN_MS`] (7200 s → 6900 s). A token with little left (normal mode returns what is left)
/// is kept for the part before its margin, so a refresh near expiry asks again a few times, never in a loop.
///
/// ```
/// use wx_subscribemsg::server::token::cache_ms;
/// assert_eq!(cache_ms(7200), 6_900_000);
/// assert_eq!(cache_ms(100), 90_000);
/// ```
pub fn cache_ms(expires_in_s: u64) -> u64 {
    let lifetime = expires_in_s.saturating_mul(1_000);
    lifetime - (lifetime / 10).min(MAX_MARGIN_MS)
}

/// Reads the answer of `cgi-bin/stable_token`.
///
/// Errors: `token_refused` (40013 invalid AppID, 40125 invalid AppSecret, 40164 IP not whitelisted, and any
/// errcode but the ones below: fix the setup; retrying cannot help), `token_rate_limited` (45009 daily quota,
/// 45011 per-minute rate: retry later), `token_unavailable` (-1 busy, or an answer that is neither a token nor an
/// errcode: retry later). Each names the errcode, never the token or the secret.
///
/// ```
/// use wx_subscribemsg::server::token::{read, TokenAnswer};
/// let ok = read(TokenAnswer { access_token: Some("ACCESS_TOKEN"), expires_in: Some(7200.0), errcode: None })?;
/// assert_eq!((ok.token.as_str(), ok.cache_ms), ("ACCESS_TOKEN", 6_900_000));
/// let refused = read(TokenAnswer { errcode: Some(40125.0), ..TokenAnswer::default() }).unwrap_err();
/// assert_eq!(refused.code(), "token_refused");
/// # Ok::<(), wx_subscribemsg::Error>(())
/// ```
pub fn read(answer: TokenAnswer<'_>) -> Result<StableToken> {
    let errcode = match answer.errcode {
        None => 0,
        Some(n) if n % 1.0 == 0.0 && n.abs() < 1e15 => n as i64,
        Some(_) => return Err(Error::TokenUnavailable(BAD_ANSWER)),
    };
    if errcode != 0 {
        let row = errcode::explain(errcode);
        return Err(match row.effect {
            Effect::Pause(_) => Error::TokenRateLimited(row.name),
            Effect::Backoff => Error::TokenUnavailable(row.name),
            _ => Error::TokenRefused(row.name),
        });
    }
    let token = answer
        .access_token
        .filter(|t| (1..=MAX_TOKEN_LEN).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or(Error::TokenUnavailable(BAD_ANSWER))?;
    let expires_in_s = answer
        .expires_in
        .filter(|n| n % 1.0 == 0.0 && *n >= 1.0 && *n <= 1e9)
        .ok_or(Error::TokenUnavailable(BAD_ANSWER))? as u64;
    Ok(StableToken {
        token: AccessToken(token.to_owned()),
        expires_in_s,
        cache_ms: cache_ms(expires_in_s),
    })
}

/// The detail of `token_unavailable` for an answer that is not what the endpoint sends.
pub const BAD_ANSWER: &str = "not a token";
/// The detail of `token_unavailable` when no answer came (network failure, timeout).
pub const NO_ANSWER: &str = "no answer";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::ToString;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn answer(token: Option<&str>, expires_in: Option<f64>, errcode: Option<f64>) -> Result<StableToken> {
        read(TokenAnswer {
            access_token: token,
            expires_in,
            errcode,
        })
    }

    #[test]
    fn a_token_is_kept_for_its_lifetime_minus_a_margin() {
        let ok = answer(Some("TOKEN_1"), Some(7200.0), Some(0.0)).unwrap();
        assert_eq!(
            (ok.token.as_str(), ok.expires_in_s, ok.cache_ms),
            ("TOKEN_1", 7200, 6_900_000)
        );
        assert_eq!(cache_ms(1), 900);
        assert_eq!(cache_ms(3000), 2_700_000);
        assert!(cache_ms(u64::MAX) > 0);
        assert!(answer(Some("T"), Some(1.0), None).is_ok());
    }

    #[test]
    fn each_refusal_is_typed_by_what_helps() {
        for (errcode, code, name) in [
            (40013.0, "token_refused", "invalid_appid"),
            (40125.0, "token_refused", "invalid_appsecret"),
            (40164.0, "token_refused", "invalid_ip"),
            (99999.0, "token_refused", "unknown"),
            (45009.0, "token_rate_limited", "api_limit_reached"),
            (45011.0, "token_rate_limited", "api_minute_limit_reached"),
            (-1.0, "token_unavailable", "system_busy"),
        ] {
            let error = answer(Some("IGNORED"), Some(7200.0), Some(errcode)).unwrap_err();
            assert_eq!(error.code(), code, "{errcode}");
            assert!(error.message().contains(name), "{errcode}: {}", error.message());
        }
    }

    #[test]
    fn a_malformed_answer_is_unavailable_not_a_token() {
        for (token, expires_in, errcode) in [
            (None, Some(7200.0), None),
            (Some(""), Some(7200.0), None),
            (Some("has space"), Some(7200.0), None),
            (Some("T"), None, None),
            (Some("T"), Some(0.0), None),
            (Some("T"), Some(-5.0), None),
            (Some("T"), Some(1.5), None),
            (Some("T"), Some(f64::NAN), None),
            (Some("T"), Some(f64::INFINITY), None),
            (Some("T"), Some(7200.0), Some(0.5)),
        ] {
            assert_eq!(
                answer(token, expires_in, errcode).unwrap_err().code(),
                "token_unavailable"
            );
        }
        let long = "x".repeat(MAX_TOKEN_LEN + 1);
        assert!(answer(Some(&long), Some(7200.0), None).is_err());
    }

    #[test]
    fn the_token_stays_out_of_debug_and_messages() {
        let ok = answer(Some("SECRET_TOKEN_VALUE"), Some(7200.0), None).unwrap();
        assert!(!std::format!("{ok:?}").contains("SECRET_TOKEN_VALUE"));
        let error = answer(Some("SECRET_TOKEN_VALUE"), Some(7200.0), Some(40125.0)).unwrap_err();
        assert!(!error.to_string().contains("SECRET_TOKEN_VALUE"));
    }
}
