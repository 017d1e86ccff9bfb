//! The grant parser for Node (`parseGrant`), and for the JS stores their errors (`storeError`) and their grant check
//! (`checkGrant`): JS values in,
//! [`crate::server::grant`]'s decision, a typed `SubscribeError` out. Any value gives a result or an error with a
//! known code, never a trap: a body is whatever a client POSTed.

use crate::prelude::*;
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;

use super::super::{object, options::Options, set};
use crate::server::grant::{self, GrantBody, Policy, Problem};
use crate::{AppId, Error, OpenId, Reserved, Result, TemplateId};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** What a grant endpoint accepts (parseGrant's third argument). */
export interface GrantPolicy {
  /** The Service Account this backend serves; grants for another AppID are refused (appid_mismatch). */
  appid: string;
  /** The one-time templates this backend sends (at least one); grants for others are refused (template_not_accepted). */
  templateIds: string[];
}

/** A checked grant: permission to send one message to openid with templateId and scene. */
export interface Grant {
  appid: string;
  openid: string;
  templateId: string;
  scene: number;
  /** The subscription's nonce: the grant's identity and its Idempotency-Key. */
  reserved: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `Array.isArray`, which throws for a revoked Proxy: caught here rather than thrown through the module.
    #[wasm_bindgen(js_namespace = Array, js_name = isArray, catch)]
    fn is_array(value: &JsValue) -> core::result::Result<bool, JsValue>;
}

/// Checks a POSTed grant (the parsed JSON body, any value) and its `Idempotency-Key` header (a string, or
/// null/undefined when absent) against the crate's rules and this backend's policy. Returns the grant, or throws a
/// SubscribeError `invalid_grant` whose `problems` lists every problem as `{ field, code, message }`; a bad
/// policy throws its own code (`invalid_appid`, `invalid_template_id`, `invalid_option`).
#[wasm_bindgen(js_name = parseGrant, unchecked_return_type = "Grant")]
pub fn parse_grant(
    body: JsValue,
    #[wasm_bindgen(js_name = idempotencyKey, unchecked_param_type = "string | null | undefined")]
    idempotency_key: JsValue,
    #[wasm_bindgen(unchecked_param_type = "GrantPolicy")] policy: JsValue,
) -> core::result::Result<JsValue, JsValue> {
    let (appid, template_ids) = read_policy(policy)?;
    let policy = Policy {
        appid: &appid,
        template_ids: &template_ids,
    };
    if !body.is_object() || is_array(&body).unwrap_or(true) {
        return Err(refusal(&[Problem {
            field: "body",
            error: Error::InvalidBody,
        }]));
    }
    // Read each field once; a getter or Proxy trap that throws leaves the field absent, so it is that field's problem.
    let text = |name: &str| Reflect::get(&body, &name.into()).ok().and_then(|v| v.as_string());
    let (appid_text, openid, template_id, reserved) =
        (text("appid"), text("openid"), text("template_id"), text("reserved"));
    let fields = GrantBody {
        appid: appid_text.as_deref(),
        openid: openid.as_deref(),
        template_id: template_id.as_deref(),
        scene: Reflect::get(&body, &"scene".into()).ok().and_then(|v| v.as_f64()),
        reserved: reserved.as_deref(),
    };
    let key = idempotency_key.as_string();
    match grant::parse_grant(&fields, key.as_deref(), &policy) {
        Ok(grant) => Ok(object(&[
            ("appid", grant.appid.as_str().into()),
            ("openid", grant.openid.as_str().into()),
            ("templateId", grant.template_id.as_str().into()),
            ("scene", grant.scene.get().into()),
            ("reserved", grant.reserved.as_str().into()),
        ])
        .into()),
        Err(problems) => Err(refusal(&problems)),
    }
}

/// The policy's AppID and templates, each checked by its own parser.
fn read_policy(policy: JsValue) -> Result<(AppId, Vec<TemplateId>)> {
    let options = Options::new(policy, "options")?;
    let appid = AppId::parse(&options.string("appid", Error::InvalidAppid)?)?;
    let not_a_list = Error::InvalidOption("templateIds");
    let list = options
        .opt_value("templateIds", not_a_list.clone(), |v| is_array(v).unwrap_or(false))?
        .ok_or(not_a_list.clone())?;
    let length = Reflect::get(&list, &"length".into())
        .ok()
        .and_then(|n| n.as_f64())
        .filter(|n| (1.0..=1000.0).contains(n))
        .ok_or(not_a_list)?;
    let template_ids = (0..length as u32)
        .map(|i| {
            let id = Reflect::get_u32(&list, i).ok().and_then(|v| v.as_string());
            TemplateId::parse(&id.ok_or(Error::InvalidTemplateId)?)
        })
        .collect::<Result<_>>()?;
    Ok((appid, template_ids))
}

/// The `invalid_grant` error carrying every problem as `{ field, code, message }`.
fn refusal(problems: &[Problem]) -> JsValue {
    let error = JsValue::from(grant::invalid_grant(problems));
    let list = Array::new();
    for problem in problems {
        list.push(
            &object(&[
                ("field", problem.field.into()),
                ("code", problem.error.code().into()),
                ("message", problem.error.message().as_ref().into()),
            ])
            .into(),
        );
    }
    set(error.unchecked_ref(), "problems", list.into());
    error
}

/// The names `storeError('invalid_option', name)` may give; anything else is reported as `options`.
const OPTION_NAMES: &[&str] = &[
    "path",
    "client",
    "table",
    "grant",
    "filter",
    "state",
    "openid",
    "options",
    "leaseMs",
    "limit",
    "reserved",
    "claim",
    "outcome",
    "errcode",
    "detail",
    "retryInMs",
    "appid",
    "templateIds",
    "store",
    "authorize",
    "cors",
    "maxBodyBytes",
    "onError",
    "request",
];

/// The SubscribeError the package's JS server code throws, made here so code and message come from the table:
/// `store_unavailable` or `store_locked` with `detail` (what failed, e.g. the file and the pid holding it; never a
/// secret) after the message, `invalid_option` naming the option `detail`, or `invalid_reserved`. For the package's
/// own server code (not re-exported by the entry).
#[wasm_bindgen(js_name = storeError)]
pub fn store_error(
    #[wasm_bindgen(
        unchecked_param_type = "'store_unavailable' | 'store_locked' | 'invalid_option' | 'invalid_reserved'"
    )]
    code: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] detail: JsValue,
) -> core::result::Result<js_sys::Error, JsValue> {
    let detail = detail.as_string().unwrap_or_default();
    let error = match code.as_string().as_deref() {
        Some("store_unavailable") => Error::StoreUnavailable,
        Some("store_locked") => Error::StoreLocked,
        Some("invalid_reserved") => Error::InvalidReserved,
        Some("invalid_option") => {
            let name = OPTION_NAMES
                .iter()
                .find(|n| **n == detail)
                .copied()
                .unwrap_or("options");
            return Ok(JsValue::from(Error::InvalidOption(name)).unchecked_into());
        }
        _ => return Err(Error::InvalidOption("code").into()),
    };
    let js: js_sys::Error = JsValue::from(error.clone()).unchecked_into();
    if !detail.is_empty() && matches!(error, Error::StoreUnavailable | Error::StoreLocked) {
        js.set_message(&crate::concat(&[&error.message(), " (", &detail, ")"]));
    }
    Ok(js)
}

