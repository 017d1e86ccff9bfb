//! The page's subscriptions, from the link to the delivered grant: what is stored ([`record`]) and where
//! ([`store`], [`ledger`]), the steps that move a subscription on ([`flow`]), what the grant endpoint's answer
//! means for it ([`verdict`]) and when to post again ([`retry`]); records an older version wrote are read once and rewritten ([`upgrade`]). Policy (time limits, retries) is here; the stored format's own rules are in
//! [`record`], so a change of policy never makes a stored value unreadable.

pub mod flow;
pub mod ledger;
pub mod record;
pub mod retry;
pub mod store;
pub mod upgrade;
pub mod verdict;
