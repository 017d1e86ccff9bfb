//! The WHATWG URL parser, taken from where it already lives: the `url` crate natively, the browser's own
//! `URL` in wasm.
//!
//! This is the one place where the core reaches into the browser (`web_sys::Url`, wasm32 only): everything
//! else outside `web` is plain Rust. Both parsers implement the same standard, and the crate's test suite runs
//! on both (natively and in headless Chromium), so the vectors prove they agree where this crate looks.
//! Shipping the `url` crate to the browser would cost about 50 KB gzip for a parser the browser already has.

use crate::prelude::*;
/// The parts of a parsed absolute URL that this crate inspects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    /// The serialisation: what the browser would navigate to, and what is sent on.
    pub href: String,
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

/// Parses `input`, resolved against `base` when given; `None` when it is not a URL.
#[cfg(not(target_arch = "wasm32"))]
pub fn parse(input: &str, base: Option<&str>) -> Option<ParsedUrl> {
    let base = match base {
        Some(base) => Some(url::Url::parse(base).ok()?),
        None => None,
    };
    let url = url::Url::options().base_url(base.as_ref()).parse(input).ok()?;
    Some(ParsedUrl {
        href: url.as_str().to_owned(),
        scheme: url.scheme().to_owned(),
        host: url.host_str().unwrap_or_default().to_owned(),
        origin: url.origin().ascii_serialization(),
        has_credentials: !url.username().is_empty() || url.password().is_some(),
        fragment: url.fragment().filter(|f| !f.is_empty()).map(str::to_owned),
    })
}

/// Parses `input`, resolved against `base` when given; `None` when it is not a URL.
#[cfg(target_arch = "wasm32")]
pub fn parse(input: &str, base: Option<&str>) -> Option<ParsedUrl> {
    let url = match base {
        Some(base) => web_sys::Url::new_with_base(input, base),
        None => web_sys::Url::new(input),
    }
    .ok()?;
    let protocol = url.protocol();
    let hash = url.hash();
    Some(ParsedUrl {
        href: url.href(),
        scheme: protocol.strip_suffix(':').unwrap_or(&protocol).to_owned(),
        host: url.hostname(),
        origin: url.origin(),
        has_credentials: !url.username().is_empty() || !url.password().is_empty(),
        fragment: hash.strip_prefix('#').filter(|f| !f.is_empty()).map(str::to_owned),
    })
}

/// The name-value pairs of an `application/x-www-form-urlencoded` string (a query without its `?`), decoded, in
/// order, empty segments skipped: the `form_urlencoded` crate natively, the browser's `URLSearchParams` in wasm,
/// which implement the same standard and keep the decoder out of the module.
#[cfg(not(target_arch = "wasm32"))]
pub fn form_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The name-value pairs of an `application/x-www-form-urlencoded` string (a query without its `?`), decoded, in
/// order, empty segments skipped: the `form_urlencoded` crate natively, the browser's `URLSearchParams` in wasm,
/// which implement the same standard and keep the decoder out of the module.
#[cfg(target_arch = "wasm32")]
pub fn form_pairs(query: &str) -> Vec<(String, String)> {
    // URLSearchParams drops one leading `?`, which the query here no longer has: a leading `&` keeps a second one
    // as data, as the crate does.
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&crate::text::concat(&["&", query])) else {
        return Vec::new();
    };
    let entries = js_sys::Array::from(&params);
    (0..entries.length())
        .map(|i| {
            let pair = js_sys::Array::from(&entries.get(i));
            (
                pair.get(0).as_string().unwrap_or_default(),
                pair.get(1).as_string().unwrap_or_default(),
            )
        })
        .collect()
}

/// `pairs` as an `application/x-www-form-urlencoded` string (`a=1&b=x+y`): the `form_urlencoded` crate natively,
/// the browser's `URLSearchParams` in wasm, which implement the same serialiser and keep the encoder's tables out
/// of the module.
#[cfg(not(target_arch = "wasm32"))]
pub fn form_serialize(pairs: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    out.extend_pairs(pairs);
    out.finish()
}

