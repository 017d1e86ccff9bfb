//! The subscription flow over a [`Ledger`]: remember the link; verify the callback and record the answer;
//! record what the backend made of the grant. No browser here: the page's origin and the time are passed in.

use crate::error::{Error, Result};
use crate::http_url::HttpUrl;
use crate::prelude::*;
use crate::subscription::ledger::{Copies, Ledger};
use crate::subscription::record::{Record, State};
use crate::subscription::verdict::Verdict;
use crate::wechat::callback::{Answer, Callback};
use crate::wechat::link::Link;
use crate::wechat::params::Reserved;

/// Default for `ttlSeconds`: after it, an answer is still accepted but reported as late.
pub const DEFAULT_TTL_SECONDS: u32 = 600;
/// Longest allowed `ttlSeconds`.
pub const MAX_TTL_SECONDS: u32 = 86_400;
// Policy stays within what the stored format can hold.
const _: () = assert!(MAX_TTL_SECONDS as u64 * 1000 <= crate::subscription::record::MAX_LIFETIME_MS);

/// A subscription request from the H5 page.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// The link to make, nonce included; its redirect URL must share the current page's origin.
    pub link: Link,
    /// The registered business domain, when the caller wants it checked before WeChat does.
    pub business_domain: Option<String>,
    /// Seconds in which an answer is on time, 1..=[`MAX_TTL_SECONDS`]; a later one is accepted as late.
    pub ttl_seconds: u32,
    /// A stand-in for WeChat's consent page (a local simulator), or `None` for the real one.
    pub authorize_url: Option<HttpUrl>,
}

/// Checks the request, stores the pending record and returns the link. Nothing is stored unless a link is
/// returned, and no link is returned unless the record is stored in sessionStorage.
pub fn authorize(request: AuthorizeRequest, ledger: &Ledger<'_>, page_origin: &str, now_ms: u64) -> Result<String> {
    let redirect_url = &request.link.redirect_url;
    redirect_url.require_origin(page_origin)?;
    if let Some(domain) = &request.business_domain {
        redirect_url.require_business_domain(domain)?;
    }
    if !(1..=MAX_TTL_SECONDS).contains(&request.ttl_seconds) {
        return Err(Error::InvalidOption("ttlSeconds"));
    }
    let record = Record {
        link: request.link,
        created_ms: now_ms,
        expires_ms: now_ms + u64::from(request.ttl_seconds) * 1000,
        answered_ms: None,
        state: State::Pending,
    };
    ledger.insert(&record, now_ms)?;
    Ok(record.link.to_url(request.authorize_url.as_ref()))
}

/// A callback matched to its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The record, already moved on by this callback.
    pub record: Record,
    /// This callback was handled before (reload, back button, WeChat replaying the consent page, another tab):
    /// the record holds the first outcome.
    pub replayed: bool,
    /// Where an undelivered grant is saved (nothing for any other outcome).
    pub kept: Copies,
}

/// Verifies `callback` against the stored records and records the user's answer, in this order:
/// find the record → same template → same scene → already answered? → time → new state → save.
///
/// A callback that fails a check changes nothing, so a forged or tampered callback cannot spoil the genuine one
/// that may follow. A late answer (after `ttlSeconds`) is the user's answer all the same: WeChat holds the
/// permit, so dropping it would lose a grant; [`Record::late`] says so.
pub fn verify(callback: &Callback, ledger: &Ledger<'_>, now_ms: u64) -> Result<Verified> {
    // Find: only a nonce this browser keeps ties the callback to a request it made.
    let mut record = ledger.get(&callback.reserved)?.ok_or(Error::UnknownReserved)?;
    // Same template, same scene: the callback must answer what was asked.
    if record.link.template_id != callback.template_id {
        return Err(Error::TemplateMismatch);
    }
    if record.link.scene != callback.scene {
        return Err(Error::SceneMismatch);
    }
    // Already answered? Then the first outcome stands, except that an Allow may follow a Cancel: the user went
    // back to the consent page and changed their mind, and WeChat sends the same nonce.
    let answerable = matches!(
        (&record.state, &callback.answer),
        (State::Pending, _) | (State::Cancelled, Answer::Confirm(_))
    );
    if !answerable {
        return replay(record, ledger, now_ms);
    }
    // Time and new state: the answer is recorded when it arrives, late or not.
    record.answered_ms = Some(now_ms);
    record.state = match &callback.answer {
        Answer::Confirm(openid) => State::Allowed(openid.clone()),
        Answer::Cancel => State::Cancelled,
    };
    // Save: the grant is stored before anyone tries to deliver it.
    let kept = ledger.save(&record, now_ms);
    Ok(Verified {
        record,
        replayed: false,
        kept,
    })
}

