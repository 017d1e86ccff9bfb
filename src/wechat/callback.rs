//! WeChat's redirect back to the landing page: `?openid=…&template_id=…&action=confirm|cancel&scene=…&reserved=…`.

use crate::error::{Error, Result};
use crate::prelude::*;
use crate::wechat::params::{OpenId, Reserved, Scene, TemplateId};
use crate::whatwg;

/// The five parameters WeChat adds to `redirect_url`, in the order they are checked.
pub const CALLBACK_PARAMS: [&str; 5] = ["openid", "template_id", "action", "scene", "reserved"];

/// What the user pressed on WeChat's consent page, with what WeChat sends for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// "confirm": the user allowed one message; WeChat sends the user's openid with it.
    Confirm(OpenId),
    /// "cancel": the user declined; WeChat sends no openid.
    Cancel,
}

impl Answer {
    /// WeChat's `action` value.
    pub fn action(&self) -> &'static str {
        match self {
            Answer::Confirm(_) => "confirm",
            Answer::Cancel => "cancel",
        }
    }
}

/// A callback whose every parameter is well-formed. Not yet verified against what was stored: see
/// [`crate::subscription::flow::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// Allow (with the openid) or cancel.
    pub answer: Answer,
    /// The template the user answered for.
    pub template_id: TemplateId,
    /// The scene the user answered for.
    pub scene: Scene,
    /// The nonce, returned as it was sent.
    pub reserved: Reserved,
}

impl Callback {
    /// Parses the query of a callback: a query string with or without its `?`, or a whole http(s) URL, whose
    /// query component alone is read (never its fragment). A `?` inside a value is data. Parameters other than
    /// the five are ignored, since the redirect URL may carry the site's own.
    ///
    /// ```
    /// use wx_subscribemsg::{Answer, Callback};
    /// let cb = Callback::parse("?openid=oAbC&template_id=T1&action=confirm&scene=1000&reserved=test&utm=x")?;
    /// assert!(matches!(cb.answer, Answer::Confirm(_)));
    /// assert_eq!(cb.scene.get(), 1000);
    /// assert_eq!(Callback::parse("action=confirm").unwrap_err().code(), "missing_param");
    /// assert_eq!(Callback::parse("?from=menu").unwrap_err().code(), "no_callback");
    /// # Ok::<(), wx_subscribemsg::Error>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self> {
        let mut found: [Option<String>; 5] = Default::default();
        for (name, value) in crate::whatwg::form_pairs(query_of(input)) {
            if let Some(i) = CALLBACK_PARAMS.iter().position(|&p| p == name) {
                if found[i].replace(value).is_some() {
                    return Err(Error::DuplicateParam(CALLBACK_PARAMS[i]));
                }
            }
        }
        if found.iter().all(Option::is_none) {
            return Err(Error::NoCallback);
        }
        let [openid, template_id, action, scene, reserved] = found;
        let required = |value: Option<String>, name: &'static str| value.ok_or(Error::MissingParam(name));
        let invalid = |name: &'static str| move |_| Error::InvalidParam(name);

        let template_id = TemplateId::parse(&required(template_id, "template_id")?).map_err(invalid("template_id"))?;
        let confirm = match required(action, "action")?.as_str() {
            "confirm" => true,
            "cancel" => false,
            _ => return Err(Error::InvalidParam("action")),
        };
        let scene = Scene::from_decimal(&required(scene, "scene")?).map_err(invalid("scene"))?;
        let reserved = Reserved::parse(&required(reserved, "reserved")?).map_err(invalid("reserved"))?;
        // WeChat sends openid only on confirm; one left over on a cancel is not trusted for anything.
        let answer = if confirm {
            Answer::Confirm(OpenId::parse(&required(openid, "openid")?).map_err(invalid("openid"))?)
        } else {
            Answer::Cancel
        };
        Ok(Callback {
            answer,
            template_id,
            scene,
            reserved,
        })
    }

    /// The query WeChat sends for this callback: `openid` (on confirm), `template_id`, `action`, `scene`,
    /// `reserved`, in WeChat's order. [`Callback::parse`] reads it back to the same callback.
    pub fn to_query(&self) -> String {
        let (openid, confirm) = match &self.answer {
            Answer::Confirm(openid) => (openid.as_str(), true),
            Answer::Cancel => ("", false),
        };
        let query = [
            ("openid", openid),
            ("template_id", self.template_id.as_str()),
            ("action", self.answer.action()),
            ("scene", &self.scene.to_decimal()),
            ("reserved", self.reserved.as_str()),
        ];
        // WeChat sends openid on confirm only.
        whatwg::form_serialize(if confirm { &query } else { &query[1..] })
    }
}

