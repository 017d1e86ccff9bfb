//! The subscription records, kept in sessionStorage with a copy in localStorage.
//!
//! sessionStorage is the home: it is per tab, so another tab cannot consume this tab's nonce. The
//! localStorage copy is read only when the sessionStorage entry is missing, because WeChat's floating-window
//! mode is reported to lose sessionStorage between the link and the callback; it is also what keeps an
//! undelivered grant past the tab's life for `retryDeliveries`.

use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::params::Reserved;
use crate::record::Record;
use crate::store::Store;

/// Every key this crate writes starts with this, so it never touches the site's own entries.
pub const KEY_PREFIX: &str = "wxsub:";

/// The records of both stores, seen as one.
pub struct Ledger<'a> {
    session: &'a dyn Store,
    backup: Option<&'a dyn Store>,
}

impl<'a> Ledger<'a> {
    /// A ledger on `session` (sessionStorage) with an optional `backup` (localStorage).
    pub fn new(session: &'a dyn Store, backup: Option<&'a dyn Store>) -> Self {
        Ledger { session, backup }
    }

    /// Stores a new record. The sessionStorage write must succeed: a user is never sent to WeChat
    /// without the nonce kept. The copy is best effort (localStorage may be full or disabled alone).
    pub fn insert(&self, key: &str, record: &Record) -> Result<()> {
        let value = record.encode();
        self.session.set(key, &value)?;
        if let Some(backup) = self.backup {
            let _ = backup.set(key, &value);
        }
        Ok(())
    }

    /// Rewrites a record in both stores; fails only when neither took it.
    pub fn update(&self, key: &str, record: &Record) -> Result<()> {
        let value = record.encode();
        let in_session = self.session.set(key, &value).is_ok();
        let in_backup = self.backup.is_some_and(|b| b.set(key, &value).is_ok());
        if in_session || in_backup {
            Ok(())
        } else {
            Err(Error::StorageUnavailable)
        }
    }

    /// Every readable record with its key. Where both stores hold a record, the one further along wins
    /// (another tab may have handled the callback and moved the shared localStorage copy on), and on a tie
    /// the sessionStorage one. Fails only when no store can be read at all.
    pub fn records(&self) -> Result<Vec<(String, Record)>> {
        self.collect(&|_, _| true)
    }

    /// The record stored under `key`, as [`Ledger::records`] would give it.
    pub fn get(&self, key: &str) -> Result<Option<Record>> {
        Ok(self
            .collect(&|k, _| k == key)?
            .into_iter()
            .next()
            .map(|(_, record)| record))
    }

    /// The record whose nonce is `reserved`. Every stored nonce is compared, in constant time, so neither
    /// timing nor an early exit tells how close a forged value came; only the match is decoded in full.
    pub fn find(&self, reserved: &Reserved) -> Result<Option<(String, Record)>> {
        let same = |_: &str, stored: &str| {
            Record::nonce_in(stored).is_some_and(|nonce| nonce.as_bytes().ct_eq(reserved.as_str().as_bytes()).into())
        };
        Ok(self.collect(&same)?.into_iter().next())
    }

    /// The records whose key and stored form pass `wanted`, decoded, one per key (see [`Ledger::records`]).
    fn collect(&self, wanted: &dyn Fn(&str, &str) -> bool) -> Result<Vec<(String, Record)>> {
        let mut out: Vec<(String, String, Record)> = Vec::new();
        let mut readable = false;
        for store in std::iter::once(self.session).chain(self.backup) {
            let Ok(keys) = store.keys() else { continue };
            readable = true;
            for key in keys.into_iter().filter(|k| k.starts_with(KEY_PREFIX)) {
                let Some(value) = store.get(&key).ok().flatten() else {
                    continue;
                };
                if !wanted(&key, &value) {
                    continue;
                }
                let seen = out.iter().position(|(k, _, _)| *k == key);
                // The usual case, an identical copy, needs no second decoding.
                if seen.is_some_and(|i| out[i].1 == value) {
                    continue;
                }
                let Some(record) = Record::decode(&value) else { continue };
                match seen {
                    Some(i) if record.state.progress() > out[i].2.state.progress() => out[i] = (key, value, record),
                    Some(_) => {}
                    None => out.push((key, value, record)),
                }
            }
        }
        if readable {
            Ok(out.into_iter().map(|(key, _, record)| (key, record)).collect())
        } else {
            Err(Error::StorageUnavailable)
        }
    }

