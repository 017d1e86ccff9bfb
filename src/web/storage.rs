//! sessionStorage and localStorage as [`Store`]s.

use crate::error::{Error, Result};
use crate::prelude::*;
use crate::subscription::ledger::Ledger;
use crate::subscription::store::Store;

/// A Web Storage area, or `None` where the browser gives none (disabled, sandboxed, or it threw).
pub struct WebStorage(Option<web_sys::Storage>);

fn unavailable<T>(_: T) -> Error {
    Error::StorageUnavailable
}

impl WebStorage {
    fn area(&self) -> Result<&web_sys::Storage> {
        self.0.as_ref().ok_or(Error::StorageUnavailable)
    }
}

impl Store for WebStorage {
    fn get(&self, key: &str) -> Result<Option<String>> {
        self.area()?.get_item(key).map_err(unavailable)
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        self.area()?.set_item(key, value).map_err(unavailable)
    }

    fn remove(&self, key: &str) -> Result<()> {
        self.area()?.remove_item(key).map_err(unavailable)
    }

    fn keys(&self) -> Result<Vec<String>> {
        let area = self.area()?;
        let len = area.length().map_err(unavailable)?;
        (0..len)
            .filter_map(|i| area.key(i).map_err(unavailable).transpose())
            .collect()
    }
}

/// The page's two storage areas.
pub struct Stores {
    session: WebStorage,
    local: WebStorage,
}

impl Stores {
    /// Opens both areas; a missing one fails on use, not here, so each caller decides what it needs.
    pub fn open() -> Stores {
        let window = web_sys::window();
        Stores {
            session: WebStorage(window.as_ref().and_then(|w| w.session_storage().ok().flatten())),
            local: WebStorage(window.as_ref().and_then(|w| w.local_storage().ok().flatten())),
        }
    }

    /// The ledger over sessionStorage with its localStorage copy.
    pub fn ledger(&self) -> Ledger<'_> {
        Ledger::new(&self.session, Some(&self.local))
    }
}
