//! The landing page's address after the callback: WeChat's parameters gone, the site's kept, and the
//! fragment of the original `redirect_url` back in place.

use crate::prelude::*;
use crate::wechat::callback::CALLBACK_PARAMS;

/// The query a fragment carries after its route (`#/done?openid=…` gives `openid=…`), if any: where WeChat's
/// parameters are reported to land when it appends them to a redirect URL that ends in a hash route.
///
/// ```
/// use wx_subscribemsg::wechat::landing::fragment_query;
/// assert_eq!(fragment_query("#/done?openid=o1&scene=1"), Some("openid=o1&scene=1"));
/// assert_eq!(fragment_query("#%23/done"), None);
/// ```
pub fn fragment_query(hash: &str) -> Option<&str> {
    hash.split_once('?').map(|(_, query)| query)
}

/// The cleaned address (path, query and fragment) for `history.replaceState`, of an address that carries a
/// callback in `search` or in its fragment's query ([`fragment_query`]): the caller has found it there. An address
/// cleaned before (a reload) is not cleaned again, so it keeps whatever fragment the page has moved on to since.
///
/// `search` is `location.search` (with or without `?`). Parameters other than WeChat's five keep their exact
/// original spelling. `fragment` is the stored redirect URL's fragment, which replaces the current one: WeChat is
/// reported to return `#/a` as `#%23/a`, or with its parameters inside it (`#/a?openid=…`), so the current
/// fragment is not trusted. (A `#` sent as `%23` in the path is the server's to answer, before any code runs.)
///
/// ```
/// use wx_subscribemsg::wechat::landing::cleaned;
/// let wechat = "openid=o1&template_id=T&action=confirm&scene=1&reserved=r";
/// assert_eq!(cleaned("/cb.html", &["?from=menu&", wechat].concat(), Some("/done")), "/cb.html?from=menu#/done");
/// assert_eq!(cleaned("/", "", Some("/done")), "/#/done"); // the callback was in the fragment
/// ```
pub fn cleaned(path: &str, search: &str, fragment: Option<&str>) -> String {
    let query = search.strip_prefix('?').unwrap_or(search);
    // The decoded pairs come in the order of the non-empty segments, one each.
    let names = crate::whatwg::form_pairs(query);
    let segments = query.split('&').filter(|segment| !segment.is_empty());
    let kept: Vec<&str> = segments
        .zip(&names)
        .filter(|(_, (name, _))| !CALLBACK_PARAMS.contains(&name.as_str()))
        .map(|(segment, _)| segment)
        .collect();
    let mut out = String::with_capacity(path.len() + query.len() + 1 + fragment.map_or(0, str::len));
    out.push_str(path);
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const WECHAT: &str = "openid=o1&template_id=T&action=confirm&scene=1&reserved=r";

    #[test]
    fn removes_only_wechats_parameters() {
        assert_eq!(cleaned("/cb.html", &["?", WECHAT].concat(), None), "/cb.html");
        assert_eq!(
            cleaned("/cb.html", &["?a=%20x+y&", WECHAT, "&b=2&&c"].concat(), None),
            "/cb.html?a=%20x+y&b=2&c"
        );
        // An encoded name is still WeChat's parameter.
        assert_eq!(cleaned("/", "?%6Fpenid=o1&keep=1", None), "/?keep=1");
    }

    #[test]
    fn restores_the_stored_fragment() {
        assert_eq!(
            cleaned("/cb.html", &["?", WECHAT].concat(), Some("/done")),
            "/cb.html#/done"
        );
        assert_eq!(
            cleaned("/cb.html", &["?x=1&", WECHAT].concat(), Some("/a?b=1")),
            "/cb.html?x=1#/a?b=1"
        );
    }

    #[test]
    fn finds_the_query_in_the_fragment() {
        assert_eq!(fragment_query(&["#/subscribe/done?", WECHAT].concat()), Some(WECHAT));
        assert_eq!(fragment_query("#/done?"), Some(""));
        assert_eq!(fragment_query("#%23/subscribe/done"), None);
        assert_eq!(fragment_query(""), None);
        // The callback in the fragment: the site's own query stays and the fragment is the stored one, whatever
        // else the fragment's query held.
        assert_eq!(
            cleaned("/app", "?from=menu", Some("/done?x=1")),
            "/app?from=menu#/done?x=1"
        );
        // No stored fragment (the redirect URL had none): the fragment goes.
        assert_eq!(cleaned("/", "", None), "/");
    }
}
