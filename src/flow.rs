//! The subscription flow over a [`Ledger`]: make the link and remember it; verify the callback and move
//! the record on. No browser here: the page's origin, the time and the random source are passed in.

use crate::callback::{Action, Callback};
use crate::delivery::Verdict;
use crate::error::{Error, Result};
use crate::ledger::{Ledger, KEY_PREFIX};
use crate::link::Link;
use crate::nonce;
use crate::params::{AppId, Scene, TemplateId};
use crate::record::{Record, State};
use crate::redirect::RedirectUrl;

/// Default time the user has on WeChat's consent page.
pub const DEFAULT_TTL_SECONDS: u32 = 600;
/// Longest allowed TTL: a nonce should not outlive the visit it protects.
pub const MAX_TTL_SECONDS: u32 = 86_400;

/// A subscription request from the H5 page.
#[derive(Debug, Clone)]
pub struct Request {
    /// The Service Account.
    pub appid: AppId,
    /// The scene.
    pub scene: Scene,
    /// The template.
    pub template_id: TemplateId,
    /// The landing page; must share the current page's origin.
    pub redirect_url: RedirectUrl,
    /// The registered business domain, when the caller wants it checked before WeChat does.
    pub business_domain: Option<String>,
    /// Seconds the user has to answer, 1..=[`MAX_TTL_SECONDS`].
    pub ttl_seconds: u32,
    /// A stand-in for WeChat's consent page (a local simulator), or `None` for the real one.
    pub authorize_url: Option<String>,
}

/// Where the request runs: the page's origin, the clock and the random source.
pub struct Context<'a, F> {
    /// The records.
    pub ledger: &'a Ledger<'a>,
    /// `location.origin` of the current page.
    pub page_origin: &'a str,
    /// Now, in ms since the Unix epoch.
    pub now_ms: u64,
    /// Fills a buffer with cryptographically secure random bytes.
    pub fill: F,
}

/// Checks the request, generates the nonce, stores the pending record and returns the link.
/// Nothing is stored unless a link is returned, and no link is returned unless the record is stored.
pub fn authorize<F, E>(request: Request, mut cx: Context<'_, F>) -> Result<String>
where
    F: FnMut(&mut [u8]) -> Result<(), E>,
{
    request.redirect_url.require_origin(cx.page_origin)?;
    if let Some(domain) = &request.business_domain {
        request.redirect_url.require_business_domain(domain)?;
    }
    if !(1..=MAX_TTL_SECONDS).contains(&request.ttl_seconds) {
        return Err(Error::InvalidOption("ttlSeconds"));
    }
    let reserved = nonce::generate(&mut cx.fill)?;
    // The key is random too, rather than the nonce, so that finding a record compares every nonce.
    let id = nonce::generate(&mut cx.fill)?;
    let key = [KEY_PREFIX, id.as_str().get(..16).unwrap_or(id.as_str())].concat();
    let link = Link {
        appid: request.appid,
        scene: request.scene,
        template_id: request.template_id,
        redirect_url: request.redirect_url,
        reserved,
    };
    let url = link.to_url(request.authorize_url.as_deref())?;
    let record = Record {
        appid: link.appid,
        scene: link.scene,
        template_id: link.template_id,
        redirect_url: link.redirect_url,
        reserved: link.reserved,
        created_ms: cx.now_ms,
        expires_ms: cx.now_ms + u64::from(request.ttl_seconds) * 1000,
        state: State::Pending,
    };
    cx.ledger.sweep(cx.now_ms);
    cx.ledger.insert(&key, &record)?;
    Ok(url)
}

/// A callback matched to its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The record's storage key.
    pub key: String,
    /// The record, already moved on by this callback.
    pub record: Record,
    /// This callback was handled before (reload, back button, WeChat replaying the consent page).
    pub replayed: bool,
}

/// Verifies `callback` against the stored records and records the user's answer.
///
/// A callback that fails a check changes nothing, so a forged or tampered callback cannot spoil the
/// genuine one that may follow. A second callback for a closed record is a replay: the first outcome
/// stands, whatever the replay says, except that a confirm may follow a cancel (the user went back to the
/// consent page and pressed Allow).
pub fn verify(callback: &Callback, ledger: &Ledger<'_>, now_ms: u64) -> Result<Verified> {
    let (key, mut record) = ledger.find(&callback.reserved)?.ok_or(Error::UnknownReserved)?;
    if record.template_id != callback.template_id {
        return Err(Error::TemplateMismatch);
    }
    if record.scene != callback.scene {
        return Err(Error::SceneMismatch);
    }
    // A confirm after a cancel is the user changing their mind on the consent page (back, then Allow):
    // WeChat sends the same nonce, and dropping that Allow would lose a grant.
    let answerable = match record.state {
        State::Pending => true,
        State::Cancelled => callback.action == Action::Confirm,
        _ => false,
    };
    let replayed = match (answerable, &callback.openid) {
        (true, _) if now_ms >= record.expires_ms => return Err(Error::Expired),
        (true, openid) => {
            record.state = match (callback.action, openid) {
                (Action::Confirm, Some(openid)) => State::Granted {
                    openid: openid.clone(),
                    delivered: false,
                },
                (Action::Confirm, None) => return Err(Error::MissingParam("openid")),
                (Action::Cancel, _) => State::Cancelled,
            };
            // The grant is stored before anyone tries to deliver it: from here on it cannot be lost.
            ledger.update(&key, &record)?;
            false
        }
        (false, _) => match record.state {
            State::Rejected { status } => return Err(Error::BackendRejected(status)),
            _ => true,
        },
    };
    Ok(Verified { key, record, replayed })
}

