//! The send and token decisions for the Node build: `decideSend`, `priorAttemptMayHaveReachedWeChat`,
//! `readStableToken` and `grantNotDueError`, converting JS values to [`crate::server::outcome`]'s and
//! [`crate::server::token`]'s types and back. Any JS value gets a typed `SubscribeError`, never a trap.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use super::super::object;
use super::super::options::Options;
use crate::error::Error;
use crate::server::outcome::{self, Attempt, SendInput};
use crate::server::token::{self, TokenAnswer};
use crate::{AppId, Reserved};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** One send attempt's result, for decideSend: WeChat's answer, or none. */
export type SendAttempt =
  | {
      /** WeChat's errcode. */
      errcode: number;
      /** Attempts (claims) of this grant so far, this one included: 1 on the first. */
      attempts: number;
      /** This answer came from the retry with a freshly fetched token (default false). */
      tokenRefreshed?: boolean;
      /** The claimed grant's `detail` before this attempt (the last finished attempt's outcome name), null when
       * none finished. Absent is taken as null. Decides whether 43101 means our own earlier attempt spent the
       * permit: see priorAttemptMayHaveReachedWeChat. */
      lastDetail?: string | null;
    }
  | {
      /** A network failure, a timeout, or an answer without errcode: the request may have reached WeChat. */
      noAnswer: true;
      attempts: number;
      /** A newer grant of the same (openid, template, scene) is stored or sending (store.hasNewer). */
      newerGrant: boolean;
    };

/** What to do with the grant after one attempt. */
export interface SendDecision {
  state: 'sent' | 'refused' | 'stored' | 'blocked' | 'unknown';
  /** Stable snake_case: the errcode's name (explainErrcode), or 'sent_earlier', 'no_answer',
   * 'no_answer_newer_grant', 'retries_exhausted'. Kept as the grant's detail. */
  name: string;
  /** Invalidate the token, get a new one and send again now (once). Otherwise apply state and retryInMs. */
  retryWithNewToken: boolean;
  /** Stop sending anything until the account's setup is fixed (40164, 48001). */
  stopQueue: boolean;
  /** Pause every send for retryInMs (45009, 45011). */
  pauseQueue: boolean;
  /** With state 'stored': when to try again, in ms from now. */
  retryInMs: number | null;
}

/** A token read from cgi-bin/stable_token's answer. */
export interface StableTokenAnswer {
  accessToken: string;
  /** WeChat's expires_in, seconds. */
  expiresIn: number;
  /** How long to use it, ms from the answer: expires_in minus a margin (a tenth, at most 5 minutes). */
  cacheMs: number;
}
"#;

/// The send decision table: what one attempt's result means for the grant (see `SendDecision`).
#[wasm_bindgen(js_name = decideSend, unchecked_return_type = "SendDecision")]
pub fn decide_send(#[wasm_bindgen(unchecked_param_type = "SendAttempt")] input: JsValue) -> Result<JsValue, JsValue> {
    let o = Options::new(input, "input")?;
    let attempts = attempts(&o)?;
    let attempt = if o.opt_bool("noAnswer", false)? {
        if o.opt_value("errcode", Error::InvalidOption("errcode"), |_| true)?
            .is_some()
        {
            return Err(Error::InvalidOption("noAnswer").into());
        }
        let newer_grant = o
            .opt_value("newerGrant", Error::InvalidOption("newerGrant"), |v| {
                v.as_bool().is_some()
            })?
            .and_then(|v| v.as_bool())
            .ok_or(Error::InvalidOption("newerGrant"))?;
        Attempt::NoAnswer { newer_grant }
    } else {
        let errcode = o
            .opt_value("errcode", Error::InvalidOption("errcode"), |_| true)?
            .and_then(|v| v.as_f64())
            .filter(|n| n % 1.0 == 0.0 && n.abs() < 1e15)
            .ok_or(Error::InvalidOption("errcode"))? as i64;
        let last_detail = o.opt_string("lastDetail", Error::InvalidOption("lastDetail"))?;
        Attempt::Answered {
            errcode,
            token_refreshed: o.opt_bool("tokenRefreshed", false)?,
            prior_may_have_reached_wechat: outcome::prior_attempt_may_have_reached_wechat(
                attempts,
                last_detail.as_deref(),
            ),
        }
    };
    let d = outcome::decide(SendInput { attempt, attempts });
    Ok(object(&[
        ("state", d.state.as_str().into()),
        ("name", d.name.into()),
        ("retryWithNewToken", d.retry_with_new_token.into()),
        ("stopQueue", d.stop_queue.into()),
        ("pauseQueue", d.pause_queue.into()),
        (
            "retryInMs",
            d.retry_in_ms.map_or(JsValue::NULL, |ms| (ms as f64).into()),
        ),
    ])
    .into())
}

