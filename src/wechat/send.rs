//! Step 2: the request that pushes the one message a grant allows.
//!
//! `POST https://api.weixin.qq.com/cgi-bin/message/template/subscribe?access_token=ACCESS_TOKEN` with a JSON
//! body. One authorization allows one message; authorizing again under the same scene does not add a
//! permit, and a second message needs a second scene (WeChat answers 43101 otherwise, see [`crate::wechat::errcode`]).

use crate::prelude::*;
use serde::{Serialize, Serializer};

use crate::error::{Error, Result};
use crate::http_url::HttpUrl;
use crate::wechat::params::{AppId, OpenId, Scene, TemplateId};

/// The send API, without its `access_token` query parameter.
pub const SEND_API: &str = "https://api.weixin.qq.com/cgi-bin/message/template/subscribe";

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 15;
/// Longest content, in characters.
pub const MAX_CONTENT_CHARS: usize = 200;

/// The message a backend wants to push, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message<'a> {
    /// Shown as the message's title: 1..=15 characters.
    pub title: &'a str,
    /// The body: 1..=200 characters.
    pub content: &'a str,
    /// Colour of the content, `#RRGGBB`.
    pub color: Option<&'a str>,
    /// The page the message opens: absolute http(s).
    pub url: Option<&'a str>,
    /// A mini program page to open instead of `url` (WeChat prefers it when both are given; `url` stays the
    /// fallback for clients without mini programs).
    pub miniprogram: Option<MiniProgramRef<'a>>,
}

/// A mini program page, before validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiniProgramRef<'a> {
    /// The mini program's AppID.
    pub appid: &'a str,
    /// Its page path with query, e.g. `index?foo=bar`.
    pub pagepath: Option<&'a str>,
}

/// The body of the send API, validated; its serde serialisation is exactly what WeChat expects, with absent
/// optional fields omitted rather than `null` (an `"url": null` or empty `miniprogram` is refused by WeChat).
///
/// ```
/// use wx_subscribemsg::wechat::send::{Message, SendRequest};
/// use wx_subscribemsg::{OpenId, Scene, TemplateId};
/// let request = SendRequest::new(
///     OpenId::parse("oUser_1")?,
///     TemplateId::parse("TPL_1")?,
///     Scene::new(1000)?,
///     Message { title: "发货通知", content: "您的订单已发货", ..Message::default() },
/// )?;
/// assert_eq!(request.title, "发货通知");
/// # Ok::<(), wx_subscribemsg::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SendRequest {
    /// The user's openid.
    pub touser: OpenId,
    /// The template the user authorized.
    pub template_id: TemplateId,
    /// The page the message opens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A mini program page to open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgram>,
    /// The authorized scene; WeChat wants it as a string.
    #[serde(serialize_with = "scene_as_string")]
    pub scene: Scene,
    /// The title.
    pub title: String,
    /// The content.
    pub data: Data,
}

/// A validated mini program page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MiniProgram {
    /// The mini program's AppID.
    pub appid: AppId,
    /// Its page path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagepath: Option<String>,
}

/// `data` of the send API: one-time subscription messages have a single `content` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Data {
    /// The content.
    pub content: Field,
}

/// A value with an optional colour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The text.
    pub value: String,
    /// `#RRGGBB`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

fn scene_as_string<S: Serializer>(scene: &Scene, serializer: S) -> core::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&scene.to_decimal())
}

/// Non-blank, at most `max` characters (Unicode scalar values, as WeChat's limits are stated in characters, not
/// bytes), and free of control characters other than those in `allowed`.
fn is_text(s: &str, max: usize, allowed: &[char]) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(|c| c.is_control() && !allowed.contains(&c))
}

