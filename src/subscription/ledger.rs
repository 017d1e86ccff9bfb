//! The records, kept in sessionStorage with a copy in localStorage, each under `wxsub:<reserved>`.
//!
//! sessionStorage is the home: it is per tab. The localStorage copy, shared by the origin's tabs, is read as
//! well, because WeChat's floating-window mode is reported to lose sessionStorage between the link and the
//! callback, and it is what keeps an undelivered grant past the tab's life for `retryDeliveries()`. So another
//! tab of the same origin can answer this tab's request, and the copy further along wins (see [`Ledger::get`]).
//!
//! Keying a record by its nonce makes a lookup one read per store, whatever else is stored. A lookup's timing
//! could in principle tell whether a key exists, but the key is the 190-bit nonce itself: learning it that way
//! would take one victim page load per guess.
//!
//! What is kept, per storage area: every undelivered grant, until it is delivered; besides those at most
//! [`KEEP`] records, each for at most [`RETENTION_MS`](crate::subscription::record::RETENTION_MS). What is deleted: records of this format that are stale
//! or past the cap (see [`Ledger::insert`] for the order), and values of this format that do not decode
//! (corrupt). What is rewritten: undelivered grants in format 1, which the package wrote before records were keyed
//! by their nonce ([`upgrade`]: read once, moved to their nonce's key). What is never touched: the site's own keys, and
//! values under the prefix in any other format (a newer version of the package in another tab during a deploy may
//! own them, owed grants included), or format-1 values that do not read.

use crate::error::{Error, Result};
use crate::prelude::*;
use crate::subscription::record::{format_of, holds_undelivered_grant, Record, State, FORMAT};
use crate::subscription::store::Store;
use crate::subscription::upgrade;
use crate::wechat::params::Reserved;

/// Every key this crate writes starts with this, so it never touches the site's own entries.
pub const KEY_PREFIX: &str = "wxsub:";

/// How many records a storage area keeps besides undelivered grants: enough for a user who opens several
/// subscriptions at once, few enough that every call costs the same however often the page was used.
pub const KEEP: usize = 20;

/// Where a record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Copies {
    /// In this tab's sessionStorage.
    pub session: bool,
    /// In the origin's localStorage, which outlives the tab.
    pub local: bool,
}

/// The records of both stores, seen as one.
pub struct Ledger<'a> {
    session: &'a dyn Store,
    local: Option<&'a dyn Store>,
}

impl<'a> Ledger<'a> {
    /// A ledger on `session` (sessionStorage) with an optional copy in `local` (localStorage).
    pub fn new(session: &'a dyn Store, local: Option<&'a dyn Store>) -> Self {
        Ledger { session, local }
    }

    /// The storage key of the record for `reserved`.
    pub fn key(reserved: &Reserved) -> String {
        crate::text::concat(&[KEY_PREFIX, reserved.as_str()])
    }

