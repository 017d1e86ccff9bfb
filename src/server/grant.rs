//! A grant POSTed by `handleCallback()`, checked by the crate's own rules before the backend stores it.
//!
//! The body is `{"appid","openid","template_id","scene","reserved"}` with the `Idempotency-Key` header equal to
//! `reserved` (README, "Backend contract"). [`parse_grant`] checks every field with the same parsers the page
//! used to build the link ([`AppId`], [`OpenId`], [`TemplateId`], [`Scene`], [`Reserved`]) and this backend's
//! [`Policy`], and lists every problem rather than the first, so a 400 says all that is wrong at once.
//!
//! A Rust server (axum, actix) reads the JSON with its own library and hands the fields over:
//!
//! ```
//! use wx_subscribemsg::server::grant::{parse_grant, GrantBody, Policy};
//! use wx_subscribemsg::{AppId, TemplateId};
//!
//! let appid = AppId::parse("wxaba38c7f163da69b").unwrap();
//! let templates = [TemplateId::parse("TPL_1").unwrap()];
//! let policy = Policy { appid: &appid, template_ids: &templates };
//! let body = GrantBody {
//!     appid: Some("wxaba38c7f163da69b"),
//!     openid: Some("oUser_1"),
//!     template_id: Some("TPL_1"),
//!     scene: Some(1000.0),
//!     reserved: Some("abc123"),
//! };
//! let grant = parse_grant(&body, Some("abc123"), &policy).unwrap();
//! assert_eq!(grant.scene.get(), 1000);
//!
//! let wrong = GrantBody { scene: Some(1.5), template_id: Some("OTHER"), ..body };
//! let problems = parse_grant(&wrong, Some("abc123"), &policy).unwrap_err();
//! let codes: Vec<_> = problems.iter().map(|p| (p.field, p.error.code())).collect();
//! assert_eq!(codes, [("template_id", "template_not_accepted"), ("scene", "invalid_scene")]);
//! ```

use crate::prelude::*;
use crate::{AppId, Error, OpenId, Reserved, Scene, TemplateId};

/// The body's fields as the request carried them: `None` when a field is absent or not of its JSON type (a
/// string, or a number for `scene`). With serde_json: `value.get("appid").and_then(Value::as_str)`,
/// `value.get("scene").and_then(Value::as_f64)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GrantBody<'a> {
    /// `appid`: the Service Account's AppID the page subscribed with.
    pub appid: Option<&'a str>,
    /// `openid`: the user's openid from WeChat's callback.
    pub openid: Option<&'a str>,
    /// `template_id`: the one-time template.
    pub template_id: Option<&'a str>,
    /// `scene`: a JSON number, an integer from 0 to 10000.
    pub scene: Option<f64>,
    /// `reserved`: the subscription's nonce, also the `Idempotency-Key`.
    pub reserved: Option<&'a str>,
}

/// What this backend accepts: its own Service Account and the templates it sends.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// The Service Account this backend serves; a grant for another is refused (`appid_mismatch`).
    pub appid: &'a AppId,
    /// The templates this backend sends; a grant for another is refused (`template_not_accepted`). Empty accepts
    /// none.
    pub template_ids: &'a [TemplateId],
}

/// A checked grant: permission to send one message to `openid` with `template_id` and `scene`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Grant {
    /// The Service Account (this backend's own).
    pub appid: AppId,
    /// The user.
    pub openid: OpenId,
    /// The template (one this backend accepts).
    pub template_id: TemplateId,
    /// The scene.
    pub scene: Scene,
    /// The nonce: the grant's identity, and the key to deduplicate on.
    pub reserved: Reserved,
}

/// One thing wrong with a POSTed grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The body's field (`appid`, `openid`, `template_id`, `scene`, `reserved`), or `Idempotency-Key` for the
    /// header, or `body` when the body is not a JSON object.
    pub field: &'static str,
    /// What is wrong, with its stable code ([`Error::code`]) and message.
    pub error: Error,
}

/// The header that carries the grant's key, as [`Problem::field`] names it.
pub const KEY_HEADER: &str = "Idempotency-Key";

