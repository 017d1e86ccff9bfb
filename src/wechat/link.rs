//! The authorization link that sends the user to WeChat's consent page.

use crate::error::{Error, Result};
use crate::http_url::HttpUrl;
use crate::prelude::*;
use crate::text::concat;
use crate::wechat::params::{AppId, Reserved, Scene, TemplateId};
use crate::whatwg;

/// WeChat's consent page for one-time subscription messages.
pub const AUTHORIZE_URL: &str = "https://mp.weixin.qq.com/mp/subscribemsg";

/// One subscription as the link carries it, every part validated: what the page asks WeChat for, and what
/// the page keeps to check the answer against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The Service Account's AppID.
    pub appid: AppId,
    /// The subscription scene.
    pub scene: Scene,
    /// The one-time subscription template.
    pub template_id: TemplateId,
    /// Where WeChat sends the user back, normalised (see [`HttpUrl`]).
    pub redirect_url: HttpUrl,
    /// The CSRF nonce WeChat returns as it is.
    pub reserved: Reserved,
}

impl Link {
    /// The link on `authorize_url` (default [`AUTHORIZE_URL`]; a local simulator may stand in, see
    /// [`authorize_url`]), with the parameters in WeChat's documented order, form-urlencoded, and the
    /// mandatory `#wechat_redirect`.
    ///
    /// ```
    /// use wx_subscribemsg::*;
    /// let link = Link {
    ///     appid: AppId::parse("wxaba38c7f163da69b")?,
    ///     scene: Scene::new(1000)?,
    ///     template_id: TemplateId::parse("1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc")?,
    ///     redirect_url: HttpUrl::parse("http://support.qq.com").unwrap(),
    ///     reserved: Reserved::parse("test")?,
    /// };
    /// assert_eq!(
    ///     link.to_url(None),
    ///     "https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid=wxaba38c7f163da69b&scene=1000\
    ///      &template_id=1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc&redirect_url=http%3A%2F%2Fsupport.qq.com%2F\
    ///      &reserved=test#wechat_redirect"
    /// );
    /// # Ok::<(), wx_subscribemsg::Error>(())
    /// ```
    pub fn to_url(&self, authorize_url: Option<&HttpUrl>) -> String {
        let base = authorize_url.map_or(AUTHORIZE_URL, HttpUrl::as_str);
        let query = whatwg::form_serialize(&[
            ("action", "get_confirm"),
            ("appid", self.appid.as_str()),
            ("scene", &self.scene.to_decimal()),
            ("template_id", self.template_id.as_str()),
            ("redirect_url", self.redirect_url.as_str()),
            ("reserved", self.reserved.as_str()),
        ]);
        concat(&[base, "?", &query, "#wechat_redirect"])
    }
}

/// Checks a stand-in for WeChat's consent page: an absolute http(s) URL with nothing after the path, since the
/// link adds the query and the fragment.
pub fn authorize_url(input: &str) -> Result<HttpUrl> {
    match HttpUrl::parse(input) {
        Ok(url) if !url.has_query_or_fragment() => Ok(url),
        _ => Err(Error::InvalidOption("authorizeUrl")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// The example link of WeChat's document, parameter for parameter.
    const SEED: &str = "https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid=wxaba38c7f163da69b&scene=1000&template_id=1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc&redirect_url=http%3a%2f%2fsupport.qq.com&reserved=test#wechat_redirect";

    /// A link on `redirect_url` with the seed's other parameters.
    pub(crate) fn link(redirect_url: &str, reserved: &str) -> Link {
        Link {
            appid: AppId::parse("wxaba38c7f163da69b").unwrap(),
            scene: Scene::new(1000).unwrap(),
            template_id: TemplateId::parse("1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc").unwrap(),
            redirect_url: HttpUrl::parse(redirect_url).unwrap(),
            reserved: Reserved::parse(reserved).unwrap(),
        }
    }

    fn split(url: &str) -> (&str, Vec<(String, String)>, &str) {
        let (base, rest) = url.split_once('?').unwrap();
        let (query, fragment) = rest.split_once('#').unwrap();
        (base, whatwg::form_pairs(query), fragment)
    }

    #[test]
    fn matches_the_seed_example_parameter_for_parameter() {
        let ours = link("http://support.qq.com", "test").to_url(None);
        let (base, mut ours, fragment) = split(&ours);
        // The one difference: the redirect URL is sent in the normalised form that was checked.
        assert_eq!(ours[4], ("redirect_url".into(), "http://support.qq.com/".into()));
        ours[4].1 = "http://support.qq.com".into();
        assert_eq!((base, ours, fragment), split(SEED));
    }

    #[test]
    fn encodes_redirect_urls_with_query_and_fragment() {
        let local = authorize_url("http://127.0.0.1:8080/mp/subscribemsg").unwrap();
        let url = link("https://a.example.com/cb.html?x=1&y=2#/done", "test").to_url(Some(&local));
        assert!(url.starts_with("http://127.0.0.1:8080/mp/subscribemsg?action=get_confirm&appid="));
        assert!(url.contains(
            "&redirect_url=https%3A%2F%2Fa.example.com%2Fcb.html%3Fx%3D1%26y%3D2%23%2Fdone&reserved=test#wechat_redirect"
        ));
        let (_, pairs, fragment) = split(&url);
        let names: Vec<_> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["action", "appid", "scene", "template_id", "redirect_url", "reserved"]
        );
        assert_eq!(pairs[4].1, "https://a.example.com/cb.html?x=1&y=2#/done");
        assert_eq!(fragment, "wechat_redirect");
    }

    #[test]
    fn sends_the_redirect_url_that_was_checked() {
        let url = link("HTTP://Support.QQ.com:80\\cb.html", "test").to_url(None);
        let (_, pairs, _) = split(&url);
        assert_eq!(pairs[4].1, "http://support.qq.com/cb.html");
    }

    #[test]
    fn refuses_an_authorize_url_that_is_not_a_bare_http_url() {
        for bad in [
            "",
            "mp.weixin.qq.com/mp/subscribemsg",
            "https://x.example/a?b=1",
            "https://x.example/a?",
            "https://x.example/a#b",
            "javascript:x",
        ] {
            assert_eq!(authorize_url(bad), Err(Error::InvalidOption("authorizeUrl")), "{bad:?}");
        }
        assert_eq!(
            authorize_url("HTTPS://MP.example/x").unwrap().as_str(),
            "https://mp.example/x"
        );
    }
}