    fn stores(&self) -> impl Iterator<Item = &'a dyn Store> {
        core::iter::once(self.session).chain(self.local)
    }

    /// The record for `reserved`: one read per store. Where both hold it, the one further along wins (another
    /// tab may have moved the shared copy on), on a tie sessionStorage's. Fails only when no store can be read.
    pub fn get(&self, reserved: &Reserved) -> Result<Option<Record>> {
        let key = Self::key(reserved);
        let mut readable = false;
        let mut found: Option<Record> = None;
        for store in self.stores() {
            let Ok(value) = store.get(&key) else { continue };
            readable = true;
            let Some(record) = value.and_then(|value| Record::decode(reserved, &value)) else {
                continue;
            };
            if found
                .as_ref()
                .is_none_or(|seen| record.state.progress() > seen.state.progress())
            {
                found = Some(record);
            }
        }
        if readable {
            Ok(found)
        } else {
            Err(Error::StorageUnavailable)
        }
    }

    /// Stores a new record, after making room for it: stale and corrupt records go, then, while more than
    /// [`KEEP`] would be kept, the first in this order: closed records (cancelled, delivered, rejected), then
    /// pending ones whose `ttlSeconds` are over, then other pending ones, oldest first within each. An
    /// undelivered grant is never evicted. sessionStorage must take the record (a user is never sent to WeChat
    /// without the nonce kept); the copy is best effort, so only sessionStorage failing is an error.
    pub fn insert(&self, record: &Record, now_ms: u64) -> Result<Copies> {
        let key = Self::key(&record.link.reserved);
        let value = record.encode();
        let insert = |store: &dyn Store, mine: &dyn Fn(&str) -> bool| {
            let mut evictable = evictable(store, now_ms, &key, mine);
            let over = (evictable.len() + 1).saturating_sub(KEEP);
            for old in evictable.drain(..over) {
                let _ = store.remove(&old);
            }
            write(store, &key, &value, &mut evictable.into_iter())
        };
        // The shared copy first, while this tab's sessionStorage still holds what it is about to let go of: the
        // same records then leave both areas.
        let local = self.local.is_some_and(|local| insert(local, &|key| self.is_mine(key)));
        if !insert(self.session, &|_| true) {
            if let Some(local) = self.local {
                let _ = local.remove(&key);
            }
            return Err(Error::StorageUnavailable);
        }
        Ok(Copies { session: true, local })
    }

    /// True when this tab keeps the record under `key` in its own sessionStorage. Of the shared copies, only these
    /// (and closed ones) may be evicted by count: another tab's pending or cancelled record, as seen from here, may
    /// already be an undelivered grant in that tab, written a moment ago and not yet visible to this renderer.
    fn is_mine(&self, key: &str) -> bool {
        self.session.get(key).ok().flatten().is_some()
    }

    /// Writes a record's new state to both stores. A store that refuses (full) gets room made in it as
    /// [`Ledger::insert`] makes it; the record is written where it can be, and the caller learns where. The
    /// usual case, a store with room, costs one write per store and reads nothing else.
    pub fn save(&self, record: &Record, now_ms: u64) -> Copies {
        let key = Self::key(&record.link.reserved);
        let value = record.encode();
        // The shared copy first: which of its records this tab may evict depends on what its sessionStorage holds.
        let local = self
            .local
            .is_some_and(|local| write_or_make_room(local, &key, &value, now_ms, &|key| self.is_mine(key)));
        let session = write_or_make_room(self.session, &key, &value, now_ms, &|_| true);
        Copies { session, local }
    }

    /// Every grant still owed to the backend, from either store, once each (the copy further along wins, so a
    /// grant another tab delivered is not owed here).
    pub fn undelivered(&self) -> Result<Vec<Record>> {
        let mut readable = false;
        let mut records: Vec<Record> = Vec::new();
        for (pass, store) in self.stores().enumerate() {
            let Ok(keys) = store.keys() else { continue };
            readable = true;
            for Entry { key, record, .. } in keys.into_iter().filter_map(|key| own_entry(store, key, true)) {
                let Some(record) = record else { continue };
                // Both areas may hold a copy under the same key: sessionStorage's pass weighs the two, and the
                // localStorage pass takes only the copies sessionStorage has no readable record for. Two reads per
                // key rather than a search through what was found, so thousands of grants cost linear time.
                let reserved = &record.link.reserved;
                let other = |store: &dyn Store| {
                    store
                        .get(&key)
                        .ok()
                        .flatten()
                        .and_then(|v| Record::decode(reserved, &v))
                };
                let record = if pass == 0 {
                    match self.local.and_then(other) {
                        Some(copy) if copy.state.progress() > record.state.progress() => copy,
                        _ => record,
                    }
                } else if other(self.session).is_some() {
                    continue;
                } else {
                    record
                };
                if record.undelivered().is_some() {
                    records.push(record);
                }
            }
        }
        if readable {
            Ok(records)
        } else {
            Err(Error::StorageUnavailable)
        }
    }
}

/// A stored entry of this package in this format.
struct Entry {
    key: String,
    /// `None` when the value does not decode.
    record: Option<Record>,
    /// The value holds an undelivered grant, whether or not it decodes: never deleted.
    undelivered: bool,
}

