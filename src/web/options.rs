//! Reading the option objects JS passes in, with the crate's typed errors for anything off.
//!
//! Read field by field with `Reflect` rather than through serde: each field gets its own error code
//! (a string scene is `invalid_scene`, not a generic deserialisation message), and the module stays small.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{Error, RedirectProblem, Result};
use crate::params::{AppId, Scene, TemplateId};
use crate::redirect::RedirectUrl;

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

    /// The raw field; `undefined` when absent or when a getter throws.
    pub fn get(&self, name: &str) -> JsValue {
        Reflect::get(&self.0, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// A field that must be a string.
    pub fn string(&self, name: &str, error: Error) -> Result<String> {
        self.get(name).as_string().ok_or(error)
    }

    /// A string field that may be absent (`undefined` or `null`).
    pub fn opt_string(&self, name: &'static str) -> Result<Option<String>> {
        let value = self.get(name);
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        value.as_string().map(Some).ok_or(Error::InvalidOption(name))
    }

    /// A boolean field that may be absent.
    pub fn opt_bool(&self, name: &'static str, default: bool) -> Result<bool> {
        let value = self.get(name);
        if value.is_undefined() {
            return Ok(default);
        }
        value.as_bool().ok_or(Error::InvalidOption(name))
    }

    /// An integer field in `range` that may be absent.
    pub fn opt_u32(&self, name: &'static str, default: u32, range: std::ops::RangeInclusive<u32>) -> Result<u32> {
        let value = self.get(name);
        if value.is_undefined() {
            return Ok(default);
        }
        match value.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= f64::from(*range.start()) && n <= f64::from(*range.end()) => {
                Ok(n as u32)
            }
            _ => Err(Error::InvalidOption(name)),
        }
    }

    /// An object field that may be absent, passed on as it is (e.g. `headers`).
    pub fn opt_object<T: JsCast>(&self, name: &'static str) -> Result<Option<T>> {
        let value = self.get(name);
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        if value.is_object() {
            Ok(Some(value.unchecked_into()))
        } else {
            Err(Error::InvalidOption(name))
        }
    }

    /// `scene`: a JS number that is an integer in range; a string such as `"12"` is `invalid_scene` too.
    pub fn scene(&self) -> Result<Scene> {
        self.get("scene")
            .as_f64()
            .ok_or(Error::InvalidScene)
            .and_then(Scene::from_f64)
    }

    /// The fields every link needs, each validated with its own code, in the order of the link.
    pub fn link_fields(&self) -> Result<(AppId, Scene, TemplateId, RedirectUrl)> {
        let appid = AppId::parse(&self.string("appid", Error::InvalidAppid)?)?;
        let scene = self.scene()?;
        let template_id = TemplateId::parse(&self.string("templateId", Error::InvalidTemplateId)?)?;
        let redirect_url =
            RedirectUrl::parse(&self.string("redirectUrl", Error::InvalidRedirectUrl(RedirectProblem::NotAbsolute))?)?;
        Ok((appid, scene, template_id, redirect_url))
    }
}