/// Checks a POSTed grant against the crate's rules and `policy`: the typed [`Grant`], or every problem in the
/// order of the body's fields, then the header. `idempotency_key` is the `Idempotency-Key` header, `None` when
/// absent; it must equal `reserved`.
pub fn parse_grant(
    body: &GrantBody<'_>,
    idempotency_key: Option<&str>,
    policy: &Policy<'_>,
) -> Result<Grant, Vec<Problem>> {
    let mut problems = Vec::new();
    let appid = keep(
        &mut problems,
        "appid",
        AppId::parse(body.appid.unwrap_or_default()).and_then(|appid| {
            if appid.as_str().eq_ignore_ascii_case(policy.appid.as_str()) {
                Ok(appid)
            } else {
                Err(Error::AppidMismatch)
            }
        }),
    );
    let openid = keep(&mut problems, "openid", OpenId::parse(body.openid.unwrap_or_default()));
    let template_id = keep(
        &mut problems,
        "template_id",
        TemplateId::parse(body.template_id.unwrap_or_default()).and_then(|id| {
            if policy.template_ids.contains(&id) {
                Ok(id)
            } else {
                Err(Error::TemplateNotAccepted)
            }
        }),
    );
    let scene = keep(
        &mut problems,
        "scene",
        body.scene.ok_or(Error::InvalidScene).and_then(Scene::from_f64),
    );
    let reserved = keep(
        &mut problems,
        "reserved",
        Reserved::parse(body.reserved.unwrap_or_default()),
    );
    // The key is judged against a valid reserved only: a bad reserved is already one problem, not two.
    let key_matches = match (&reserved, idempotency_key) {
        (_, None) => false,
        (Some(reserved), Some(key)) => reserved.as_str() == key,
        (None, Some(_)) => true,
    };
    if !key_matches {
        problems.push(Problem {
            field: KEY_HEADER,
            error: Error::KeyMismatch,
        });
    }
    match (appid, openid, template_id, scene, reserved) {
        (Some(appid), Some(openid), Some(template_id), Some(scene), Some(reserved)) if problems.is_empty() => {
            Ok(Grant {
                appid,
                openid,
                template_id,
                scene,
                reserved,
            })
        }
        _ => Err(problems),
    }
}

/// The value, or `None` after noting its error as a problem with `field`.
fn keep<T>(problems: &mut Vec<Problem>, field: &'static str, result: Result<T, Error>) -> Option<T> {
    result.map_err(|error| problems.push(Problem { field, error })).ok()
}