/// The first outcome again. A grant the backend refused is that error again; a grant still owed is saved once
/// more, which also restores a copy that could not be written the first time.
fn replay(record: Record, ledger: &Ledger<'_>, now_ms: u64) -> Result<Verified> {
    let kept = match record.state {
        State::Rejected(status) => return Err(Error::BackendRejected(status)),
        State::Allowed(_) => ledger.save(&record, now_ms),
        _ => Copies::default(),
    };
    Ok(Verified {
        record,
        replayed: true,
        kept,
    })
}

/// Records what the backend made of one POST of the grant for `reserved`, and returns what holds for the grant now
/// and where it is saved: the verdict, unless another tab already delivered it (then delivered, whatever this POST
/// got). Best effort: a grant this browser could not store (posted from memory) has no record to move on.
pub fn record_answer(ledger: &Ledger<'_>, reserved: &Reserved, verdict: Verdict, now_ms: u64) -> (Verdict, Copies) {
    let Ok(Some(mut record)) = ledger.get(reserved) else {
        return (verdict, Copies::default());
    };
    let openid = match &record.state {
        State::Allowed(openid) => openid.clone(),
        State::Delivered(_) => return (Verdict::Delivered, Copies::default()),
        _ => return (verdict, Copies::default()),
    };
    record.state = match verdict {
        Verdict::Delivered => State::Delivered(openid),
        Verdict::Rejected(status) => State::Rejected(status),
        // Saved again as it is: a store that was full may have room now.
        Verdict::Retry => record.state.clone(),
    };
    (verdict, ledger.save(&record, now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UrlProblem;
    use crate::subscription::store::{MemoryStore, Store};
    use crate::subscription::verdict::{verdict, Reply};
    use crate::wechat::params::{AppId, Scene, TemplateId};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const ORIGIN: &str = "https://shop.example.com";
    const T0: u64 = 1_700_000_000_000;

    struct Page {
        session: MemoryStore,
        local: MemoryStore,
        nonces: u32,
    }

    impl Page {
        fn new() -> Self {
            Page {
                session: MemoryStore::default(),
                local: MemoryStore::default(),
                nonces: 0,
            }
        }

        fn ledger(&self) -> Ledger<'_> {
            Ledger::new(&self.session, Some(&self.local))
        }

        fn request(&mut self, scene: i64) -> AuthorizeRequest {
            self.nonces += 1;
            AuthorizeRequest {
                link: Link {
                    appid: AppId::parse("wxaba38c7f163da69b").unwrap(),
                    scene: Scene::new(scene).unwrap(),
                    template_id: TemplateId::parse("TPL_1").unwrap(),
                    redirect_url: HttpUrl::parse("https://shop.example.com/cb.html#/done").unwrap(),
                    reserved: Reserved::parse(&["nonce", &self.nonces.to_string()].concat()).unwrap(),
                },
                business_domain: Some("shop.example.com".into()),
                ttl_seconds: 600,
                authorize_url: None,
            }
        }

        fn authorize(&mut self, scene: i64) -> String {
            let request = self.request(scene);
            authorize(request, &self.ledger(), ORIGIN, T0).unwrap()
        }

        /// WeChat's redirect for `link`: Allow as oUser_1 when `allow`, else Cancel.
        fn callback(link: &str, allow: bool) -> Callback {
            let answer = crate::wechat::callback::wechat_answer(link, allow.then_some("oUser_1")).unwrap();
            Callback::parse(&answer).unwrap()
        }

        fn verify(&self, cb: &Callback, now_ms: u64) -> Result<Verified> {
            verify(cb, &self.ledger(), now_ms)
        }

        fn record_answer(&self, cb: &Callback, status: u16) -> Copies {
            record_answer(&self.ledger(), &cb.reserved, verdict(Reply::Status(status)), T0).1
        }
    }

    #[test]
    fn confirm_then_deliver_then_replay() {
        let mut page = Page::new();
        let link = page.authorize(1000);
        assert!(link.starts_with(
            "https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid=wxaba38c7f163da69b&scene=1000&"
        ));
        assert_eq!(page.session.keys().unwrap(), ["wxsub:nonce1"]);
        assert_eq!(page.local.keys().unwrap(), ["wxsub:nonce1"]);

        let cb = Page::callback(&link, true);
        let v = page.verify(&cb, T0 + 1).unwrap();
        assert!(!v.replayed && !v.record.late());
        assert_eq!(
            v.kept,
            Copies {
                session: true,
                local: true
            }
        );
        // The grant is stored before delivery: handling it again (StrictMode) finds it owed, as a replay.
        let again = page.verify(&cb, T0 + 2).unwrap();
        assert!(again.replayed && again.record.undelivered().is_some());

        assert_eq!(
            page.record_answer(&cb, 201),
            Copies {
                session: true,
                local: true
            }
        );
        let replay = page.verify(&cb, T0 + 3).unwrap();
        assert!(replay.replayed);
        assert!(matches!(replay.record.state, State::Delivered(_)));
        // Even a cancel replayed for the same nonce keeps the first outcome.
        let cancel = page.verify(&Page::callback(&link, false), T0 + 4).unwrap();
        assert!(cancel.replayed && matches!(cancel.record.state, State::Delivered(_)));
    }

    #[test]
    fn cancel_closes_without_a_grant() {
        let mut page = Page::new();
        let link = page.authorize(7);
        let v = page.verify(&Page::callback(&link, false), T0 + 1).unwrap();
        assert_eq!(v.record.state, State::Cancelled);
        assert!(page.verify(&Page::callback(&link, false), T0 + 1).unwrap().replayed);
    }

    #[test]
    fn allow_after_cancel_is_a_grant_however_late() {
        let mut page = Page::new();
        let link = page.authorize(7);
        page.verify(&Page::callback(&link, false), T0 + 1).unwrap();
        let v = page.verify(&Page::callback(&link, true), T0 + 3_600_000).unwrap();
        assert!(!v.replayed && v.record.late());
        assert!(v.record.undelivered().is_some());
        // And the grant is not undone by a cancel after it.
        let after = page.verify(&Page::callback(&link, false), T0 + 3_600_001).unwrap();
        assert!(after.replayed && after.record.undelivered().is_some());
    }

    #[test]
    fn a_late_allow_is_a_grant_and_says_so() {
        let mut page = Page::new();
        let link = page.authorize(1);
        let cb = Page::callback(&link, true);
        // Lunch, or a clock that jumped forward by a day: the browser still keeps the record.
        let v = page.verify(&cb, T0 + 86_400_000).unwrap();
        assert!(v.record.undelivered().is_some() && v.record.late() && !v.replayed);
        // The replay remembers that it was late.
        assert!(page.verify(&cb, T0 + 86_400_001).unwrap().record.late());
        // On time is up to and including the TTL's last millisecond.
        let link = page.authorize(2);
        assert!(!page
            .verify(&Page::callback(&link, true), T0 + 600_000)
            .unwrap()
            .record
            .late());
    }

    #[test]
    fn forged_and_tampered_callbacks_leave_the_genuine_one_usable() {
        let mut page = Page::new();
        let link = page.authorize(1000);
        let genuine = Page::callback(&link, true);

        let mut forged = genuine.clone();
        forged.reserved = Reserved::parse("forged").unwrap();
        assert_eq!(page.verify(&forged, T0), Err(Error::UnknownReserved));
        let mut tampered = genuine.clone();
        tampered.template_id = TemplateId::parse("OTHER").unwrap();
        assert_eq!(page.verify(&tampered, T0), Err(Error::TemplateMismatch));
        let mut rescened = genuine.clone();
        rescened.scene = Scene::new(1001).unwrap();
        assert_eq!(page.verify(&rescened, T0), Err(Error::SceneMismatch));

        let v = page.verify(&genuine, T0 + 1).unwrap();
        assert!(!v.replayed && v.record.undelivered().is_some());
    }

    #[test]
    fn several_scenes_pend_side_by_side() {
        let mut page = Page::new();
        let a = page.authorize(1);
        let b = page.authorize(2);
        assert_ne!(a, b);
        assert_eq!(page.session.keys().unwrap().len(), 2);
        assert_eq!(
            page.verify(&Page::callback(&b, true), T0)
                .unwrap()
                .record
                .link
                .scene
                .get(),
            2
        );
        assert_eq!(
            page.verify(&Page::callback(&a, true), T0)
                .unwrap()
                .record
                .link
                .scene
                .get(),
            1
        );
    }

    #[test]
    fn lost_session_storage_falls_back_to_the_copy() {
        let mut page = Page::new();
        let link = page.authorize(1);
        page.session.clear();
        assert!(page.verify(&Page::callback(&link, true), T0 + 1).is_ok());
    }

    #[test]
    fn full_storage_never_stops_the_grant_and_says_where_it_is_kept() {
        let mut page = Page::new();
        let link = page.authorize(1);
        let cb = Page::callback(&link, true);
        // Both areas full of the site's own data: the answer cannot be written anywhere.
        page.session.quota.set(Some(page.session.used()));
        page.local.quota.set(Some(page.local.used()));
        let v = page.verify(&cb, T0 + 1).unwrap();
        assert!(v.record.undelivered().is_some() && !v.replayed);
        assert_eq!(
            v.kept,
            Copies {
                session: false,
                local: false
            }
        );
        // Only localStorage full: the grant lives in this tab alone, and the result says so.
        page.session.quota.set(None);
        let v = page.verify(&cb, T0 + 2).unwrap();
        assert_eq!(
            v.kept,
            Copies {
                session: true,
                local: false
            }
        );
        // Room again: the next try restores the copy.
        page.local.quota.set(None);
        assert_eq!(
            page.record_answer(&cb, 503),
            Copies {
                session: true,
                local: true
            }
        );
        assert!(page.ledger().undelivered().unwrap()[0].undelivered().is_some());
    }

    #[test]
    fn rejection_is_final_and_replays_as_the_same_error() {
        let mut page = Page::new();
        let link = page.authorize(1);
        let cb = Page::callback(&link, true);
        page.verify(&cb, T0).unwrap();
        page.record_answer(&cb, 503);
        page.record_answer(&cb, 302);
        assert!(page.verify(&cb, T0).unwrap().record.undelivered().is_some());
        page.record_answer(&cb, 403);
        assert_eq!(page.verify(&cb, T0), Err(Error::BackendRejected(403)));
        // A late answer to an attempt cannot undo the refusal.
        page.record_answer(&cb, 201);
        assert_eq!(page.verify(&cb, T0), Err(Error::BackendRejected(403)));
    }

    #[test]
    fn refuses_before_storing_anything() {
        let mut page = Page::new();
        let mut other_origin = page.request(1);
        other_origin.link.redirect_url = HttpUrl::parse("https://other.example.com/cb").unwrap();
        let ledger = page.ledger();
        assert_eq!(
            authorize(other_origin, &ledger, ORIGIN, T0),
            Err(Error::InvalidRedirectUrl(UrlProblem::OtherOrigin))
        );
        let mut wrong_domain = page.request(1);
        wrong_domain.business_domain = Some("example.com".into());
        assert_eq!(
            authorize(wrong_domain, &page.ledger(), ORIGIN, T0),
            Err(Error::DomainMismatch)
        );
        for ttl in [0, MAX_TTL_SECONDS + 1] {
            let mut bad_ttl = page.request(1);
            bad_ttl.ttl_seconds = ttl;
            assert_eq!(
                authorize(bad_ttl, &page.ledger(), ORIGIN, T0),
                Err(Error::InvalidOption("ttlSeconds"))
            );
        }
        assert!(page.session.keys().unwrap().is_empty());

        page.session.broken.set(true);
        let request = page.request(1);
        assert_eq!(
            authorize(request, &page.ledger(), ORIGIN, T0),
            Err(Error::StorageUnavailable)
        );
        assert!(page.local.keys().unwrap().is_empty());
    }

    #[test]
    fn a_grant_another_tab_delivered_is_delivered_whatever_this_post_got() {
        let mut page = Page::new();
        let link = page.authorize(3);
        let cb = Page::callback(&link, true);
        page.verify(&cb, T0 + 1).unwrap();
        // Another tab posted it too, and its POST was answered first.
        let mut delivered = page.ledger().get(&cb.reserved).unwrap().unwrap();
        delivered.state = State::Delivered(delivered.undelivered().unwrap().clone());
        page.local.set("wxsub:nonce1", &delivered.encode()).unwrap();
        for reply in [Reply::NoAnswer, Reply::Status(503), Reply::Redirected] {
            let (now, _) = record_answer(&page.ledger(), &cb.reserved, verdict(reply), T0 + 2);
            assert_eq!(now, Verdict::Delivered, "{reply:?}");
        }
        // Still a refusal where nobody delivered it.
        let link = page.authorize(4);
        let other = Page::callback(&link, true);
        page.verify(&other, T0 + 1).unwrap();
        let (now, _) = record_answer(&page.ledger(), &other.reserved, verdict(Reply::Status(403)), T0 + 2);
        assert_eq!(now, Verdict::Rejected(403));
    }
}
