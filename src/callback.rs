//! WeChat's redirect back to the landing page: `?openid=…&template_id=…&action=confirm|cancel&scene=…&reserved=…`.

use crate::error::{Error, Result};
use crate::params::{OpenId, Reserved, Scene, TemplateId};

/// The five parameters WeChat adds to `redirect_url`, in the order they are checked.
pub const CALLBACK_PARAMS: [&str; 5] = ["openid", "template_id", "action", "scene", "reserved"];

/// What the user pressed on WeChat's consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// "confirm": the user allowed one message.
    Confirm,
    /// "cancel": the user declined.
    Cancel,
}

impl Action {
    /// WeChat's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Confirm => "confirm",
            Action::Cancel => "cancel",
        }
    }
}

/// A callback whose every parameter is well-formed. Not yet verified against what was stored: see
/// [`crate::flow`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// Confirm or cancel.
    pub action: Action,
    /// The user's openid; present exactly when the action is confirm.
    pub openid: Option<OpenId>,
    /// The template the user answered for.
    pub template_id: TemplateId,
    /// The scene the user answered for.
    pub scene: Scene,
    /// The nonce, returned as it was sent.
    pub reserved: Reserved,
}

impl Callback {
    /// Parses a query string, with or without its `?`. A whole URL is accepted too (its query is used).
    /// Parameters other than the five are ignored, since the redirect URL may carry the site's own.
    ///
    /// ```
    /// use wx_subscribemsg::{Action, Callback};
    /// let cb = Callback::parse("?openid=oAbC&template_id=T1&action=confirm&scene=1000&reserved=test&utm=x")?;
    /// assert_eq!(cb.action, Action::Confirm);
    /// assert_eq!(cb.scene.get(), 1000);
    /// assert_eq!(Callback::parse("action=confirm").unwrap_err().code(), "missing_param");
    /// # Ok::<(), wx_subscribemsg::Error>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self> {
        let query = query_of(input);
        let mut found: [Option<String>; 5] = Default::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if let Some(i) = CALLBACK_PARAMS.iter().position(|&p| p == name) {
                if found[i].replace(value.into_owned()).is_some() {
                    return Err(Error::DuplicateParam(CALLBACK_PARAMS[i]));
                }
            }
        }
        let [openid, template_id, action, scene, reserved] = found;
        let required = |value: Option<String>, name: &'static str| value.ok_or(Error::MissingParam(name));
        let invalid = |name: &'static str| move |_| Error::InvalidParam(name);

        let template_id = TemplateId::parse(&required(template_id, "template_id")?).map_err(invalid("template_id"))?;
        let action = match required(action, "action")?.as_str() {
            "confirm" => Action::Confirm,
            "cancel" => Action::Cancel,
            _ => return Err(Error::InvalidParam("action")),
        };
        let scene = Scene::from_decimal(&required(scene, "scene")?).map_err(invalid("scene"))?;
        let reserved = Reserved::parse(&required(reserved, "reserved")?).map_err(invalid("reserved"))?;
        // WeChat sends openid only on confirm; one left over on a cancel is not trusted for anything.
        let openid = match action {
            Action::Confirm => Some(OpenId::parse(&required(openid, "openid")?).map_err(invalid("openid"))?),
            Action::Cancel => None,
        };
        Ok(Callback {
            action,
            openid,
            template_id,
            scene,
            reserved,
        })
    }
}

/// The callback query WeChat sends for `link` when the user answers `action` (`openid` is sent on confirm
/// only), or `None` when `link` lacks a parameter. For tests of landing pages: it is what a consent
/// simulator does.
///
/// ```
/// use wx_subscribemsg::callback::{wechat_answer, Action};
/// let link = "https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid=wxaba38c7f163da69b&scene=1000\
///             &template_id=T&redirect_url=http%3A%2F%2Fsupport.qq.com&reserved=test#wechat_redirect";
/// assert_eq!(
///     wechat_answer(link, Action::Confirm, "oUser").unwrap(),
///     "openid=oUser&template_id=T&action=confirm&scene=1000&reserved=test"
/// );
/// ```
pub fn wechat_answer(link: &str, action: Action, openid: &str) -> Option<String> {
    let query = query_of(link);
    let get = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    };
    let mut back = form_urlencoded::Serializer::new(String::new());
    if action == Action::Confirm {
        back.append_pair("openid", openid);
    }
    back.append_pair("template_id", &get("template_id")?)
        .append_pair("action", action.as_str())
        .append_pair("scene", &get("scene")?)
        .append_pair("reserved", &get("reserved")?);
    Some(back.finish())
}

/// The query part of `input`: after the first `?` if there is one, and before any `#`.
fn query_of(input: &str) -> &str {
    let query = input.split_once('?').map_or(input, |(_, q)| q);
    query.split_once('#').map_or(query, |(q, _)| q)
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
        assert_eq!(cb.action, Action::Confirm);
        assert_eq!(cb.openid.unwrap().as_str(), "oXyZ_123-abc");
        assert_eq!(cb.template_id.as_str(), "1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc");
        assert_eq!(cb.reserved.as_str(), "test");

        let cancel = Callback::parse("?template_id=T&action=cancel&scene=0&reserved=r1").unwrap();
        assert_eq!(cancel.action, Action::Cancel);
        assert_eq!(cancel.openid, None);
        assert_eq!(cancel.scene.get(), 0);
    }

    #[test]
    fn accepts_a_whole_url_and_ignores_unknown_parameters() {
        let url = ["https://a.example.com/cb.html?from=menu&", OK, "&x=1#%23/done"].concat();
        assert_eq!(Callback::parse(&url).unwrap(), Callback::parse(OK).unwrap());
        assert_eq!(
            Callback::parse(&["?", OK].concat()).unwrap(),
            Callback::parse(OK).unwrap()
        );
    }

    #[test]
    fn names_the_missing_parameter() {
        assert_eq!(err(""), Error::MissingParam("template_id"));
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
            form_urlencoded::parse(OK.as_bytes())
                .map(|(k, v)| {
                    if k == name {
                        (k.into_owned(), value.to_owned())
                    } else {
                        (k.into_owned(), v.into_owned())
                    }
                })
                .fold(form_urlencoded::Serializer::new(String::new()), |mut s, (k, v)| {
                    s.append_pair(&k, &v);
                    s
                })
                .finish()
        };
        for (name, value) in [
            ("action", "CONFIRM"),
            ("action", "deny"),
            ("action", ""),
            ("scene", "10001"),
            ("scene", "-1"),
            ("scene", "1.5"),
            ("scene", ""),
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
