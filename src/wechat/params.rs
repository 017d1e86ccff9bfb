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

    #[test]
    fn appid_is_wx_and_16_hex_digits() {
        assert!(AppId::parse("wxaba38c7f163da69b").is_ok());
        assert!(AppId::parse("wxABA38C7F163DA69B").is_ok());
        for bad in [
            "",
            "wx",
            "wxaba38c7f163da69",
            "wxaba38c7f163da69b0",
            "wxaba38c7f163da69g",
            "xwaba38c7f163da69b",
            "wxaba38c7f163da6 b",
            "wxaba38c7f163da6é",
        ] {
            assert_eq!(AppId::parse(bad), Err(Error::InvalidAppid), "{bad:?}");
        }
    }

    #[test]
    fn scene_accepts_exactly_0_to_10000() {
        assert_eq!(Scene::new(0).unwrap().get(), 0);
        assert_eq!(Scene::new(10_000).unwrap().get(), 10_000);
        for bad in [-1, 10_001, 65_536, i64::MIN, i64::MAX] {
            assert_eq!(Scene::new(bad), Err(Error::InvalidScene), "{bad}");
        }
        for bad in [-1.0, 10_001.0, 1.5, -0.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(Scene::from_f64(bad), Err(Error::InvalidScene), "{bad}");
        }
        assert_eq!(Scene::from_f64(-0.0).unwrap().get(), 0);
    }

    #[test]
    fn scene_decimal_is_digits_only() {
        assert_eq!(Scene::from_decimal("1000").unwrap().get(), 1000);
        assert_eq!(Scene::from_decimal("0").unwrap().get(), 0);
        for bad in [
            "", "-1", "+1", "1.0", " 1", "10001", "99999", "100000", "1e3", "0x10", "01000", "00", "007",
        ] {
            assert_eq!(Scene::from_decimal(bad), Err(Error::InvalidScene), "{bad:?}");
        }
        assert_eq!(Scene::new(42).unwrap().to_decimal(), "42");
    }

    #[test]
    fn template_reserved_openid_charsets_and_lengths() {
        assert!(TemplateId::parse("1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc").is_ok());
        assert!(TemplateId::parse("a_b-c").is_ok());
        assert!(TemplateId::parse(&"a".repeat(128)).is_ok());
        for bad in ["", "a b", "a+b", "a/b", "é"] {
            assert_eq!(TemplateId::parse(bad), Err(Error::InvalidTemplateId), "{bad:?}");
        }
        assert_eq!(TemplateId::parse(&"a".repeat(129)), Err(Error::InvalidTemplateId));

        assert!(Reserved::parse("test").is_ok());
        assert!(Reserved::parse(&"Z9".repeat(64)).is_ok());
        for bad in ["", "a-b", "a_b", "a b", "a%20"] {
            assert_eq!(Reserved::parse(bad), Err(Error::InvalidReserved), "{bad:?}");
        }
        assert_eq!(Reserved::parse(&"a".repeat(129)), Err(Error::InvalidReserved));

        assert!(OpenId::parse("oABC-123_xyzxyzxyzxyzxyzxyzx").is_ok());
        assert_eq!(OpenId::parse(&"o".repeat(65)), Err(Error::InvalidOpenid));
        assert_eq!(OpenId::parse("o.1"), Err(Error::InvalidOpenid));
    }
}
