//! What WeChat's answer to the send request means, and what to do about it.

use crate::prelude::*;
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
    /// Whether and when to retry.
    pub retry: Retry,
}

const TABLE: &[Errcode] = &[
    Errcode { errcode: 0, name: "ok", meaning: "The message was sent.", action: "Nothing; the grant's one permit is now used.", retry: Retry::Done },
    Errcode { errcode: -1, name: "system_busy", meaning: "WeChat's system is busy.", action: "Retry after a short wait, with backoff.", retry: Retry::Later },
    Errcode { errcode: 40001, name: "invalid_credential", meaning: "The access_token is invalid or not the latest (another server refreshed it, or the AppSecret is wrong).", action: "Get a fresh access_token from your single token service and retry once.", retry: Retry::AfterTokenRefresh },
    Errcode { errcode: 42001, name: "access_token_expired", meaning: "The access_token expired (they last 2 hours).", action: "Get a fresh access_token and retry once.", retry: Retry::AfterTokenRefresh },
    Errcode { errcode: 41001, name: "access_token_missing", meaning: "The request has no access_token.", action: "Add ?access_token= to the URL (from your token service) and retry.", retry: Retry::AfterTokenRefresh },
    Errcode { errcode: 40164, name: "invalid_ip", meaning: "The calling server's IP address is not on the account's IP whitelist.", action: "Add the server's outbound IP to the whitelist under Settings > Basic configuration; do not retry until then.", retry: Retry::No },
    Errcode { errcode: 45009, name: "api_limit_reached", meaning: "The account reached the API's daily call quota.", action: "Retry after the quota resets (next day), or clear the quota on the platform.", retry: Retry::Later },
    Errcode { errcode: 47001, name: "data_format_error", meaning: "The body is not valid JSON or not in the expected shape.", action: "Send the body buildSendRequest returns, as JSON, with Content-Type: application/json; do not retry.", retry: Retry::No },
    Errcode { errcode: 40003, name: "invalid_openid", meaning: "touser is not an openid of this Service Account.", action: "Check that the grant came from this AppID's consent callback; do not retry.", retry: Retry::No },
    Errcode { errcode: 40037, name: "invalid_template_id", meaning: "template_id is not a one-time subscription template of this account (often a 'subscription notification' template used by mistake).", action: "Use the template ID from the interface permission list's one-time subscription entry; do not retry.", retry: Retry::No },
    Errcode { errcode: 43101, name: "user_refused", meaning: "The user has not authorized this template and scene, or the one permit of the authorization is already used (authorizing again under the same scene does not add permits).", action: "Ask the user to subscribe again; a second message at once needs a second scene.", retry: Retry::No },
    Errcode { errcode: 47003, name: "argument_invalid", meaning: "An argument is invalid: a title over 15 characters, content over 200, a malformed url or miniprogram, or data not in the template's format.", action: "Fix the request (buildSendRequest validates these); do not retry.", retry: Retry::No },
    Errcode { errcode: 48001, name: "api_unauthorized", meaning: "The account has no permission for this API (not a certified Service Account).", action: "Check the interface permission list on the platform; do not retry.", retry: Retry::No },
];

const UNKNOWN: Errcode = Errcode {
    errcode: 0,
    name: "unknown",
    meaning: "An errcode this table does not know.",
    action: "Read errmsg and WeChat's global return codes; do not retry blindly.",
    retry: Retry::No,
};

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
