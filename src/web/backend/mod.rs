//! The server's exports, only in the Node build (feature `backend`), so the browser module does not carry them:
//! Step 2's send request and errcode table here; the grant parser in [`grant`]; the send and token decisions in
//! [`send`]. Each converts JS values to [`crate::server`]'s types and back; the decisions live there.

mod grant;
mod send;

use wasm_bindgen::prelude::*;

use super::options::Options;
use serde::Serialize;

use super::object;
use crate::error::{Error, PageCall};
use crate::wechat::errcode::{self, Retry};
use crate::wechat::params::{OpenId, TemplateId};
use crate::wechat::send::{Message, MiniProgramRef, SendRequest};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A message to push with one grant (Step 2). */
export interface SendOptions {
  openid: string;
  templateId: string;
  scene: number;
  /** 1 to 15 characters. */
  title: string;
  /** 1 to 200 characters. */
  content: string;
  /** '#RRGGBB'. */
  color?: string;
  /** Absolute http(s) page the message opens. */
  url?: string;
  /** Mini program page to open (WeChat prefers it over url). */
  miniprogram?: { appid: string; pagepath?: string };
}

/** The JSON body of POST https://api.weixin.qq.com/cgi-bin/message/template/subscribe?access_token=…; absent options are omitted. */
export interface SendRequestBody {
  touser: string;
  template_id: string;
  url?: string;
  miniprogram?: { appid: string; pagepath?: string };
  /** The scene as a string, as WeChat expects. */
  scene: string;
  title: string;
  data: { content: { value: string; color?: string } };
}

/** What an errcode of the send API means. */
export interface ErrcodeExplanation {
  errcode: number;
  /** Stable snake_case name, e.g. 'user_refused' for 43101. */
  name: string;
  ok: boolean;
  meaning: string;
  action: string;
  /** 'done' on success; 'no', 'later', or 'refresh_token' (get a new access_token, then retry once). */
  retry: 'done' | 'no' | 'later' | 'refresh_token';
}

"#;

/// The SubscribeError of a browser-only function called in the Node entry (`browser_only`, naming the function and
/// where to call it instead), made here so code and message come from the table. The entry exports a stand-in
/// for each browser function that throws (or rejects with) this, so a page rendered on a server imports the
/// package as it does in the browser. For the package's own entry (not re-exported).
#[wasm_bindgen(js_name = browserOnlyError)]
pub fn browser_only_error(#[wasm_bindgen(unchecked_param_type = "string")] name: JsValue) -> Result<JsValue, JsValue> {
    let name = name.as_string();
    match PageCall::ALL
        .into_iter()
        .find(|call| Some(call.name()) == name.as_deref())
    {
        Some(call) => Ok(Error::BrowserOnly(call).into()),
        None => Err(Error::InvalidOption("name").into()),
    }
}

/// Validates a message for one grant and returns the send API's JSON body (pass it to `JSON.stringify`).
#[wasm_bindgen(js_name = buildSendRequest, unchecked_return_type = "SendRequestBody")]
pub fn build_send_request(
    #[wasm_bindgen(unchecked_param_type = "SendOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let o = Options::new(options, "options")?;
    let openid = OpenId::parse(&o.string("openid", Error::InvalidOpenid)?)?;
    let template_id = TemplateId::parse(&o.string("templateId", Error::InvalidTemplateId)?)?;
    let scene = o.scene()?;
    let (title, content) = (
        o.string("title", Error::InvalidTitle)?,
        o.string("content", Error::InvalidContent)?,
    );
    let (color, url) = (
        o.opt_string("color", Error::InvalidColor)?,
        o.opt_string("url", Error::InvalidUrl)?,
    );
    let miniprogram: Option<Options> = o
        .opt_value("miniprogram", Error::InvalidMiniprogram, JsValue::is_object)?
        .map(|v| Options::new(v, "miniprogram"))
        .transpose()?;
    let (mp_appid, mp_pagepath) = match &miniprogram {
        Some(mp) => (
            Some(mp.string("appid", Error::InvalidMiniprogram)?),
            mp.opt_string("pagepath", Error::InvalidMiniprogram)?,
        ),
        None => (None, None),
    };
    let message = Message {
        title: &title,
        content: &content,
        color: color.as_deref(),
        url: url.as_deref(),
        miniprogram: mp_appid.as_deref().map(|appid| MiniProgramRef {
            appid,
            pagepath: mp_pagepath.as_deref(),
        }),
    };
    let request = SendRequest::new(openid, template_id, scene, message)?;
    // The struct's serde derive, as native backends serialise it: one definition of WeChat's field names, order and
    // omitted fields. JSON-compatible: objects, not Maps; absent options left out, never null.
    let json = serde_wasm_bindgen::Serializer::json_compatible();
    Ok(request.serialize(&json)?)
}

