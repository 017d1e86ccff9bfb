//! The package as a page uses it, in headless Chromium: real sessionStorage, localStorage, crypto,
//! history and fetch (stubbed per test for fault sequences). Run with `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wx_subscribemsg::callback::{wechat_answer, Action};
use wx_subscribemsg::web::delivery::{backoff, delivery_options, owed_grants, settle_grant, verify_callback};
use wx_subscribemsg::web::{authorize, build_link, is_wechat, parse_callback, wechat_version};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function reset() {
  sessionStorage.clear();
  localStorage.clear();
}
// Replaces fetch with one answering each call from `plan`: a status, 'hang' (never answers) or
// 'network' (rejects like a dropped connection); 200 once the plan is used up. Returns the call log.
export function stubFetch(plan) {
  const calls = [];
  window.fetch = (url, init) => {
    calls.push({ url: String(url), method: init.method, credentials: init.credentials,
                 headers: Object.fromEntries(new Headers(init.headers)), body: init.body });
    const step = plan.length ? plan.shift() : 200;
    if (step === 'hang') return new Promise(() => {});
    if (step === 'network') return Promise.reject(new TypeError('Failed to fetch'));
    return Promise.resolve(new Response(null, { status: step }));
  };
  return calls;
}
export function breakStorage(broken) {
  if (broken) {
    Storage.prototype.__setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function () { throw new DOMException('full', 'QuotaExceededError'); };
  } else if (Storage.prototype.__setItem) {
    Storage.prototype.setItem = Storage.prototype.__setItem;
  }
}
export function setAddress(url) { history.replaceState(null, '', url); }
export function address() { return location.pathname + location.search + location.hash; }
export function origin() { return location.origin; }
export function sleep(ms) { return new Promise(r => setTimeout(r, ms)); }
export function js(text) { return (0, eval)(text); }
"#)]
extern "C" {
    fn reset();
    #[wasm_bindgen(js_name = stubFetch)]
    fn stub_fetch(plan: Array) -> Array;
    #[wasm_bindgen(js_name = breakStorage)]
    fn break_storage(broken: bool);
    #[wasm_bindgen(js_name = setAddress)]
    fn set_address(url: &str);
    fn address() -> String;
    fn origin() -> String;
    fn sleep(ms: u32) -> Promise;
    fn js(text: &str) -> JsValue;
}

// The package's delivery layer, bound to the core exactly as scripts/build.mjs binds it in the entry module.
#[wasm_bindgen(module = "/js/delivery.js")]
extern "C" {
    fn delivery(core: &JsValue) -> JsValue;
}

thread_local! {
    /// One binding for the whole page, as in the package: concurrent calls share its in-flight map.
    static BOUND: JsValue = {
        let core = Object::new();
        let bind = |name: &str, f: JsValue| Reflect::set(&core, &name.into(), &f).unwrap();
        bind("deliveryOptions", Closure::<dyn Fn(JsValue) -> Result<JsValue, JsValue>>::new(delivery_options).into_js_value());
        bind("verifyCallback", Closure::<dyn Fn(JsValue) -> Result<JsValue, JsValue>>::new(verify_callback).into_js_value());
        bind("settleGrant", Closure::<dyn Fn(String, u16) -> Result<bool, JsValue>>::new(|k: String, s| settle_grant(&k, s)).into_js_value());
        bind("owedGrants", Closure::<dyn Fn() -> Result<JsValue, JsValue>>::new(owed_grants).into_js_value());
        bind("backoffMs", Closure::<dyn Fn(u32, u32) -> u32>::new(backoff).into_js_value());
        delivery(&core.into())
    };
}

fn call(name: &str, options: JsValue) -> Promise {
    BOUND.with(|bound| {
        let f: Function = Reflect::get(bound, &name.into()).unwrap().unchecked_into();
        f.call1(&JsValue::NULL, &options).unwrap().unchecked_into()
    })
}

fn handle_callback(options: JsValue) -> Promise {
    call("handleCallback", options)
}