/// Records the outcome of one delivery attempt. A retryable failure leaves the grant undelivered.
pub fn settle(ledger: &Ledger<'_>, key: &str, record: &mut Record, verdict: Verdict) -> Result<()> {
    record.state = match (&record.state, verdict) {
        (State::Granted { openid, .. }, Verdict::Delivered) => State::Granted {
            openid: openid.clone(),
            delivered: true,
        },
        (State::Granted { .. }, Verdict::Rejected(status)) => State::Rejected { status },
        _ => return Ok(()),
    };
    ledger.update(key, record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::Verdict;
    use crate::error::RedirectProblem;
    use crate::store::{MemoryStore, Store};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const ORIGIN: &str = "https://shop.example.com";
    const T0: u64 = 1_700_000_000_000;

    struct Page {
        session: MemoryStore,
        local: MemoryStore,
        seed: u8,
    }

    impl Page {
        fn new() -> Self {
            Page {
                session: MemoryStore::default(),
                local: MemoryStore::default(),
                seed: 1,
            }
        }

        fn request(scene: i64) -> Request {
            Request {
                appid: AppId::parse("wxaba38c7f163da69b").unwrap(),
                scene: Scene::new(scene).unwrap(),
                template_id: TemplateId::parse("TPL_1").unwrap(),
                redirect_url: RedirectUrl::parse("https://shop.example.com/cb.html#/done").unwrap(),
                business_domain: Some("shop.example.com".into()),
                ttl_seconds: 600,
                authorize_url: None,
            }
        }

        fn authorize(&mut self, request: Request) -> Result<String> {
            let ledger = Ledger::new(&self.session, Some(&self.local));
            self.seed = self.seed.wrapping_mul(31).wrapping_add(7);
            let mut x = self.seed;
            let fill = |buf: &mut [u8]| -> Result<(), ()> {
                for b in buf.iter_mut() {
                    x = x.wrapping_mul(73).wrapping_add(41);
                    *b = x;
                }
                Ok(())
            };
            authorize(
                request,
                Context {
                    ledger: &ledger,
                    page_origin: ORIGIN,
                    now_ms: T0,
                    fill,
                },
            )
        }

        /// WeChat's redirect for `link`.
        fn callback(link: &str, action: &str) -> Callback {
            let action = if action == "confirm" {
                Action::Confirm
            } else {
                Action::Cancel
            };
            Callback::parse(&crate::callback::wechat_answer(link, action, "oUser_1").unwrap()).unwrap()
        }

        fn verify(&self, cb: &Callback, now_ms: u64) -> Result<Verified> {
            verify(cb, &Ledger::new(&self.session, Some(&self.local)), now_ms)
        }

        fn settle(&self, v: &mut Verified, verdict: Verdict) {
            settle(
                &Ledger::new(&self.session, Some(&self.local)),
                &v.key,
                &mut v.record,
                verdict,
            )
            .unwrap();
        }
    }

    #[test]
    fn confirm_then_deliver_then_replay() {
        let mut page = Page::new();
        let link = page.authorize(Page::request(1000)).unwrap();
        assert!(link.starts_with(
            "https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid=wxaba38c7f163da69b&scene=1000&"
        ));
        let keys = page.session.keys().unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].starts_with("wxsub:"));
        assert_eq!(page.local.keys().unwrap(), keys);

        let cb = Page::callback(&link, "confirm");
        let mut v = page.verify(&cb, T0 + 1).unwrap();
        assert!(!v.replayed);
        assert!(v.record.undelivered_grant().is_some());
        // The grant is stored before delivery.
        assert!(page.verify(&cb, T0 + 2).unwrap().record.undelivered_grant().is_some());

        page.settle(&mut v, Verdict::Delivered);
        let again = page.verify(&cb, T0 + 3).unwrap();
        assert!(again.replayed);
        assert_eq!(again.record.undelivered_grant(), None);
        // Even a cancel replayed for the same nonce keeps the first outcome.
        let replay = page.verify(&Page::callback(&link, "cancel"), T0 + 4).unwrap();
        assert!(matches!(replay.record.state, State::Granted { delivered: true, .. }));
    }

    #[test]
    fn cancel_closes_without_a_grant() {
        let mut page = Page::new();
        let link = page.authorize(Page::request(7)).unwrap();
        let v = page.verify(&Page::callback(&link, "cancel"), T0 + 1).unwrap();
        assert_eq!(v.record.state, State::Cancelled);
        assert!(page.verify(&Page::callback(&link, "cancel"), T0 + 1).unwrap().replayed);
    }

    #[test]
    fn allow_after_cancel_is_a_grant_until_the_request_expires() {
        let mut page = Page::new();
        let link = page.authorize(Page::request(7)).unwrap();
        page.verify(&Page::callback(&link, "cancel"), T0 + 1).unwrap();
        assert_eq!(
            page.verify(&Page::callback(&link, "confirm"), T0 + 600_000),
            Err(Error::Expired)
        );
        let v = page.verify(&Page::callback(&link, "confirm"), T0 + 2).unwrap();
        assert!(!v.replayed);
        assert!(v.record.undelivered_grant().is_some());
        // And the grant is not undone by a late cancel.
        let late = page.verify(&Page::callback(&link, "cancel"), T0 + 3).unwrap();
        assert!(late.replayed && late.record.undelivered_grant().is_some());
    }

    #[test]
    fn forged_and_tampered_callbacks_leave_the_genuine_one_usable() {
        let mut page = Page::new();
        let link = page.authorize(Page::request(1000)).unwrap();
        let genuine = Page::callback(&link, "confirm");

        let mut forged = genuine.clone();
        forged.reserved = crate::Reserved::parse("forged").unwrap();
        assert_eq!(page.verify(&forged, T0), Err(Error::UnknownReserved));
        let mut tampered = genuine.clone();
        tampered.template_id = TemplateId::parse("OTHER").unwrap();
        assert_eq!(page.verify(&tampered, T0), Err(Error::TemplateMismatch));
        let mut rescened = genuine.clone();
        rescened.scene = Scene::new(1001).unwrap();
        assert_eq!(page.verify(&rescened, T0), Err(Error::SceneMismatch));

        let v = page.verify(&genuine, T0 + 1).unwrap();
        assert!(!v.replayed);
    }

    #[test]
    fn several_scenes_pend_side_by_side() {
        let mut page = Page::new();
        let a = page.authorize(Page::request(1)).unwrap();
        let b = page.authorize(Page::request(2)).unwrap();
        assert_ne!(a, b);
        assert_eq!(page.session.keys().unwrap().len(), 2);
        assert_eq!(
            page.verify(&Page::callback(&b, "confirm"), T0)
                .unwrap()
                .record
                .scene
                .get(),
            2
        );
        assert_eq!(
            page.verify(&Page::callback(&a, "confirm"), T0)
                .unwrap()
                .record
                .scene
                .get(),
            1
        );
    }

    #[test]
    fn expiry() {
        let mut page = Page::new();
        let link = page.authorize(Page::request(1)).unwrap();
        let cb = Page::callback(&link, "confirm");
        assert_eq!(page.verify(&cb, T0 + 600_000), Err(Error::Expired));
        assert!(page.verify(&cb, T0 + 599_999).is_ok());
    }

    #[test]
    fn lost_session_storage_falls_back_to_the_copy() {
        let mut page = Page::new();
        let link = page.authorize(Page::request(1)).unwrap();
        page.session.clear();
        assert!(page.verify(&Page::callback(&link, "confirm"), T0 + 1).is_ok());
    }

    #[test]
    fn rejection_is_final_and_replays_as_the_same_error() {
        let mut page = Page::new();
        let link = page.authorize(Page::request(1)).unwrap();
        let cb = Page::callback(&link, "confirm");
        let mut v = page.verify(&cb, T0).unwrap();
        page.settle(&mut v, Verdict::Retry);
        assert!(page.verify(&cb, T0).unwrap().record.undelivered_grant().is_some());
        page.settle(&mut v, Verdict::Rejected(403));
        assert_eq!(page.verify(&cb, T0), Err(Error::BackendRejected(403)));
    }

    #[test]
    fn refuses_before_storing_anything() {
        let mut page = Page::new();
        let mut other_origin = Page::request(1);
        other_origin.redirect_url = RedirectUrl::parse("https://other.example.com/cb").unwrap();
        assert_eq!(
            page.authorize(other_origin),
            Err(Error::InvalidRedirectUrl(RedirectProblem::OtherOrigin))
        );
        let mut wrong_domain = Page::request(1);
        wrong_domain.business_domain = Some("example.com".into());
        assert_eq!(page.authorize(wrong_domain), Err(Error::DomainMismatch));
        for ttl in [0, MAX_TTL_SECONDS + 1] {
            let mut bad_ttl = Page::request(1);
            bad_ttl.ttl_seconds = ttl;
            assert_eq!(page.authorize(bad_ttl), Err(Error::InvalidOption("ttlSeconds")));
        }
        let mut bad_base = Page::request(1);
        bad_base.authorize_url = Some("not a url".into());
        assert_eq!(page.authorize(bad_base), Err(Error::InvalidOption("authorizeUrl")));
        assert!(page.session.keys().unwrap().is_empty());

        page.session.broken.set(true);
        assert_eq!(page.authorize(Page::request(1)), Err(Error::StorageUnavailable));
        assert!(page.local.keys().unwrap().is_empty());
    }
}
