//! What the page remembers about one subscription between the link and the callback, and after.
//!
//! A record is stored under `wxsub:<reserved>` (see [`crate::subscription::ledger`]) as one line of space-separated fields:
//!
//! ```text
//! 2 <created> <expires> <answered|-> <state> <scene> <appid> <template_id> <redirect_url>
//! ```
//!
//! `2` is the format version; times are ms since the Unix epoch; the state is `pending`, `cancelled`,
//! `owed:<openid>` ([`State::Allowed`]), `delivered:<openid>` or `rejected:<status>`. No field can hold a space
//! (the redirect URL is a WHATWG serialisation, which percent-encodes it), so splitting is the whole parser.
//!
//! The format owns its rules: what a value may hold is fixed here, once for format 2, and never read from policy
//! (the range of `ttlSeconds`, which statuses are refusals). A policy may change between two versions of the
//! package; a value written under the older one must still decode, or the ledger would take it for garbage.
//! `tests/vectors/records-format-2.txt` holds values every later build must still decode.

use crate::http_url::HttpUrl;
use crate::prelude::*;
use crate::wechat::link::Link;
use crate::wechat::params::{AppId, OpenId, Reserved, Scene, TemplateId};

/// The format version this package writes and reads. Records in any other format are another version's
/// (written by an older or newer copy of the package in another tab): left alone, never read or deleted.
pub const FORMAT: &str = "2";

/// How long a record is kept after its link was made, unless it is an undelivered grant (kept until
/// delivered) or is evicted earlier to keep the number of records bounded (see [`crate::subscription::ledger`]).
pub const RETENTION_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// The longest lifetime (expiry minus creation) a format-2 value may hold: a year and a day, far beyond any
/// `ttlSeconds` the package allows (`flow::MAX_TTL_SECONDS` is checked against it at compile time), so that the
/// policy can move without a stored value becoming unreadable.
pub const MAX_LIFETIME_MS: u64 = 366 * 24 * 60 * 60 * 1000;

/// The state field's prefix of an allowed, undelivered grant.
const ALLOWED: &str = "owed:";
/// The same as it ends the text before a value's first colon.
const ALLOWED_FIELD: &str = " owed";

/// Where a subscription is in its life. States only move forward: pending → cancelled or owed; cancelled →
/// owed (the user went back and allowed); owed → delivered or rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The user was sent to WeChat; no answer yet.
    Pending,
    /// The user declined.
    Cancelled,
    /// The user allowed one message; the backend has not acknowledged the grant yet.
    Allowed(OpenId),
    /// The backend acknowledged the grant (2xx).
    Delivered(OpenId),
    /// The backend refused the grant for good with this 4xx status.
    Rejected(u16),
}

impl State {
    /// How far along the life of a subscription this state is: of two copies of one record (another tab may
    /// have moved the localStorage copy on), the further one is current.
    pub fn progress(&self) -> u8 {
        match self {
            State::Pending => 0,
            State::Cancelled => 1,
            State::Allowed(_) => 2,
            State::Delivered(_) | State::Rejected(_) => 3,
        }
    }

    fn encode(&self) -> String {
        let (name, detail) = match self {
            State::Pending => return "pending".into(),
            State::Cancelled => return "cancelled".into(),
            State::Allowed(openid) => (ALLOWED, openid.as_str()),
            State::Delivered(openid) => ("delivered:", openid.as_str()),
            State::Rejected(status) => {
                return crate::text::concat(&["rejected:", &crate::text::decimal((*status).into())])
            }
        };
        crate::text::concat(&[name, detail])
    }

    fn decode(s: &str) -> Option<State> {
        Some(match s.split_once(':') {
            None if s == "pending" => State::Pending,
            None if s == "cancelled" => State::Cancelled,
            Some(("owed", openid)) => State::Allowed(OpenId::parse(openid).ok()?),
            Some(("delivered", openid)) => State::Delivered(OpenId::parse(openid).ok()?),
            // A 4xx: which of them count as refusals is policy (`verdict`), and may change.
            Some(("rejected", status)) => {
                State::Rejected(u16::try_from(number(status)?).ok().filter(|s| (400..500).contains(s))?)
            }
            _ => return None,
        })
    }
}

/// One subscription as stored: its link, its times and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What was asked of WeChat, nonce included.
    pub link: Link,
    /// When the link was made (ms since the Unix epoch).
    pub created_ms: u64,
    /// After this an answer is late: still accepted, and reported as late.
    pub expires_ms: u64,
    /// When the user's answer was recorded; `None` exactly while pending.
    pub answered_ms: Option<u64>,
    /// Where it is now.
    pub state: State,
}

impl Record {
    /// The openid of a grant the backend has not acknowledged yet: the one thing the page must not lose.
    pub fn undelivered(&self) -> Option<&OpenId> {
        match &self.state {
            State::Allowed(openid) => Some(openid),
            _ => None,
        }
    }

