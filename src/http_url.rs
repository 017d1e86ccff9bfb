//! An absolute http(s) URL, validated and normalised: the redirect URL, the consent page's address, the grant
//! endpoint and a message's page all are one.

use crate::error::{Error, Result, UrlProblem};
use crate::whatwg::{self, ParsedUrl};

/// An absolute http(s) URL without credentials, in its WHATWG serialisation.
///
/// The serialisation is what is checked and what is sent on: `HTTP://Shop.Example.com`, `http:\\shop\a` or
/// `http://0x7f.1/` are carried as `http://shop.example.com/`, `http://shop/a` and `http://127.0.0.1/`, so a
/// server that parses URLs differently from the browser cannot see another host than the one checked here.
/// A fragment is allowed: hash-routed single-page apps are common in WeChat H5 pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(ParsedUrl);

impl HttpUrl {
    /// Validates and normalises `input`.
    ///
    /// ```
    /// use wx_subscribemsg::HttpUrl;
    /// let url = HttpUrl::parse("https://Shop.Example.com/cb.html#/done").unwrap();
    /// assert_eq!(url.as_str(), "https://shop.example.com/cb.html#/done");
    /// assert_eq!(url.fragment(), Some("/done"));
    /// assert!(HttpUrl::parse("/cb.html").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Self, UrlProblem> {
        Self::parse_with_base(input, None)
    }

    /// Like [`HttpUrl::parse`], with a relative `input` resolved against `base` (e.g. the page's address).
    pub fn parse_with_base(input: &str, base: Option<&str>) -> Result<Self, UrlProblem> {
        // The parser would silently strip these, so the URL would not be what the caller wrote.
        if input.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(UrlProblem::Whitespace);
        }
        let parsed = whatwg::parse(input, base).ok_or(UrlProblem::NotAbsolute)?;
        if parsed.scheme != "http" && parsed.scheme != "https" {
            return Err(UrlProblem::NotHttp);
        }
        if parsed.has_credentials {
            return Err(UrlProblem::Credentials);
        }
        Ok(HttpUrl(parsed))
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        &self.0.href
    }

    /// The host name, lowercase, without port.
    pub fn host(&self) -> &str {
        &self.0.host
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.0.origin
    }

    /// The fragment without `#`, if any.
    pub fn fragment(&self) -> Option<&str> {
        self.0.fragment.as_deref()
    }

    /// True when the URL has a query or a fragment (its serialisation has `?` or `#` only as their delimiters).
    pub fn has_query_or_fragment(&self) -> bool {
        self.as_str().contains(['?', '#'])
    }

    /// [`UrlProblem::OtherOrigin`] unless this URL has the origin `page_origin`.
    pub fn require_origin(&self, page_origin: &str) -> Result<()> {
        if self.origin() == page_origin {
            Ok(())
        } else {
            Err(Error::InvalidRedirectUrl(UrlProblem::OtherOrigin))
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

    fn problem(input: &str) -> Option<UrlProblem> {
        HttpUrl::parse(input).err()
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
    }

    #[test]
    fn carries_the_normalised_url_that_was_checked() {
        for (input, sent) in [
            ("http://support.qq.com", "http://support.qq.com/"),
            ("HTTP://Shop.Example.com:80/cb.html", "http://shop.example.com/cb.html"),
            ("http:\\\\shop.example.com\\cb.html", "http://shop.example.com/cb.html"),
            (
                "http://shop.example.com:8080\\@evil.example/",
                "http://shop.example.com:8080/@evil.example/",
            ),
            ("http://2130706433/", "http://127.0.0.1/"),
            ("http://0x7f.1/", "http://127.0.0.1/"),
            ("http://shop.example.com:08080/", "http://shop.example.com:8080/"),
        ] {
            let url = HttpUrl::parse(input).unwrap();
            assert_eq!(url.as_str(), sent, "{input}");
            // Checking the sent form again changes nothing: what was checked is what is sent.
            assert_eq!(HttpUrl::parse(url.as_str()).unwrap(), url);
        }
        let tricky = HttpUrl::parse("http://shop.example.com:8080\\@evil.example/").unwrap();
        assert_eq!(tricky.host(), "shop.example.com");
        assert!(tricky.require_business_domain("evil.example").is_err());
    }

    #[test]
    fn refuses_each_problem_with_its_reason() {
        assert_eq!(problem(""), Some(UrlProblem::NotAbsolute));
        assert_eq!(problem("/callback.html"), Some(UrlProblem::NotAbsolute));
        assert_eq!(problem("//example.com/cb"), Some(UrlProblem::NotAbsolute));
        assert_eq!(problem("http://[bad"), Some(UrlProblem::NotAbsolute));
        assert_eq!(problem(" https://example.com/"), Some(UrlProblem::Whitespace));
        assert_eq!(problem("https://example.com/a b"), Some(UrlProblem::Whitespace));
        assert_eq!(problem("https://example.com/\t"), Some(UrlProblem::Whitespace));
        assert_eq!(problem("javascript:alert(1)"), Some(UrlProblem::NotHttp));
        assert_eq!(problem("ftp://example.com/"), Some(UrlProblem::NotHttp));
        assert_eq!(problem("data:text/html,hi"), Some(UrlProblem::NotHttp));
        assert_eq!(problem("https://user:pw@example.com/"), Some(UrlProblem::Credentials));
        assert_eq!(problem("https://user@example.com/"), Some(UrlProblem::Credentials));
    }

    #[test]
    fn resolves_relative_urls_against_the_page() {
        let page = Some("https://shop.example.com/sub/landing.html?x=1");
        let url = HttpUrl::parse_with_base("/api/grants", page).unwrap();
        assert_eq!(url.as_str(), "https://shop.example.com/api/grants");
        assert_eq!(
            HttpUrl::parse_with_base("http://[bad", page),
            Err(UrlProblem::NotAbsolute)
        );
        assert_eq!(HttpUrl::parse_with_base("mailto:x@y", page), Err(UrlProblem::NotHttp));
        assert_eq!(
            HttpUrl::parse_with_base("https://u:p@x.example/", page),
            Err(UrlProblem::Credentials)
        );
        assert_eq!(HttpUrl::parse_with_base("/api", None), Err(UrlProblem::NotAbsolute));
    }

    #[test]
    fn origin_and_business_domain_checks() {
        let url = HttpUrl::parse("https://Shop.Example.com:8443/cb#/x").unwrap();
        assert!(url.require_origin("https://shop.example.com:8443").is_ok());
        assert_eq!(
            url.require_origin("https://shop.example.com"),
            Err(Error::InvalidRedirectUrl(UrlProblem::OtherOrigin))
        );
        assert!(url.require_business_domain("shop.example.com").is_ok());
        assert!(url.require_business_domain("SHOP.example.com").is_ok());
        assert_eq!(url.require_business_domain("example.com"), Err(Error::DomainMismatch));
        assert_eq!(
            url.require_business_domain("shop.example.com/path"),
            Err(Error::DomainMismatch)
        );
        assert!(url.has_query_or_fragment());
        assert!(!HttpUrl::parse("https://x.example/a").unwrap().has_query_or_fragment());
    }
}
