//! What WeChat's answer to the send request means, and what to do about it.

use crate::prelude::*;
use crate::server::outcome::{Effect, QUOTA_PAUSE_MS, RATE_PAUSE_MS};
use serde::Deserialize;

/// What to do with a failed send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Sent; nothing to do.
    Done,
    /// Do not retry the same request: it will fail the same way.
    No,
    /// Retry later, with backoff.
    Later,
    /// Get a fresh access_token, then retry once.
    AfterTokenRefresh,
}

impl Retry {
    /// snake_case, as JS sees it.
    pub fn as_str(self) -> &'static str {
        match self {
            Retry::Done => "done",
            Retry::No => "no",
            Retry::Later => "later",
            Retry::AfterTokenRefresh => "refresh_token",
        }
    }
}

/// One row of the errcode table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errcode {
    /// WeChat's number.
    pub errcode: i64,
    /// A stable snake_case name.
    pub name: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// What to do.
    pub action: &'static str,
    /// Whether and when to retry: derived from `effect`.
    pub retry: Retry,
    /// What the answer does to the grant it was sent for (the server's decision table,
    /// [`crate::server::outcome::decide`], reads it).
    pub effect: Effect,
}

/// A row, with `retry` derived from `effect` so the two cannot disagree.
const fn row(errcode: i64, name: &'static str, meaning: &'static str, action: &'static str, effect: Effect) -> Errcode {
    Errcode {
        errcode,
        name,
        meaning,
        action,
        retry: effect.retry(),
        effect,
    }
}

const TABLE: &[Errcode] = &[
    row(0, "ok", "The message was sent.", "Nothing; the grant's one permit is now used.", Effect::Sent),
    row(-1, "system_busy", "WeChat's system is busy.", "Retry after a short wait, with backoff.", Effect::Backoff),
    row(40001, "invalid_credential", "The access_token is invalid or not the latest (another server refreshed it, or the AppSecret is wrong).", "Get a fresh access_token from your single token service and retry once.", Effect::NewToken),
    row(42001, "access_token_expired", "The access_token expired (they last 2 hours).", "Get a fresh access_token and retry once.", Effect::NewToken),
    row(40014, "invalid_access_token", "The access_token is not a valid token (malformed, cut, or from another API).", "Get a fresh access_token from your token service and retry once.", Effect::NewToken),
    row(41001, "access_token_missing", "The request has no access_token.", "Add ?access_token= to the URL (from your token service) and retry.", Effect::NewToken),
    row(40164, "invalid_ip", "The calling server's IP address is not on the account's IP whitelist.", "Add the server's outbound IP to the whitelist under Settings > Basic configuration; do not retry until then.", Effect::StopQueue),
    row(45009, "api_limit_reached", "The account reached the API's daily call quota.", "Retry after the quota resets (next day), or clear the quota on the platform.", Effect::Pause(QUOTA_PAUSE_MS)),
    row(45011, "api_minute_limit_reached", "The account calls the API too often: the per-minute rate limit.", "Slow down: retry in a minute.", Effect::Pause(RATE_PAUSE_MS)),
    row(40013, "invalid_appid", "The AppID is not valid (an answer of the token endpoint).", "Check the AppID the token provider uses; do not retry until then.", Effect::StopQueue),
    row(40125, "invalid_appsecret", "The AppSecret is wrong (an answer of the token endpoint).", "Check the AppSecret (Settings and Development > Basic configuration); do not retry until then.", Effect::StopQueue),
    row(47001, "data_format_error", "The body is not valid JSON or not in the expected shape.", "Send the body buildSendRequest returns, as JSON, with Content-Type: application/json; do not retry.", Effect::Block),
    row(40003, "invalid_openid", "touser is not an openid of this Service Account.", "Check that the grant came from this AppID's consent callback; do not retry.", Effect::Block),
    row(40037, "invalid_template_id", "template_id is not a one-time subscription template of this account (often a 'subscription notification' template used by mistake).", "Use the template ID from the interface permission list's one-time subscription entry; do not retry.", Effect::Block),
    row(43101, "user_refused", "The user has not authorized this template and scene, or the one permit of the authorization is already used (authorizing again under the same scene does not add permits).", "Ask the user to subscribe again; a second message at once needs a second scene.", Effect::NoPermit),
    row(47003, "argument_invalid", "An argument is invalid: a title over 15 characters, content over 200, a malformed url or miniprogram, or data not in the template's format.", "Fix the request (buildSendRequest validates these); do not retry.", Effect::Block),
    row(48001, "api_unauthorized", "The account has no permission for this API (not a certified Service Account).", "Check the interface permission list on the platform; do not retry.", Effect::StopQueue),
];