    /// Deletes stale records ([`Record::is_stale`]) and entries under the prefix that no longer decode.
    /// Best effort: a store that cannot be written is left as it is.
    pub fn sweep(&self, now_ms: u64) {
        for store in std::iter::once(self.session).chain(self.backup) {
            let Ok(keys) = store.keys() else { continue };
            for key in keys.iter().filter(|k| k.starts_with(KEY_PREFIX)) {
                let stale = match store.get(key) {
                    Ok(Some(value)) => Record::decode(&value).is_none_or(|r| r.is_stale(now_ms)),
                    _ => false,
                };
                if stale {
                    let _ = store.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::record;
    use crate::record::{State, REPLAY_WINDOW_MS};
    use crate::store::MemoryStore;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn reserved(s: &str) -> Reserved {
        Reserved::parse(s).unwrap()
    }

    #[test]
    fn finds_by_reserved_in_session_then_in_the_copy() {
        let (session, local) = (MemoryStore::default(), MemoryStore::default());
        let ledger = Ledger::new(&session, Some(&local));
        ledger.insert("wxsub:1", &record("aaa", State::Pending)).unwrap();
        ledger.insert("wxsub:2", &record("bbb", State::Pending)).unwrap();
        assert_eq!(ledger.find(&reserved("bbb")).unwrap().unwrap().0, "wxsub:2");
        assert_eq!(ledger.find(&reserved("bb")).unwrap(), None);
        assert_eq!(ledger.find(&reserved("ccc")).unwrap(), None);

        session.clear();
        assert_eq!(ledger.find(&reserved("aaa")).unwrap().unwrap().0, "wxsub:1");
        session.broken.set(true);
        assert_eq!(ledger.find(&reserved("aaa")).unwrap().unwrap().0, "wxsub:1");
    }

    #[test]
    fn the_copy_further_along_wins() {
        let (session, local) = (MemoryStore::default(), MemoryStore::default());
        let ledger = Ledger::new(&session, Some(&local));
        ledger.insert("wxsub:1", &record("aaa", State::Pending)).unwrap();
        session
            .set("wxsub:1", &record("aaa", State::Cancelled).encode())
            .unwrap();
        assert_eq!(
            ledger.find(&reserved("aaa")).unwrap().unwrap().1.state,
            State::Cancelled
        );
        // Another tab handled the callback: its delivered grant in the shared copy beats this tab's pending one.
        let delivered = State::Granted {
            openid: crate::OpenId::parse("o1").unwrap(),
            delivered: true,
        };
        session.set("wxsub:1", &record("aaa", State::Pending).encode()).unwrap();
        local
            .set("wxsub:1", &record("aaa", delivered.clone()).encode())
            .unwrap();
        assert_eq!(ledger.find(&reserved("aaa")).unwrap().unwrap().1.state, delivered);
        assert_eq!(ledger.get("wxsub:1").unwrap().unwrap().state, delivered);
        assert_eq!(ledger.get("wxsub:2").unwrap(), None);
    }

    #[test]
    fn insert_needs_session_storage_but_not_the_copy() {
        let (session, local) = (MemoryStore::default(), MemoryStore::default());
        let ledger = Ledger::new(&session, Some(&local));
        local.broken.set(true);
        assert!(ledger.insert("wxsub:1", &record("aaa", State::Pending)).is_ok());
        session.broken.set(true);
        assert_eq!(
            ledger.insert("wxsub:2", &record("bbb", State::Pending)),
            Err(Error::StorageUnavailable)
        );
        assert_eq!(ledger.records(), Err(Error::StorageUnavailable));
        local.broken.set(false);
        assert!(ledger.update("wxsub:2", &record("bbb", State::Cancelled)).is_ok());
    }

    #[test]
    fn ignores_foreign_keys_and_sweeps_only_its_own_stale_entries() {
        let (session, local) = (MemoryStore::default(), MemoryStore::default());
        let ledger = Ledger::new(&session, Some(&local));
        session.set("app:theme", "dark").unwrap();
        session.set("wxsub:corrupt", "nonsense").unwrap();
        ledger.insert("wxsub:old", &record("old", State::Cancelled)).unwrap();
        ledger
            .insert(
                "wxsub:owed",
                &record(
                    "owed",
                    State::Granted {
                        openid: crate::OpenId::parse("o1").unwrap(),
                        delivered: false,
                    },
                ),
            )
            .unwrap();
        ledger.insert("wxsub:new", &record("new", State::Pending)).unwrap();
        assert_eq!(ledger.records().unwrap().len(), 3);

        ledger.sweep(601_000 + REPLAY_WINDOW_MS);
        let mut left = session.keys().unwrap();
        left.sort();
        // "new" has the same times as "old" in this fixture, so it is stale too; the owed grant stays.
        assert_eq!(left, ["app:theme", "wxsub:owed"]);
        assert_eq!(local.keys().unwrap(), ["wxsub:owed"]);
    }
}