    /// True when the user answered after the request's `ttlSeconds`.
    pub fn late(&self) -> bool {
        self.answered_ms.is_some_and(|answered| answered > self.expires_ms)
    }

    /// True when the record has outlived [`RETENTION_MS`] and is not owed.
    pub fn is_stale(&self, now_ms: u64) -> bool {
        self.undelivered().is_none() && now_ms >= self.created_ms.saturating_add(RETENTION_MS)
    }

    /// The stored form (see the module documentation); the nonce is the key, not part of the value.
    pub fn encode(&self) -> String {
        let link = &self.link;
        let answered = self.answered_ms.map_or_else(|| "-".into(), crate::text::decimal);
        crate::text::concat(&[
            FORMAT,
            " ",
            &crate::text::decimal(self.created_ms),
            " ",
            &crate::text::decimal(self.expires_ms),
            " ",
            &answered,
            " ",
            &self.state.encode(),
            " ",
            &link.scene.to_decimal(),
            " ",
            link.appid.as_str(),
            " ",
            link.template_id.as_str(),
            " ",
            link.redirect_url.as_str(),
        ])
    }

    /// Reads the stored form of the record for `reserved`. `None` for anything the format does not allow:
    /// another format, a field out of its rules, a URL not in normalised form, expiry not after creation or
    /// further off than [`MAX_LIFETIME_MS`], an answer time on a pending record (or none on an answered one), a
    /// rejection with a status that is not a 4xx.
    pub fn decode(reserved: &Reserved, stored: &str) -> Option<Record> {
        let mut fields = stored.splitn(9, ' ');
        let mut next = || fields.next();
        if next()? != FORMAT {
            return None;
        }
        let created_ms = number(next()?)?;
        let expires_ms = number(next()?)?;
        let answered_ms = match next()? {
            "-" => None,
            ms => Some(number(ms)?),
        };
        let state = State::decode(next()?)?;
        let scene = Scene::from_decimal(next()?).ok()?;
        let appid = AppId::parse(next()?).ok()?;
        let template_id = TemplateId::parse(next()?).ok()?;
        let url = next()?;
        let redirect_url = HttpUrl::parse(url).ok().filter(|parsed| parsed.as_str() == url)?;

        let lifetime = expires_ms.checked_sub(created_ms)?;
        if lifetime == 0 || lifetime > MAX_LIFETIME_MS {
            return None;
        }
        if answered_ms.is_none() != (state == State::Pending) {
            return None;
        }
        let link = Link {
            appid,
            scene,
            template_id,
            redirect_url,
            reserved: reserved.clone(),
        };
        Some(Record {
            link,
            created_ms,
            expires_ms,
            answered_ms,
            state,
        })
    }
}

/// True when a value of this format holds a grant the backend has not acknowledged, whether or not the rest of it
/// decodes: such a value is never deleted, since it may be the only copy of a user's Allow.
pub fn holds_undelivered_grant(stored: &str) -> bool {
    // The first colon of a value is its state's (`owed:`, `delivered:`, `rejected:`) or, for a state without one,
    // the redirect URL's: no earlier field can hold one. A damaged value errs towards holding a grant.
    format_of(stored) == FORMAT
        && stored
            .split_once(':')
            .is_some_and(|(before, _)| before.ends_with(ALLOWED_FIELD))
}

/// The format version of a stored value: its first field.
pub fn format_of(stored: &str) -> &str {
    stored.split_once(' ').map_or(stored, |(format, _)| format)
}

