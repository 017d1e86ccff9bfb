//! The `redirect_url` WeChat sends the user back to, validated.

use crate::error::{Error, RedirectProblem, Result};
use crate::whatwg::{self, ParsedUrl};

/// An absolute http(s) URL without credentials: a place WeChat can redirect to.
///
/// A fragment is allowed: hash-routed single-page apps are common in WeChat H5 pages. WeChat puts its
/// callback parameters in the query, and the landing page restores the fragment it stored here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUrl {
    input: String,
    parsed: ParsedUrl,
}

impl RedirectUrl {
    /// Validates `input`; the link carries it exactly as given.
    ///
    /// ```
    /// use wx_subscribemsg::RedirectUrl;
    /// let url = RedirectUrl::parse("https://shop.example.com/cb.html#/done").unwrap();
    /// assert_eq!(url.host(), "shop.example.com");
    /// assert_eq!(url.fragment(), Some("/done"));
    /// assert_eq!(RedirectUrl::parse("/cb.html").unwrap_err().code(), "invalid_redirect_url");
    /// ```
    pub fn parse(input: &str) -> Result<Self> {
        let problem = |p| Err(Error::InvalidRedirectUrl(p));
        // The parser would silently strip these, so the link would not say what the caller wrote.
        if input.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return problem(RedirectProblem::Whitespace);
        }
        let Some(parsed) = whatwg::parse(input) else {
            return problem(RedirectProblem::NotAbsolute);
        };
        if parsed.scheme != "http" && parsed.scheme != "https" {
            return problem(RedirectProblem::NotHttp);
        }
        if parsed.has_credentials {
            return problem(RedirectProblem::Credentials);
        }
        Ok(RedirectUrl {
            input: input.to_owned(),
            parsed,
        })
    }

    /// The URL as the caller wrote it.
    pub fn as_str(&self) -> &str {
        &self.input
    }

    /// The host name, lowercase, without port.
    pub fn host(&self) -> &str {
        &self.parsed.host
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.parsed.origin
    }

    /// The fragment without `#`, if any.
    pub fn fragment(&self) -> Option<&str> {
        self.parsed.fragment.as_deref()
    }

    /// [`RedirectProblem::OtherOrigin`] unless this URL has the origin `page_origin`.
    pub fn require_origin(&self, page_origin: &str) -> Result<()> {
        if self.origin() == page_origin {
            Ok(())
        } else {
            Err(Error::InvalidRedirectUrl(RedirectProblem::OtherOrigin))
        }
    }

    /// [`Error::DomainMismatch`] unless the host is the registered business domain (a bare host name;
    /// compared without case, as host names are).
    pub fn require_business_domain(&self, domain: &str) -> Result<()> {
        if self.host().eq_ignore_ascii_case(domain) {
            Ok(())
        } else {
            Err(Error::DomainMismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn problem(input: &str) -> Option<RedirectProblem> {
        match RedirectUrl::parse(input) {
            Err(Error::InvalidRedirectUrl(p)) => Some(p),
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn accepts_absolute_http_urls_with_fragments() {
        for ok in [
            "http://support.qq.com",
            "https://a.example.com/cb.html?from=x#/done",
            "http://127.0.0.1:8080/callback.html",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
        assert_eq!(
            RedirectUrl::parse("http://support.qq.com").unwrap().as_str(),
            "http://support.qq.com"
        );
    }

    #[test]
    fn refuses_each_problem_with_its_reason() {
        assert_eq!(problem(""), Some(RedirectProblem::NotAbsolute));
        assert_eq!(problem("/callback.html"), Some(RedirectProblem::NotAbsolute));
        assert_eq!(problem("//example.com/cb"), Some(RedirectProblem::NotAbsolute));
        assert_eq!(problem(" https://example.com/"), Some(RedirectProblem::Whitespace));
        assert_eq!(problem("https://example.com/a b"), Some(RedirectProblem::Whitespace));
        assert_eq!(problem("https://example.com/\t"), Some(RedirectProblem::Whitespace));
        assert_eq!(problem("javascript:alert(1)"), Some(RedirectProblem::NotHttp));
        assert_eq!(problem("ftp://example.com/"), Some(RedirectProblem::NotHttp));
        assert_eq!(problem("data:text/html,hi"), Some(RedirectProblem::NotHttp));
        assert_eq!(
            problem("https://user:pw@example.com/"),
            Some(RedirectProblem::Credentials)
        );
        assert_eq!(problem("https://user@example.com/"), Some(RedirectProblem::Credentials));
    }

    #[test]
    fn origin_and_business_domain_checks() {
        let url = RedirectUrl::parse("https://Shop.Example.com:8443/cb#/x").unwrap();
        assert!(url.require_origin("https://shop.example.com:8443").is_ok());
        assert_eq!(
            url.require_origin("https://shop.example.com"),
            Err(Error::InvalidRedirectUrl(RedirectProblem::OtherOrigin))
        );
        assert!(url.require_business_domain("shop.example.com").is_ok());
        assert!(url.require_business_domain("SHOP.example.com").is_ok());
        assert_eq!(url.require_business_domain("example.com"), Err(Error::DomainMismatch));
        assert_eq!(
            url.require_business_domain("shop.example.com/path"),
            Err(Error::DomainMismatch)
        );
    }
}
