//! The crate's one error type.
//!
//! Every failure a caller can meet is a variant here with a stable snake_case [`Error::code`], which JS sees
//! as `err.code` on an `Error` named `SubscribeError`. Messages are plain English that say what to do; codes
//! are the contract, messages may improve. Code, message and [`Error::CODES`] come from one table (the
//! `errors!` invocation below), so they cannot drift apart.

use alloc::borrow::Cow;
use core::fmt;

/// Why an http(s) URL was refused; each reason has its own message under the `invalid_redirect_url` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
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

impl UrlProblem {
    fn message(self) -> &'static str {
        match self {
            UrlProblem::NotAbsolute => {
                "redirectUrl must be an absolute http(s) URL, e.g. 'https://example.com/done.html'"
            }
            UrlProblem::Whitespace => "redirectUrl has spaces or control characters: percent-encode them",
            UrlProblem::NotHttp => "redirectUrl must use http or https",
            UrlProblem::Credentials => "redirectUrl must not contain a user name or password",
            UrlProblem::OtherOrigin => {
                "redirectUrl must have this page's origin: the nonce is kept in this origin's storage"
            }
        }
    }
}

/// What a variant's payload adds to its message, in place of the `{}` in the table.
trait Detail {
    fn detail(&self) -> Cow<'static, str>;
}

impl Detail for &'static str {
    fn detail(&self) -> Cow<'static, str> {
        Cow::Borrowed(self)
    }
}

impl Detail for u16 {
    fn detail(&self) -> Cow<'static, str> {
        Cow::Owned(crate::text::decimal((*self).into()))
    }
}

impl Detail for UrlProblem {
    fn detail(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.message())
    }
}

/// A browser-only call made on a server (the package's Node entry, e.g. while a framework renders a page there);
/// each has its own message under the `browser_only` code, saying where to make the call instead. In every build,
/// so that the shell can name the call; only a server build can make the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageCall {
    /// `authorize()`: keeps the nonce in the page's storage and links from the page's origin.
    Authorize,
    /// `handleCallback()`: reads the landing page's address and storage, and posts from the page.
    HandleCallback,
    /// `retryDeliveries()`: posts the grants the page's storage keeps.
    RetryDeliveries,
    /// `isWeChat()` without a user agent: a server has none of its own; the request's is the one to ask about.
    IsWeChat,
    /// `weChatVersion()` without a user agent, likewise.
    WeChatVersion,
}

impl PageCall {
    /// The function's name as JS calls it.
    pub fn name(self) -> &'static str {
        match self {
            PageCall::Authorize => "authorize",
            PageCall::HandleCallback => "handleCallback",
            PageCall::RetryDeliveries => "retryDeliveries",
            PageCall::IsWeChat => "isWeChat",
            PageCall::WeChatVersion => "weChatVersion",
        }
    }

    /// Every call, for the entry that stubs them by name.
    pub const ALL: [PageCall; 5] = [
        PageCall::Authorize,
        PageCall::HandleCallback,
        PageCall::RetryDeliveries,
        PageCall::IsWeChat,
        PageCall::WeChatVersion,
    ];

    #[cfg(any(not(target_arch = "wasm32"), feature = "backend"))]
    fn message(self) -> &'static str {
        match self {
            PageCall::Authorize => {
                "authorize() needs a browser page (its storage and address), not a server: call it in the page, from a click handler"
            }
            PageCall::HandleCallback => {
                "handleCallback() needs the landing page in the browser, not a server: call it once the page runs there (useEffect, onMounted, a client-only module)"
            }
            PageCall::RetryDeliveries => {
                "retryDeliveries() needs a browser page (its storage), not a server: call it once the page runs there (useEffect, onMounted, a client-only module)"
            }
            PageCall::IsWeChat => {
                "isWeChat() on a server cannot know the visitor's browser: pass the request's User-Agent header, isWeChat(userAgent), or call it in the page"
            }
            PageCall::WeChatVersion => {
                "weChatVersion() on a server cannot know the visitor's browser: pass the request's User-Agent header, weChatVersion(userAgent), or call it in the page"
            }
        }
    }
}