/// The entry under `key` when it is this package's, in this format; an undelivered grant in format 1 is rewritten in
/// this format first (see [`upgrade`](crate::subscription::upgrade)). An undelivered grant is not decoded: it is never evicted,
/// and only `undelivered()` needs its contents, so a page that keeps thousands of them pays one read for each.
fn own_entry(store: &dyn Store, key: String, decode_undelivered: bool) -> Option<Entry> {
    let id = key.strip_prefix(KEY_PREFIX)?;
    let value = store.get(&key).ok()??;
    if upgrade::is_format_1(&value) {
        return upgraded(store, key, &value, decode_undelivered);
    }
    if format_of(&value) != FORMAT {
        return None;
    }
    let reserved = Reserved::parse(id).ok()?;
    let undelivered = holds_undelivered_grant(&value);
    Some(Entry {
        record: (decode_undelivered || !undelivered)
            .then(|| Record::decode(&reserved, &value))
            .flatten(),
        undelivered,
        key,
    })
}

/// Moves the format-1 grant under `old` to its record's own key (unless something is stored there already: the
/// package has moved the grant on since, or another version owns the key), then removes the old key, once the grant
/// is safe under the new one.
fn upgraded(store: &dyn Store, old: String, value: &str, decode_undelivered: bool) -> Option<Entry> {
    let record = upgrade::format_1(value)?;
    let key = Ledger::key(&record.link.reserved);
    if store.get(&key).ok()?.is_none() {
        store.set(&key, &record.encode()).ok()?;
    }
    let _ = store.remove(&old);
    own_entry(store, key, decode_undelivered)
}

/// Deletes this format's stale and corrupt records from `store` and lists the keys of the others that may be
/// evicted, first to go first (see [`Ledger::insert`]): closed records, and pending or cancelled ones that are
/// `mine`; never `except`, never an undelivered grant.
fn evictable(store: &dyn Store, now_ms: u64, except: &str, mine: &dyn Fn(&str) -> bool) -> Vec<String> {
    let Ok(keys) = store.keys() else { return Vec::new() };
    // Each with its place in the order: the rank above the creation time (which fits in 56 bits until 4254).
    let mut candidates: Vec<(u64, String)> = Vec::new();
    for Entry {
        key,
        record,
        undelivered,
    } in keys.into_iter().filter_map(|key| own_entry(store, key, false))
    {
        if key == except || undelivered {
            continue;
        }
        let Some(record) = record.filter(|record| !record.is_stale(now_ms)) else {
            let _ = store.remove(&key);
            continue;
        };
        let rank: u64 = match record.state {
            State::Delivered(_) | State::Rejected(_) => 0,
            _ if !mine(&key) => continue,
            State::Pending if now_ms < record.expires_ms => 2,
            State::Pending => 1,
            State::Cancelled | State::Allowed(_) => 0,
        };
        let order = rank << 56 | record.created_ms.min((1 << 56) - 1);
        // Kept in order as they come: an insertion is far smaller in wasm than a general sort.
        let at = candidates.partition_point(|(o, _)| *o <= order);
        candidates.insert(at, (order, key));
    }
    candidates.into_iter().map(|(_, key)| key).collect()
}

/// Writes `value` under `key`; while the store refuses (full), evicts the next of `evictable` and tries again.
fn write(store: &dyn Store, key: &str, value: &str, evictable: &mut dyn Iterator<Item = String>) -> bool {
    if store.set(key, value).is_ok() {
        return true;
    }
    for old in evictable {
        if store.remove(&old).is_err() {
            return false;
        }
        if store.set(key, value).is_ok() {
            return true;
        }
    }
    false
}

