//! The crate's one error type.
//!
//! Every failure a caller can meet is a variant here with a stable snake_case [`Error::code`], which JS sees
//! as `err.code` on an `Error` named `SubscribeError`. Messages are plain English that say what to do; codes
//! are the contract, messages may improve.

use std::borrow::Cow;
use std::fmt;

/// Why a `redirectUrl` was refused; each reason has its own message under the `invalid_redirect_url` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectProblem {
    /// Not a URL an absolute-URL parser accepts (relative, empty, garbage).
    NotAbsolute,
    /// Contains white space or control characters, which browsers silently strip or re-encode.
    Whitespace,
    /// A scheme other than `http` or `https`.
    NotHttp,
    /// Has a user name or password in it.
    Credentials,
    /// Points at another origin than the page that stores the nonce.
    OtherOrigin,
}

/// Everything that can go wrong, one variant per stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// `invalid_appid`: the AppID is not `wx` followed by 16 hex digits.
    InvalidAppid,
    /// `invalid_scene`: the scene is not an integer in 0..=10000.
    InvalidScene,
    /// `invalid_template_id`: empty, longer than 128, or outside `[A-Za-z0-9_-]`.
    InvalidTemplateId,
    /// `invalid_reserved`: empty, longer than 128, or outside `[A-Za-z0-9]`.
    InvalidReserved,
    /// `invalid_redirect_url`: see [`RedirectProblem`].
    InvalidRedirectUrl(RedirectProblem),
    /// `invalid_option`: an option other than the link parameters has the wrong type or range.
    InvalidOption(&'static str),
    /// `domain_mismatch`: the redirect URL's host is not the registered business domain.
    DomainMismatch,
    /// `not_in_wechat`: `requireWeChat` was set and the page is not in WeChat.
    NotInWechat,
    /// `storage_unavailable`: sessionStorage is missing or throws (private mode, quota, disabled).
    StorageUnavailable,
    /// `crypto_unavailable`: no cryptographic random source (`crypto.getRandomValues`).
    CryptoUnavailable,
    /// `missing_param`: a required callback parameter is absent.
    MissingParam(&'static str),
    /// `duplicate_param`: a callback parameter appears more than once.
    DuplicateParam(&'static str),
    /// `invalid_param`: a callback parameter has a value WeChat never sends.
    InvalidParam(&'static str),
    /// `unknown_reserved`: no pending subscription has this `reserved` nonce.
    UnknownReserved,
    /// `expired`: the pending subscription outlived its TTL before the user came back.
    Expired,
    /// `template_mismatch`: the callback's template differs from the one that was authorized.
    TemplateMismatch,
    /// `scene_mismatch`: the callback's scene differs from the one that was authorized.
    SceneMismatch,
    /// `backend_rejected`: the grant endpoint answered a 4xx other than 408 and 429.
    BackendRejected(u16),
    /// `invalid_openid`: not an openid (1..=64 of `[A-Za-z0-9_-]`).
    InvalidOpenid,
    /// `invalid_title`: the message title is blank, longer than 15 characters, or has control characters.
    InvalidTitle,
    /// `invalid_content`: the message content is blank, longer than 200 characters, or has control characters.
    InvalidContent,
    /// `invalid_color`: not `#RRGGBB`.
    InvalidColor,
    /// `invalid_url`: the message's page is not an absolute http(s) URL.
    InvalidUrl,
    /// `invalid_miniprogram`: the mini program's AppID or page path is malformed.
    InvalidMiniprogram,
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The stable snake_case code.
    ///
    /// ```
    /// assert_eq!(wx_subscribemsg::Error::Expired.code(), "expired");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidAppid => "invalid_appid",
            Error::InvalidScene => "invalid_scene",
            Error::InvalidTemplateId => "invalid_template_id",
            Error::InvalidReserved => "invalid_reserved",
            Error::InvalidRedirectUrl(_) => "invalid_redirect_url",
            Error::InvalidOption(_) => "invalid_option",
            Error::DomainMismatch => "domain_mismatch",
            Error::NotInWechat => "not_in_wechat",
            Error::StorageUnavailable => "storage_unavailable",
            Error::CryptoUnavailable => "crypto_unavailable",
            Error::MissingParam(_) => "missing_param",
            Error::DuplicateParam(_) => "duplicate_param",
            Error::InvalidParam(_) => "invalid_param",
            Error::UnknownReserved => "unknown_reserved",
            Error::Expired => "expired",
            Error::TemplateMismatch => "template_mismatch",
            Error::SceneMismatch => "scene_mismatch",
            Error::BackendRejected(_) => "backend_rejected",
            Error::InvalidOpenid => "invalid_openid",
            Error::InvalidTitle => "invalid_title",
            Error::InvalidContent => "invalid_content",
            Error::InvalidColor => "invalid_color",
            Error::InvalidUrl => "invalid_url",
            Error::InvalidMiniprogram => "invalid_miniprogram",
        }
    }

    /// A message for the developer reading the console: what is wrong and what to do.
    ///
    /// Built by concatenation rather than `format!` so the wasm module does not pay for `core::fmt`.
    pub fn message(&self) -> Cow<'static, str> {
        let text: &'static str = match self {
            Error::InvalidAppid => "appid must be the Service Account's AppID: 'wx' followed by 16 hex digits, as shown in the WeChat Official Accounts Platform under Settings > Basic configuration",
            Error::InvalidScene => "scene must be an integer from 0 to 10000 (a number, not a string); use a different scene for each separate subscription",
            Error::InvalidTemplateId => "templateId must be the one-time subscription template ID from the platform's interface permission list: 1 to 128 characters of A-Z, a-z, 0-9, '_' or '-'",
            Error::InvalidReserved => "reserved must be 1 to 128 characters of A-Z, a-z or 0-9 (WeChat's limit); authorize() generates one for you",
            Error::InvalidRedirectUrl(p) => match p {
                RedirectProblem::NotAbsolute => "redirectUrl must be an absolute URL such as 'https://example.com/subscribe/callback.html'",
                RedirectProblem::Whitespace => "redirectUrl must not contain spaces or control characters; percent-encode them",
                RedirectProblem::NotHttp => "redirectUrl must use http or https",
                RedirectProblem::Credentials => "redirectUrl must not contain a user name or password",
                RedirectProblem::OtherOrigin => "redirectUrl must have the same origin (scheme, host and port) as the current page: the reserved nonce is kept in sessionStorage, which is per origin, so a landing page on another origin could never find it",
            },
            Error::InvalidOption(name) => return Cow::Owned(["option '", name, "' has the wrong type or is out of range; see the type definitions"].concat()),
            Error::DomainMismatch => "redirectUrl's host must equal businessDomain: WeChat only redirects to the business domain registered under Settings > Official Account settings > Feature settings",
            Error::NotInWechat => "this page is not open in WeChat; the subscription link only works inside the WeChat client (requireWeChat is set)",
            Error::StorageUnavailable => "sessionStorage is unavailable or full, so the reserved nonce cannot be kept; no link was made, because the callback could not be verified without it",
            Error::CryptoUnavailable => "crypto.getRandomValues is unavailable, so no unguessable reserved nonce can be made",
            Error::MissingParam(name) => return Cow::Owned(["the callback has no '", name, "' parameter: load this page only as the redirect target of the subscription link"].concat()),
            Error::DuplicateParam(name) => return Cow::Owned(["the callback has the '", name, "' parameter more than once, which WeChat never sends: the link was tampered with"].concat()),
            Error::InvalidParam(name) => return Cow::Owned(["the callback's '", name, "' parameter has a value WeChat never sends: the link was tampered with or truncated"].concat()),
            Error::UnknownReserved => "no pending subscription matches this callback's reserved value: the link was forged, started in another browser or tab of another origin, or the browser lost its storage; start the subscription again",
            Error::Expired => "the subscription request expired before the user came back; start it again (raise ttlSeconds if users need longer)",
            Error::TemplateMismatch => "the callback's template_id differs from the one that was authorized: the callback was tampered with; the pending subscription is kept",
            Error::SceneMismatch => "the callback's scene differs from the one that was authorized: the callback was tampered with; the pending subscription is kept",
            Error::InvalidOpenid => "openid must be the user's openid for this Service Account, as the callback gave it: 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'",
            Error::InvalidTitle => "title must be 1 to 15 characters (characters, not bytes: 15 Chinese characters fit), not blank, without line breaks or control characters",
            Error::InvalidContent => "content must be 1 to 200 characters, not blank, without control characters other than line breaks",
            Error::InvalidColor => "color must be '#' followed by 6 hex digits, such as '#173177'",
            Error::InvalidUrl => "url must be an absolute http or https URL without a user name or password",
            Error::InvalidMiniprogram => "miniprogram.appid must be the mini program's AppID ('wx' and 16 hex digits), and pagepath, when given, a non-empty path without spaces",
            Error::BackendRejected(status) => {
                let mut digits = itoa::Buffer::new();
                return Cow::Owned(
                    [
                        "the grant endpoint refused the grant with HTTP ",
                        digits.format(*status),
                        "; it was not retried: check the endpoint, its headers and credentials",
                    ]
                    .concat(),
                );
            }
        };
        Cow::Borrowed(text)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())?;
        f.write_str(": ")?;
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn codes_are_snake_case_and_distinct() {
        let all = [
            Error::InvalidAppid,
            Error::InvalidScene,
            Error::InvalidTemplateId,
            Error::InvalidReserved,
            Error::InvalidRedirectUrl(RedirectProblem::NotHttp),
            Error::InvalidOption("x"),
            Error::DomainMismatch,
            Error::NotInWechat,
            Error::StorageUnavailable,
            Error::CryptoUnavailable,
            Error::MissingParam("x"),
            Error::DuplicateParam("x"),
            Error::InvalidParam("x"),
            Error::UnknownReserved,
            Error::Expired,
            Error::TemplateMismatch,
            Error::SceneMismatch,
            Error::BackendRejected(400),
            Error::InvalidOpenid,
            Error::InvalidTitle,
            Error::InvalidContent,
            Error::InvalidColor,
            Error::InvalidUrl,
            Error::InvalidMiniprogram,
        ];
        let mut codes: Vec<_> = all.iter().map(Error::code).collect();
        for code in &codes {
            assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{code}");
        }
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }

    #[test]
    fn messages_name_what_is_wrong() {
        assert!(Error::MissingParam("openid").message().contains("'openid'"));
        assert!(Error::BackendRejected(403).message().contains("HTTP 403"));
        assert!(Error::InvalidRedirectUrl(RedirectProblem::OtherOrigin)
            .message()
            .contains("sessionStorage"));
        assert_eq!(
            Error::Expired.to_string(),
            ["expired: ", &Error::Expired.message()].concat()
        );
    }
}