const UNKNOWN: Errcode = row(
    0,
    "unknown",
    "An errcode this table does not know.",
    "Read errmsg and WeChat's global return codes; do not retry blindly.",
    Effect::Block,
);

/// The row for `errcode`.
///
/// ```
/// use wx_subscribemsg::wechat::errcode::{explain, Retry};
/// assert_eq!(explain(43101).name, "user_refused");
/// assert_eq!(explain(42001).retry, Retry::AfterTokenRefresh);
/// assert_eq!(explain(12345).name, "unknown");
/// ```
pub fn explain(errcode: i64) -> Errcode {
    TABLE
        .iter()
        .copied()
        .find(|row| row.errcode == errcode)
        .unwrap_or(Errcode { errcode, ..UNKNOWN })
}

/// The row named `name` (the table's names and `unknown`), e.g. to read back a grant's recorded outcome.
///
/// ```
/// use wx_subscribemsg::wechat::errcode::by_name;
/// assert_eq!(by_name("user_refused").map(|row| row.errcode), Some(43101));
/// assert!(by_name("no_such_name").is_none());
/// ```
pub fn by_name(name: &str) -> Option<Errcode> {
    TABLE.iter().chain([&UNKNOWN]).copied().find(|row| row.name == name)
}

/// WeChat's answer to the send request: `{"errcode":0,"errmsg":"ok"}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SendResponse {
    /// 0 on success.
    pub errcode: i64,
    /// WeChat's own words.
    #[serde(default)]
    pub errmsg: String,
}

impl SendResponse {
    /// The table's row for this answer.
    pub fn explain(&self) -> Errcode {
        explain(self.errcode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn every_documented_code_has_a_row() {
        for (code, name, retry) in [
            (0, "ok", Retry::Done),
            (-1, "system_busy", Retry::Later),
            (40001, "invalid_credential", Retry::AfterTokenRefresh),
            (42001, "access_token_expired", Retry::AfterTokenRefresh),
            (40003, "invalid_openid", Retry::No),
            (40037, "invalid_template_id", Retry::No),
            (43101, "user_refused", Retry::No),
            (47003, "argument_invalid", Retry::No),
            (48001, "api_unauthorized", Retry::No),
            (41001, "access_token_missing", Retry::AfterTokenRefresh),
            (40164, "invalid_ip", Retry::No),
            (45009, "api_limit_reached", Retry::Later),
            (47001, "data_format_error", Retry::No),
            (40014, "invalid_access_token", Retry::AfterTokenRefresh),
            (45011, "api_minute_limit_reached", Retry::Later),
            (40013, "invalid_appid", Retry::No),
            (40125, "invalid_appsecret", Retry::No),
        ] {
            let row = explain(code);
            assert_eq!((row.errcode, row.name, row.retry), (code, name, retry));
            assert!(!row.meaning.is_empty() && !row.action.is_empty());
        }
        let unknown = explain(99999);
        assert_eq!(
            (unknown.errcode, unknown.name, unknown.retry),
            (99999, "unknown", Retry::No)
        );
        assert!(explain(40037).meaning.contains("subscription notification"));
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn reads_wechats_answer() {
        let answer: SendResponse =
            serde_json::from_str(r#"{"errcode":43101,"errmsg":"user refuse to accept the msg rid: 1"}"#).unwrap();
        assert_eq!(answer.explain().name, "user_refused");
        let ok: SendResponse = serde_json::from_str(r#"{"errcode":0}"#).unwrap();
        assert_eq!(ok.explain().retry, Retry::Done);
    }
}
