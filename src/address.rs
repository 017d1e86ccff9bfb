//! The landing page's address after the callback: WeChat's parameters gone, the site's kept, and the
//! fragment of the original `redirect_url` back in place.

use crate::callback::CALLBACK_PARAMS;

/// The cleaned address (path, query and fragment) for `history.replaceState`.
///
/// `search` is `location.search` (with or without `?`). Parameters other than WeChat's five keep their
/// exact original spelling. `fragment` is the stored redirect URL's fragment: WeChat is reported to
/// return `#/a` as `#%23/a`, so the current fragment is not trusted.
///
/// ```
/// use wx_subscribemsg::address::clean;
/// assert_eq!(
///     clean("/cb.html", "?from=menu&openid=o1&template_id=T&action=confirm&scene=1&reserved=r", Some("/done")),
///     "/cb.html?from=menu#/done"
/// );
/// ```
pub fn clean(path: &str, search: &str, fragment: Option<&str>) -> String {
    let query = search.strip_prefix('?').unwrap_or(search);
    let kept: Vec<&str> = query
        .split('&')
        .filter(|segment| !segment.is_empty())
        .filter(|segment| {
            let name = form_urlencoded::parse(segment.as_bytes()).next().map(|(name, _)| name);
            !name.is_some_and(|name| CALLBACK_PARAMS.contains(&name.as_ref()))
        })
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
        assert_eq!(clean("/cb.html", &["?", WECHAT].concat(), None), "/cb.html");
        assert_eq!(clean("/cb.html", "", None), "/cb.html");
        assert_eq!(
            clean("/cb.html", &["?a=%20x+y&", WECHAT, "&b=2&&c"].concat(), None),
            "/cb.html?a=%20x+y&b=2&c"
        );
        // An encoded name is still WeChat's parameter.
        assert_eq!(clean("/", "?%6Fpenid=o1&keep=1", None), "/?keep=1");
    }

    #[test]
    fn restores_the_stored_fragment() {
        assert_eq!(
            clean("/cb.html", &["?", WECHAT].concat(), Some("/done")),
            "/cb.html#/done"
        );
        assert_eq!(clean("/cb.html", "?x=1", Some("/a?b=1")), "/cb.html?x=1#/a?b=1");
    }
}
