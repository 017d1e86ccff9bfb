//! Key-value storage as the crate needs it: the shape of the Web Storage API, so sessionStorage and
//! localStorage implement it in a few lines (`web::storage`) and tests use [`MemoryStore`].

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use crate::error::{Error, Result};

/// A string-to-string store. Every method may fail with [`Error::StorageUnavailable`]: browsers throw
/// on a full quota, in some private modes, and when storage is disabled.
pub trait Store {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` under `key`, replacing what was there.
    fn set(&self, key: &str, value: &str) -> Result<()>;
    /// Removes `key`; removing a missing key is not an error.
    fn remove(&self, key: &str) -> Result<()>;
    /// Every key in the store.
    fn keys(&self) -> Result<Vec<String>>;
}

/// An in-memory [`Store`], for tests and for hosts without Web Storage.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: RefCell<BTreeMap<String, String>>,
    /// When set, every call fails as a disabled browser storage does.
    pub broken: Cell<bool>,
    /// When set, the bytes of keys and values it holds at most: a write past it fails as a full browser
    /// storage's does (`QuotaExceededError`).
    pub quota: Cell<Option<usize>>,
}

impl MemoryStore {
    /// The bytes of keys and values held, as counted against [`MemoryStore::quota`].
    pub fn used(&self) -> usize {
        self.map.borrow().iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    fn check(&self) -> Result<()> {
        if self.broken.get() {
            Err(Error::StorageUnavailable)
        } else {
            Ok(())
        }
    }

    /// Forgets everything, as WeChat's floating-window mode is reported to do to sessionStorage.
    pub fn clear(&self) {
        self.map.borrow_mut().clear();
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<String>> {
        self.check()?;
        Ok(self.map.borrow().get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        self.check()?;
        let replaced = self.map.borrow().get(key).map_or(0, |old| key.len() + old.len());
        if self
            .quota
            .get()
            .is_some_and(|quota| self.used() - replaced + key.len() + value.len() > quota)
        {
            return Err(Error::StorageUnavailable);
        }
        self.map.borrow_mut().insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<()> {
        self.check()?;
        self.map.borrow_mut().remove(key);
        Ok(())
    }

    fn keys(&self) -> Result<Vec<String>> {
        self.check()?;
        Ok(self.map.borrow().keys().cloned().collect())
    }
}