/// The callback query WeChat sends for the link `link` when the user allows (`openid` given) or cancels
/// (`None`), or `None` when `link` lacks a parameter. For tests of landing pages: it is what a consent
/// simulator does. The values are copied as the link has them, valid or not.
///
/// ```
/// use wx_subscribemsg::wechat::callback::wechat_answer;
/// let link = "https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid=wxaba38c7f163da69b&scene=1000\
///             &template_id=T&redirect_url=http%3A%2F%2Fsupport.qq.com&reserved=test#wechat_redirect";
/// assert_eq!(
///     wechat_answer(link, Some("oUser")).unwrap(),
///     "openid=oUser&template_id=T&action=confirm&scene=1000&reserved=test"
/// );
/// ```
pub fn wechat_answer(link: &str, openid: Option<&str>) -> Option<String> {
    let pairs = whatwg::form_pairs(query_of(link));
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let action = if openid.is_some() { "confirm" } else { "cancel" };
    let answer = [
        ("openid", openid.unwrap_or_default()),
        ("template_id", get("template_id")?),
        ("action", action),
        ("scene", get("scene")?),
        ("reserved", get("reserved")?),
    ];
    Some(whatwg::form_serialize(if openid.is_some() {
        &answer
    } else {
        &answer[1..]
    }))
}