/// `pairs` as an `application/x-www-form-urlencoded` string (`a=1&b=x+y`): the `form_urlencoded` crate natively,
/// the browser's `URLSearchParams` in wasm, which implement the same serialiser and keep the encoder's tables out
/// of the module.
#[cfg(target_arch = "wasm32")]
pub fn form_serialize(pairs: &[(&str, &str)]) -> String {
    let Ok(params) = web_sys::UrlSearchParams::new() else {
        return String::new();
    };
    for (name, value) in pairs {
        params.append(name, value);
    }
    params.to_string().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both decoders, one vector set: `+` and percent-escapes decoded, bad UTF-8 replaced, empty segments skipped,
    /// a second `?` kept as data.
    #[test]
    fn both_form_decoders_agree() {
        let pairs = |q: &str| form_pairs(q);
        let owned = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pairs("a=1&&b=%41+c&=x&d"),
            owned(&[("a", "1"), ("b", "A c"), ("", "x"), ("d", "")])
        );
        assert_eq!(pairs("?x=1&y=a=b"), owned(&[("?x", "1"), ("y", "a=b")]));
        assert_eq!(
            pairs("n=%FF%e4%bd%a0&%6Fpenid=o"),
            owned(&[("n", "\u{fffd}你"), ("openid", "o")])
        );
        assert_eq!(pairs(""), owned(&[]));
    }

    /// Both encoders, one vector set: what WeChat's link and callback carry.
    #[test]
    fn both_form_encoders_agree() {
        assert_eq!(
            form_serialize(&[
                ("redirect_url", "https://a.example/cb.html?x=1&y=2#/done"),
                ("t", "a b+c")
            ]),
            "redirect_url=https%3A%2F%2Fa.example%2Fcb.html%3Fx%3D1%26y%3D2%23%2Fdone&t=a+b%2Bc"
        );
        assert_eq!(
            form_serialize(&[("n", "你*-._~!'()")]),
            "n=%E4%BD%A0*-._%7E%21%27%28%29"
        );
        assert_eq!(form_serialize(&[]), "");
    }
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn absolute(input: &str) -> ParsedUrl {
        parse(input, None).unwrap_or_else(|| panic!("{input} should parse"))
    }

    /// These vectors run natively against the url crate and in Chromium against `URL`.
    #[test]
    fn both_parsers_agree_on_the_vectors() {
        let p = absolute("http://support.qq.com");
        assert_eq!(
            (p.href.as_str(), p.scheme.as_str(), p.host.as_str(), p.origin.as_str()),
            (
                "http://support.qq.com/",
                "http",
                "support.qq.com",
                "http://support.qq.com"
            )
        );
        assert!(!p.has_credentials && p.fragment.is_none());
        let p = absolute("HTTPS://Shop.Example.COM:8443/cb.html?x=1#/done");
        assert_eq!(p.href, "https://shop.example.com:8443/cb.html?x=1#/done");
        assert_eq!(p.origin, "https://shop.example.com:8443");
        assert_eq!(p.fragment.as_deref(), Some("/done"));
        assert_eq!(absolute("https://example.com:443/").origin, "https://example.com");
        assert_eq!(absolute("http://127.0.0.1:8080/cb#").fragment, None);
        assert!(absolute("https://u:p@example.com/").has_credentials);
        assert!(absolute("https://u@example.com/").has_credentials);
        assert_eq!(absolute("https://bücher.example/").host, "xn--bcher-kva.example");
        assert_eq!(absolute("https://[::1]:8080/").host, "[::1]");
        assert_eq!(absolute("ftp://example.com/").scheme, "ftp");
        assert_eq!(absolute("javascript:alert(1)").scheme, "javascript");
        for bad in [
            "",
            "/callback.html",
            "callback.html",
            "//example.com/x",
            "https://",
            "https://example.com:99999/",
        ] {
            assert_eq!(parse(bad, None), None, "{bad:?}");
        }
    }

    /// What normalisation changes: the href is what both parsers agree a server must be sent.
    #[test]
    fn both_parsers_normalise_alike() {
        for (input, href) in [
            ("http:\\\\host\\page.html", "http://host/page.html"),
            ("http://host:8080\\@evil.example/", "http://host:8080/@evil.example/"),
            ("http://2130706433/", "http://127.0.0.1/"),
            ("http://0x7f.1/", "http://127.0.0.1/"),
            ("HTTP://Shop.Example.com", "http://shop.example.com/"),
            ("http://host:0080/a", "http://host/a"),
            ("http://host:08080/a", "http://host:8080/a"),
            ("https://host/a/../b/./c", "https://host/b/c"),
            (
                "https://host/caf\u{e9}?q=\u{e9}#\u{e9}",
                "https://host/caf%C3%A9?q=%C3%A9#%C3%A9",
            ),
        ] {
            assert_eq!(absolute(input).href, href, "{input:?}");
        }
    }

    #[test]
    fn resolves_against_a_base() {
        let page = "https://shop.example.com/sub/page.html?x=1#y";
        assert_eq!(
            parse("/api/grants", Some(page)).unwrap().href,
            "https://shop.example.com/api/grants"
        );
        assert_eq!(
            parse("grants", Some(page)).unwrap().href,
            "https://shop.example.com/sub/grants"
        );
        assert_eq!(
            parse("https://api.example.com/g", Some(page)).unwrap().href,
            "https://api.example.com/g"
        );
        assert_eq!(parse("http://[bad", Some(page)), None);
        assert_eq!(parse("/x", Some("not a base")), None);
    }

    /// Where the two differ. Chromium accepts a space in a host (as `%20`), which the standard and the url
    /// crate refuse; `HttpUrl` refuses white space before parsing, so no caller depends on either.
    #[test]
    fn known_divergence_is_fenced_off_before_parsing() {
        let parsed = parse("http://exa mple.com/", None);
        #[cfg(not(target_arch = "wasm32"))]
        assert_eq!(parsed, None);
        #[cfg(target_arch = "wasm32")]
        assert_eq!(parsed.map(|p| p.host).as_deref(), Some("exa%20mple.com"));
        assert!(crate::HttpUrl::parse("http://exa mple.com/").is_err());
    }
}