#[cfg(any(not(target_arch = "wasm32"), feature = "backend"))]
impl Detail for PageCall {
    fn detail(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.message())
    }
}

/// The table: `Variant(payload: Type) => "code", "message"`, where the payload's detail replaces `{}`. The variants
/// in `page { … }` exist in every build; those in `server { … }` only where a server runs (natively, and in the Node build's wasm: feature `backend`), so
/// the browser's module carries none of their messages.
macro_rules! errors {
    (
        page {
            $(
                $(#[doc = $doc:literal])*
                $variant:ident $(($field:ident: $payload:ty))? => $code:literal, $message:literal;
            )*
        }
        server {
            $(
                $(#[doc = $sdoc:literal])*
                $svariant:ident $(($sfield:ident: $spayload:ty))? => $scode:literal, $smessage:literal;
            )*
        }
    ) => {
        /// Everything that can go wrong, one variant per stable code.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Error {
            $($(#[doc = $doc])* $variant $(($payload))?,)*
            $(
                $(#[doc = $sdoc])*
                #[cfg(any(not(target_arch = "wasm32"), feature = "backend"))]
                $svariant $(($spayload))?,
            )*
        }

        impl Error {
            /// Every code, in the order of the table (the server's too, in every build).
            pub const CODES: &'static [&'static str] = &[$($code,)* $($scode,)*];

            /// The stable snake_case code.
            ///
            /// ```
            /// assert_eq!(wx_subscribemsg::Error::UnknownReserved.code(), "unknown_reserved");
            /// ```
            pub fn code(&self) -> &'static str {
                match self {
                    $(Error::$variant { .. } => $code,)*
                    $(
                        #[cfg(any(not(target_arch = "wasm32"), feature = "backend"))]
                        Error::$svariant { .. } => $scode,
                    )*
                }
            }

            /// A message for the developer reading the console: what is wrong and what to do.
            ///
            /// Built by concatenation rather than `format!` so the wasm module does not pay for `core::fmt`.
            pub fn message(&self) -> Cow<'static, str> {
                let (template, detail): (&'static str, Option<Cow<'static, str>>) = match self {
                    $(Error::$variant $(($field))? => ($message, None $(.or(Some(Detail::detail($field))))?),)*
                    $(
                        #[cfg(any(not(target_arch = "wasm32"), feature = "backend"))]
                        Error::$svariant $(($sfield))? => ($smessage, None $(.or(Some(Detail::detail($sfield))))?),
                    )*
                };
                match (template.split_once('{'), detail) {
                    (Some((before, after)), Some(detail)) => {
                        Cow::Owned(crate::text::concat(&[before, &detail, after.strip_prefix('}').unwrap_or(after)]))
                    }
                    _ => Cow::Borrowed(template),
                }
            }
        }
    };
}

errors! {
    page {
    /// The AppID is not `wx` followed by 16 hex digits.
    InvalidAppid => "invalid_appid", "appid must be the Service Account's AppID: 'wx' and 16 hex digits";
    /// The scene is not an integer in 0..=10000.
    InvalidScene => "invalid_scene", "scene must be an integer number from 0 to 10000";
    /// The template ID is empty, longer than 128, or outside `[A-Za-z0-9_-]`.
    InvalidTemplateId => "invalid_template_id", "templateId must be the one-time template ID: 1 to 128 of A-Z a-z 0-9 _ -";
    /// `reserved` is empty, longer than 128, or outside `[A-Za-z0-9]`.
    InvalidReserved => "invalid_reserved", "reserved must be 1 to 128 of A-Z a-z 0-9; authorize() makes one";
    /// The redirect URL was refused: see [`UrlProblem`].
    InvalidRedirectUrl(problem: UrlProblem) => "invalid_redirect_url", "{}";
    /// An option other than the link parameters is missing, has the wrong type or is out of range.
    InvalidOption(name: &'static str) => "invalid_option", "option '{}' is missing, of the wrong type or out of range: see the types";
    /// The redirect URL's host is not the registered business domain.
    DomainMismatch => "domain_mismatch", "redirectUrl's host must be businessDomain: WeChat redirects only there";
    /// `requireWeChat` was set and the page is not in WeChat.
    NotInWechat => "not_in_wechat", "not in WeChat (requireWeChat): the link works only in the WeChat client";
    /// Neither sessionStorage nor localStorage can be used (disabled, private mode, full with the site's own data).
    StorageUnavailable => "storage_unavailable", "storage is unavailable or full, so the nonce cannot be kept or read: leave private mode or free site storage";
    /// No cryptographic random source (`crypto.getRandomValues`).
    CryptoUnavailable => "crypto_unavailable", "crypto.getRandomValues is unavailable: no nonce can be made";
    /// The landing page's address carries no callback, and no earlier callback was handled at this address.
    NoCallback => "no_callback", "no WeChat callback at this address: show the page's normal content";
    /// A required callback parameter is absent.
    MissingParam(name: &'static str) => "missing_param", "the callback has no '{}' parameter: open this page only from the link";
    /// A callback parameter appears more than once.
    DuplicateParam(name: &'static str) => "duplicate_param", "the callback has '{}' twice: it was tampered with";
    /// A callback parameter has a value WeChat never sends.
    InvalidParam(name: &'static str) => "invalid_param", "the callback's '{}' is not what WeChat sends: it was tampered with or cut";
    /// No subscription this browser keeps has this `reserved` nonce.
    UnknownReserved => "unknown_reserved", "no subscription in this browser has this reserved: forged, from another browser, or storage cleared; subscribe again";
    /// The callback's template differs from the one that was authorized.
    TemplateMismatch => "template_mismatch", "template_id is not the one authorized: tampered with; the request is kept";
    /// The callback's scene differs from the one that was authorized.
    SceneMismatch => "scene_mismatch", "scene is not the one authorized: tampered with; the request is kept";
    /// The grant endpoint answered a 4xx other than 408 and 429.
    BackendRejected(status: u16) => "backend_rejected", "the grant endpoint refused with HTTP {}; not retried: check its URL, headers, credentials";
    /// Not an openid (1..=64 of `[A-Za-z0-9_-]`).
    InvalidOpenid => "invalid_openid", "openid must be the openid the callback gave: 1 to 64 of A-Z a-z 0-9 _ -";
    }

    server {
    // ==== Step 2: the message (src/wechat/send.rs) ====
    /// The message title is blank, longer than 15 characters, or has control characters.
    InvalidTitle => "invalid_title", "title must be 1 to 15 characters, not blank, without control characters";
    /// The message content is blank, longer than 200 characters, or has control characters.
    InvalidContent => "invalid_content", "content must be 1 to 200 characters, not blank, without control characters but line breaks";
    /// Not `#RRGGBB`.
    InvalidColor => "invalid_color", "color must be '#' followed by 6 hex digits, such as '#173177'";
    /// The message's page is not an absolute http(s) URL.
    InvalidUrl => "invalid_url", "url must be an absolute http or https URL without a user name or password";
    /// The mini program's AppID or page path is malformed.
    InvalidMiniprogram => "invalid_miniprogram", "miniprogram.appid must be 'wx' and 16 hex digits, and pagepath a path without spaces";

    // ==== A server rendering pages (the Node entry: SSR of a page that imports the package) ====
    /// A function that needs the browser page was called on a server: see [`PageCall`].
    BrowserOnly(call: PageCall) => "browser_only", "{}";

    // ==== The server receiving grants (src/server/grant.rs, js/server/ grant endpoint and stores) ====
    /// A POSTed grant was refused; the payload counts the problems, listed with their own codes beside the error.
    InvalidGrant(problems: u16) => "invalid_grant", "not a grant handleCallback() sends: {} problem(s), in problems";
    /// The request body is not a JSON object.
    InvalidBody => "invalid_body", "the body must be a JSON object";
    /// The `Idempotency-Key` header is absent or differs from the grant's `reserved`.
    KeyMismatch => "key_mismatch", "Idempotency-Key must equal reserved";
    /// The grant's AppID is not the Service Account this backend serves.
    AppidMismatch => "appid_mismatch", "appid is not this backend's";
    /// The grant's template is not one this backend accepts.
    TemplateNotAccepted => "template_not_accepted", "template_id is not in templateIds";
    /// The grant store cannot be reached, read or written; the grant endpoint answers 503 so the browser retries.
    StoreUnavailable => "store_unavailable", "the grant store cannot be reached or written: answer 503, the browser retries";
    /// The grant file is held by another process (one process per file).
    StoreLocked => "store_locked", "the grant file is open in another process: use PostgreSQL for several";

    // ==== end of the receiving side ====
    //
    //
    // ==== The server sending messages (src/server/outcome.rs, src/server/token.rs, js/server/ token and sender) ====
    /// WeChat's token endpoint refused the credentials or the caller (40013, 40125, 40164, …); the detail is the
    /// errcode's name.
    TokenRefused(name: &'static str) => "token_refused", "stable_token refused ({}): check AppID, AppSecret, IP whitelist";
    /// WeChat's token endpoint is over its quota or rate (45009, 45011).
    TokenRateLimited(name: &'static str) => "token_rate_limited", "stable_token is over its limit ({}): retry later";
    /// No token came: -1 (busy), no answer, or an answer that is not a token.
    TokenUnavailable(what: &'static str) => "token_unavailable", "no access_token from stable_token ({}): retry later";
    /// `sendGrant` found no grant with this `reserved` it could claim.
    GrantNotDue(state: &'static str) => "grant_not_due", "this grant cannot be sent now: {}";

    // ==== end of the sending side ====
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())?;
        f.write_str(": ")?;
        f.write_str(&self.message())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn codes_are_snake_case_and_distinct() {
        for code in Error::CODES {
            assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{code}");
        }
        let mut codes = Error::CODES.to_vec();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), Error::CODES.len());
        assert!(Error::CODES.contains(&Error::BackendRejected(400).code()));
    }

    #[test]
    fn messages_name_what_is_wrong() {
        assert!(Error::MissingParam("openid")
            .message()
            .contains("no 'openid' parameter"));
        assert!(Error::BackendRejected(403).message().contains("with HTTP 403; not"));
        assert!(Error::InvalidOption("ttlSeconds")
            .message()
            .starts_with("option 'ttlSeconds' is"));
        assert_eq!(
            Error::InvalidRedirectUrl(UrlProblem::OtherOrigin).message(),
            "redirectUrl must have this page's origin: the nonce is kept in this origin's storage"
        );
        assert_eq!(
            Error::InvalidRedirectUrl(UrlProblem::NotHttp).code(),
            "invalid_redirect_url"
        );
        assert_eq!(Error::InvalidOpenid.code(), "invalid_openid");
        assert_eq!(
            Error::BackendRejected(409).message(),
            "the grant endpoint refused with HTTP 409; not retried: check its URL, headers, credentials"
        );
        assert_eq!(
            Error::UnknownReserved.to_string(),
            ["unknown_reserved: ", &Error::UnknownReserved.message()].concat()
        );
    }

    #[test]
    fn browser_only_names_the_call_and_where_to_make_it() {
        for call in PageCall::ALL {
            let message = Error::BrowserOnly(call).message();
            assert!(
                message.starts_with(&crate::text::concat(&[call.name(), "() "])),
                "{message}"
            );
            assert_eq!(Error::BrowserOnly(call).code(), "browser_only");
        }
        assert!(Error::BrowserOnly(PageCall::IsWeChat).message().contains("User-Agent"));
        assert!(Error::BrowserOnly(PageCall::HandleCallback)
            .message()
            .contains("useEffect, onMounted"));
    }

    /// The TypeScript union of the core's codes (`js/errors.d.ts`) is the table's list, no more, no less.
    #[test]
    fn the_typescript_union_is_the_table() {
        let dts = include_str!("../js/errors.d.ts");
        let union = dts
            .split_once("export type CoreErrorCode =")
            .and_then(|(_, rest)| rest.split_once(';'))
            .map(|(union, _)| union)
            .expect("js/errors.d.ts declares CoreErrorCode");
        let mut declared: Vec<&str> = union.split('\'').skip(1).step_by(2).collect();
        let mut table = Error::CODES.to_vec();
        declared.sort();
        table.sort();
        assert_eq!(declared, table);
    }
}
