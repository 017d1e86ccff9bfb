//! The package as a page uses it, in headless Chromium: real sessionStorage, localStorage, crypto and history;
//! the POSTs go to a stub passed as the `fetch` option, answering each call from a plan of faults. Run with
//! `wasm-pack test --headless --chrome`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wx_subscribemsg::web::delivery::{
    check_options, record_answer, record_callback_and_clean_address, undelivered_grants,
};
use wx_subscribemsg::web::{authorize, build_link, is_wechat, parse_callback, wechat_version};
use wx_subscribemsg::wechat::callback::wechat_answer;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function reset() {
  sessionStorage.clear();
  localStorage.clear();
  breakStorage('none');
  history.replaceState(null, '', location.pathname);
  if (Date.__now) { Date.now = Date.__now; Date.__ahead = 0; }
  for (const key of ['authorizeUrl', 'query', 'toJSON', 'wxsub', 'grantEndpoint']) delete Object.prototype[key];
}
// The `fetch` option of these tests: answers each call from `plan` (a status; 'hang', never answering;
// 'network', rejecting like a dropped connection; 'redirect', what fetch gives for a 3xx with redirect:
// 'manual'; 'followed', a 200 reached through a redirect); 200 once the plan is used up. Returns the call log.
export function stubFetch(plan) {
  const calls = [];
  globalThis.stubbedFetch = (url, init) => {
    calls.push({ url: String(url), method: init.method, credentials: init.credentials, redirect: init.redirect,
                 headers: Object.fromEntries(new Headers(init.headers)), body: init.body });
    const step = plan.length ? plan.shift() : 200;
    if (step === 'hang') return new Promise(() => {});
    if (step === 'network') return Promise.reject(new TypeError('Failed to fetch'));
    if (step === 'redirect') return Promise.resolve({ type: 'opaqueredirect', status: 0, redirected: false });
    if (step === 'followed') return Promise.resolve({ type: 'basic', status: 200, redirected: true });
    return Promise.resolve(new Response(null, { status: step }));
  };
  return calls;
}
// Makes setItem throw QuotaExceededError in 'session', 'local', 'both' or 'none' of the storage areas.
export function breakStorage(which) {
  const proto = Storage.prototype;
  proto.__setItem ??= proto.setItem;
  proto.setItem = function (key, value) {
    const area = this === sessionStorage ? 'session' : 'local';
    if (which === 'both' || which === area) throw new DOMException('full', 'QuotaExceededError');
    return proto.__setItem.call(this, key, value);
  };
}
export function setAddress(url) { history.replaceState(null, '', url); }
export function address() { return location.pathname + location.search + location.hash; }
export function js(text) { return (0, eval)(text); }
// A clock the tests move: Date.now() as the core reads it, ms ahead of the real one.
export function advanceClock(ms) {
  Date.__now ??= Date.now;
  const ahead = (Date.__ahead ?? 0) + ms;
  Date.__ahead = ahead;
  Date.now = () => Date.__now() + ahead;
}
// delivery()'s injected sleep for the schedule test: records each wait and resolves at once.
export function recordingSleep(waits) {
  return (ms) => { waits.push(ms); return Promise.resolve(); };
}
"#)]
extern "C" {
    fn reset();
    #[wasm_bindgen(js_name = stubFetch)]
    fn stub_fetch(plan: Array) -> Array;
    #[wasm_bindgen(js_name = breakStorage)]
    fn break_storage(which: &str);
    #[wasm_bindgen(js_name = setAddress)]
    fn set_address(url: &str);
    fn address() -> String;
    fn js(text: &str) -> JsValue;
    #[wasm_bindgen(js_name = advanceClock)]
    fn advance_clock(ms: f64);
    #[wasm_bindgen(js_name = recordingSleep)]
    fn recording_sleep(waits: &Array) -> JsValue;
}

// The package's delivery layer, bound to the core's exports under their own names, as scripts/build.mjs does.
#[wasm_bindgen(module = "/js/delivery.js")]
extern "C" {
    fn delivery(core: &JsValue, sleep: &JsValue) -> JsValue;
}

/// The core's four exports under their own names, as scripts/build.mjs binds them (js/core.d.ts).
fn core() -> JsValue {
    let core = Object::new();
    let bind = |name: &str, f: JsValue| Reflect::set(&core, &name.into(), &f).unwrap();
    type Unary = dyn Fn(JsValue) -> Result<JsValue, JsValue>;
    bind("checkOptions", Closure::<Unary>::new(check_options).into_js_value());
    type Binary = dyn Fn(JsValue, JsValue) -> Result<JsValue, JsValue>;
    let record = Closure::<Binary>::new(record_callback_and_clean_address);
    bind("recordCallbackAndCleanAddress", record.into_js_value());
    bind("recordAnswer", Closure::<Binary>::new(record_answer).into_js_value());
    let undelivered = Closure::<dyn Fn() -> Result<JsValue, JsValue>>::new(undelivered_grants);
    bind("undeliveredGrants", undelivered.into_js_value());
    core.into()
}