/// What an errcode of the send API means and what to do about it.
#[wasm_bindgen(js_name = explainErrcode, unchecked_return_type = "ErrcodeExplanation")]
pub fn explain_errcode(#[wasm_bindgen(unchecked_param_type = "number")] errcode: JsValue) -> Result<JsValue, JsValue> {
    // A number as WeChat sends it: no strings, fractions or NaN passed off as an errcode.
    let code = errcode
        .as_f64()
        .filter(|n| n % 1.0 == 0.0 && -1e15 < *n && *n < 1e15)
        .ok_or(Error::InvalidOption("errcode"))?;
    let row = errcode::explain(code as i64);
    Ok(object(&[
        ("errcode", code.into()),
        ("name", row.name.into()),
        ("ok", (row.retry == Retry::Done).into()),
        ("meaning", row.meaning.into()),
        ("action", row.action.into()),
        ("retry", row.retry.as_str().into()),
    ])
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::send::vectors;
    use js_sys::{Reflect, JSON};
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn options(text: &str) -> JsValue {
        JSON::parse(text).unwrap()
    }

    /// The same vectors the native serde test checks: both builds send the same bytes.
    #[test]
    fn build_send_request_matches_the_serde_vectors() {
        let minimal = build_send_request(options(
            r#"{"openid":"oUser_1","templateId":"TPL_1","scene":1000,"title":"发货通知","content":"您的订单已发货"}"#,
        ))
        .unwrap();
        assert_eq!(JSON::stringify(&minimal).unwrap(), vectors::MINIMAL);
        let full = build_send_request(options(r##"{"openid":"oUser_1","templateId":"TPL_1","scene":7,"title":"Order shipped","content":"Your order 42 is on its way.","color":"#173177","url":"https://shop.example.com/order/42","miniprogram":{"appid":"wxaba38c7f163da69b","pagepath":"index?foo=bar"}}"##)).unwrap();
        assert_eq!(JSON::stringify(&full).unwrap(), vectors::FULL);
        let code = |text: &str| Reflect::get(&build_send_request(options(text)).unwrap_err(), &"code".into()).unwrap();
        assert_eq!(
            code(
                r#"{"openid":"o1","templateId":"T","scene":1,"title":"一二三四五六七八九十一二三四五六","content":"c"}"#
            ),
            "invalid_title"
        );
        assert_eq!(
            code(r#"{"openid":"o 1","templateId":"T","scene":1,"title":"t","content":"c"}"#),
            "invalid_openid"
        );
        assert_eq!(
            code(
                r#"{"openid":"o1","templateId":"T","scene":1,"title":"t","content":"c","url":null,"miniprogram":{"appid":"x"}}"#
            ),
            "invalid_miniprogram"
        );
    }

    #[test]
    fn explain_errcode_gives_the_row() {
        let row = explain_errcode(43101.into()).unwrap();
        assert_eq!(Reflect::get(&row, &"name".into()).unwrap(), "user_refused");
        assert_eq!(Reflect::get(&row, &"ok".into()).unwrap(), false);
        assert_eq!(
            Reflect::get(&explain_errcode(0.into()).unwrap(), &"retry".into()).unwrap(),
            "done"
        );
        assert_eq!(
            Reflect::get(&explain_errcode(12345.into()).unwrap(), &"name".into()).unwrap(),
            "unknown"
        );
        for bad in [
            JsValue::from(1.5),
            JsValue::from(f64::NAN),
            JsValue::from("43101"),
            JsValue::NULL,
        ] {
            let error = explain_errcode(bad).unwrap_err();
            assert_eq!(Reflect::get(&error, &"code".into()).unwrap(), "invalid_option");
        }
    }
}