impl SendRequest {
    /// Validates `message` for the grant (`openid`, `template_id`, `scene`) and builds the body.
    pub fn new(openid: OpenId, template_id: TemplateId, scene: Scene, message: Message<'_>) -> Result<Self> {
        if !is_text(message.title, MAX_TITLE_CHARS, &[]) {
            return Err(Error::InvalidTitle);
        }
        // A line break is fine in a message body; other control characters never are.
        if !is_text(message.content, MAX_CONTENT_CHARS, &['\n']) {
            return Err(Error::InvalidContent);
        }
        if let Some(color) = message.color {
            let hex = color.strip_prefix('#').unwrap_or_default();
            if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::InvalidColor);
            }
        }
        let url = match message.url {
            Some(url) => Some(HttpUrl::parse(url).map_err(|_| Error::InvalidUrl)?.as_str().to_owned()),
            None => None,
        };
        let miniprogram = match message.miniprogram {
            Some(mp) => {
                let appid = AppId::parse(mp.appid).map_err(|_| Error::InvalidMiniprogram)?;
                if mp
                    .pagepath
                    .is_some_and(|p| p.is_empty() || p.bytes().any(|b| b <= b' '))
                {
                    return Err(Error::InvalidMiniprogram);
                }
                Some(MiniProgram {
                    appid,
                    pagepath: mp.pagepath.map(str::to_owned),
                })
            }
            None => None,
        };
        Ok(SendRequest {
            touser: openid,
            template_id,
            url,
            miniprogram,
            scene,
            title: message.title.to_owned(),
            data: Data {
                content: Field {
                    value: message.content.to_owned(),
                    color: message.color.map(str::to_owned),
                },
            },
        })
    }
}

/// Vectors shared by the native serde test and the browser test of `buildSendRequest`.
#[cfg(test)]
pub(crate) mod vectors {
    /// A minimal request: no url, no miniprogram, no color.
    pub const MINIMAL: &str = r#"{"touser":"oUser_1","template_id":"TPL_1","scene":"1000","title":"发货通知","data":{"content":{"value":"您的订单已发货"}}}"#;
    /// Every optional field.
    pub const FULL: &str = r##"{"touser":"oUser_1","template_id":"TPL_1","url":"https://shop.example.com/order/42","miniprogram":{"appid":"wxaba38c7f163da69b","pagepath":"index?foo=bar"},"scene":"7","title":"Order shipped","data":{"content":{"value":"Your order 42 is on its way.","color":"#173177"}}}"##;
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn request(scene: i64, message: Message<'_>) -> Result<SendRequest> {
        SendRequest::new(
            OpenId::parse("oUser_1").unwrap(),
            TemplateId::parse("TPL_1").unwrap(),
            Scene::new(scene).unwrap(),
            message,
        )
    }

    fn msg<'a>(title: &'a str, content: &'a str) -> Message<'a> {
        Message {
            title,
            content,
            ..Message::default()
        }
    }

    /// The message's rules in the shared vectors (title, content, color, page URL, mini program page and AppID).
    #[test]
    fn the_shared_vectors_for_a_message() {
        use crate::wechat::vectors::{rule, text};
        let field = |name: &str, message: &dyn Fn(&str) -> Message<'_>| {
            let rule = rule(name);
            for value in rule.valid.iter().filter_map(text) {
                assert!(request(1, message(value)).is_ok(), "{name}: {value:?} is valid");
            }
            for value in rule.invalid.iter().filter_map(text) {
                let error = request(1, message(value)).unwrap_err();
                assert_eq!(error.code(), rule.code, "{name}: {value:?}");
            }
        };
        field("title", &|v| msg(v, "c"));
        field("content", &|v| msg("t", v));
        field("color", &|v| Message {
            color: Some(v),
            ..msg("t", "c")
        });
        field("httpUrl", &|v| Message {
            url: Some(v),
            ..msg("t", "c")
        });
        field("pagepath", &|v| Message {
            miniprogram: Some(MiniProgramRef {
                appid: "wxaba38c7f163da69b",
                pagepath: Some(v),
            }),
            ..msg("t", "c")
        });
        // A mini program's AppID follows the AppID rule, refused as the mini program's.
        let appids = rule("appid");
        for appid in appids.invalid.iter().filter_map(text) {
            let message = Message {
                miniprogram: Some(MiniProgramRef { appid, pagepath: None }),
                ..msg("t", "c")
            };
            assert_eq!(request(1, message), Err(Error::InvalidMiniprogram), "{appid:?}");
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn serialises_exactly_as_wechat_expects_omitting_absent_fields() {
        let minimal = request(1000, msg("发货通知", "您的订单已发货")).unwrap();
        assert_eq!(serde_json::to_string(&minimal).unwrap(), vectors::MINIMAL);
        let full = request(
            7,
            Message {
                title: "Order shipped",
                content: "Your order 42 is on its way.",
                color: Some("#173177"),
                url: Some("https://shop.example.com/order/42"),
                miniprogram: Some(MiniProgramRef {
                    appid: "wxaba38c7f163da69b",
                    pagepath: Some("index?foo=bar"),
                }),
            },
        )
        .unwrap();
        assert_eq!(serde_json::to_string(&full).unwrap(), vectors::FULL);
    }
}