fn retry_deliveries(options: JsValue) -> Promise {
    call("retryDeliveries", options)
}

const APPID: &str = "wxaba38c7f163da69b";
const TEMPLATE: &str = "1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc";

fn get(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &name.into()).unwrap()
}

fn plan(steps: &str) -> Array {
    JSON::parse(steps).unwrap().into()
}

fn auth_options(scene: u32, extra: &str) -> JsValue {
    let text = format!(
        r#"({{ appid: "{APPID}", scene: {scene}, templateId: "{TEMPLATE}", redirectUrl: location.origin + "/cb.html?from=menu#/done" {extra} }})"#
    );
    js(&text)
}

/// The query WeChat would send back for `link`.
fn wechat_callback(link: &str, action: &str) -> String {
    let action = if action == "confirm" {
        Action::Confirm
    } else {
        Action::Cancel
    };
    ["?", &wechat_answer(link, action, "oUser_123-abc").unwrap()].concat()
}

fn handle_options(query: &str, extra: &str) -> JsValue {
    js(&format!(
        r#"({{ grantEndpoint: "/api/grants", query: {query:?}, cleanUrl: false, retryDelayMs: 1 {extra} }})"#
    ))
}

async fn handle(query: &str, extra: &str) -> Result<JsValue, JsValue> {
    JsFuture::from(handle_callback(handle_options(query, extra))).await
}

fn code(error: JsValue) -> String {
    assert_eq!(get(&error, "name"), "SubscribeError");
    assert!(error.is_instance_of::<js_sys::Error>());
    get(&error, "code").as_string().unwrap()
}

#[wasm_bindgen_test]
async fn confirm_posts_one_grant_and_a_reload_replays_without_posting() {
    reset();
    let calls = stub_fetch(plan("[200]"));
    let link = authorize(auth_options(1000, "")).unwrap();
    let reserved = get(
        &parse_callback(wechat_callback(&link, "confirm").into()).unwrap(),
        "reserved",
    )
    .as_string()
    .unwrap();
    assert_eq!(reserved.len(), 32);
    assert!(reserved.bytes().all(|b| b.is_ascii_alphanumeric()));
    let keys = js("Object.keys(sessionStorage)");
    assert!(get(&keys, "0").as_string().unwrap().starts_with("wxsub:"));
    assert_eq!(js("Object.keys(localStorage).length"), 1);

    let query = wechat_callback(&link, "confirm");
    let result = handle(&query, "").await.unwrap();
    assert_eq!(get(&result, "status"), "granted");
    assert_eq!(get(&result, "openid"), "oUser_123-abc");
    assert_eq!(get(&result, "templateId"), TEMPLATE);
    assert_eq!(get(&result, "scene"), 1000);
    assert_eq!(get(&result, "delivered"), true);
    assert_eq!(get(&result, "replayed"), false);

    assert_eq!(calls.length(), 1);
    let call = calls.get(0);
    assert_eq!(get(&call, "url"), "/api/grants");
    assert_eq!(get(&call, "method"), "POST");
    assert_eq!(get(&call, "credentials"), "same-origin");
    let headers = get(&call, "headers");
    assert_eq!(get(&headers, "content-type"), "application/json");
    assert_eq!(get(&headers, "idempotency-key"), reserved.as_str());
    let body = JSON::parse(&get(&call, "body").as_string().unwrap()).unwrap();
    let expected = format!(
        r#"{{"appid":"{APPID}","openid":"oUser_123-abc","template_id":"{TEMPLATE}","scene":1000,"reserved":"{reserved}"}}"#
    );
    assert_eq!(JSON::stringify(&body).unwrap(), expected);

    let again = handle(&query, "").await.unwrap();
    assert_eq!(get(&again, "replayed"), true);
    assert_eq!(get(&again, "delivered"), true);
    assert_eq!(calls.length(), 1, "a delivered grant is never posted twice");
}

