//! Property tests of the pure core (native only: proptest does not run in the browser).
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use wx_subscribemsg::wechat::callback::wechat_answer;
use wx_subscribemsg::{Answer, AppId, Callback, HttpUrl, Link, OpenId, Reserved, Scene, TemplateId};

/// The codes a callback's parse may fail with.
const CALLBACK_ERRORS: &[&str] = &["no_callback", "missing_param", "duplicate_param", "invalid_param"];

/// A parse either fails with one of the callback's typed errors, or gives a callback that reads back to itself.
fn parses_or_fails_typed(query: &str) -> Result<(), TestCaseError> {
    match Callback::parse(query) {
        Ok(cb) => prop_assert_eq!(Callback::parse(&cb.to_query()).unwrap(), cb),
        Err(error) => prop_assert!(CALLBACK_ERRORS.contains(&error.code()), "{}", error.code()),
    }
    Ok(())
}

proptest! {
    /// Whatever arrives in the address bar, parsing returns a callback or a typed error; it never panics.
    #[test]
    fn parse_callback_never_panics(query in ".{0,300}") {
        parses_or_fails_typed(&query)?;
    }

    /// The same with inputs shaped like real callbacks, so the deeper branches are reached.
    #[test]
    fn parse_callback_never_panics_on_near_misses(
        pairs in prop::collection::vec(
            (prop::sample::select(vec!["openid", "template_id", "action", "scene", "reserved", "x", ""]), "[a-zA-Z0-9%+&=#?_.-]{0,12}"),
            0..8,
        )
    ) {
        let query: Vec<String> = pairs.iter().map(|(k, v)| [*k, "=", v].concat()).collect();
        parses_or_fails_typed(&query.join("&"))?;
    }

    /// A well-formed callback parses to its fields in any order, among the site's own parameters.
    #[test]
    fn a_well_formed_callback_parses_in_any_order(
        order in Just((0..5).collect::<Vec<usize>>()).prop_shuffle(),
        extras in prop::collection::vec("site_[a-z]{1,6}=[a-z0-9]{0,6}", 0..3),
        openid in "[A-Za-z0-9_-]{1,64}",
        template in "[A-Za-z0-9_-]{1,128}",
        scene in 0i64..=10_000,
        reserved in "[A-Za-z0-9]{1,128}",
    ) {
        let fields = [
            ["openid=", &openid].concat(),
            ["template_id=", &template].concat(),
            "action=confirm".to_owned(),
            ["scene=", &scene.to_string()].concat(),
            ["reserved=", &reserved].concat(),
        ];
        let mut parts: Vec<String> = order.iter().map(|&i| fields[i].clone()).collect();
        parts.extend(extras);
        let cb = Callback::parse(&["?", &parts.join("&")].concat()).unwrap();
        prop_assert_eq!(cb.answer, Answer::Confirm(OpenId::parse(&openid).unwrap()));
        prop_assert_eq!(cb.template_id.as_str(), template.as_str());
        prop_assert_eq!(cb.scene.get() as i64, scene);
        prop_assert_eq!(cb.reserved.as_str(), reserved.as_str());
    }

    /// Link → WeChat's redirect back → parse: every field survives the trip.
    #[test]
    fn link_then_callback_round_trips(
        scene in 0i64..=10_000,
        template in "[A-Za-z0-9_-]{1,128}",
        reserved in "[A-Za-z0-9]{1,128}",
        openid in "[A-Za-z0-9_-]{1,64}",
        path in "[a-z0-9/._-]{0,20}",
        fragment in prop::option::of("[a-zA-Z0-9/?=&#%-]{0,20}"),
        confirm in any::<bool>(),
    ) {
        let redirect = ["https://shop.example.com/", &path, &fragment.map(|f| ["#", &f].concat()).unwrap_or_default()].concat();
        let link = Link {
            appid: AppId::parse("wxaba38c7f163da69b").unwrap(),
            scene: Scene::new(scene).unwrap(),
            template_id: TemplateId::parse(&template).unwrap(),
            redirect_url: HttpUrl::parse(&redirect).unwrap(),
            reserved: Reserved::parse(&reserved).unwrap(),
        }
        .to_url(None);

        // What WeChat reads from the link, and what it sends back.
        let query = link.split_once('?').unwrap().1.strip_suffix("#wechat_redirect").unwrap();
        let sent: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        // The URL as sent is the normalised one, and normalising it again changes nothing.
        let sent_url = &sent.iter().find(|(k, _)| k == "redirect_url").unwrap().1;
        let checked = HttpUrl::parse(&redirect).unwrap();
        prop_assert_eq!(sent_url.as_str(), checked.as_str());
        prop_assert_eq!(HttpUrl::parse(sent_url).unwrap(), checked);
        let back = wechat_answer(&link, confirm.then_some(openid.as_str())).unwrap();

        let cb = Callback::parse(&back).unwrap();
        let answer = if confirm { Answer::Confirm(OpenId::parse(&openid).unwrap()) } else { Answer::Cancel };
        prop_assert_eq!(&cb.answer, &answer);
        prop_assert_eq!(cb.scene.get() as i64, scene);
        prop_assert_eq!(cb.template_id.as_str(), template.as_str());
        prop_assert_eq!(cb.reserved.as_str(), reserved.as_str());
        prop_assert_eq!(Callback::parse(&cb.to_query()).unwrap(), cb);
    }
}
