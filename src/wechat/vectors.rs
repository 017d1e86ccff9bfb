//! WeChat's rules as values (`tests/vectors/wechat-rules.json`), for the tests of every module that applies one: the
//! same values the demo's rules, the package's Node entry and the bench's baseline are checked against.

use crate::prelude::*;
use serde_json::Value;

/// One rule's values: those it accepts and those it refuses, and the code it refuses them with.
pub(crate) struct Rule {
    pub(crate) code: String,
    pub(crate) valid: Vec<Value>,
    pub(crate) invalid: Vec<Value>,
}

/// The rule named `name` in the vector file.
pub(crate) fn rule(name: &str) -> Rule {
    let all: Value = serde_json::from_str(include_str!("../../tests/vectors/wechat-rules.json")).unwrap();
    let row = &all[name];
    let list = |key: &str| row[key].as_array().unwrap_or_else(|| panic!("{name}.{key}")).clone();
    Rule {
        code: row["code"].as_str().unwrap().to_owned(),
        valid: list("valid"),
        invalid: list("invalid"),
    }
}

/// A value as a string, `None` for the values only JS has (numbers, `{"js": …}`).
pub(crate) fn text(value: &Value) -> Option<&str> {
    value.as_str()
}

/// A value as a JS number: plain numbers and `{"js": "NaN" | "Infinity" | "-Infinity" | "-0"}`.
pub(crate) fn number(value: &Value) -> Option<f64> {
    value.as_f64().or(match value["js"].as_str()? {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        "-0" => Some(-0.0),
        _ => None,
    })
}
