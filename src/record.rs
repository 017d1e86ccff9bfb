//! What the page remembers about one subscription between the link and the callback, and after.
//!
//! A record is stored as a form-urlencoded line: the codec the crate already carries for links and
//! callbacks, so storage costs no JSON library.

use std::borrow::Cow;

use crate::params::{AppId, OpenId, Reserved, Scene, TemplateId};
use crate::redirect::RedirectUrl;

/// How long a closed record is kept so that a reload or replay of its callback still gets its first outcome.
pub const REPLAY_WINDOW_MS: u64 = 24 * 60 * 60 * 1000;

/// Where a subscription is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The user was sent to WeChat; no callback yet.
    Pending,
    /// The user declined.
    Cancelled,
    /// The user allowed one message; `delivered` once the backend acknowledged the grant.
    Granted {
        /// The user's openid from the callback.
        openid: OpenId,
        /// The grant endpoint answered 2xx.
        delivered: bool,
    },
    /// The backend refused the grant for good with this HTTP status.
    Rejected {
        /// The 4xx status.
        status: u16,
    },
}

impl State {
    /// How far along the life of a subscription this state is. States only move forward, so of two copies
    /// of one record (another tab may have moved the localStorage copy on) the further one is current.
    pub fn progress(&self) -> u8 {
        match self {
            State::Pending => 0,
            State::Cancelled => 1,
            State::Granted { delivered: false, .. } => 2,
            State::Granted { delivered: true, .. } | State::Rejected { .. } => 3,
        }
    }
}

/// One subscription as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The Service Account.
    pub appid: AppId,
    /// The scene asked for.
    pub scene: Scene,
    /// The template asked for.
    pub template_id: TemplateId,
    /// Where WeChat was told to return; its fragment is restored on the landing page.
    pub redirect_url: RedirectUrl,
    /// The nonce sent in the link.
    pub reserved: Reserved,
    /// When the link was made (ms since the Unix epoch).
    pub created_ms: u64,
    /// After this the pending record no longer accepts a callback.
    pub expires_ms: u64,
    /// Where it is now.
    pub state: State,
}

/// The grant a backend receives: WeChat's own parameter names, so it can pass them to the send API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant<'a> {
    /// The Service Account.
    pub appid: &'a AppId,
    /// The user who allowed one message.
    pub openid: &'a OpenId,
    /// The template of that message.
    pub template_id: &'a TemplateId,
    /// Its scene.
    pub scene: Scene,
    /// The nonce, which also keys the grant: one grant, one `Idempotency-Key`.
    pub reserved: &'a Reserved,
}