#[wasm_bindgen_test]
async fn cancel_posts_nothing() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(3, "")).unwrap();
    let query = wechat_callback(&link, "cancel");
    let result = handle(&query, "").await.unwrap();
    assert_eq!(get(&result, "status"), "cancelled");
    assert_eq!(get(&result, "scene"), 3);
    assert!(get(&result, "openid").is_undefined());
    assert_eq!(get(&handle(&query, "").await.unwrap(), "replayed"), true);
    assert_eq!(calls.length(), 0);
}

#[wasm_bindgen_test]
async fn forged_and_tampered_callbacks_fail_and_the_genuine_one_still_succeeds() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(1000, "")).unwrap();
    let genuine = wechat_callback(&link, "confirm");
    let reserved = get(&parse_callback(genuine.as_str().into()).unwrap(), "reserved")
        .as_string()
        .unwrap();

    let forged = genuine.replace(&reserved, "AttackerChosenValue123");
    assert_eq!(code(handle(&forged, "").await.unwrap_err()), "unknown_reserved");
    let tampered = genuine.replace(TEMPLATE, "OtherTemplate");
    assert_eq!(code(handle(&tampered, "").await.unwrap_err()), "template_mismatch");
    let rescened = genuine.replace("scene=1000", "scene=1001");
    assert_eq!(code(handle(&rescened, "").await.unwrap_err()), "scene_mismatch");
    let doubled = [genuine.as_str(), "&action=cancel"].concat();
    assert_eq!(code(handle(&doubled, "").await.unwrap_err()), "duplicate_param");
    assert_eq!(calls.length(), 0);

    let result = handle(&genuine, "").await.unwrap();
    assert_eq!(get(&result, "replayed"), false);
    assert_eq!(get(&result, "delivered"), true);
    assert_eq!(calls.length(), 1);
}

#[wasm_bindgen_test]
async fn expired_pending_subscription_is_refused() {
    reset();
    stub_fetch(plan("[]"));
    let link = authorize(auth_options(1, ", ttlSeconds: 1")).unwrap();
    JsFuture::from(sleep(1100)).await.unwrap();
    assert_eq!(
        code(handle(&wechat_callback(&link, "confirm"), "").await.unwrap_err()),
        "expired"
    );
}

#[wasm_bindgen_test]
fn storage_that_throws_gives_no_link() {
    reset();
    break_storage(true);
    let result = authorize(auth_options(1, ""));
    break_storage(false);
    assert_eq!(code(result.unwrap_err()), "storage_unavailable");
    assert_eq!(js("sessionStorage.length"), 0);
}

#[wasm_bindgen_test]
async fn lost_session_storage_is_covered_by_the_local_copy() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(2, "")).unwrap();
    js("sessionStorage.clear()");
    let result = handle(&wechat_callback(&link, "confirm"), "").await.unwrap();
    assert_eq!(get(&result, "status"), "granted");
    assert_eq!(calls.length(), 1);
}