/// Writes `value` under `key` as [`write`] does, the eviction list made only if the store refuses.
fn write_or_make_room(store: &dyn Store, key: &str, value: &str, now_ms: u64, mine: &dyn Fn(&str) -> bool) -> bool {
    store.set(key, value).is_ok() || write(store, key, value, &mut evictable(store, now_ms, key, mine).into_iter())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscription::record::tests::{openid, record, T0};
    use crate::subscription::record::RETENTION_MS;
    use crate::subscription::store::MemoryStore;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn reserved(s: &str) -> Reserved {
        Reserved::parse(s).unwrap()
    }

    fn both() -> (MemoryStore, MemoryStore) {
        (MemoryStore::default(), MemoryStore::default())
    }

    fn keys(store: &MemoryStore) -> Vec<String> {
        let mut keys = store.keys().unwrap();
        keys.sort();
        keys
    }

    /// A record made at `created` (ms after T0) with a 600 s TTL.
    fn made_at(name: &str, created: u64, state: State) -> Record {
        let mut r = record(name, state);
        r.created_ms = T0 + created;
        r.expires_ms = r.created_ms + 600_000;
        r.answered_ms = r.answered_ms.map(|_| r.created_ms + 1);
        r
    }

    #[test]
    fn keys_records_by_their_nonce_and_reads_the_copy_when_the_tab_lost_its_own() {
        let (session, local) = both();
        let ledger = Ledger::new(&session, Some(&local));
        let kept = ledger.insert(&record("aaa", State::Pending), T0).unwrap();
        assert_eq!(
            kept,
            Copies {
                session: true,
                local: true
            }
        );
        ledger.insert(&record("bbb", State::Pending), T0).unwrap();
        assert_eq!(keys(&session), ["wxsub:aaa", "wxsub:bbb"]);
        assert_eq!(
            ledger.get(&reserved("bbb")).unwrap().unwrap().link.reserved.as_str(),
            "bbb"
        );
        assert_eq!(ledger.get(&reserved("bb")).unwrap(), None);

        session.clear();
        assert!(ledger.get(&reserved("aaa")).unwrap().is_some());
        session.broken.set(true);
        assert!(ledger.get(&reserved("aaa")).unwrap().is_some());
        local.broken.set(true);
        assert_eq!(ledger.get(&reserved("aaa")), Err(Error::StorageUnavailable));
    }

    #[test]
    fn the_copy_further_along_wins() {
        let (session, local) = both();
        let ledger = Ledger::new(&session, Some(&local));
        ledger.insert(&record("aaa", State::Pending), T0).unwrap();
        session
            .set("wxsub:aaa", &record("aaa", State::Cancelled).encode())
            .unwrap();
        assert_eq!(ledger.get(&reserved("aaa")).unwrap().unwrap().state, State::Cancelled);
        // Another tab handled the callback: its delivered grant in the shared copy beats this tab's pending one.
        session
            .set("wxsub:aaa", &record("aaa", State::Pending).encode())
            .unwrap();
        local
            .set("wxsub:aaa", &record("aaa", State::Delivered(openid())).encode())
            .unwrap();
        assert_eq!(
            ledger.get(&reserved("aaa")).unwrap().unwrap().state,
            State::Delivered(openid())
        );
        // Equally far along (both cancelled, answered at different times): this tab's own copy wins.
        let mut own = record("aaa", State::Cancelled);
        own.answered_ms = Some(T0 + 5);
        session.set("wxsub:aaa", &own.encode()).unwrap();
        local
            .set("wxsub:aaa", &record("aaa", State::Cancelled).encode())
            .unwrap();
        assert_eq!(ledger.get(&reserved("aaa")).unwrap(), Some(own));
        local
            .set("wxsub:aaa", &record("aaa", State::Delivered(openid())).encode())
            .unwrap();
        // And it is not owed here either.
        session
            .set("wxsub:aaa", &record("aaa", State::Allowed(openid())).encode())
            .unwrap();
        assert_eq!(ledger.undelivered().unwrap(), []);
    }

    #[test]
    fn insert_needs_session_storage_but_not_the_copy() {
        let (session, local) = both();
        let ledger = Ledger::new(&session, Some(&local));
        local.broken.set(true);
        assert_eq!(
            ledger.insert(&record("aaa", State::Pending), T0),
            Ok(Copies {
                session: true,
                local: false
            })
        );
        session.broken.set(true);
        assert_eq!(
            ledger.insert(&record("bbb", State::Pending), T0),
            Err(Error::StorageUnavailable)
        );
        assert_eq!(ledger.undelivered(), Err(Error::StorageUnavailable));
        local.broken.set(false);
        assert_eq!(
            ledger.save(&record("bbb", State::Cancelled), T0),
            Copies {
                session: false,
                local: true
            }
        );
    }

    #[test]
    fn keeps_at_most_keep_records_besides_undelivered_grants_evicting_closed_then_overdue_then_oldest() {
        let (session, local) = both();
        let ledger = Ledger::new(&session, Some(&local));
        let owed = made_at("owed", 0, State::Allowed(openid()));
        ledger.save(&owed, T0);
        let closed = made_at("closed", 5, State::Delivered(openid()));
        ledger.save(&closed, T0);
        // An overdue pending request: made long enough ago that its TTL is over.
        let overdue = made_at("overdue", 1, State::Pending);
        ledger.save(&overdue, T0);
        for i in 0..(KEEP as u64 - 2) {
            ledger
                .insert(
                    &made_at(&["p", &i.to_string()].concat(), 700_000 + i, State::Pending),
                    T0 + 700_000 + i,
                )
                .unwrap();
        }
        let now = T0 + 800_000;
        assert_eq!(keys(&session).len(), KEEP + 1);
        // Each new record pushes out one: the closed one first, then the overdue one, then the oldest pending.
        ledger.insert(&made_at("new1", 800_000, State::Pending), now).unwrap();
        assert!(!keys(&session).contains(&"wxsub:closed".to_owned()));
        assert!(keys(&session).contains(&"wxsub:overdue".to_owned()));
        ledger.insert(&made_at("new2", 800_001, State::Pending), now).unwrap();
        assert!(!keys(&session).contains(&"wxsub:overdue".to_owned()));
        assert!(keys(&session).contains(&"wxsub:p0".to_owned()));
        ledger.insert(&made_at("new3", 800_002, State::Pending), now).unwrap();
        assert!(!keys(&session).contains(&"wxsub:p0".to_owned()));
        assert!(keys(&session).contains(&"wxsub:p1".to_owned()));
        for i in 0..100 {
            ledger
                .insert(
                    &made_at(&["n", &i.to_string()].concat(), 900_000 + i, State::Pending),
                    now,
                )
                .unwrap();
        }
        // The owed grant outlives them all, in both stores.
        for store in [&session, &local] {
            assert_eq!(keys(store).len(), KEEP + 1);
            assert!(keys(store).contains(&"wxsub:owed".to_owned()));
        }
        assert_eq!(ledger.undelivered().unwrap(), [owed]);
    }

    #[test]
    fn a_full_store_makes_room_from_the_packages_own_records_for_an_owed_grant() {
        let (session, local) = both();
        let ledger = Ledger::new(&session, Some(&local));
        ledger.insert(&made_at("old", 0, State::Pending), T0).unwrap();
        let mut mine = made_at("mine", 10, State::Pending);
        ledger.insert(&mine, T0 + 10).unwrap();
        session.set("app:big", "site data").unwrap();
        // Full: the owed record is longer than the pending one it replaces, so it needs the room "old" takes.
        session.quota.set(Some(session.used()));
        local.quota.set(Some(local.used()));
        mine.state = State::Allowed(openid());
        mine.answered_ms = Some(T0 + 20);
        assert_eq!(
            ledger.save(&mine, T0 + 20),
            Copies {
                session: true,
                local: true
            }
        );
        assert_eq!(keys(&session), ["app:big", "wxsub:mine"]);
        assert_eq!(ledger.undelivered().unwrap(), [mine.clone()]);
        // Nothing of the package's left to evict: the write fails, and the site's data is untouched.
        let mut other = made_at("other", 30, State::Pending);
        other.state = State::Cancelled;
        other.answered_ms = Some(T0 + 31);
        assert_eq!(
            ledger.save(&other, T0 + 31),
            Copies {
                session: false,
                local: false
            }
        );
        assert_eq!(keys(&session), ["app:big", "wxsub:mine"]);
    }

    #[test]
    fn what_counts_as_garbage() {
        let (session, local) = both();
        let ledger = Ledger::new(&session, Some(&local));
        let newer_owed = "3 1700000000000 owed:oNewer whatever the next version writes";
        let v1 = "v=1&appid=wxaba38c7f163da69b&state=granted&openid=o1&delivered=0";
        session.set("app:theme", "dark").unwrap();
        session.set("wxsub:newer", newer_owed).unwrap();
        session.set("wxsub:k2Vx8rQp0aZt1mNc", v1).unwrap();
        session.set("wxsub:not-a-nonce", "2 anything").unwrap();
        session.set("wxsub:corrupt", "2 this is not a record").unwrap();
        let stale = made_at("stale", 0, State::Cancelled);
        let fresh = made_at("fresh", RETENTION_MS - 1, State::Cancelled);
        ledger.save(&stale, T0);
        ledger.save(&fresh, T0);
        ledger.save(&made_at("owedold", 0, State::Allowed(openid())), T0);

        ledger
            .insert(&made_at("new", RETENTION_MS, State::Pending), T0 + RETENTION_MS)
            .unwrap();
        // Gone: this format's stale and corrupt records. Kept: everything else, the fresh record included.
        assert_eq!(
            keys(&session),
            [
                "app:theme",
                "wxsub:fresh",
                "wxsub:k2Vx8rQp0aZt1mNc",
                "wxsub:new",
                "wxsub:newer",
                "wxsub:not-a-nonce",
                "wxsub:owedold"
            ]
        );
        assert_eq!(session.get("wxsub:newer").unwrap().as_deref(), Some(newer_owed));
        assert_eq!(keys(&local), ["wxsub:fresh", "wxsub:new", "wxsub:owedold"]);
    }

    /// The data-loss case of a policy change: values written under another policy (a longer `ttlSeconds`) or
    /// damaged apart from their state are never taken for garbage while they hold an undelivered grant.
    #[test]
    fn no_stored_undelivered_grant_is_deleted_whatever_the_policy() {
        let (session, local) = both();
        let ledger = Ledger::new(&session, Some(&local));
        let golden = include_str!("../../tests/vectors/records-format-2.txt");
        let mut undelivered = Vec::new();
        for line in golden.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (reserved, value) = line.split_once(' ').unwrap();
            let key = ["wxsub:", reserved].concat();
            session.set(&key, value).unwrap();
            local.set(&key, value).unwrap();
            if holds_undelivered_grant(value) {
                undelivered.push(key);
            }
        }
        let damaged = record("damaged", State::Allowed(openid()))
            .encode()
            .replace("wxaba38c7f163da69b", "wx-not-an-appid");
        session.set("wxsub:damaged", &damaged).unwrap();
        undelivered.push("wxsub:damaged".into());
        assert!(undelivered.len() >= 4);

        // Long after, with many new links: everything else goes, the grants stay.
        let later = T0 + 400 * 24 * 60 * 60 * 1000;
        for i in 0..(2 * KEEP as u64) {
            let mut r = made_at(&["n", &i.to_string()].concat(), 0, State::Pending);
            r.created_ms = later + i;
            r.expires_ms = r.created_ms + 600_000;
            ledger.insert(&r, later + i).unwrap();
        }
        for key in &undelivered {
            assert!(session.get(key).unwrap().is_some(), "{key} was deleted");
        }
        assert_eq!(session.get("wxsub:damaged").unwrap().as_deref(), Some(damaged.as_str()));
        let mut owed: Vec<String> = ledger
            .undelivered()
            .unwrap()
            .iter()
            .map(|r| Ledger::key(&r.link.reserved))
            .collect();
        owed.sort();
        let mut expected: Vec<String> = undelivered.into_iter().filter(|k| k != "wxsub:damaged").collect();
        expected.sort();
        assert_eq!(owed, expected);
    }

    /// After an upgrade: the undelivered grants the previous version stored under random keys in format 1 are read,
    /// moved to their nonce's key and posted; its other records stay as they were.
    #[test]
    fn undelivered_grants_an_older_version_stored_are_moved_to_their_nonce() {
        use crate::subscription::upgrade::tests::written_by_format_1;
        let owed_v1 = |reserved: &str| written_by_format_1(reserved, "granted&openid=oUser_1&delivered=0");
        let (session, local) = both();
        let ledger = Ledger::new(&session, Some(&local));
        local.set("wxsub:k2Vx8rQp0aZt1mNc", &owed_v1("owed1")).unwrap();
        session.set("wxsub:k2Vx8rQp0aZt1mNc", &owed_v1("owed1")).unwrap();
        // The same grant already delivered by a tab of the new version: the copy further along stays.
        local.set("wxsub:P0aZt1mNck2Vx8rQ", &owed_v1("done1")).unwrap();
        local
            .set("wxsub:done1", &record("done1", State::Delivered(openid())).encode())
            .unwrap();
        let pending_v1 = written_by_format_1("pend1", "pending");
        local.set("wxsub:Zt1mNck2Vx8rQP0a", &pending_v1).unwrap();

        let undelivered = ledger.undelivered().unwrap();
        assert_eq!(undelivered.len(), 1);
        assert_eq!(undelivered[0].link.reserved.as_str(), "owed1");
        assert_eq!(undelivered[0].state, State::Allowed(openid()));
        assert_eq!(keys(&session), ["wxsub:owed1"]);
        assert_eq!(keys(&local), ["wxsub:Zt1mNck2Vx8rQP0a", "wxsub:done1", "wxsub:owed1"]);
        assert_eq!(local.get("wxsub:Zt1mNck2Vx8rQP0a").unwrap(), Some(pending_v1));
        assert_eq!(
            ledger.get(&reserved("done1")).unwrap().unwrap().state,
            State::Delivered(openid())
        );

        // A new link's eviction pass moves them too, and never loses one.
        session.set("wxsub:mNck2Vx8rQP0aZt1", &owed_v1("owed2")).unwrap();
        for i in 0..(2 * KEEP as u64) {
            ledger
                .insert(
                    &made_at(&["n", &i.to_string()].concat(), 10 + i, State::Pending),
                    T0 + 10 + i,
                )
                .unwrap();
        }
        assert_eq!(session.get("wxsub:mNck2Vx8rQP0aZt1").unwrap(), None);
        let mut owed: Vec<String> = ledger
            .undelivered()
            .unwrap()
            .iter()
            .map(|r| r.link.reserved.as_str().to_owned())
            .collect();
        owed.sort();
        assert_eq!(owed, ["owed1", "owed2"]);
    }

    /// Two tabs share localStorage, each with its own sessionStorage. What another tab wrote there and this tab only
    /// sees a copy of, pending or cancelled, may be an undelivered grant by now: this tab never evicts it by count.
    #[test]
    fn the_shared_copy_keeps_another_tabs_open_records() {
        let (mine, shared) = both();
        let theirs = MemoryStore::default();
        let other_tab = Ledger::new(&theirs, Some(&shared));
        other_tab.insert(&made_at("otherp", 0, State::Pending), T0).unwrap();
        let mut cancelled = made_at("otherc", 1, State::Pending);
        other_tab.insert(&cancelled, T0 + 1).unwrap();
        cancelled.state = State::Cancelled;
        cancelled.answered_ms = Some(T0 + 2);
        other_tab.save(&cancelled, T0 + 2);
        other_tab.save(&made_at("otherd", 2, State::Delivered(openid())), T0 + 2);

        let this_tab = Ledger::new(&mine, Some(&shared));
        for i in 0..(3 * KEEP as u64) {
            let name = ["n", &i.to_string()].concat();
            this_tab
                .insert(&made_at(&name, 100 + i, State::Pending), T0 + 100 + i)
                .unwrap();
        }
        let shared_keys = keys(&shared);
        assert!(shared_keys.contains(&"wxsub:otherp".to_owned()));
        assert!(shared_keys.contains(&"wxsub:otherc".to_owned()));
        assert!(
            !shared_keys.contains(&"wxsub:otherd".to_owned()),
            "a closed record may go"
        );
        // This tab's own records stay bounded in both areas: those it let go of left the shared copy too.
        assert_eq!(keys(&mine).len(), KEEP);
        assert_eq!(shared_keys.len(), KEEP + 2);
    }
}
