//! The landing page's address after the callback: WeChat's parameters gone, the site's kept, and the
//! fragment of the original `redirect_url` back in place.

use crate::prelude::*;
use crate::wechat::callback::CALLBACK_PARAMS;

/// The cleaned address (path, query and fragment) for `history.replaceState`, or `None` when `search` carries
/// none of WeChat's parameters: an address cleaned before (a reload) keeps whatever fragment the page has moved
/// on to since.
///
/// `search` is `location.search` (with or without `?`). Parameters other than WeChat's five keep their
/// exact original spelling. `fragment` is the stored redirect URL's fragment: WeChat is reported to
/// return `#/a` as `#%23/a`, so the current fragment is not trusted.
///
/// ```
/// use wx_subscribemsg::wechat::landing::cleaned;
/// assert_eq!(
///     cleaned("/cb.html", "?from=menu&openid=o1&template_id=T&action=confirm&scene=1&reserved=r", Some("/done")),
///     Some("/cb.html?from=menu#/done".to_owned())
/// );
/// assert_eq!(cleaned("/cb.html", "?from=menu", Some("/done")), None);
/// ```
pub fn cleaned(path: &str, search: &str, fragment: Option<&str>) -> Option<String> {
    let query = search.strip_prefix('?').unwrap_or(search);
    // The decoded pairs come in the order of the non-empty segments, one each.
    let names = crate::whatwg::form_pairs(query);
    let segments = query.split('&').filter(|segment| !segment.is_empty());
    let total = names.len();
    let kept: Vec<&str> = segments
        .zip(&names)
        .filter(|(_, (name, _))| !CALLBACK_PARAMS.contains(&name.as_str()))
        .map(|(segment, _)| segment)
        .collect();
    if kept.len() == total {
        return None;
    }
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
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const WECHAT: &str = "openid=o1&template_id=T&action=confirm&scene=1&reserved=r";

    fn must_clean(path: &str, search: &str, fragment: Option<&str>) -> String {
        cleaned(path, search, fragment).expect("the address carries a callback")
    }

    #[test]
    fn removes_only_wechats_parameters() {
        assert_eq!(must_clean("/cb.html", &["?", WECHAT].concat(), None), "/cb.html");
        assert_eq!(
            must_clean("/cb.html", &["?a=%20x+y&", WECHAT, "&b=2&&c"].concat(), None),
            "/cb.html?a=%20x+y&b=2&c"
        );
        // An encoded name is still WeChat's parameter.
        assert_eq!(must_clean("/", "?%6Fpenid=o1&keep=1", None), "/?keep=1");
    }

    #[test]
    fn leaves_an_address_without_a_callback_alone() {
        assert_eq!(cleaned("/cb.html", "", Some("/done")), None);
        assert_eq!(cleaned("/cb.html", "?", None), None);
        assert_eq!(cleaned("/cb.html", "?x=1&&y=2", Some("/a")), None);
    }

    #[test]
    fn restores_the_stored_fragment() {
        assert_eq!(
            must_clean("/cb.html", &["?", WECHAT].concat(), Some("/done")),
            "/cb.html#/done"
        );
        assert_eq!(
            must_clean("/cb.html", &["?x=1&", WECHAT].concat(), Some("/a?b=1")),
            "/cb.html?x=1#/a?b=1"
        );
    }
}
