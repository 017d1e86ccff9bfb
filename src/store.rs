//! Key-value storage as the crate needs it: the shape of the Web Storage API, so sessionStorage and
//! localStorage implement it in a few lines (`web::storage`) and tests use [`MemoryStore`].

use std::cell::RefCell;
use std::collections::BTreeMap;

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
    /// When set, every call fails as a full or disabled browser storage does.
    pub broken: std::cell::Cell<bool>,
}

impl MemoryStore {
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