/// Whether an earlier attempt of a claimed grant may have reached WeChat (its answer lost, or its sender
/// crashed), from the grant as the store returns it: `{ attempts, detail }`. When true, a sender checks
/// `store.hasNewer(grant)` before sending again.
#[wasm_bindgen(js_name = priorAttemptMayHaveReachedWeChat)]
pub fn prior_attempt_may_have_reached_wechat(
    #[wasm_bindgen(unchecked_param_type = "{ attempts: number; detail?: string | null }")] grant: JsValue,
) -> Result<bool, JsValue> {
    let o = Options::new(grant, "grant")?;
    let attempts = attempts(&o)?;
    let detail = o.opt_string("detail", Error::InvalidOption("detail"))?;
    Ok(outcome::prior_attempt_may_have_reached_wechat(
        attempts,
        detail.as_deref(),
    ))
}

/// `attempts`: a whole number from 1.
fn attempts(o: &Options) -> Result<u32, Error> {
    match o.opt_u32("attempts", 0, 0..=u32::MAX)? {
        0 => Err(Error::InvalidOption("attempts")),
        n => Ok(n),
    }
}

/// Reads what `cgi-bin/stable_token` answered (the parsed JSON; `undefined` when no answer came) into
/// `{ accessToken, expiresIn, cacheMs }`, or throws `token_refused`, `token_rate_limited` or
/// `token_unavailable` naming the errcode, never the token.
#[wasm_bindgen(js_name = readStableToken, unchecked_return_type = "StableTokenAnswer")]
pub fn read_stable_token(
    #[wasm_bindgen(unchecked_param_type = "unknown")] answer: JsValue,
) -> Result<JsValue, JsValue> {
    if answer.is_undefined() {
        return Err(Error::TokenUnavailable(token::NO_ANSWER).into());
    }
    if !answer.is_object() {
        return Err(Error::TokenUnavailable(token::BAD_ANSWER).into());
    }
    let field = |name: &str| Reflect::get(&answer, &JsValue::from_str(name)).ok();
    let bad = || JsValue::from(Error::TokenUnavailable(token::BAD_ANSWER));
    let number = |name: &str| -> Result<Option<f64>, JsValue> {
        match field(name) {
            None => Err(bad()),
            Some(v) if v.is_undefined() || v.is_null() => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(bad),
        }
    };
    let access_token = match field("access_token") {
        None => return Err(bad()),
        Some(v) if v.is_undefined() || v.is_null() => None,
        Some(v) => Some(v.as_string().ok_or_else(bad)?),
    };
    let read = token::read(TokenAnswer {
        access_token: access_token.as_deref(),
        expires_in: number("expires_in")?,
        errcode: number("errcode")?,
    })?;
    Ok(object(&[
        ("accessToken", read.token.as_str().into()),
        ("expiresIn", (read.expires_in_s as f64).into()),
        ("cacheMs", (read.cache_ms as f64).into()),
    ])
    .into())
}