impl Record {
    /// The grant to deliver, when the user allowed and the backend has not acknowledged it yet.
    pub fn undelivered_grant(&self) -> Option<Grant<'_>> {
        match &self.state {
            State::Granted {
                openid,
                delivered: false,
            } => Some(Grant {
                appid: &self.appid,
                openid,
                template_id: &self.template_id,
                scene: self.scene,
                reserved: &self.reserved,
            }),
            _ => None,
        }
    }

    /// True when the record has outlived its use and may be deleted. An undelivered grant never is:
    /// it is the one thing the page must not lose.
    pub fn is_stale(&self, now_ms: u64) -> bool {
        self.undelivered_grant().is_none()
            && now_ms >= self.expires_ms.max(self.created_ms).saturating_add(REPLAY_WINDOW_MS)
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        let mut n = itoa::Buffer::new();
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.append_pair("v", "1")
            .append_pair("appid", self.appid.as_str())
            .append_pair("scene", &self.scene.to_decimal())
            .append_pair("template_id", self.template_id.as_str())
            .append_pair("redirect_url", self.redirect_url.as_str())
            .append_pair("reserved", self.reserved.as_str())
            .append_pair("created", n.format(self.created_ms))
            .append_pair("expires", n.format(self.expires_ms));
        match &self.state {
            State::Pending => out.append_pair("state", "pending"),
            State::Cancelled => out.append_pair("state", "cancelled"),
            State::Granted { openid, delivered } => out
                .append_pair("state", "granted")
                .append_pair("openid", openid.as_str())
                .append_pair("delivered", if *delivered { "1" } else { "0" }),
            State::Rejected { status } => out
                .append_pair("state", "rejected")
                .append_pair("status", n.format(*status)),
        };
        out.finish()
    }

    /// The nonce in a stored form, read without decoding the rest (a lookup compares every record's nonce).
    pub fn nonce_in(stored: &str) -> Option<Cow<'_, str>> {
        form_urlencoded::parse(stored.as_bytes())
            .find(|(name, _)| name == "reserved")
            .map(|(_, value)| value)
    }

    /// Reads the stored form; `None` for anything this version did not write (corrupt, foreign, or a
    /// future format), which the caller then ignores.
    pub fn decode(stored: &str) -> Option<Record> {
        const NAMES: [&str; 12] = [
            "v",
            "appid",
            "scene",
            "template_id",
            "redirect_url",
            "reserved",
            "created",
            "expires",
            "state",
            "openid",
            "delivered",
            "status",
        ];
        let pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = form_urlencoded::parse(stored.as_bytes()).collect();
        if pairs.iter().any(|(name, _)| !NAMES.contains(&name.as_ref())) {
            return None;
        }
        // A field given twice is as foreign as an unknown one.
        let get = |name: &str| {
            let mut values = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_ref());
            values.next().filter(|_| values.next().is_none())
        };
        let number = |name: &str| get(name)?.parse::<u64>().ok();
        if get("v")? != "1" {
            return None;
        }
        let state = match get("state")? {
            "pending" => State::Pending,
            "cancelled" => State::Cancelled,
            "granted" => State::Granted {
                openid: OpenId::parse(get("openid")?).ok()?,
                delivered: match get("delivered")? {
                    "1" => true,
                    "0" => false,
                    _ => return None,
                },
            },
            "rejected" => State::Rejected {
                status: u16::try_from(number("status")?).ok()?,
            },
            _ => return None,
        };
        Some(Record {
            appid: AppId::parse(get("appid")?).ok()?,
            scene: Scene::from_decimal(get("scene")?).ok()?,
            template_id: TemplateId::parse(get("template_id")?).ok()?,
            redirect_url: RedirectUrl::parse(get("redirect_url")?).ok()?,
            reserved: Reserved::parse(get("reserved")?).ok()?,
            created_ms: number("created")?,
            expires_ms: number("expires")?,
            state,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    pub(crate) fn record(reserved: &str, state: State) -> Record {
        Record {
            appid: AppId::parse("wxaba38c7f163da69b").unwrap(),
            scene: Scene::new(1000).unwrap(),
            template_id: TemplateId::parse("TPL_1").unwrap(),
            redirect_url: RedirectUrl::parse("https://shop.example.com/cb.html?x=1#/done").unwrap(),
            reserved: Reserved::parse(reserved).unwrap(),
            created_ms: 1_000,
            expires_ms: 601_000,
            state,
        }
    }

    fn openid() -> OpenId {
        OpenId::parse("oUser_1").unwrap()
    }

    #[test]
    fn every_state_round_trips() {
        for state in [
            State::Pending,
            State::Cancelled,
            State::Granted {
                openid: openid(),
                delivered: false,
            },
            State::Granted {
                openid: openid(),
                delivered: true,
            },
            State::Rejected { status: 403 },
        ] {
            let r = record("abc", state);
            assert_eq!(Record::nonce_in(&r.encode()).as_deref(), Some("abc"));
            assert_eq!(Record::decode(&r.encode()), Some(r));
        }
    }

    #[test]
    fn refuses_what_it_did_not_write() {
        let good = record("abc", State::Pending).encode();
        for bad in [
            String::new(),
            "garbage".into(),
            good.replace("v=1", "v=2"),
            good.replace("state=pending", "state=weird"),
            good.replace("appid=wx", "appid=xx"),
            [good.as_str(), "&scene=1"].concat(),
            [good.as_str(), "&unknown=1"].concat(),
            record(
                "abc",
                State::Granted {
                    openid: openid(),
                    delivered: true,
                },
            )
            .encode()
            .replace("delivered=1", "delivered=yes"),
        ] {
            assert_eq!(Record::decode(&bad), None, "{bad}");
        }
    }

    #[test]
    fn only_undelivered_grants_outlive_the_replay_window() {
        let later = 601_000 + REPLAY_WINDOW_MS;
        assert!(!record("a", State::Pending).is_stale(later - 1));
        assert!(record("a", State::Pending).is_stale(later));
        assert!(record("a", State::Cancelled).is_stale(later));
        assert!(record(
            "a",
            State::Granted {
                openid: openid(),
                delivered: true
            }
        )
        .is_stale(later));
        assert!(!record(
            "a",
            State::Granted {
                openid: openid(),
                delivered: false
            }
        )
        .is_stale(u64::MAX));
        assert!(record(
            "a",
            State::Granted {
                openid: openid(),
                delivered: false
            }
        )
        .undelivered_grant()
        .is_some());
        assert!(record("a", State::Pending).undelivered_grant().is_none());
    }
}
