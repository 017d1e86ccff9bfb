//! Recognising the WeChat client from its user agent.

const MARKER: &[u8] = b"MicroMessenger/";

/// Where `needle` starts in `haystack`. A byte scan: these user agents are short, and it keeps the
/// general substring searcher out of the wasm module.
fn find(haystack: &str, needle: &[u8]) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// True in WeChat's own browser, false elsewhere, including WeCom (企业微信), whose user agent also says
/// MicroMessenger but which cannot open a Service Account's subscription link.
///
/// ```
/// use wx_subscribemsg::wechat::ua::is_wechat;
/// assert!(is_wechat("Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2f) NetType/WIFI"));
/// assert!(!is_wechat("Mozilla/5.0 (Linux) MicroMessenger/7.0.1 wxwork/4.1.0"));
/// ```
pub fn is_wechat(user_agent: &str) -> bool {
    find(user_agent, b"MicroMessenger").is_some() && find(user_agent, b"wxwork").is_none()
}

/// WeChat's version (`MicroMessenger/8.0.42.2460(0x28002A35)` → `8.0.42.2460`), or `None` outside WeChat.
pub fn wechat_version(user_agent: &str) -> Option<&str> {
    if !is_wechat(user_agent) {
        return None;
    }
    let start = find(user_agent, MARKER)? + MARKER.len();
    let rest = user_agent.get(start..)?;
    let end = rest
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(rest.len());
    let version = rest.get(..end)?.trim_end_matches('.');
    (!version.is_empty()).then_some(version)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const ANDROID: &str = "Mozilla/5.0 (Linux; Android 13; V2148A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230504 MMWEBID/1234 MicroMessenger/8.0.42.2460(0x28002A35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";
    const IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2f) NetType/WIFI Language/zh_CN";
    const WECOM: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 MicroMessenger/7.0.1 wxwork/4.1.10 (MicroMessenger/6.2) WindowsWechat";
    const CHROME: &str =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

    #[test]
    fn recognises_wechat_and_not_wecom_or_browsers() {
        assert!(is_wechat(ANDROID));
        assert!(is_wechat(IOS));
        assert!(!is_wechat(WECOM));
        assert!(!is_wechat(CHROME));
        assert!(!is_wechat(""));
    }

    #[test]
    fn reads_the_version() {
        assert_eq!(wechat_version(ANDROID), Some("8.0.42.2460"));
        assert_eq!(wechat_version(IOS), Some("8.0.42"));
        assert_eq!(wechat_version(WECOM), None);
        assert_eq!(wechat_version(CHROME), None);
        assert_eq!(wechat_version("MicroMessenger"), None);
        assert_eq!(wechat_version("x MicroMessenger/(0x1)"), None);
    }
}