/// The `grant_not_due` error for a grant `sendGrant` could not claim, naming its state ('sent', 'refused',
/// 'blocked', 'unknown', 'stored', 'sending') or 'absent'; returned, not thrown.
#[wasm_bindgen(js_name = grantNotDueError)]
pub fn grant_not_due_error(#[wasm_bindgen(unchecked_param_type = "string")] state: JsValue) -> JsValue {
    let state = match state.as_string().as_deref() {
        Some("sent") => "it was sent",
        Some("refused") => "WeChat refused it: no permit",
        Some("blocked") => "it is blocked until the site unblocks it",
        Some("unknown") => "its delivery is unknown",
        Some("stored") => "it waits for its retry time",
        Some("sending") => "another worker holds its lease",
        _ => "no such grant",
    };
    Error::GrantNotDue(state).into()
}

/// Checks the options of `stableTokenProvider` (`what` 'token'), `sendGrant` ('send'), `startSendWorker`
/// ('worker') and `staticTokenProvider` ('static', `{ fn }`): the fields `what` requires must be there, and each
/// field present must be right: `appid` (an AppID), `secret` (1 to 128 printable characters), `apiBase` (an
/// absolute http(s) URL), `reserved`, the integers `leaseMs`, `timeoutMs`, `intervalMs`, `batch`, `concurrency`,
/// and `fetch`, `fn`, `store`, `token`, `message` by kind. Throws the first problem (never naming the secret's
/// value); returns nothing.
#[wasm_bindgen(js_name = checkSendOptions)]
pub fn check_send_options(
    #[wasm_bindgen(unchecked_param_type = "object")] options: JsValue,
    #[wasm_bindgen(unchecked_param_type = "'token' | 'send' | 'worker' | 'static'")] what: JsValue,
) -> Result<(), JsValue> {
    let required: &[&'static str] = match what.as_string().as_deref() {
        Some("token") => &["appid", "secret"],
        Some("send") => &["store", "token", "reserved", "message"],
        Some("worker") => &["store", "token", "message"],
        Some("static") => &["fn"],
        _ => return Err(Error::InvalidOption("what").into()),
    };
    let o = Options::new(options, "options")?;
    if let Some(appid) = o.opt_string("appid", Error::InvalidAppid)? {
        AppId::parse(&appid)?;
    }
    let secret = o.opt_string("secret", Error::InvalidOption("secret"))?;
    if secret.is_some_and(|s| !(1..=128).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_graphic())) {
        return Err(Error::InvalidOption("secret").into());
    }
    if let Some(base) = o.opt_string("apiBase", Error::InvalidOption("apiBase"))? {
        crate::HttpUrl::parse(&base).map_err(|_| Error::InvalidOption("apiBase"))?;
    }
    if let Some(reserved) = o.opt_string("reserved", Error::InvalidReserved)? {
        Reserved::parse(&reserved)?;
    }
    o.opt_u32("leaseMs", 1, 1..=86_400_000)?;
    o.opt_u32("timeoutMs", 1, 1..=600_000)?;
    o.opt_u32("intervalMs", 1, 1..=3_600_000)?;
    o.opt_u32("batch", 1, 1..=1_000)?;
    o.opt_u32("concurrency", 1, 1..=100)?;
    o.opt_value("fetch", Error::InvalidOption("fetch"), JsValue::is_function)?;
    o.opt_value("store", Error::InvalidOption("store"), JsValue::is_object)?;
    o.opt_value("token", Error::InvalidOption("token"), JsValue::is_object)?;
    o.opt_value("message", Error::InvalidOption("message"), |v| {
        v.is_object() || v.is_function()
    })?;
    o.opt_value("fn", Error::InvalidOption("fn"), JsValue::is_function)?;
    for &name in required {
        let missing = Error::InvalidOption(name);
        if o.opt_value(name, missing.clone(), |_| true)?.is_none() {
            return Err(match name {
                "appid" => Error::InvalidAppid,
                "reserved" => Error::InvalidReserved,
                _ => missing,
            }
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use js_sys::JSON;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn js(text: &str) -> JsValue {
        JSON::parse(text).unwrap()
    }

    fn get(value: &JsValue, name: &str) -> JsValue {
        Reflect::get(value, &name.into()).unwrap()
    }

    #[test]
    fn decide_send_reads_both_forms() {
        let sent = decide_send(js(r#"{"errcode":0,"attempts":1}"#)).unwrap();
        assert_eq!(get(&sent, "state"), "sent");
        assert!(get(&sent, "retryInMs").is_null());
        let token = decide_send(js(r#"{"errcode":40001,"attempts":1,"tokenRefreshed":false}"#)).unwrap();
        assert_eq!(get(&token, "retryWithNewToken"), true);
        let earlier = decide_send(js(r#"{"errcode":43101,"attempts":2,"lastDetail":null}"#)).unwrap();
        assert_eq!(get(&earlier, "name"), "sent_earlier");
        let refused = decide_send(js(r#"{"errcode":43101,"attempts":2,"lastDetail":"system_busy"}"#)).unwrap();
        assert_eq!(get(&refused, "state"), "refused");
        let lost = decide_send(js(r#"{"noAnswer":true,"attempts":1,"newerGrant":true}"#)).unwrap();
        assert_eq!(get(&lost, "state"), "unknown");
    }

    #[test]
    fn any_other_value_is_a_typed_error() {
        for bad in [
            "null",
            "1",
            r#""x""#,
            "{}",
            r#"{"errcode":0}"#,
            r#"{"errcode":0,"attempts":0}"#,
            r#"{"errcode":0,"attempts":1.5}"#,
            r#"{"errcode":"0","attempts":1}"#,
            r#"{"errcode":0.5,"attempts":1}"#,
            r#"{"errcode":0,"attempts":1,"tokenRefreshed":"yes"}"#,
            r#"{"errcode":0,"attempts":1,"lastDetail":5}"#,
            r#"{"noAnswer":true,"attempts":1}"#,
            r#"{"noAnswer":true,"attempts":1,"newerGrant":1}"#,
            r#"{"noAnswer":true,"attempts":1,"newerGrant":false,"errcode":0}"#,
            r#"{"noAnswer":1,"attempts":1,"newerGrant":false}"#,
        ] {
            let error = decide_send(js(bad)).unwrap_err();
            assert_eq!(get(&error, "code"), "invalid_option", "{bad}");
        }
    }

    #[test]
    fn read_stable_token_types_every_answer() {
        let ok = read_stable_token(js(r#"{"access_token":"TOKEN","expires_in":7200}"#)).unwrap();
        assert_eq!(get(&ok, "accessToken"), "TOKEN");
        assert_eq!(get(&ok, "cacheMs"), 6_900_000);
        let code = |value: JsValue| get(&read_stable_token(value).unwrap_err(), "code");
        assert_eq!(
            code(js(r#"{"errcode":40125,"errmsg":"invalid appsecret"}"#)),
            "token_refused"
        );
        assert_eq!(code(js(r#"{"errcode":45011}"#)), "token_rate_limited");
        assert_eq!(code(JsValue::UNDEFINED), "token_unavailable");
        for bad in [
            "null",
            "\"text\"",
            "{}",
            r#"{"access_token":5,"expires_in":7200}"#,
            r#"{"access_token":"T","expires_in":"7200"}"#,
        ] {
            assert_eq!(code(js(bad)), "token_unavailable", "{bad}");
        }
    }

    #[test]
    fn grant_not_due_names_the_state() {
        let error = grant_not_due_error("sent".into());
        assert_eq!(get(&error, "code"), "grant_not_due");
        assert_eq!(get(&grant_not_due_error(JsValue::NULL), "code"), "grant_not_due");
    }
}
