//! A seeded fuzzer over what reads untrusted text: the callback parser, the record decoder, the URL check, and
//! the link builder. Each input is a valid one mutated (bytes inserted, deleted, replaced, spliced from a hostile
//! alphabet), so the deep branches are reached, not only the first check. Each target also checks a property
//! that must hold whenever the input is accepted.
//!
//! `cargo test --test fuzz` runs 20,000 inputs per target. The long run, e.g. ten million per target:
//!
//! ```sh
//! FUZZ_CASES=10000000 cargo test --release --test fuzz -- --nocapture
//! ```
//!
//! `FUZZ_SEED` picks another sequence; a failure prints the seed, the case number and the input.
#![cfg(not(target_arch = "wasm32"))]

use std::panic::{catch_unwind, AssertUnwindSafe};

use wx_subscribemsg::subscription::record::Record;
use wx_subscribemsg::wechat::callback::wechat_answer;
use wx_subscribemsg::{AppId, Callback, HttpUrl, Link, Reserved, Scene, TemplateId};

/// xorshift64*: deterministic, fast, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes that matter to these parsers, some multi-byte UTF-8, some that split or end things.
const HOSTILE: &[&str] = &[
    "?",
    "#",
    "&",
    "=",
    "%",
    "%2",
    "%25",
    "%00",
    "%ZZ",
    "+",
    " ",
    "\t",
    "\n",
    "\0",
    ":",
    "/",
    "\\",
    "@",
    "[",
    "]",
    ".",
    "..",
    "-",
    "_",
    "0",
    "00",
    "9",
    "99999",
    "-1",
    "é",
    "字",
    "\u{FEFF}",
    "\u{1F600}",
    "openid=",
    "template_id=",
    "action=confirm",
    "action=cancel",
    "scene=",
    "reserved=",
    "http://",
    "https://",
    "owed:",
    "delivered:",
    "rejected:",
    "pending",
    "cancelled",
    "2 ",
    "\u{7f}",
];

fn cases() -> u64 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
}

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0x5EED_CAFE_F00D_u64)
        | 1
}

/// Mutates `input` one to four times; the result is valid UTF-8 (all inputs here are strings).
fn mutate(rng: &mut Rng, input: &str) -> String {
    let mut out = input.to_owned();
    for _ in 0..=rng.below(4) {
        let boundaries: Vec<usize> = (0..=out.len()).filter(|&i| out.is_char_boundary(i)).collect();
        let at = *rng.pick(&boundaries);
        match rng.below(5) {
            0 => {
                let hostile = *rng.pick(HOSTILE);
                out.insert_str(at, hostile)
            }
            1 | 2 if at < out.len() => {
                let end = *rng.pick(&boundaries.iter().copied().filter(|&b| b > at).collect::<Vec<_>>());
                let replacement = if rng.below(2) == 0 { "" } else { *rng.pick(HOSTILE) };
                out.replace_range(at..end, replacement);
            }
            3 => {
                // Splice a piece of the input at another place: duplicates, reorders.
                let from = *rng.pick(&boundaries);
                let (a, b) = (from.min(at), from.max(at));
                let piece = out[a..b].to_owned();
                let to = *rng.pick(&boundaries);
                out.insert_str(to, &piece);
            }
            _ => out.truncate(at),
        }
    }
    out
}

/// Runs `check` on `count` mutations of the seeds, naming the input of any panic. `check` tells whether the
/// input was accepted: a fuzzer whose inputs are all refused would test little of the properties.
fn fuzz(name: &str, seeds: &[String], check: impl Fn(&str) -> bool) {
    let (count, seed) = (cases(), seed());
    let mut rng = Rng(seed);
    let mut accepted = 0u64;
    for case in 0..count {
        let base = rng.pick(seeds);
        let input = mutate(&mut rng, base);
        match catch_unwind(AssertUnwindSafe(|| check(&input))) {
            Ok(ok) => accepted += u64::from(ok),
            Err(_) => panic!("{name}: case {case} of seed {seed} panicked on {input:?}"),
        }
    }
    println!("{name}: {count} inputs ({accepted} accepted), no panic, every property held");
    assert!(
        accepted > count / 100 && accepted < count,
        "{name}: {accepted} of {count} accepted"
    );
}

