//! Undelivered grants an older version of the package stored, read once and rewritten in today's format.
//!
//! Format 1 (the package before records were keyed by their nonce) kept each record under `wxsub:<random id>`
//! as a form-urlencoded line:
//!
//! ```text
//! v=1&appid=…&scene=…&template_id=…&redirect_url=…&reserved=…&created=…&expires=…&state=granted&openid=…&delivered=0
//! ```
//!
//! Left alone, such a value is stranded: today's ledger looks records up by `wxsub:<reserved>` and never posts a
//! grant it cannot read, so a user's Allow recorded just before an upgrade would never reach the backend. The
//! ledger hands every format-1 value it meets to [`format_1`], writes the grant it gets under its nonce, and only
//! then removes the old key. Other format-1 values (pending links, closed records) are left as they are, as any other
//! version's values are: they hold nothing the backend is owed, and an older tab open during a deploy may use them.

use crate::http_url::HttpUrl;
use crate::prelude::*;
use crate::subscription::record::{self, Record};
use crate::wechat::params::Reserved;

/// How every format-1 value starts: its version field, written first.
const FORMAT_1: &str = "v=1&";

/// The names of a format-1 value holding an undelivered grant, in the order its encoder wrote them.
const OWED: [&str; 11] = [
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
];

/// True when `stored` is a format-1 value (whether or not the rest of it reads).
pub fn is_format_1(stored: &str) -> bool {
    stored.starts_with(FORMAT_1)
}

/// The undelivered grant a format-1 value holds, in today's terms; `None` for any other format-1 value (pending,
/// closed: left as they are, as any other version's values are) and for what format 1 could not have written. The
/// fields are laid out as format 2 and read by its decoder, so one set of rules decides what a record may hold.
/// Format 1 kept no answer time: the grant gets its creation time, so it never counts as late.
pub fn format_1(stored: &str) -> Option<Record> {
    let pairs = crate::whatwg::form_pairs(stored);
    if pairs.len() != OWED.len() || pairs.iter().zip(OWED).any(|((name, _), wanted)| name != wanted) {
        return None;
    }
    let [v, appid, scene, template_id, redirect_url, reserved, created, expires, state, openid, delivered] =
        core::array::from_fn(|i| pairs[i].1.as_str());
    if (v, state, delivered) != ("1", "granted", "0") {
        return None;
    }
    let reserved = Reserved::parse(reserved).ok()?;
    let owed = crate::text::concat(&["owed:", openid]);
    let redirect_url = HttpUrl::parse(redirect_url).ok()?;
    let mut today = String::from(record::FORMAT);
    for value in [
        created,
        expires,
        created,
        &owed,
        scene,
        appid,
        template_id,
        redirect_url.as_str(),
    ] {
        // A field holding a space would shift the others: refused rather than read askew.
        if value.bytes().any(|b| b == b' ') {
            return None;
        }
        today.push(' ');
        today.push_str(value);
    }
    Record::decode(&reserved, &today)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::subscription::record::tests::{openid, T0};
    use crate::subscription::record::State;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// A value as format 1 wrote it (its encoder, from the package's history), in `state`.
    pub(crate) fn written_by_format_1(reserved: &str, state: &str) -> String {
        crate::text::concat(&[
            "v=1&appid=wxaba38c7f163da69b&scene=1000&template_id=TPL_1",
            "&redirect_url=https%3A%2F%2Fshop.example.com%2Fcb.html%3Fx%3D1%23%2Fdone&reserved=",
            reserved,
            "&created=1700000000000&expires=1700000600000&state=",
            state,
        ])
    }

    #[test]
    fn an_undelivered_format_1_grant_reads_as_today_s() {
        let record = format_1(&written_by_format_1("abcDEF12", "granted&openid=oUser_1&delivered=0")).unwrap();
        assert_eq!(record.state, State::Allowed(openid()));
        assert_eq!(record.link.reserved.as_str(), "abcDEF12");
        assert_eq!(record.link.appid.as_str(), "wxaba38c7f163da69b");
        assert_eq!(record.link.template_id.as_str(), "TPL_1");
        assert_eq!(record.link.scene.to_decimal(), "1000");
        assert_eq!(
            record.link.redirect_url.as_str(),
            "https://shop.example.com/cb.html?x=1#/done"
        );
        assert_eq!((record.created_ms, record.expires_ms), (T0, T0 + 600_000));
        assert_eq!(record.answered_ms, Some(T0));
        assert!(!record.late());
    }

    #[test]
    fn what_format_1_could_not_have_written_is_not_read() {
        let good = written_by_format_1("abc", "granted&openid=oUser_1&delivered=0");
        assert!(format_1(&good).is_some());
        for bad in [
            String::new(),
            "2 1 2 - pending".into(),
            good.replace("v=1&", "v=2&"),
            good.replace("delivered=0", "delivered=yes"),
            good.replace("state=granted", "state=owed"),
            // Only undelivered grants are moved: the others stay as the older version left them.
            good.replace("delivered=0", "delivered=1"),
            written_by_format_1("abc", "pending"),
            written_by_format_1("abc", "cancelled"),
            good.replace("openid=oUser_1", "openid="),
            good.replace("appid=wx", "appid=xx"),
            good.replace("reserved=abc", "reserved=a%20c"),
            [good.as_str(), "&reserved=abd"].concat(),
            // Expiry before creation: today's format cannot hold it.
            good.replace("expires=1700000600000", "expires=1"),
            good.replace("&scene=1000", ""),
            good.replace("appid=", "app_id="),
        ] {
            assert_eq!(format_1(&bad), None, "{bad}");
        }
    }
}