/// The query component of `input`: of a whole http(s) URL, what lies between its first `?` and its fragment;
/// of a query string, all of it but a leading `?` and a fragment.
fn query_of(input: &str) -> &str {
    let input = input.split_once('#').map_or(input, |(before, _)| before);
    let is_url = ["http:", "https:"].iter().any(|scheme| {
        input
            .get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    });
    if is_url {
        input.split_once('?').map_or("", |(_, query)| query)
    } else {
        input.strip_prefix('?').unwrap_or(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const OK: &str = "openid=oXyZ_123-abc&template_id=1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc&action=confirm&scene=1000&reserved=test";

    fn err(query: &str) -> Error {
        Callback::parse(query).unwrap_err()
    }

    #[test]
    fn parses_confirm_and_cancel() {
        let cb = Callback::parse(OK).unwrap();
        assert_eq!(cb.answer, Answer::Confirm(OpenId::parse("oXyZ_123-abc").unwrap()));
        assert_eq!(cb.template_id.as_str(), "1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc");
        assert_eq!(cb.reserved.as_str(), "test");

        let cancel = Callback::parse("?template_id=T&action=cancel&scene=0&reserved=r1").unwrap();
        assert_eq!(cancel.answer, Answer::Cancel);
        assert_eq!(cancel.scene.get(), 0);
        // An openid left over on a cancel is dropped, not carried.
        let leftover = Callback::parse("openid=o1&template_id=T&action=cancel&scene=0&reserved=r1").unwrap();
        assert_eq!(leftover, cancel);
    }

    #[test]
    fn to_query_is_what_wechat_sends_and_parses_back() {
        let cb = Callback::parse(&["from=menu&", OK].concat()).unwrap();
        assert_eq!(cb.to_query(), OK);
        let cancel = Callback::parse("reserved=r1&scene=7&action=cancel&template_id=T").unwrap();
        assert_eq!(cancel.to_query(), "template_id=T&action=cancel&scene=7&reserved=r1");
        assert_eq!(Callback::parse(&cancel.to_query()).unwrap(), cancel);
    }

    #[test]
    fn reads_the_query_component_of_a_whole_url_and_ignores_unknown_parameters() {
        let url = ["https://a.example.com/cb.html?from=menu&", OK, "&x=1#%23/done"].concat();
        assert_eq!(Callback::parse(&url).unwrap(), Callback::parse(OK).unwrap());
        assert_eq!(
            Callback::parse(&["?", OK].concat()).unwrap(),
            Callback::parse(OK).unwrap()
        );
        assert_eq!(
            Callback::parse(&["HTTP://a.example.com/?", OK].concat()).unwrap(),
            Callback::parse(OK).unwrap()
        );
    }

    #[test]
    fn never_reads_parameters_from_a_fragment() {
        let hashed = "https://s.example.com/cb.html#/x?template_id=T&action=cancel&scene=1&reserved=R";
        assert_eq!(err(hashed), Error::NoCallback);
        assert_eq!(
            err("?from=1#template_id=T&action=cancel&scene=1&reserved=R"),
            Error::NoCallback
        );
        assert_eq!(
            err("#/x?template_id=T&action=cancel&scene=1&reserved=R"),
            Error::NoCallback
        );
    }

    #[test]
    fn a_question_mark_inside_a_value_is_data() {
        // Cutting at the inner `?` would drop the first openid and slip past the duplicate check.
        assert_eq!(
            err("openid=oA?&openid=oB&template_id=T&action=confirm&scene=1&reserved=R"),
            Error::DuplicateParam("openid")
        );
        assert_eq!(
            err("from=a?b&openid=o?1&template_id=T&action=confirm&scene=1&reserved=R"),
            Error::InvalidParam("openid")
        );
        let cb = Callback::parse("next=/a?b&template_id=T&action=cancel&scene=1&reserved=R").unwrap();
        assert_eq!(cb.reserved.as_str(), "R");
    }

    #[test]
    fn no_callback_parameter_at_all_is_its_own_error() {
        for input in [
            "",
            "?",
            "?from=menu&utm_source=x",
            "https://s.example.com/landing.html",
            "#/done",
        ] {
            assert_eq!(err(input), Error::NoCallback, "{input:?}");
        }
    }

    #[test]
    fn names_the_missing_parameter() {
        assert_eq!(err("action=cancel"), Error::MissingParam("template_id"));
        assert_eq!(err("template_id=T&scene=1&reserved=r"), Error::MissingParam("action"));
        assert_eq!(
            err("template_id=T&action=cancel&reserved=r"),
            Error::MissingParam("scene")
        );
        assert_eq!(
            err("template_id=T&action=cancel&scene=1"),
            Error::MissingParam("reserved")
        );
        assert_eq!(
            err("template_id=T&action=confirm&scene=1&reserved=r"),
            Error::MissingParam("openid")
        );
    }

    #[test]
    fn refuses_each_parameter_twice() {
        for name in CALLBACK_PARAMS {
            let query = [OK, "&", name, "=x"].concat();
            assert_eq!(err(&query), Error::DuplicateParam(name), "{name}");
        }
    }

    #[test]
    fn refuses_values_wechat_never_sends() {
        let with = |name: &str, value: &str| {
            let pairs = whatwg::form_pairs(OK);
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), if k == name { value } else { v.as_str() }))
                .collect();
            whatwg::form_serialize(&pairs)
        };
        for (name, value) in [
            ("action", "CONFIRM"),
            ("action", "deny"),
            ("action", ""),
            ("scene", "10001"),
            ("scene", "-1"),
            ("scene", "1.5"),
            ("scene", ""),
            ("scene", "01000"),
            ("scene", "00"),
            ("reserved", "a-b"),
            ("reserved", ""),
            ("template_id", "a b"),
            ("template_id", ""),
            ("openid", "o<script>"),
            ("openid", ""),
        ] {
            assert_eq!(err(&with(name, value)), Error::InvalidParam(name), "{name}={value:?}");
        }
        assert_eq!(
            err(&with("reserved", &"a".repeat(129))),
            Error::InvalidParam("reserved")
        );
        assert_eq!(err(&with("openid", &"o".repeat(65))), Error::InvalidParam("openid"));
    }

    #[test]
    fn decodes_percent_and_plus_as_a_form_would() {
        // %41 is "A": a legal value however WeChat chooses to encode it.
        let cb = Callback::parse("template_id=T%41&action=cancel&scene=%31&reserved=r").unwrap();
        assert_eq!(cb.template_id.as_str(), "TA");
        assert_eq!(cb.scene.get(), 1);
        assert_eq!(
            err("template_id=T+A&action=cancel&scene=1&reserved=r"),
            Error::InvalidParam("template_id")
        );
    }
}