thread_local! {
    /// One binding for the whole page, as in the package: concurrent calls share its in-flight map.
    static BOUND: JsValue = delivery(&core(), &JsValue::UNDEFINED);
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

async fn retry_deliveries(extra: &str) -> Result<JsValue, JsValue> {
    let options = js(&format!(
        "({{ grantEndpoint: '/api/grants', fetch: stubbedFetch, retryDelayMs: 1 {extra} }})"
    ));
    JsFuture::from(call("retryDeliveries", options)).await
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

/// The query WeChat would send back for `link`: Allow as oUser_123-abc, or Cancel.
fn wechat_callback(link: &str, action: &str) -> String {
    let openid = (action == "confirm").then_some("oUser_123-abc");
    ["?", &wechat_answer(link, openid).unwrap()].concat()
}

fn handle_options(query: &str, extra: &str) -> JsValue {
    js(&format!(
        r#"({{ grantEndpoint: "/api/grants", fetch: stubbedFetch, query: {query:?}, cleanUrl: false, retryDelayMs: 1 {extra} }})"#
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

fn nonce_of(query: &str) -> String {
    get(&parse_callback(query.into()).unwrap(), "reserved")
        .as_string()
        .unwrap()
}

/// The stored value of the record for `reserved` in `area` ("sessionStorage" or "localStorage").
fn stored(area: &str, reserved: &str) -> Option<String> {
    js(&format!("{area}.getItem('wxsub:{reserved}')")).as_string()
}

fn pair(result: &JsValue, a: &str, b: &str) -> (JsValue, JsValue) {
    (get(result, a), get(result, b))
}

#[wasm_bindgen_test]
async fn confirm_posts_one_grant_and_a_replay_posts_nothing() {
    reset();
    let calls = stub_fetch(plan("[201]"));
    let link = authorize(auth_options(1000, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    let reserved = nonce_of(&query);
    assert_eq!(reserved.len(), 32);
    assert!(reserved.bytes().all(|b| b.is_ascii_alphanumeric()));
    // Keyed by the nonce, in both areas.
    assert!(stored("sessionStorage", &reserved).unwrap().contains(" pending "));
    assert_eq!(stored("localStorage", &reserved), stored("sessionStorage", &reserved));

    let result = handle(&query, "").await.unwrap();
    assert_eq!(
        JSON::stringify(&result).unwrap(),
        format!(
            r#"{{"status":"granted","templateId":"{TEMPLATE}","scene":1000,"reserved":"{reserved}","replayed":false,"late":false,"openid":"oUser_123-abc","delivered":true,"kept":true}}"#
        )
    );

    assert_eq!(calls.length(), 1);
    let call = calls.get(0);
    assert_eq!(
        get(&call, "url"),
        js("location.origin + '/api/grants'"),
        "resolved against the page"
    );
    assert_eq!(get(&call, "method"), "POST");
    assert_eq!(get(&call, "credentials"), "same-origin");
    assert_eq!(get(&call, "redirect"), "manual");
    let headers = get(&call, "headers");
    assert_eq!(get(&headers, "content-type"), "application/json");
    assert_eq!(get(&headers, "idempotency-key"), reserved.as_str());
    let expected = format!(
        r#"{{"appid":"{APPID}","openid":"oUser_123-abc","template_id":"{TEMPLATE}","scene":1000,"reserved":"{reserved}"}}"#
    );
    assert_eq!(get(&call, "body"), expected.as_str());

    let again = handle(&query, "").await.unwrap();
    assert_eq!(pair(&again, "replayed", "delivered"), (JsValue::TRUE, JsValue::TRUE));
    assert_eq!(calls.length(), 1, "a delivered grant is never posted twice");
}

#[wasm_bindgen_test]
async fn cancel_posts_nothing() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(3, "")).unwrap();
    let query = wechat_callback(&link, "cancel");
    let result = handle(&query, "").await.unwrap();
    let reserved = nonce_of(&query);
    assert_eq!(
        JSON::stringify(&result).unwrap(),
        format!(
            r#"{{"status":"cancelled","templateId":"{TEMPLATE}","scene":3,"reserved":"{reserved}","replayed":false,"late":false}}"#
        )
    );
    assert_eq!(get(&handle(&query, "").await.unwrap(), "replayed"), true);
    assert_eq!(calls.length(), 0);
}

#[wasm_bindgen_test]
async fn forged_and_tampered_callbacks_fail_and_the_genuine_one_still_succeeds() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(1000, "")).unwrap();
    let genuine = wechat_callback(&link, "confirm");
    let reserved = nonce_of(&genuine);

    let forged = genuine.replace(&reserved, "AttackerChosenValue123");
    assert_eq!(code(handle(&forged, "").await.unwrap_err()), "unknown_reserved");
    let tampered = genuine.replace(TEMPLATE, "OtherTemplate");
    assert_eq!(code(handle(&tampered, "").await.unwrap_err()), "template_mismatch");
    let rescened = genuine.replace("scene=1000", "scene=1001");
    assert_eq!(code(handle(&rescened, "").await.unwrap_err()), "scene_mismatch");
    let doubled = [genuine.as_str(), "&action=cancel"].concat();
    assert_eq!(code(handle(&doubled, "").await.unwrap_err()), "duplicate_param");
    let hashed = ["?from=menu#", &genuine[1..]].concat();
    assert_eq!(code(handle(&hashed, "").await.unwrap_err()), "no_callback");
    assert_eq!(calls.length(), 0);

    let result = handle(&genuine, "").await.unwrap();
    assert_eq!(pair(&result, "replayed", "delivered"), (JsValue::FALSE, JsValue::TRUE));
    assert_eq!(calls.length(), 1);
}

#[wasm_bindgen_test]
async fn a_late_allow_is_a_grant_and_says_so() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(1, ", ttlSeconds: 1")).unwrap();
    let on_time = handle(&wechat_callback(&link, "cancel"), "").await.unwrap();
    assert_eq!(get(&on_time, "late"), false);
    advance_clock(1001.0);
    let result = handle(&wechat_callback(&link, "confirm"), "").await.unwrap();
    assert_eq!(
        pair(&result, "status", "late"),
        (JsValue::from("granted"), JsValue::TRUE)
    );
    assert_eq!(get(&result, "delivered"), true);
    assert_eq!(calls.length(), 1);
}

#[wasm_bindgen_test]
fn storage_that_throws_gives_no_link() {
    reset();
    break_storage("both");
    let result = authorize(auth_options(1, ""));
    break_storage("none");
    let error = result.unwrap_err();
    assert!(get(&error, "message")
        .as_string()
        .unwrap()
        .contains("the nonce cannot be kept"));
    assert_eq!(code(error), "storage_unavailable");
    assert_eq!(js("sessionStorage.length + localStorage.length"), 0);
}

#[wasm_bindgen_test]
async fn full_storage_never_stops_the_post_and_the_result_says_what_was_kept() {
    reset();
    let calls = stub_fetch(plan("[503, 201]"));
    let link = authorize(auth_options(2, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    // Both areas full when the answer is recorded: the grant is posted from memory all the same.
    break_storage("both");
    let result = handle(&query, ", retries: 0").await.unwrap();
    assert_eq!(pair(&result, "delivered", "kept"), (JsValue::FALSE, JsValue::FALSE));
    assert_eq!(calls.length(), 1);
    // This page still holds it: retryDeliveries() posts it though no storage could keep it.
    let counts = retry_deliveries(", retries: 0").await.unwrap();
    assert_eq!(
        JSON::stringify(&counts).unwrap(),
        r#"{"delivered":1,"pending":0,"rejected":0}"#
    );
    assert_eq!(calls.length(), 2);
    break_storage("none");

    // Only localStorage full: the grant lives in this tab alone, and the result says so.
    let calls = stub_fetch(plan("[503]"));
    let link = authorize(auth_options(3, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    break_storage("local");
    let result = handle(&query, ", retries: 0").await.unwrap();
    assert_eq!(pair(&result, "delivered", "kept"), (JsValue::FALSE, JsValue::FALSE));
    assert!(stored("sessionStorage", &nonce_of(&query))
        .unwrap()
        .contains(" owed:oUser_123-abc "));
    break_storage("none");
    // Room again: the next attempt restores the copy that outlives the tab.
    let counts = retry_deliveries(", retries: 0").await.unwrap();
    assert_eq!(get(&counts, "delivered"), 1);
    assert!(stored("localStorage", &nonce_of(&query))
        .unwrap()
        .contains(" delivered:oUser_123-abc "));
    assert_eq!(calls.length(), 2);
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
async fn concurrent_calls_share_one_post() {
    reset();
    let calls = stub_fetch(plan("[503, 201]"));
    let link = authorize(auth_options(4, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    // Two handleCallback() calls (React StrictMode) and a retryDeliveries() while they post.
    let first = handle_callback(handle_options(&query, ""));
    let second = handle_callback(handle_options(&query, ""));
    let retried = retry_deliveries("").await.unwrap();
    let (a, b) = (
        JsFuture::from(first).await.unwrap(),
        JsFuture::from(second).await.unwrap(),
    );
    assert_eq!(
        calls.length(),
        2,
        "one POST and its one retry, shared by all three calls"
    );
    assert_eq!(pair(&a, "replayed", "delivered"), (JsValue::FALSE, JsValue::TRUE));
    assert_eq!(pair(&b, "replayed", "delivered"), (JsValue::TRUE, JsValue::TRUE));
    assert_eq!(get(&retried, "delivered"), 1);
}

#[wasm_bindgen_test]
async fn server_errors_are_retried_until_delivered() {
    reset();
    let calls = stub_fetch(plan(r#"[503, "network", 429, 200]"#));
    let link = authorize(auth_options(5, "")).unwrap();
    let result = handle(&wechat_callback(&link, "confirm"), "").await.unwrap();
    assert_eq!(get(&result, "delivered"), true);
    assert_eq!(calls.length(), 4);
    let reserved = get(&result, "reserved");
    assert_eq!(reserved.as_string().map(|r| r.len()), Some(32));
    for i in 0..4 {
        let key = get(&get(&calls.get(i), "headers"), "idempotency-key");
        assert_eq!(
            key, reserved,
            "one grant, one idempotency key: the nonce, on attempt {i}"
        );
    }
}

/// Every timing of delivery comes from the core's plan (src/subscription/retry.rs), and js/delivery.js waits exactly
/// that: with the defaults, 8 s per attempt and 0.5, 1 and 2 s between them.
#[wasm_bindgen_test]
async fn the_default_schedule_is_what_delivery_waits() {
    reset();
    let plan_of = |extra: &str| check_options(js(&format!("({{ grantEndpoint: '/g' {extra} }})"))).unwrap();
    let defaults = plan_of("");
    assert_eq!(get(&defaults, "timeoutMs"), 8000);
    let delays = |plan: &JsValue| JSON::stringify(&Array::from(&get(plan, "delaysMs"))).unwrap();
    assert_eq!(delays(&defaults), "[500,1000,2000]");
    let capped = plan_of(", retries: 6, retryDelayMs: 5000");
    assert_eq!(delays(&capped), "[5000,10000,20000,30000,30000,30000]");

    // A binding whose clock records each wait: every attempt hangs, so each ends at its timeout.
    let waits = Array::new();
    let bound = delivery(&core(), &recording_sleep(&waits));
    let handle_callback: Function = Reflect::get(&bound, &"handleCallback".into()).unwrap().unchecked_into();
    stub_fetch(plan(r#"["hang", "hang", "hang", "hang"]"#));
    let link = authorize(auth_options(15, "")).unwrap();
    let options = js(&format!(
        "({{ grantEndpoint: '/api/grants', fetch: stubbedFetch, query: {:?}, cleanUrl: false }})",
        wechat_callback(&link, "confirm")
    ));
    let promise: Promise = handle_callback
        .call1(&JsValue::NULL, &options)
        .unwrap()
        .unchecked_into();
    let result = JsFuture::from(promise).await.unwrap();
    assert_eq!(pair(&result, "delivered", "kept"), (JsValue::FALSE, JsValue::TRUE));
    assert_eq!(
        JSON::stringify(&waits).unwrap(),
        "[8000,500,8000,1000,8000,2000,8000]",
        "timeout, wait, timeout, …"
    );
}

#[wasm_bindgen_test]
async fn a_redirect_is_not_a_delivery() {
    reset();
    // An expired session sends the POST to a login page: manual redirects, and followed ones, are not answers.
    let calls = stub_fetch(plan(r#"["redirect", "followed", 302]"#));
    let link = authorize(auth_options(11, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    let result = handle(&query, ", retries: 2").await.unwrap();
    assert_eq!(pair(&result, "delivered", "kept"), (JsValue::FALSE, JsValue::TRUE));
    assert_eq!(calls.length(), 3);
    assert!(stored("localStorage", &nonce_of(&query)).unwrap().contains(" owed:"));
    // Signed in again: the grant is still owed, and goes.
    let counts = retry_deliveries("").await.unwrap();
    assert_eq!(
        JSON::stringify(&counts).unwrap(),
        r#"{"delivered":1,"pending":0,"rejected":0}"#
    );
}

#[wasm_bindgen_test]
async fn a_timeout_keeps_the_grant_for_retry_deliveries() {
    reset();
    let calls = stub_fetch(plan(r#"["hang", 503, 503]"#));
    let link = authorize(auth_options(6, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    let result = handle(&query, ", retries: 1, timeoutMs: 50").await.unwrap();
    assert_eq!(
        pair(&result, "status", "delivered"),
        (JsValue::from("granted"), JsValue::FALSE)
    );
    assert_eq!(calls.length(), 2);

    let counts = retry_deliveries(", retries: 0").await.unwrap();
    assert_eq!(
        JSON::stringify(&counts).unwrap(),
        r#"{"delivered":0,"pending":1,"rejected":0}"#
    );
    let counts = retry_deliveries(", retries: 0").await.unwrap();
    assert_eq!(
        JSON::stringify(&counts).unwrap(),
        r#"{"delivered":1,"pending":0,"rejected":0}"#
    );
    assert_eq!(calls.length(), 4);
    let replay = handle(&query, "").await.unwrap();
    assert_eq!(pair(&replay, "delivered", "replayed"), (JsValue::TRUE, JsValue::TRUE));
    assert_eq!(calls.length(), 4);
}

#[wasm_bindgen_test]
async fn a_4xx_is_final_and_not_retried() {
    reset();
    let calls = stub_fetch(plan("[400, 403]"));
    let link = authorize(auth_options(7, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    let error = handle(&query, "").await.unwrap_err();
    assert!(get(&error, "message").as_string().unwrap().contains("HTTP 400"));
    assert_eq!(code(error), "backend_rejected");
    assert_eq!(code(handle(&query, "").await.unwrap_err()), "backend_rejected");
    assert_eq!(calls.length(), 1);

    // retryDeliveries counts a refusal as rejected, and does not post it again.
    let link = authorize(auth_options(8, "")).unwrap();
    handle(&wechat_callback(&link, "confirm"), ", retries: 0")
        .await
        .unwrap_err();
    stub_fetch(plan("[]"));
    let counts = retry_deliveries("").await.unwrap();
    assert_eq!(
        JSON::stringify(&counts).unwrap(),
        r#"{"delivered":0,"pending":0,"rejected":0}"#
    );
    let link = authorize(auth_options(9, "")).unwrap();
    let calls = stub_fetch(plan("[503]"));
    handle(&wechat_callback(&link, "confirm"), ", retries: 0")
        .await
        .unwrap();
    assert_eq!(calls.length(), 1);
    let later = stub_fetch(plan("[409, 201]"));
    let counts = retry_deliveries("").await.unwrap();
    assert_eq!(
        JSON::stringify(&counts).unwrap(),
        r#"{"delivered":0,"pending":0,"rejected":1}"#
    );
    assert_eq!(later.length(), 1, "a refusal is not retried");
    retry_deliveries("").await.unwrap();
    assert_eq!(later.length(), 1, "nor posted again later");
}

#[wasm_bindgen_test]
async fn headers_and_credentials_reach_fetch() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(12, "")).unwrap();
    let extra = ", headers: { 'X-CSRF-Token': 't0k', 'Idempotency-Key': 'ignored' }, credentials: 'include'";
    handle(&wechat_callback(&link, "confirm"), extra).await.unwrap();
    let call = calls.get(0);
    assert_eq!(get(&call, "credentials"), "include");
    let headers = get(&call, "headers");
    assert_eq!(get(&headers, "x-csrf-token"), "t0k");
    assert_eq!(
        get(&headers, "idempotency-key").as_string().unwrap().len(),
        32,
        "the nonce, not the caller's"
    );
}

#[wasm_bindgen_test]
async fn options_are_checked_before_anything_is_recorded() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(13, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    for bad in [
        ", retries: 99",
        ", timeoutMs: 0",
        ", retryDelayMs: -1",
        ", credentials: 'sometimes'",
        ", headers: 'X: y'",
        ", headers: [['bad header', 'x']]",
        ", fetch: 'fetch'",
        ", cleanUrl: 'yes'",
        ", grantEndpoint: 'http://[bad'",
        ", grantEndpoint: 'javascript:alert(1)'",
        ", grantEndpoint: 'https://user:pw@example.com/g'",
        ", grantEndpoint: 5",
    ] {
        assert_eq!(code(handle(&query, bad).await.unwrap_err()), "invalid_option", "{bad}");
    }
    assert!(stored("sessionStorage", &nonce_of(&query))
        .unwrap()
        .contains(" pending "));
    assert_eq!(calls.length(), 0);
    let result = handle(&query, "").await.unwrap();
    assert_eq!(get(&result, "replayed"), false);
}

#[wasm_bindgen_test]
async fn the_address_is_cleaned_marked_and_replayed_on_a_later_call() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(8, "")).unwrap();
    let callback = wechat_callback(&link, "confirm");
    // WeChat's reported mangling: "#/done" comes back as "#%23/done".
    set_address(&["/cb.html?from=menu&", &callback[1..], "#%23/done"].concat());
    let options = || js(r#"({ grantEndpoint: "/api/grants", fetch: stubbedFetch, retryDelayMs: 1 })"#);
    let result = JsFuture::from(handle_callback(options())).await.unwrap();
    assert_eq!(
        pair(&result, "status", "replayed"),
        (JsValue::from("granted"), JsValue::FALSE)
    );
    assert_eq!(address(), "/cb.html?from=menu#/done");
    // The history entry remembers the callback, so a reload of this address finds it.
    assert_eq!(js("history.state.wxsub"), &callback[1..]);

    // The page moved on to another hash route; handling the (cleaned) address again replays, posts nothing,
    // and leaves the address alone.
    js("history.replaceState(history.state, '', '#/elsewhere')");
    let again = JsFuture::from(handle_callback(options())).await.unwrap();
    assert_eq!(pair(&again, "replayed", "delivered"), (JsValue::TRUE, JsValue::TRUE));
    assert_eq!(address(), "/cb.html?from=menu#/elsewhere");
    assert_eq!(calls.length(), 1);
}

#[wasm_bindgen_test]
async fn a_router_state_is_kept_beside_the_marker() {
    reset();
    stub_fetch(plan("[]"));
    let link = authorize(auth_options(14, "")).unwrap();
    let callback = wechat_callback(&link, "cancel");
    js(&format!(
        "history.replaceState({{ key: 'router-1', idx: 0 }}, '', '/cb.html{callback}')"
    ));
    let options = js(r#"({ grantEndpoint: "/api/grants", fetch: stubbedFetch })"#);
    JsFuture::from(handle_callback(options)).await.unwrap();
    assert_eq!(
        js("JSON.stringify(Object.keys(history.state))"),
        r#"["key","idx","wxsub"]"#
    );
}

#[wasm_bindgen_test]
fn a_page_opened_without_a_callback_is_no_callback() {
    reset();
    set_address("/cb.html?from=bookmark#/done");
    assert_eq!(
        code(record_callback_and_clean_address(JsValue::UNDEFINED, JsValue::UNDEFINED).unwrap_err()),
        "no_callback"
    );
    set_address("/cb.html?template_id=T&scene=1");
    assert_eq!(
        code(record_callback_and_clean_address(JsValue::UNDEFINED, JsValue::UNDEFINED).unwrap_err()),
        "missing_param"
    );
}

#[wasm_bindgen_test]
fn build_link_validates_every_field_with_its_own_code() {
    let base =
        r#"appid: "wxaba38c7f163da69b", templateId: "T", redirectUrl: "http://support.qq.com", reserved: "test""#;
    let link = build_link(js(&format!("({{ {base}, scene: 1000 }})"))).unwrap();
    assert_eq!(link, "https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid=wxaba38c7f163da69b&scene=1000&template_id=T&redirect_url=http%3A%2F%2Fsupport.qq.com%2F&reserved=test#wechat_redirect");
    for scene in ["10001", "-1", "1.5", "NaN", "\"12\"", "null", "undefined"] {
        let error = build_link(js(&format!("({{ {base}, scene: {scene} }})"))).unwrap_err();
        assert_eq!(code(error), "invalid_scene", "scene {scene}");
    }
    for (field, value, expected) in [
        ("appid", "\"wx123\"", "invalid_appid"),
        ("appid", "42", "invalid_appid"),
        ("templateId", "\"\"", "invalid_template_id"),
        ("redirectUrl", "\"/cb.html\"", "invalid_redirect_url"),
        ("redirectUrl", "5", "invalid_redirect_url"),
        ("redirectUrl", "\"https://u:p@x.example/\"", "invalid_redirect_url"),
        ("reserved", "\"has-dash\"", "invalid_reserved"),
        ("authorizeUrl", "\"nope\"", "invalid_option"),
        ("authorizeUrl", "5", "invalid_option"),
    ] {
        let error = build_link(js(&format!("({{ {base}, scene: 1, {field}: {value} }})"))).unwrap_err();
        assert_eq!(code(error), expected, "{field}: {value}");
    }
    assert_eq!(code(build_link(JsValue::NULL).unwrap_err()), "invalid_option");
}

#[wasm_bindgen_test]
fn a_throwing_getter_is_that_fields_error_never_absent() {
    let base = r#"appid: "wxaba38c7f163da69b", scene: 1, templateId: "T", redirectUrl: "http://support.qq.com", reserved: "r""#;
    for (field, expected) in [
        ("appid", "invalid_appid"),
        ("scene", "invalid_scene"),
        ("redirectUrl", "invalid_redirect_url"),
        ("authorizeUrl", "invalid_option"),
    ] {
        let options = js(&format!(
            "({{ {base}, get {field}() {{ throw new Error('getter') }} }})"
        ));
        assert_eq!(code(build_link(options).unwrap_err()), expected, "{field}");
    }
    // A Proxy whose every read throws: the first field read names it.
    let hostile = js("new Proxy({}, { get() { throw new Error('trap') } })");
    assert_eq!(code(build_link(hostile).unwrap_err()), "invalid_appid");
    let revoked = js("(() => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy })()");
    assert_eq!(code(check_options(revoked).unwrap_err()), "invalid_option");
}

#[wasm_bindgen_test]
fn the_link_carries_the_normalised_redirect_url_that_was_checked() {
    reset();
    for (typed, sent) in [
        (
            "HTTP://Support.QQ.com:80\\\\cb.html",
            "http%3A%2F%2Fsupport.qq.com%2Fcb.html",
        ),
        (
            "http://support.qq.com:8080\\\\@evil.example/",
            "http%3A%2F%2Fsupport.qq.com%3A8080%2F%40evil.example%2F",
        ),
        ("http://0x7f.1/", "http%3A%2F%2F127.0.0.1%2F"),
    ] {
        let options = js(&format!(
            r#"({{ appid: "{APPID}", scene: 1, templateId: "T", redirectUrl: "{typed}", reserved: "r" }})"#
        ));
        let link = build_link(options).unwrap();
        assert!(
            link.contains(&["&redirect_url=", sent, "&"].concat()),
            "{typed}: {link}"
        );
    }
    // authorize() too: the page's own address typed oddly is sent as the browser serialises it.
    let typed = js("location.origin.replace('http:', 'HTTP:') + '/a/../cb.html'")
        .as_string()
        .unwrap();
    let options = js(&format!(
        r#"({{ appid: "{APPID}", scene: 1, templateId: "T", redirectUrl: {typed:?} }})"#
    ));
    let link = authorize(options).unwrap();
    let sent = js("encodeURIComponent(location.origin + '/cb.html')")
        .as_string()
        .unwrap();
    assert!(link.contains(&["&redirect_url=", &sent, "&"].concat()), "{link}");
}

#[wasm_bindgen_test]
fn authorize_refuses_other_origins_foreign_domains_and_outside_wechat() {
    reset();
    let other = js(&format!(
        r#"({{ appid: "{APPID}", scene: 1, templateId: "T", redirectUrl: "https://elsewhere.example/cb" }})"#
    ));
    let error = authorize(other).unwrap_err();
    assert!(get(&error, "message")
        .as_string()
        .unwrap()
        .contains("this page's origin"));
    assert_eq!(code(error), "invalid_redirect_url");
    assert_eq!(
        code(authorize(auth_options(1, ", businessDomain: 'shop.example.com'")).unwrap_err()),
        "domain_mismatch"
    );
    assert_eq!(
        code(authorize(auth_options(1, ", requireWeChat: true")).unwrap_err()),
        "not_in_wechat"
    );
    assert_eq!(
        code(authorize(auth_options(1, ", ttlSeconds: 0")).unwrap_err()),
        "invalid_option"
    );
    assert_eq!(
        js("sessionStorage.length + localStorage.length"),
        0,
        "nothing stored for a refusal"
    );
    assert!(authorize(auth_options(1, ", businessDomain: location.hostname")).is_ok());
}

#[wasm_bindgen_test]
fn the_package_keeps_a_bounded_number_of_records() {
    reset();
    js("localStorage.setItem('app:theme', 'dark')");
    for scene in 0..60 {
        authorize(auth_options(scene, "")).unwrap();
    }
    let records = |area: &str| {
        js(&format!(
            "Object.keys({area}).filter(k => k.startsWith('wxsub:')).length"
        ))
    };
    assert_eq!(records("sessionStorage"), 20);
    assert_eq!(records("localStorage"), 20);
    assert_eq!(js("localStorage.getItem('app:theme')"), "dark");
}

#[wasm_bindgen_test]
fn parse_callback_gives_typed_fields() {
    let parsed = parse_callback("?openid=o1&template_id=T&action=confirm&scene=12&reserved=r".into()).unwrap();
    assert_eq!(
        JSON::stringify(&parsed).unwrap(),
        r#"{"action":"confirm","openid":"o1","templateId":"T","scene":12,"reserved":"r"}"#
    );
    assert_eq!(
        code(parse_callback("?action=confirm".into()).unwrap_err()),
        "missing_param"
    );
    assert_eq!(
        code(parse_callback("?template_id=T&action=ok&scene=1&reserved=r".into()).unwrap_err()),
        "invalid_param"
    );
    assert_eq!(code(parse_callback("?from=menu".into()).unwrap_err()), "no_callback");
    assert_eq!(code(parse_callback(JsValue::UNDEFINED).unwrap_err()), "invalid_option");
}

#[wasm_bindgen_test]
fn recognises_wechat() {
    let ua = JsValue::from("Mozilla/5.0 (Linux; Android 13) MicroMessenger/8.0.42.2460(0x28002A35) NetType/WIFI");
    assert!(is_wechat(ua.clone()).unwrap());
    assert_eq!(wechat_version(ua).unwrap(), "8.0.42.2460");
    assert!(
        !is_wechat(JsValue::UNDEFINED).unwrap(),
        "headless Chromium is not WeChat"
    );
    assert!(wechat_version(JsValue::NULL).unwrap().is_null());
    for bad in ["5", "true", "Symbol()", "({})", "5n", "new String('MicroMessenger/8')"] {
        assert_eq!(code(is_wechat(js(bad)).unwrap_err()), "invalid_option", "{bad}");
        assert_eq!(code(wechat_version(js(bad)).unwrap_err()), "invalid_option", "{bad}");
    }
}

#[wasm_bindgen_test]
async fn a_callback_handled_in_another_tab_is_a_replay_here() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(9, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    let reserved = nonce_of(&query);
    // This tab's sessionStorage keeps the pending record; another tab moves the shared localStorage copy on.
    let pending = stored("sessionStorage", &reserved).unwrap();
    handle(&query, "").await.unwrap();
    js(&format!("sessionStorage.setItem('wxsub:{reserved}', {pending:?})"));
    assert!(stored("sessionStorage", &reserved).unwrap().contains(" pending "));
    let here = handle(&query, "").await.unwrap();
    assert_eq!(pair(&here, "replayed", "delivered"), (JsValue::TRUE, JsValue::TRUE));
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
        pair(&granted, "status", "replayed"),
        (JsValue::from("granted"), JsValue::FALSE)
    );
    assert_eq!(calls.length(), 1);
}

/// The page's address with `callback`'s query, as WeChat's redirect lands.
fn land_on(callback: &str) -> String {
    let at = ["/cb.html?from=menu&", &callback[1..], "#%23/done"].concat();
    set_address(&at);
    at
}

fn from_address(extra: &str) -> Promise {
    handle_callback(js(&format!(
        "({{ grantEndpoint: '/api/grants', fetch: stubbedFetch, retryDelayMs: 1 {extra} }})"
    )))
}

#[wasm_bindgen_test]
async fn clean_url_false_leaves_the_address_as_it_came() {
    reset();
    stub_fetch(plan("[]"));
    let link = authorize(auth_options(16, "")).unwrap();
    let at = land_on(&wechat_callback(&link, "confirm"));
    let result = JsFuture::from(from_address(", cleanUrl: false")).await.unwrap();
    assert_eq!(get(&result, "delivered"), true);
    assert_eq!(address(), at);
    assert!(js("history.state").is_null(), "no marker either");
    // The default cleans.
    JsFuture::from(from_address("")).await.unwrap();
    assert_eq!(address(), "/cb.html?from=menu#/done");
}

#[wasm_bindgen_test]
async fn a_failed_verification_leaves_the_address_as_it_came() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(17, "")).unwrap();
    let genuine = wechat_callback(&link, "confirm");
    let tampered = genuine.replace("scene=17", "scene=18");
    let at = land_on(&tampered);
    let error = JsFuture::from(from_address("")).await.unwrap_err();
    assert_eq!(code(error), "scene_mismatch");
    assert_eq!(address(), at);
    assert!(js("history.state").is_null());
    assert_eq!(calls.length(), 0);
}

#[wasm_bindgen_test]
async fn a_replay_of_an_undelivered_grant_restores_its_lost_copy() {
    reset();
    stub_fetch(plan("[503]"));
    let link = authorize(auth_options(18, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    handle(&query, ", retries: 0").await.unwrap();
    let reserved = nonce_of(&query);
    let copy = stored("localStorage", &reserved).unwrap();
    assert!(copy.contains(" owed:"));
    js(&format!("localStorage.removeItem('wxsub:{reserved}')"));
    // Handled again (a reload): the record is found in sessionStorage and saved again before any POST.
    let recorded = record_callback_and_clean_address(query.clone().into(), false.into()).unwrap();
    assert_eq!(get(&get(&recorded, "result"), "replayed"), true);
    assert!(get(&recorded, "post").is_object());
    assert_eq!(stored("localStorage", &reserved), Some(copy));
    // Delivered now, so that no later test's retryDeliveries() finds it in this page's memory.
    stub_fetch(plan("[]"));
    assert_eq!(get(&retry_deliveries("").await.unwrap(), "delivered"), 1);
}

#[wasm_bindgen_test]
async fn a_router_that_drops_the_marker_still_gets_a_replay_from_the_page_memo() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(19, "")).unwrap();
    land_on(&wechat_callback(&link, "confirm"));
    JsFuture::from(from_address("")).await.unwrap();
    // A router replaces the history state without the package's marker.
    js("history.replaceState(null, '', location.href)");
    let again = JsFuture::from(from_address("")).await.unwrap();
    assert_eq!(pair(&again, "replayed", "delivered"), (JsValue::TRUE, JsValue::TRUE));
    assert_eq!(calls.length(), 1);
}

#[wasm_bindgen_test]
async fn a_query_passed_by_hand_leaves_the_addresss_own_callback_to_be_handled() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let a = wechat_callback(&authorize(auth_options(20, "")).unwrap(), "confirm");
    let b = wechat_callback(&authorize(auth_options(21, "")).unwrap(), "confirm");
    let at = land_on(&a);
    let by_hand = JsFuture::from(from_address(&format!(", query: {b:?}"))).await.unwrap();
    assert_eq!(get(&by_hand, "scene"), 21);
    assert_eq!(address(), at, "callback A is still in the address");
    assert!(js("history.state").is_null(), "and B left no marker");
    // A is then handled as usual: its grant is posted, not lost.
    let own = JsFuture::from(from_address("")).await.unwrap();
    assert_eq!(pair(&own, "scene", "replayed"), (JsValue::from(20), JsValue::FALSE));
    assert_eq!(get(&own, "delivered"), true);
    assert_eq!(calls.length(), 2);
}

/// WeChat's parameters appended to the end of a redirect URL that ends in a hash route: inside the fragment.
fn land_in_fragment(callback: &str) -> String {
    let at = ["/cb.html?from=menu#/done?", &callback[1..]].concat();
    set_address(&at);
    at
}

#[wasm_bindgen_test]
async fn a_callback_in_the_fragment_is_verified_cleaned_to_the_route_and_replayed() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let genuine = wechat_callback(&authorize(auth_options(23, "")).unwrap(), "confirm");
    // A forged one in the fragment is refused as strictly as in the query, and the address left as it came.
    let at = land_in_fragment(&genuine.replace("scene=23", "scene=24"));
    assert_eq!(
        code(JsFuture::from(from_address("")).await.unwrap_err()),
        "scene_mismatch"
    );
    assert_eq!(address(), at);
    land_in_fragment(&genuine);
    let result = JsFuture::from(from_address("")).await.unwrap();
    assert_eq!(pair(&result, "scene", "replayed"), (JsValue::from(23), JsValue::FALSE));
    assert_eq!(address(), "/cb.html?from=menu#/done");
    assert_eq!(js("history.state.wxsub"), &genuine[1..]);
    let again = JsFuture::from(from_address("")).await.unwrap();
    assert_eq!(pair(&again, "replayed", "delivered"), (JsValue::TRUE, JsValue::TRUE));
    assert_eq!(calls.length(), 1);
}

#[wasm_bindgen_test]
async fn a_query_passed_by_hand_from_the_fragment_cleans_the_address() {
    reset();
    stub_fetch(plan("[]"));
    let callback = wechat_callback(&authorize(auth_options(25, "")).unwrap(), "confirm");
    land_in_fragment(&callback);
    // What a hash-routed page passes by hand: the query its router parsed out of the fragment.
    let by_hand = JsFuture::from(from_address(&format!(", query: {callback:?}")))
        .await
        .unwrap();
    assert_eq!(get(&by_hand, "scene"), 25);
    assert_eq!(
        address(),
        "/cb.html?from=menu#/done",
        "no openid or reserved left in the address"
    );
}

#[wasm_bindgen_test]
async fn a_grant_another_tab_delivered_is_reported_delivered_and_kept() {
    reset();
    let link = authorize(auth_options(22, "")).unwrap();
    let query = wechat_callback(&link, "confirm");
    let reserved = nonce_of(&query);
    // While this tab's POST goes unanswered, another tab delivers the grant and records it in localStorage.
    js(&format!(
        "globalThis.stubbedFetch = () => {{
           const key = 'wxsub:{reserved}';
           localStorage.setItem(key, localStorage.getItem(key).replace(' owed:', ' delivered:'));
           return Promise.reject(new TypeError('Failed to fetch'));
         }}"
    ));
    let result = handle(&query, ", retries: 0").await.unwrap();
    assert_eq!(pair(&result, "delivered", "kept"), (JsValue::TRUE, JsValue::TRUE));
}

#[wasm_bindgen_test]
async fn headers_are_read_once_and_odd_fetch_answers_are_no_answer() {
    reset();
    let calls = stub_fetch(plan("[]"));
    let link = authorize(auth_options(23, "")).unwrap();
    // A one-shot iterable: read by the check, it would be empty at the POST.
    let extra = ", headers: (function* () { yield ['X-CSRF-Token', 't0k']; })()";
    handle(&wechat_callback(&link, "confirm"), extra).await.unwrap();
    assert_eq!(get(&get(&calls.get(0), "headers"), "x-csrf-token"), "t0k");

    for odd in [
        "() => Promise.resolve(null)",
        "() => Promise.resolve({ get type() { throw new Error('odd'); } })",
        "() => Promise.resolve({ type: 'basic', redirected: false, get status() { throw new Error('odd'); } })",
    ] {
        let link = authorize(auth_options(24, "")).unwrap();
        let result = handle(
            &wechat_callback(&link, "confirm"),
            &format!(", retries: 0, fetch: {odd}"),
        )
        .await
        .unwrap();
        assert_eq!(
            pair(&result, "delivered", "kept"),
            (JsValue::FALSE, JsValue::TRUE),
            "{odd}"
        );
    }
    // Delivered now, so that no later test's retryDeliveries() finds them in this page's memory.
    stub_fetch(plan("[]"));
    assert_eq!(get(&retry_deliveries("").await.unwrap(), "delivered"), 3);
}

#[wasm_bindgen_test]
async fn a_polluted_prototype_changes_nothing() {
    reset();
    let calls = stub_fetch(plan("[]"));
    js("Object.prototype.authorizeUrl = 'https://evil.example/steal'");
    let link = authorize(auth_options(25, "")).unwrap();
    assert!(link.starts_with("https://mp.weixin.qq.com/mp/subscribemsg?"), "{link}");
    let query = wechat_callback(&link, "confirm");
    land_on(&query);
    js("Object.prototype.query = '?openid=x&template_id=T&action=confirm&scene=1&reserved=forged'");
    js("Object.prototype.toJSON = function () { return { forged: true }; }");
    js("Object.prototype.grantEndpoint = '/evil'");
    let result = JsFuture::from(handle_callback(js(
        "({ grantEndpoint: '/api/grants', fetch: stubbedFetch })",
    )))
    .await
    .unwrap();
    js("delete Object.prototype.toJSON");
    assert_eq!(
        get(&result, "scene"),
        25,
        "the genuine callback, not the polluted query"
    );
    let body: JsValue = JSON::parse(&get(&calls.get(0), "body").as_string().unwrap()).unwrap();
    assert_eq!(get(&body, "reserved"), nonce_of(&query).as_str());
    // An inherited marker is not a marker.
    js("Object.prototype.wxsub = '?openid=x&template_id=T&action=confirm&scene=1&reserved=forged'");
    set_address("/elsewhere.html");
    js("history.replaceState({}, '', location.href)");
    let error = JsFuture::from(from_address("")).await.unwrap_err();
    assert_eq!(code(error), "no_callback");
}

#[wasm_bindgen_test]
async fn an_empty_grant_endpoint_and_endless_strings_are_refused_before_anything_is_recorded() {
    reset();
    for endpoint in ["''", "'   '"] {
        let options = js(&format!("({{ grantEndpoint: {endpoint}, query: '?x=1' }})"));
        let error = JsFuture::from(handle_callback(options)).await.unwrap_err();
        assert_eq!(code(error), "invalid_option", "{endpoint}");
    }
    let huge = js("'?openid=o1&template_id=T&action=confirm&scene=1&reserved=' + 'a'.repeat(100000)");
    assert_eq!(code(parse_callback(huge.clone()).unwrap_err()), "invalid_option");
    let options = js("({ grantEndpoint: '/api/grants' })");
    Reflect::set(&options, &"query".into(), &huge).unwrap();
    assert_eq!(
        code(JsFuture::from(handle_callback(options)).await.unwrap_err()),
        "invalid_option"
    );
    let appid = js("({ appid: 'wx' + 'a'.repeat(100000), scene: 1, templateId: 'T', redirectUrl: location.href })");
    assert_eq!(code(authorize(appid).unwrap_err()), "invalid_appid");
    assert_eq!(js("sessionStorage.length + localStorage.length"), 0);
}

/// Issue 17, item 8: a grant the previous version of the package left undelivered (format 1, under a random key)
/// is posted after the upgrade, with its own nonce as the Idempotency-Key, and then kept in today's format.
#[wasm_bindgen_test]
async fn an_undelivered_grant_an_older_version_stored_is_posted() {
    reset();
    let calls = stub_fetch(plan("[201]"));
    let v1 = format!(
        "v=1&appid={APPID}&scene=1000&template_id={TEMPLATE}\
         &redirect_url=https%3A%2F%2FShop.Example.com%2Fcb.html%23%2Fdone&reserved=olderNonce42\
         &created=1700000000000&expires=1700000600000&state=granted&openid=oUser_1&delivered=0"
    );
    js(&format!("localStorage.setItem('wxsub:k2Vx8rQp0aZt1mNc', '{v1}')"));
    let counts = retry_deliveries(", retries: 0").await.unwrap();
    assert_eq!(
        JSON::stringify(&counts).unwrap(),
        r#"{"delivered":1,"pending":0,"rejected":0}"#
    );
    assert_eq!(calls.length(), 1);
    let body = JSON::parse(&get(&calls.get(0), "body").as_string().unwrap()).unwrap();
    assert_eq!(get(&body, "openid"), "oUser_1");
    assert_eq!(get(&body, "scene"), 1000);
    assert_eq!(get(&get(&calls.get(0), "headers"), "idempotency-key"), "olderNonce42");
    assert_eq!(stored("localStorage", "k2Vx8rQp0aZt1mNc"), None);
    assert!(stored("localStorage", "olderNonce42").is_some_and(|v| v.contains(" delivered:oUser_1 ")));
}