/// A grant to store, checked by the crate's parsers, each field with its own code (`invalid_appid`,
/// `invalid_openid`, `invalid_template_id`, `invalid_scene`, `invalid_reserved`; `invalid_option` for a value that
/// is not an object): a plain copy of exactly its five fields. For the package's own stores (not re-exported).
#[wasm_bindgen(js_name = checkGrant, unchecked_return_type = "Grant")]
pub fn check_grant(
    #[wasm_bindgen(unchecked_param_type = "Grant")] grant: JsValue,
) -> core::result::Result<JsValue, JsValue> {
    let o = Options::new(grant, "grant")?;
    let appid = AppId::parse(&o.string("appid", Error::InvalidAppid)?)?;
    let openid = OpenId::parse(&o.string("openid", Error::InvalidOpenid)?)?;
    let template_id = TemplateId::parse(&o.string("templateId", Error::InvalidTemplateId)?)?;
    let scene = o.scene()?;
    let reserved = Reserved::parse(&o.string("reserved", Error::InvalidReserved)?)?;
    Ok(object(&[
        ("appid", appid.as_str().into()),
        ("openid", openid.as_str().into()),
        ("templateId", template_id.as_str().into()),
        ("scene", scene.get().into()),
        ("reserved", reserved.as_str().into()),
    ])
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use js_sys::JSON;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn json(text: &str) -> JsValue {
        JSON::parse(text).unwrap()
    }

    fn policy() -> JsValue {
        json(r#"{"appid":"wxaba38c7f163da69b","templateIds":["TPL_1"]}"#)
    }

    fn codes(error: &JsValue) -> Vec<(String, String)> {
        let problems: Array = Reflect::get(error, &"problems".into()).unwrap().unchecked_into();
        problems
            .iter()
            .map(|p| {
                let get = |k: &str| Reflect::get(&p, &k.into()).unwrap().as_string().unwrap();
                (get("field"), get("code"))
            })
            .collect()
    }

    #[test]
    fn parse_grant_types_a_good_grant_and_lists_every_problem() {
        let body =
            json(r#"{"appid":"wxaba38c7f163da69b","openid":"oU_1","template_id":"TPL_1","scene":7,"reserved":"abc"}"#);
        let grant = parse_grant(body, "abc".into(), policy()).unwrap();
        assert_eq!(
            JSON::stringify(&grant).unwrap(),
            r#"{"appid":"wxaba38c7f163da69b","openid":"oU_1","templateId":"TPL_1","scene":7,"reserved":"abc"}"#
        );
        let bad = json(r#"{"appid":"wx","scene":"7","template_id":"TPL_2","reserved":"abc"}"#);
        let error = parse_grant(bad, JsValue::NULL, policy()).unwrap_err();
        assert_eq!(Reflect::get(&error, &"code".into()).unwrap(), "invalid_grant");
        let expected = [
            ("appid", "invalid_appid"),
            ("openid", "invalid_openid"),
            ("template_id", "template_not_accepted"),
            ("scene", "invalid_scene"),
            ("Idempotency-Key", "key_mismatch"),
        ];
        assert_eq!(
            codes(&error),
            expected
                .iter()
                .map(|(f, c)| (f.to_string(), c.to_string()))
                .collect::<Vec<_>>()
        );
        for not_a_body in [JsValue::NULL, JsValue::from(3), json("[]"), JsValue::from("{}")] {
            let error = parse_grant(not_a_body, "abc".into(), policy()).unwrap_err();
            assert_eq!(codes(&error), vec![("body".to_string(), "invalid_body".to_string())]);
        }
    }

    #[test]
    fn a_bad_policy_is_its_own_error() {
        let code = |policy: &str| {
            let error = parse_grant(json("{}"), JsValue::NULL, json(policy)).unwrap_err();
            Reflect::get(&error, &"code".into()).unwrap()
        };
        assert_eq!(code(r#"{"appid":"wx1","templateIds":["T"]}"#), "invalid_appid");
        assert_eq!(
            code(r#"{"appid":"wxaba38c7f163da69b","templateIds":[]}"#),
            "invalid_option"
        );
        assert_eq!(
            code(r#"{"appid":"wxaba38c7f163da69b","templateIds":"T"}"#),
            "invalid_option"
        );
        assert_eq!(
            code(r#"{"appid":"wxaba38c7f163da69b","templateIds":["a b"]}"#),
            "invalid_template_id"
        );
    }

    #[test]
    fn store_errors_come_from_the_table() {
        let error: JsValue = store_error("store_locked".into(), "/tmp/g.jsonl held by pid 7".into())
            .unwrap()
            .into();
        assert_eq!(Reflect::get(&error, &"code".into()).unwrap(), "store_locked");
        let message = Reflect::get(&error, &"message".into()).unwrap().as_string().unwrap();
        assert!(message.ends_with("(/tmp/g.jsonl held by pid 7)"), "{message}");
        assert!(store_error("invalid_grant".into(), JsValue::NULL).is_err());
        let option: JsValue = store_error("invalid_option".into(), "leaseMs".into()).unwrap().into();
        let message = Reflect::get(&option, &"message".into()).unwrap().as_string().unwrap();
        assert!(message.starts_with("option 'leaseMs' is"), "{message}");
    }

    #[test]
    fn check_grant_copies_a_valid_grant() {
        let grant = json(
            r#"{"appid":"wxaba38c7f163da69b","openid":"oU_1","templateId":"T","scene":0,"reserved":"r1","state":"sent"}"#,
        );
        assert_eq!(
            JSON::stringify(&check_grant(grant).unwrap()).unwrap(),
            r#"{"appid":"wxaba38c7f163da69b","openid":"oU_1","templateId":"T","scene":0,"reserved":"r1"}"#
        );
        let error = check_grant(json(r#"{"appid":"wxaba38c7f163da69b","openid":"o 1"}"#)).unwrap_err();
        assert_eq!(Reflect::get(&error, &"code".into()).unwrap(), "invalid_openid");
    }
}
