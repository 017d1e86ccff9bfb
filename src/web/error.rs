//! Errors as JS sees them: an `Error` named `SubscribeError` with the stable code in `err.code`.

use wasm_bindgen::JsValue;

use crate::error::Error;

impl From<Error> for JsValue {
    fn from(error: Error) -> JsValue {
        let js = js_sys::Error::new(&error.message());
        js.set_name("SubscribeError");
        let _ = js_sys::Reflect::set(&js, &"code".into(), &error.code().into());
        js.into()
    }
}