#[wasm_bindgen_test]
async fn two_concurrent_calls_share_one_post() {
    reset();
    let calls = stub_fetch(plan("[200]"));
    let link = authorize(auth_options(4, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    let first = handle_callback(handle_options(&query, ""));
    let second = handle_callback(handle_options(&query, ""));
    let (a, b) = (
        JsFuture::from(first).await.unwrap(),
        JsFuture::from(second).await.unwrap(),
    );
    assert_eq!(calls.length(), 1);
    assert_eq!(
        (get(&a, "replayed"), get(&b, "replayed")),
        (JsValue::FALSE, JsValue::TRUE)
    );
    assert_eq!(get(&b, "delivered"), true);
}

#[wasm_bindgen_test]
async fn server_errors_are_retried_until_delivered() {
    reset();
    let calls = stub_fetch(plan("[503, \"network\", 429, 200]"));
    let link = authorize(auth_options(5, "")).unwrap();
    let result = handle(&wechat_callback(&link, "confirm"), "").await.unwrap();
    assert_eq!(get(&result, "delivered"), true);
    assert_eq!(calls.length(), 4);
    let keys: Vec<_> = (0..4)
        .map(|i| get(&get(&calls.get(i), "headers"), "idempotency-key"))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "one grant, one idempotency key");
}

#[wasm_bindgen_test]
async fn a_timeout_keeps_the_grant_for_retry_deliveries() {
    reset();
    let calls = stub_fetch(plan("[\"hang\", 503]"));
    let link = authorize(auth_options(6, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    let result = handle(&query, ", retries: 1, timeoutMs: 50").await.unwrap();
    assert_eq!(get(&result, "status"), "granted");
    assert_eq!(get(&result, "delivered"), false);
    assert_eq!(calls.length(), 2);

    let counts = JsFuture::from(retry_deliveries(js("({ grantEndpoint: '/api/grants', retries: 0 })")))
        .await
        .unwrap();
    assert_eq!(
        (get(&counts, "delivered"), get(&counts, "pending")),
        (JsValue::from(1), JsValue::from(0))
    );
    assert_eq!(calls.length(), 3);
    let replay = handle(&query, "").await.unwrap();
    assert_eq!(
        (get(&replay, "delivered"), get(&replay, "replayed")),
        (JsValue::TRUE, JsValue::TRUE)
    );
    assert_eq!(calls.length(), 3);
}

#[wasm_bindgen_test]
async fn a_4xx_is_final_and_not_retried() {
    reset();
    let calls = stub_fetch(plan("[400]"));
    let link = authorize(auth_options(7, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    let error = handle(&query, "").await.unwrap_err();
    assert!(get(&error, "message").as_string().unwrap().contains("HTTP 400"));
    assert_eq!(code(error), "backend_rejected");
    assert_eq!(code(handle(&query, "").await.unwrap_err()), "backend_rejected");
    assert_eq!(calls.length(), 1);
}

#[wasm_bindgen_test]
async fn the_address_is_cleaned_and_the_hash_route_restored() {
    reset();
    stub_fetch(plan("[]"));
    let link = authorize(auth_options(8, "")).unwrap();
    let callback = wechat_callback(&link, "confirm");
    // WeChat's reported mangling: "#/done" comes back as "#%23/done".
    set_address(&["/cb.html?from=menu&", &callback[1..], "#%23/done"].concat());
    let options = js(r#"({ grantEndpoint: "/api/grants", retryDelayMs: 1 })"#);
    let result = JsFuture::from(handle_callback(options)).await.unwrap();
    assert_eq!(get(&result, "status"), "granted");
    assert_eq!(address(), "/cb.html?from=menu#/done");
}

#[wasm_bindgen_test]
fn build_link_validates_every_field_with_its_own_code() {
    let base =
        r#"appid: "wxaba38c7f163da69b", templateId: "T", redirectUrl: "http://support.qq.com", reserved: "test""#;
    let link = build_link(js(&format!("({{ {base}, scene: 1000 }})"))).unwrap();
    assert_eq!(link, "https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid=wxaba38c7f163da69b&scene=1000&template_id=T&redirect_url=http%3A%2F%2Fsupport.qq.com&reserved=test#wechat_redirect");
    for scene in ["10001", "-1", "1.5", "NaN", "\"12\"", "null", "undefined"] {
        let error = build_link(js(&format!("({{ {base}, scene: {scene} }})"))).unwrap_err();
        assert_eq!(code(error), "invalid_scene", "scene {scene}");
    }
    for (field, value, expected) in [
        ("appid", "\"wx123\"", "invalid_appid"),
        ("appid", "42", "invalid_appid"),
        ("templateId", "\"\"", "invalid_template_id"),
        ("redirectUrl", "\"/cb.html\"", "invalid_redirect_url"),
        ("redirectUrl", "\"https://u:p@x.example/\"", "invalid_redirect_url"),
        ("reserved", "\"has-dash\"", "invalid_reserved"),
        ("authorizeUrl", "\"nope\"", "invalid_option"),
    ] {
        let error = build_link(js(&format!("({{ {base}, scene: 1, {field}: {value} }})"))).unwrap_err();
        assert_eq!(code(error), expected, "{field}: {value}");
    }
    assert_eq!(code(build_link(JsValue::NULL).unwrap_err()), "invalid_option");
}

#[wasm_bindgen_test]
fn authorize_refuses_other_origins_foreign_domains_and_outside_wechat() {
    reset();
    let other = js(&format!(
        r#"({{ appid: "{APPID}", scene: 1, templateId: "T", redirectUrl: "https://elsewhere.example/cb" }})"#
    ));
    let error = authorize(other).unwrap_err();
    assert!(get(&error, "message").as_string().unwrap().contains("sessionStorage"));
    assert_eq!(code(error), "invalid_redirect_url");
    assert_eq!(
        code(authorize(auth_options(1, ", businessDomain: 'shop.example.com'")).unwrap_err()),
        "domain_mismatch"
    );
    assert!(authorize(auth_options(1, ", businessDomain: location.hostname")).is_ok());
    assert_eq!(
        code(authorize(auth_options(1, ", requireWeChat: true")).unwrap_err()),
        "not_in_wechat"
    );
    assert_eq!(
        code(authorize(auth_options(1, ", ttlSeconds: 0")).unwrap_err()),
        "invalid_option"
    );
    assert!(origin().starts_with("http"));
}

#[wasm_bindgen_test]
fn parse_callback_gives_typed_fields() {
    let parsed = parse_callback("?openid=o1&template_id=T&action=confirm&scene=12&reserved=r".into()).unwrap();
    assert_eq!(
        JSON::stringify(&parsed).unwrap(),
        r#"{"action":"confirm","templateId":"T","scene":12,"reserved":"r","openid":"o1"}"#
    );
    assert_eq!(
        code(parse_callback("?action=confirm".into()).unwrap_err()),
        "missing_param"
    );
    assert_eq!(
        code(parse_callback("?template_id=T&action=ok&scene=1&reserved=r".into()).unwrap_err()),
        "invalid_param"
    );
    assert_eq!(code(parse_callback(JsValue::UNDEFINED).unwrap_err()), "invalid_option");
}

#[wasm_bindgen_test]
fn recognises_wechat() {
    let ua = "Mozilla/5.0 (Linux; Android 13) MicroMessenger/8.0.42.2460(0x28002A35) NetType/WIFI".to_owned();
    assert!(is_wechat(Some(ua.clone())));
    assert_eq!(wechat_version(Some(ua)), "8.0.42.2460");
    assert!(!is_wechat(None), "headless Chromium is not WeChat");
    assert!(wechat_version(None).is_null());
}

#[wasm_bindgen_test]
async fn a_callback_handled_in_another_tab_is_a_replay_here() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(9, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    // This tab's sessionStorage keeps the pending record; another tab moves the shared localStorage copy on.
    let pending = js("JSON.stringify(Object.entries(sessionStorage))")
        .as_string()
        .unwrap();
    handle(&query, "").await.unwrap();
    js(&format!(
        "sessionStorage.clear(); for (const [k, v] of JSON.parse({pending:?})) sessionStorage.setItem(k, v)"
    ));
    assert!(js("Object.values(sessionStorage)[0]")
        .as_string()
        .unwrap()
        .contains("state=pending"));
    let here = handle(&query, "").await.unwrap();
    assert_eq!(
        (get(&here, "replayed"), get(&here, "delivered")),
        (JsValue::TRUE, JsValue::TRUE)
    );
    assert_eq!(calls.length(), 1, "the grant another tab delivered is not posted again");
}

#[wasm_bindgen_test]
async fn allow_after_cancel_on_the_consent_page_is_a_grant() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(10, "")).unwrap();
    assert_eq!(
        get(&handle(&wechat_callback(&link, "cancel"), "").await.unwrap(), "status"),
        "cancelled"
    );
    let granted = handle(&wechat_callback(&link, "confirm"), "").await.unwrap();
    assert_eq!(
        (get(&granted, "status"), get(&granted, "replayed")),
        (JsValue::from("granted"), JsValue::FALSE)
    );
    assert_eq!(calls.length(), 1);
}
