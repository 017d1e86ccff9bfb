//! The WHATWG URL parser, taken from where it already lives: the `url` crate natively, the browser's own
//! `URL` in wasm.
//!
//! Both implement the same standard, and the crate's test suite runs on both (natively and in headless
//! Chromium), so the vectors prove they agree where this crate looks. Shipping the `url` crate to the
//! browser would cost about 50 KB gzip for a parser the browser already has.

/// The parts of a parsed absolute URL that this crate inspects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    /// Lowercase scheme without the colon, e.g. `https`.
    pub scheme: String,
    /// Host name without port, as the parser serialises it (lowercase, punycode).
    pub host: String,
    /// `scheme://host[:port]`, the serialisation browsers use for same-origin checks.
    pub origin: String,
    /// A user name or password is present.
    pub has_credentials: bool,
    /// The fragment without `#`; `None` when absent or empty.
    pub fragment: Option<String>,
}

/// Parses `input` as an absolute URL; `None` when it is not one.
#[cfg(not(target_arch = "wasm32"))]
pub fn parse(input: &str) -> Option<ParsedUrl> {
    let url = url::Url::parse(input).ok()?;
    Some(ParsedUrl {
        scheme: url.scheme().to_owned(),
        host: url.host_str().unwrap_or_default().to_owned(),
        origin: url.origin().ascii_serialization(),
        has_credentials: !url.username().is_empty() || url.password().is_some(),
        fragment: url.fragment().filter(|f| !f.is_empty()).map(str::to_owned),
    })
}

/// Parses `input` as an absolute URL; `None` when it is not one.
#[cfg(target_arch = "wasm32")]
pub fn parse(input: &str) -> Option<ParsedUrl> {
    let url = web_sys::Url::new(input).ok()?;
    let protocol = url.protocol();
    let hash = url.hash();
    Some(ParsedUrl {
        scheme: protocol.strip_suffix(':').unwrap_or(&protocol).to_owned(),
        host: url.hostname(),
        origin: url.origin(),
        has_credentials: !url.username().is_empty() || !url.password().is_empty(),
        fragment: hash.strip_prefix('#').filter(|f| !f.is_empty()).map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn parts(input: &str) -> (String, String, String, bool, Option<String>) {
        let p = parse(input).unwrap_or_else(|| panic!("{input} should parse"));
        (p.scheme, p.host, p.origin, p.has_credentials, p.fragment)
    }

    /// These vectors run natively against the url crate and in Chromium against `URL`.
    #[test]
    fn both_parsers_agree_on_the_vectors() {
        let s = |x: &str| x.to_owned();
        assert_eq!(
            parts("http://support.qq.com"),
            (s("http"), s("support.qq.com"), s("http://support.qq.com"), false, None)
        );
        assert_eq!(
            parts("HTTPS://Shop.Example.COM:8443/cb.html?x=1#/done"),
            (
                s("https"),
                s("shop.example.com"),
                s("https://shop.example.com:8443"),
                false,
                Some(s("/done"))
            )
        );
        assert_eq!(parse("https://example.com:443/").unwrap().origin, "https://example.com");
        assert_eq!(parse("http://127.0.0.1:8080/cb#").unwrap().fragment, None);
        assert!(parse("https://u:p@example.com/").unwrap().has_credentials);
        assert!(parse("https://u@example.com/").unwrap().has_credentials);
        assert_eq!(parse("https://bücher.example/").unwrap().host, "xn--bcher-kva.example");
        assert_eq!(parse("https://[::1]:8080/").unwrap().host, "[::1]");
        assert_eq!(parse("ftp://example.com/").unwrap().scheme, "ftp");
        assert_eq!(parse("javascript:alert(1)").unwrap().scheme, "javascript");
        for bad in [
            "",
            "/callback.html",
            "callback.html",
            "//example.com/x",
            "https://",
            "https://example.com:99999/",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    /// Where the two differ. Chromium accepts a space in a host (as `%20`), which the standard and the url
    /// crate refuse; `RedirectUrl` refuses white space before parsing, so no caller depends on either.
    #[test]
    fn known_divergence_is_fenced_off_before_parsing() {
        let parsed = parse("http://exa mple.com/");
        #[cfg(not(target_arch = "wasm32"))]
        assert_eq!(parsed, None);
        #[cfg(target_arch = "wasm32")]
        assert_eq!(parsed.map(|p| p.host).as_deref(), Some("exa%20mple.com"));
        assert!(crate::RedirectUrl::parse("http://exa mple.com/").is_err());
    }
}
