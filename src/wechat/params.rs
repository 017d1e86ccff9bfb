//! The values WeChat's subscription link and callback carry, each validated once into its own type.
//!
//! Holding an [`AppId`] or a [`Scene`] proves the value passed WeChat's rules, so the link builder and the
//! callback verifier never re-check and never forget to check.

use crate::error::{Error, Result};
use crate::prelude::*;

/// True when `s` is 1..=`max` bytes, each ASCII alphanumeric or one of `extra`.
fn is_token(s: &str, max: usize, extra: &[u8]) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

macro_rules! string_param {
    ($(#[$doc:meta])* $name:ident, $valid:expr, $err:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates `s`, or returns the error for this parameter.
            pub fn parse(s: &str) -> Result<Self> {
                let valid: fn(&str) -> bool = $valid;
                if valid(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err($err)
                }
            }

            /// The validated value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

string_param!(
    /// A Service Account AppID: `wx` and 16 lowercase or uppercase hex digits.
    ///
    /// ```
    /// use wx_subscribemsg::AppId;
    /// assert!(AppId::parse("wxaba38c7f163da69b").is_ok());
    /// assert!(AppId::parse("wxaba38c7f163da69").is_err());
    /// ```
    AppId,
    |s| s.len() == 18 && s.starts_with("wx") && s.bytes().skip(2).all(|b| b.is_ascii_hexdigit()),
    Error::InvalidAppid
);

string_param!(
    /// A one-time subscription template ID: 1..=128 of `[A-Za-z0-9_-]`.
    TemplateId,
    |s| is_token(s, 128, b"_-"),
    Error::InvalidTemplateId
);

string_param!(
    /// The `reserved` state parameter: 1..=128 of `[A-Za-z0-9]`, WeChat's own limit.
    Reserved,
    |s| is_token(s, 128, b""),
    Error::InvalidReserved
);

string_param!(
    /// A user's openid for this AppID: 1..=64 of `[A-Za-z0-9_-]` (real ones are 28 characters).
    OpenId,
    |s| is_token(s, 64, b"_-"),
    Error::InvalidOpenid
);

/// A subscription scene: an integer in 0..=10000 that tells apart subscriptions of one user to one template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Scene(u16);

impl Scene {
    /// The largest scene WeChat accepts.
    pub const MAX: u16 = 10_000;

    /// From an integer, or [`Error::InvalidScene`] when out of range.
    pub fn new(n: i64) -> Result<Self> {
        match u16::try_from(n) {
            Ok(n) if n <= Self::MAX => Ok(Scene(n)),
            _ => Err(Error::InvalidScene),
        }
    }

    /// From a JS number: rejects fractions, NaN and infinities as well as the out-of-range.
    ///
    /// ```
    /// use wx_subscribemsg::Scene;
    /// assert_eq!(Scene::from_f64(1000.0).unwrap().get(), 1000);
    /// assert!(Scene::from_f64(1.5).is_err());
    /// assert!(Scene::from_f64(f64::NAN).is_err());
    /// ```
    pub fn from_f64(n: f64) -> Result<Self> {
        if n % 1.0 == 0.0 && (0.0..=f64::from(Self::MAX)).contains(&n) {
            Ok(Scene(n as u16))
        } else {
            Err(Error::InvalidScene)
        }
    }

    /// From the decimal digits of a query parameter, in the canonical form WeChat writes: no sign, no spaces,
    /// no leading zeros, at most five digits.
    ///
    /// ```
    /// use wx_subscribemsg::Scene;
    /// assert_eq!(Scene::from_decimal("1000").unwrap().get(), 1000);
    /// assert!(Scene::from_decimal("01000").is_err());
    /// ```
    pub fn from_decimal(s: &str) -> Result<Self> {
        let canonical = matches!(s.as_bytes(), [b'0'] | [b'1'..=b'9', ..]);
        if !canonical || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidScene);
        }
        s.parse::<u16>()
            .map_err(|_| Error::InvalidScene)
            .and_then(|n| Self::new(n.into()))
    }

    /// The scene number.
    pub fn get(self) -> u16 {
        self.0
    }

    /// Decimal digits, as WeChat writes them in URLs.
    pub fn to_decimal(self) -> String {
        crate::text::decimal(self.0.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::wechat::vectors::{number, rule, text};

    /// Every string value of rule `name` in the shared vectors through `parse`: the valid ones parse, the
    /// invalid ones fail with the rule's code.
    fn check_strings<T: core::fmt::Debug>(name: &str, parse: impl Fn(&str) -> Result<T>) {
        let rule = rule(name);
        for value in rule.valid.iter().filter_map(text) {
            assert!(parse(value).is_ok(), "{name}: {value:?} is valid");
        }
        let mut refused = 0;
        for value in rule.invalid.iter().filter_map(text) {
            assert_eq!(parse(value).unwrap_err().code(), rule.code, "{name}: {value:?}");
            refused += 1;
        }
        assert!(refused > 3, "{name}: {refused} invalid strings");
    }

    #[test]
    fn the_shared_vectors_for_appid_template_reserved_and_openid() {
        check_strings("appid", AppId::parse);
        check_strings("templateId", TemplateId::parse);
        check_strings("reserved", Reserved::parse);
        check_strings("openid", OpenId::parse);
    }

    #[test]
    fn the_shared_vectors_for_scene() {
        let numbers = rule("scene");
        for value in numbers.valid.iter().filter_map(number) {
            assert!(Scene::from_f64(value).is_ok(), "{value}");
        }
        let invalid: Vec<f64> = numbers.invalid.iter().filter_map(number).collect();
        assert!(invalid.iter().any(|n| n.is_nan()), "NaN is among them");
        for value in invalid {
            assert_eq!(Scene::from_f64(value), Err(Error::InvalidScene), "{value}");
        }
        for bad in [i64::MIN, i64::MAX] {
            assert_eq!(Scene::new(bad), Err(Error::InvalidScene), "{bad}");
        }
        assert_eq!(Scene::from_f64(-0.0).unwrap().get(), 0);
        // As a callback carries it: canonical decimal digits only.
        let text_rule = rule("sceneText");
        for value in text_rule.valid.iter().filter_map(text) {
            assert_eq!(Scene::from_decimal(value).unwrap().to_decimal(), value);
        }
        for value in text_rule.invalid.iter().filter_map(text) {
            assert_eq!(Scene::from_decimal(value), Err(Error::InvalidScene), "{value:?}");
        }
    }
}