/// A decimal as the package writes it: digits only, no leading zero.
fn number(s: &str) -> Option<u64> {
    let canonical = matches!(s.as_bytes(), [b'0'] | [b'1'..=b'9', ..]) && s.bytes().all(|b| b.is_ascii_digit());
    canonical.then(|| s.parse().ok()).flatten()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    pub(crate) const T0: u64 = 1_700_000_000_000;

    /// A record for `reserved` made at T0 with a 600 s TTL, answered one second later unless pending.
    pub(crate) fn record(reserved: &str, state: State) -> Record {
        Record {
            link: crate::wechat::link::tests::link("https://shop.example.com/cb.html?x=1#/done", reserved),
            created_ms: T0,
            expires_ms: T0 + 600_000,
            answered_ms: (state != State::Pending).then_some(T0 + 1_000),
            state,
        }
    }

    pub(crate) fn openid() -> OpenId {
        OpenId::parse("oUser_1").unwrap()
    }

    fn decode(stored: &str) -> Option<Record> {
        Record::decode(&Reserved::parse("abc").unwrap(), stored)
    }

    #[test]
    fn every_state_round_trips() {
        for state in [
            State::Pending,
            State::Cancelled,
            State::Allowed(openid()),
            State::Delivered(openid()),
            State::Rejected(403),
        ] {
            let r = record("abc", state);
            assert_eq!(format_of(&r.encode()), FORMAT);
            assert_eq!(decode(&r.encode()), Some(r));
        }
        let owed = record("abc", State::Allowed(openid())).encode();
        assert_eq!(
            owed,
            "2 1700000000000 1700000600000 1700000001000 owed:oUser_1 1000 wxaba38c7f163da69b \
             1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc https://shop.example.com/cb.html?x=1#/done"
        );
    }

    #[test]
    fn refuses_what_the_package_could_not_have_written() {
        let good = record("abc", State::Pending).encode();
        let owed = record("abc", State::Allowed(openid())).encode();
        for bad in [
            String::new(),
            "garbage".into(),
            good.replacen("2 ", "3 ", 1),
            good.replace("pending", "weird"),
            good.replace("wxaba38c7f163da69b", "xxaba38c7f163da69b"),
            good.replace(" 1000 ", " 01000 "),
            good.replace("https://shop.example.com", "HTTPS://shop.example.com"),
            good.replace("https://shop.example.com/cb.html?x=1#/done", "/relative"),
            [good.as_str(), " extra"].concat(),
            good.rsplit_once(' ').unwrap().0.to_owned(),
            // Expiry before creation, equal to it, or further off than the format's longest lifetime.
            good.replace("1700000600000", "1699999999999"),
            good.replace("1700000600000", "1700000000000"),
            good.replace("1700000600000", "1731622400001"),
            good.replace("1700000000000", "+1700000000000"),
            good.replace("1700000000000", "01700000000000"),
            // An answer time on a pending record, none on an answered one.
            good.replace(" - ", " 1700000001000 "),
            owed.replace(" 1700000001000 ", " - "),
            owed.replace("owed:oUser_1", "owed:"),
            owed.replace("owed:oUser_1", "owed:o<1>"),
            // A rejection is a 4xx.
            owed.replace("owed:oUser_1", "rejected:0"),
            owed.replace("owed:oUser_1", "rejected:200"),
            owed.replace("owed:oUser_1", "rejected:399"),
            owed.replace("owed:oUser_1", "rejected:503"),
            owed.replace("owed:oUser_1", "rejected:99999"),
        ] {
            assert_eq!(decode(&bad), None, "{bad}");
        }
        assert!(decode(&good.replace("1700000600000", "1731622400000")).is_some());
        for status in ["400", "403", "408", "429", "499"] {
            assert!(decode(
                &owed
                    .replace("oUser_1", "")
                    .replace("owed:", &["rejected:", status].concat())
            )
            .is_some());
        }
    }

    /// Values written by the package in format 2, under today's policy and under others it may have had (a longer
    /// `ttlSeconds`, 408 counted as a refusal): each must decode to itself, whatever the policy constants are now.
    #[test]
    fn golden_format_2_values_still_decode() {
        let golden = include_str!("../../tests/vectors/records-format-2.txt");
        let mut count = 0;
        for line in golden.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (reserved, value) = line.split_once(' ').expect("<reserved> <value>");
            let record = Record::decode(&Reserved::parse(reserved).unwrap(), value)
                .unwrap_or_else(|| panic!("format 2 no longer decodes {line}"));
            assert_eq!(record.encode(), value);
            assert_eq!(holds_undelivered_grant(value), record.undelivered().is_some(), "{line}");
            count += 1;
        }
        assert!(count >= 8, "{count} golden values");
    }

    #[test]
    fn an_undelivered_grant_is_recognised_even_when_the_rest_is_broken() {
        let owed = record("abc", State::Allowed(openid())).encode();
        assert!(holds_undelivered_grant(&owed));
        let broken = owed.replace("wxaba38c7f163da69b", "not-an-appid");
        assert_eq!(decode(&broken), None);
        assert!(holds_undelivered_grant(&broken));
        assert!(holds_undelivered_grant("2 x y z owed:"));
        // Damaged before its state: read as holding a grant, the side that loses nothing.
        assert!(holds_undelivered_grant("2 owed:o1"));
        for other in [
            record("abc", State::Pending).encode(),
            record("abc", State::Delivered(openid())).encode(),
            owed.replacen("2 ", "3 ", 1),
            String::new(),
        ] {
            assert!(!holds_undelivered_grant(&other), "{other}");
        }
    }

    #[test]
    fn the_format_version_is_the_first_field() {
        assert_eq!(format_of("2 1 2 - pending"), "2");
        assert_eq!(format_of("3 anything"), "3");
        assert_eq!(format_of("v=1&appid=wx"), "v=1&appid=wx");
    }

    #[test]
    fn late_answers_and_staleness() {
        let mut r = record("a", State::Allowed(openid()));
        assert!(!r.late());
        r.answered_ms = Some(r.expires_ms + 1);
        assert!(r.late());
        assert!(!record("a", State::Pending).late());

        let later = T0 + RETENTION_MS;
        assert!(!record("a", State::Pending).is_stale(later - 1));
        for state in [
            State::Pending,
            State::Cancelled,
            State::Delivered(openid()),
            State::Rejected(400),
        ] {
            assert!(record("a", state).is_stale(later));
        }
        assert!(!record("a", State::Allowed(openid())).is_stale(u64::MAX));
    }
}
