//! Reading the option objects JS passes in, with one rule for every field: each field has one error code,
//! its own where WeChat's rules give it one (`appid` → `invalid_appid`, `scene` → `invalid_scene`,
//! `redirectUrl` → `invalid_redirect_url`, a message's `url` → `invalid_url`, …) and `invalid_option` naming the
//! field otherwise; a field gets its code when it is missing but required, of the wrong type, out of range, or
//! when reading it throws (a getter, a Proxy). Absent means `undefined` or `null`.
//!
//! Read field by field with `Reflect` rather than through serde: each field gets its own code (a string
//! scene is `invalid_scene`, not a generic deserialisation message), and the module stays small.

use crate::prelude::*;
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{Error, Result};
use crate::http_url::HttpUrl;
use crate::wechat::link::Link;
use crate::wechat::params::{AppId, Reserved, Scene, TemplateId};

/// An options object.
pub struct Options(JsValue);

impl Options {
    /// `value` must be an object; anything else is `invalid_option` for `what`.
    pub fn new(value: JsValue, what: &'static str) -> Result<Self> {
        if value.is_object() {
            Ok(Options(value))
        } else {
            Err(Error::InvalidOption(what))
        }
    }

    /// The field, `None` when absent; `error` when reading it throws. Only the object's own properties count: a
    /// field inherited from a polluted `Object.prototype` is absent, as hardened libraries read options.
    fn get(&self, name: &str, error: Error) -> Result<Option<JsValue>> {
        let key = JsValue::from_str(name);
        let own =
            Reflect::get_own_property_descriptor::<JsValue>(self.0.unchecked_ref(), &key).map_err(|_| error.clone())?;
        if own.is_undefined() {
            return Ok(None);
        }
        let value = Reflect::get(&self.0, &key).map_err(|_| error)?;
        Ok((!value.is_undefined() && !value.is_null()).then_some(value))
    }

    /// A field that must be a string.
    pub fn string(&self, name: &str, error: Error) -> Result<String> {
        self.opt_string(name, error.clone())?.ok_or(error)
    }

    /// A string field that may be absent.
    pub fn opt_string(&self, name: &str, error: Error) -> Result<Option<String>> {
        self.get(name, error.clone())?
            .map(|value| super::text(&value).ok_or(error))
            .transpose()
    }

    /// A boolean field that may be absent.
    pub fn opt_bool(&self, name: &'static str, default: bool) -> Result<bool> {
        let error = Error::InvalidOption(name);
        match self.get(name, error.clone())? {
            None => Ok(default),
            Some(value) => value.as_bool().ok_or(error),
        }
    }

    /// An integer field in `range` that may be absent.
    pub fn opt_u32(&self, name: &'static str, default: u32, range: core::ops::RangeInclusive<u32>) -> Result<u32> {
        let error = Error::InvalidOption(name);
        let Some(value) = self.get(name, error.clone())? else {
            return Ok(default);
        };
        match value.as_f64() {
            Some(n) if n % 1.0 == 0.0 && n >= f64::from(*range.start()) && n <= f64::from(*range.end()) => Ok(n as u32),
            _ => Err(error),
        }
    }

    /// A field passed on as it is (e.g. `headers`, `fetch`), when `valid` accepts it; may be absent.
    pub fn opt_value(&self, name: &str, error: Error, valid: fn(&JsValue) -> bool) -> Result<Option<JsValue>> {
        match self.get(name, error.clone())? {
            Some(value) if !valid(&value) => Err(error),
            value => Ok(value),
        }
    }

    /// `scene`: a JS number that is an integer in range; a string such as `"12"` is `invalid_scene` too.
    pub fn scene(&self) -> Result<Scene> {
        let value = self.get("scene", Error::InvalidScene)?;
        value
            .and_then(|v| v.as_f64())
            .ok_or(Error::InvalidScene)
            .and_then(Scene::from_f64)
    }

    /// The link's fields, each validated with its own code in the order of the link, the nonce last.
    pub fn link(&self, reserved: impl FnOnce() -> Result<Reserved>) -> Result<Link> {
        let appid = AppId::parse(&self.string("appid", Error::InvalidAppid)?)?;
        let scene = self.scene()?;
        let template_id = TemplateId::parse(&self.string("templateId", Error::InvalidTemplateId)?)?;
        let not_a_url = Error::InvalidRedirectUrl(crate::UrlProblem::NotAbsolute);
        let redirect_url =
            HttpUrl::parse(&self.string("redirectUrl", not_a_url)?).map_err(Error::InvalidRedirectUrl)?;
        Ok(Link {
            appid,
            scene,
            template_id,
            redirect_url,
            reserved: reserved()?,
        })
    }
}