fn link(redirect: &str, reserved: &str) -> Link {
    Link {
        appid: AppId::parse("wxaba38c7f163da69b").unwrap(),
        scene: Scene::new(1000).unwrap(),
        template_id: TemplateId::parse("1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc").unwrap(),
        redirect_url: HttpUrl::parse(redirect).unwrap(),
        reserved: Reserved::parse(reserved).unwrap(),
    }
}

#[test]
fn the_callback_parser() {
    let seeds: Vec<String> = [
        "?openid=oUser_1&template_id=T_1-x&action=confirm&scene=1000&reserved=abc123",
        "template_id=T&action=cancel&scene=0&reserved=R&from=menu",
        "https://shop.example.com/cb.html?x=1&openid=o&template_id=T&action=confirm&scene=7&reserved=r#%23/done",
    ]
    .map(String::from)
    .to_vec();
    fuzz("callback parser", &seeds, |input| {
        let Ok(callback) = Callback::parse(input) else {
            return false;
        };
        // What was accepted is what WeChat would send back for it.
        assert_eq!(Callback::parse(&callback.to_query()).as_ref(), Ok(&callback));
        true
    });
}

#[test]
fn the_record_decoder() {
    let reserved = Reserved::parse("abc").unwrap();
    let seeds: Vec<String> = [
        "2 1700000000000 1700000600000 - pending 1000 wxaba38c7f163da69b T_1 https://shop.example.com/cb.html?x=1#/done",
        "2 1700000000000 1700000600000 1700000001000 owed:oUser_1 0 wxaba38c7f163da69b T https://a.example/",
        "2 1 2 3 rejected:403 10000 wxABA38C7F163DA69B t-1 http://127.0.0.1:8080/",
        "2 1 86400001 2 delivered:o 5 wxaba38c7f163da69b T http://x.example/a?b#c",
    ]
    .map(String::from)
    .to_vec();
    for seed in &seeds {
        assert!(Record::decode(&reserved, seed).is_some(), "{seed}");
    }
    fuzz("record decoder", &seeds, |input| {
        let Some(record) = Record::decode(&reserved, input) else {
            return false;
        };
        // Only the package's own canonical form is a record.
        assert_eq!(record.encode(), input);
        true
    });
}

#[test]
fn the_url_check() {
    let seeds: Vec<String> = [
        "https://shop.example.com/cb.html?from=menu#/done",
        "http://127.0.0.1:8080/callback.html",
        "HTTP://Shop.Example.com:80\\cb.html",
        "http://[::1]:8443/a/../b",
        "https://bücher.example/caf%C3%A9",
    ]
    .map(String::from)
    .to_vec();
    fuzz("URL check", &seeds, |input| {
        let Ok(url) = HttpUrl::parse(input) else { return false };
        // What is sent is what was checked: checking it again changes nothing.
        assert_eq!(HttpUrl::parse(url.as_str()).as_ref(), Ok(&url));
        assert!(url.as_str().starts_with(url.origin()));
        assert!(!url.as_str().bytes().any(|b| b <= b' ' || b >= 0x7f));
        true
    });
}

#[test]
fn the_link_builder() {
    let seeds: Vec<String> = [
        "https://shop.example.com/cb.html?from=menu&x=%26#/done?a=b",
        "http://s.example/",
    ]
    .map(String::from)
    .to_vec();
    fuzz("link builder", &seeds, |input| {
        let Ok(redirect) = HttpUrl::parse(input) else {
            return false;
        };
        let link = link(redirect.as_str(), "Nonce123");
        let url = link.to_url(None);
        // WeChat reads back exactly what was put in, and the answer it sends parses to the same subscription.
        let query = url.split_once('?').unwrap().1.strip_suffix("#wechat_redirect").unwrap();
        let sent: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        assert_eq!(sent[4], ("redirect_url".to_owned(), redirect.as_str().to_owned()));
        let answer = Callback::parse(&wechat_answer(&url, Some("oUser")).unwrap()).unwrap();
        assert_eq!(
            (answer.scene, &answer.template_id, &answer.reserved),
            (link.scene, &link.template_id, &link.reserved)
        );
        true
    });
}