/// The error that stands for a list of problems: `invalid_grant`, counting them.
pub fn invalid_grant(problems: &[Problem]) -> Error {
    Error::InvalidGrant(u16::try_from(problems.len()).unwrap_or(u16::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const APPID: &str = "wxaba38c7f163da69b";

    fn policy_parts() -> (AppId, Vec<TemplateId>) {
        (
            AppId::parse(APPID).unwrap(),
            vec![TemplateId::parse("TPL_1").unwrap(), TemplateId::parse("TPL-2").unwrap()],
        )
    }

    fn good() -> GrantBody<'static> {
        GrantBody {
            appid: Some(APPID),
            openid: Some("oL61gjnUEzTYJsoqc2XpvsCjHuaQ"),
            template_id: Some("TPL-2"),
            scene: Some(10_000.0),
            reserved: Some("adecaQftk5UNqQwC9uSoyrTKcZgHDcMz"),
        }
    }

    fn problems(body: &GrantBody<'_>, key: Option<&str>) -> Vec<(&'static str, &'static str)> {
        let (appid, templates) = policy_parts();
        let policy = Policy {
            appid: &appid,
            template_ids: &templates,
        };
        match parse_grant(body, key, &policy) {
            Ok(_) => vec![],
            Err(problems) => problems.iter().map(|p| (p.field, p.error.code())).collect(),
        }
    }

    #[test]
    fn a_good_grant_is_typed() {
        let (appid, templates) = policy_parts();
        let policy = Policy {
            appid: &appid,
            template_ids: &templates,
        };
        let grant = parse_grant(&good(), Some("adecaQftk5UNqQwC9uSoyrTKcZgHDcMz"), &policy).unwrap();
        assert_eq!(grant.appid.as_str(), APPID);
        assert_eq!(grant.openid.as_str(), "oL61gjnUEzTYJsoqc2XpvsCjHuaQ");
        assert_eq!(grant.template_id.as_str(), "TPL-2");
        assert_eq!(grant.scene.get(), 10_000);
        assert_eq!(grant.reserved.as_str(), "adecaQftk5UNqQwC9uSoyrTKcZgHDcMz");
        // The AppID's hex digits in the other case name the same account.
        let upper = GrantBody {
            appid: Some("wxABA38C7F163DA69B"),
            ..good()
        };
        assert_eq!(problems(&upper, good().reserved), vec![]);
    }

    #[test]
    fn every_problem_is_listed_in_field_order() {
        let all_wrong = GrantBody {
            appid: Some("wx123"),
            openid: Some("o 1"),
            template_id: Some(""),
            scene: Some(10_001.0),
            reserved: Some("a-b"),
        };
        assert_eq!(
            problems(&all_wrong, Some("a-b")),
            vec![
                ("appid", "invalid_appid"),
                ("openid", "invalid_openid"),
                ("template_id", "invalid_template_id"),
                ("scene", "invalid_scene"),
                ("reserved", "invalid_reserved"),
            ]
        );
        // Absent (or not a string / number) fields get their own codes, and the missing key its own.
        assert_eq!(
            problems(&GrantBody::default(), None),
            vec![
                ("appid", "invalid_appid"),
                ("openid", "invalid_openid"),
                ("template_id", "invalid_template_id"),
                ("scene", "invalid_scene"),
                ("reserved", "invalid_reserved"),
                (KEY_HEADER, "key_mismatch"),
            ]
        );
    }

    #[test]
    fn the_policy_and_the_key_are_checked() {
        let key = good().reserved;
        let other_account = GrantBody {
            appid: Some("wx0000000000000000"),
            ..good()
        };
        assert_eq!(problems(&other_account, key), vec![("appid", "appid_mismatch")]);
        let other_template = GrantBody {
            template_id: Some("TPL_3"),
            ..good()
        };
        assert_eq!(
            problems(&other_template, key),
            vec![("template_id", "template_not_accepted")]
        );
        assert_eq!(problems(&good(), Some("other")), vec![(KEY_HEADER, "key_mismatch")]);
        assert_eq!(problems(&good(), None), vec![(KEY_HEADER, "key_mismatch")]);
        // Keys differ by case: reserved is case-sensitive.
        assert_eq!(
            problems(&good(), Some("ADECAQFTK5UNQQWC9USOYRTKCZGHDCMZ")),
            vec![(KEY_HEADER, "key_mismatch")]
        );
        let (appid, _) = policy_parts();
        let none = Policy {
            appid: &appid,
            template_ids: &[],
        };
        assert!(parse_grant(&good(), key, &none).is_err());
    }

    #[test]
    fn scenes_are_integers_in_range() {
        let key = good().reserved;
        for ok in [0.0, 1.0, 10_000.0, -0.0] {
            assert_eq!(
                problems(
                    &GrantBody {
                        scene: Some(ok),
                        ..good()
                    },
                    key
                ),
                vec![],
                "{ok}"
            );
        }
        for bad in [-1.0, 0.5, 10_001.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                problems(
                    &GrantBody {
                        scene: Some(bad),
                        ..good()
                    },
                    key
                ),
                vec![("scene", "invalid_scene")],
                "{bad}"
            );
        }
    }

    #[test]
    fn invalid_grant_counts_the_problems() {
        let list = [Problem {
            field: "scene",
            error: Error::InvalidScene,
        }];
        assert_eq!(invalid_grant(&list).code(), "invalid_grant");
        assert!(invalid_grant(&list).message().contains(": 1 problem(s), in problems"));
    }
}
