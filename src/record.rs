//! What the page remembers about one subscription between the link and the callback, and after.
//!
//! A record is stored under `wxsub:<reserved>` (see [`crate::ledger`]) as one line of space-separated fields:
//!
//! ```text
//! 2 <created> <expires> <answered|-> <state> <scene> <appid> <template_id> <redirect_url>
//! ```
//!
//! `2` is the format version; times are ms since the Unix epoch; the state is `pending`, `cancelled`,
//! `owed:<openid>`, `delivered:<openid>` or `rejected:<status>`. No field can hold a space (the redirect URL
//! is a WHATWG serialisation, which percent-encodes it), so splitting is the whole parser.

use crate::flow::MAX_TTL_SECONDS;
use crate::http_url::HttpUrl;
use crate::link::Link;
use crate::params::{AppId, OpenId, Reserved, Scene, TemplateId};
use crate::prelude::*;
use crate::verdict::{verdict, Verdict};

/// The format version this package writes and reads. Records in any other format are another version's
/// (written by an older or newer copy of the package in another tab): left alone, never read or deleted.
pub const FORMAT: &str = "2";

/// How long a record is kept after its link was made, unless it is an undelivered grant (kept until
/// delivered) or is evicted earlier to keep the number of records bounded (see [`crate::ledger`]).
pub const RETENTION_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// Where a subscription is in its life. States only move forward: pending → cancelled or owed; cancelled →
/// owed (the user went back and allowed); owed → delivered or rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The user was sent to WeChat; no answer yet.
    Pending,
    /// The user declined.
    Cancelled,
    /// The user allowed one message; the backend has not acknowledged the grant yet.
    Owed(OpenId),
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
            State::Owed(_) => 2,
            State::Delivered(_) | State::Rejected(_) => 3,
        }
    }

    fn encode(&self) -> String {
        let (name, detail) = match self {
            State::Pending => return "pending".into(),
            State::Cancelled => return "cancelled".into(),
            State::Owed(openid) => ("owed:", openid.as_str()),
            State::Delivered(openid) => ("delivered:", openid.as_str()),
            State::Rejected(status) => return crate::concat(&["rejected:", &crate::decimal((*status).into())]),
        };
        crate::concat(&[name, detail])
    }

    fn decode(s: &str) -> Option<State> {
        Some(match s.split_once(':') {
            None if s == "pending" => State::Pending,
            None if s == "cancelled" => State::Cancelled,
            Some(("owed", openid)) => State::Owed(OpenId::parse(openid).ok()?),
            Some(("delivered", openid)) => State::Delivered(OpenId::parse(openid).ok()?),
            // Only a status the package records as a refusal: a 4xx other than 408 and 429.
            Some(("rejected", status)) => match verdict(u16::try_from(number(status)?).ok()?) {
                Verdict::Rejected(status) => State::Rejected(status),
                _ => return None,
            },
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
    pub fn owed(&self) -> Option<&OpenId> {
        match &self.state {
            State::Owed(openid) => Some(openid),
            _ => None,
        }
    }

    /// True when the user answered after the request's `ttlSeconds`.
    pub fn late(&self) -> bool {
        self.answered_ms.is_some_and(|answered| answered > self.expires_ms)
    }

    /// True when the record has outlived [`RETENTION_MS`] and is not owed.
    pub fn is_stale(&self, now_ms: u64) -> bool {
        self.owed().is_none() && now_ms >= self.created_ms.saturating_add(RETENTION_MS)
    }

    /// The stored form (see the module documentation); the nonce is the key, not part of the value.
    pub fn encode(&self) -> String {
        let link = &self.link;
        let answered = self.answered_ms.map_or_else(|| "-".into(), crate::decimal);
        crate::concat(&[
            FORMAT,
            " ",
            &crate::decimal(self.created_ms),
            " ",
            &crate::decimal(self.expires_ms),
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

    /// Reads the stored form of the record for `reserved`. `None` for anything this version of the package
    /// could not have written: another format, a field out of its rules, a URL not in normalised form,
    /// expiry before creation or further off than the longest TTL, an answer time on a pending record (or
    /// none on an answered one), a rejection with a status that is not a refusal.
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
        if lifetime == 0 || lifetime > u64::from(MAX_TTL_SECONDS) * 1000 {
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
            link: crate::link::tests::link("https://shop.example.com/cb.html?x=1#/done", reserved),
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
            State::Owed(openid()),
            State::Delivered(openid()),
            State::Rejected(403),
        ] {
            let r = record("abc", state);
            assert_eq!(format_of(&r.encode()), FORMAT);
            assert_eq!(decode(&r.encode()), Some(r));
        }
        let owed = record("abc", State::Owed(openid())).encode();
        assert_eq!(
            owed,
            "2 1700000000000 1700000600000 1700000001000 owed:oUser_1 1000 wxaba38c7f163da69b \
             1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc https://shop.example.com/cb.html?x=1#/done"
        );
    }

    #[test]
    fn refuses_what_the_package_could_not_have_written() {
        let good = record("abc", State::Pending).encode();
        let owed = record("abc", State::Owed(openid())).encode();
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
            // Expiry before creation, equal to it, or further off than the longest TTL.
            good.replace("1700000600000", "1699999999999"),
            good.replace("1700000600000", "1700000000000"),
            good.replace("1700000600000", "1700086400001"),
            good.replace("1700000000000", "+1700000000000"),
            good.replace("1700000000000", "01700000000000"),
            // An answer time on a pending record, none on an answered one.
            good.replace(" - ", " 1700000001000 "),
            owed.replace(" 1700000001000 ", " - "),
            owed.replace("owed:oUser_1", "owed:"),
            owed.replace("owed:oUser_1", "owed:o<1>"),
            // A rejection is a 4xx other than 408 and 429.
            owed.replace("owed:oUser_1", "rejected:0"),
            owed.replace("owed:oUser_1", "rejected:200"),
            owed.replace("owed:oUser_1", "rejected:429"),
            owed.replace("owed:oUser_1", "rejected:503"),
            owed.replace("owed:oUser_1", "rejected:99999"),
        ] {
            assert_eq!(decode(&bad), None, "{bad}");
        }
        assert!(decode(&good.replace("1700000600000", "1700086400000")).is_some());
        assert!(decode(&owed.replace("owed:oUser_1", "rejected:403")).is_some());
    }

    #[test]
    fn the_format_version_is_the_first_field() {
        assert_eq!(format_of("2 1 2 - pending"), "2");
        assert_eq!(format_of("3 anything"), "3");
        assert_eq!(format_of("v=1&appid=wx"), "v=1&appid=wx");
    }

    #[test]
    fn late_answers_and_staleness() {
        let mut r = record("a", State::Owed(openid()));
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
        assert!(!record("a", State::Owed(openid())).is_stale(u64::MAX));
    }
}
