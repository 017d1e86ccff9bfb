//! Posting a grant to the site's backend with `fetch`: timeout, retries with backoff, and the verdict.

use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestCredentials, RequestInit, Response};

use super::options::Options;
use crate::delivery::{backoff_ms, verdict, Verdict};
use crate::error::{Error, Result};
use crate::record::Grant;

/// Where and how grants are posted: the delivery part of `handleCallback`'s and `retryDeliveries`' options.
pub struct Endpoint {
    url: String,
    headers: Option<JsValue>,
    credentials: RequestCredentials,
    retries: u32,
    timeout_ms: u32,
    retry_delay_ms: u32,
}

impl Endpoint {
    /// Reads `grantEndpoint`, `headers`, `credentials`, `retries`, `timeoutMs` and `retryDelayMs`.
    pub fn from_options(options: &Options) -> Result<Endpoint> {
        let url = options.string("grantEndpoint", Error::InvalidOption("grantEndpoint"))?;
        if url.is_empty() {
            return Err(Error::InvalidOption("grantEndpoint"));
        }
        let credentials = match options.opt_string("credentials")?.as_deref() {
            None | Some("same-origin") => RequestCredentials::SameOrigin,
            Some("include") => RequestCredentials::Include,
            Some("omit") => RequestCredentials::Omit,
            Some(_) => return Err(Error::InvalidOption("credentials")),
        };
        let headers: Option<JsValue> = options.opt_object("headers")?;
        // Fail now on headers fetch would refuse, rather than after the grant is recorded.
        if let Some(h) = &headers {
            Headers::new_with_str_sequence_sequence(h).map_err(|_| Error::InvalidOption("headers"))?;
        }
        Ok(Endpoint {
            url,
            headers,
            credentials,
            retries: options.opt_u32("retries", 3, 0..=10)?,
            timeout_ms: options.opt_u32("timeoutMs", 8000, 1..=120_000)?,
            retry_delay_ms: options.opt_u32("retryDelayMs", 500, 0..=60_000)?,
        })
    }

    /// Posts `grant` until the backend answers for good or the retries run out ([`Verdict::Retry`]).
    pub async fn deliver(&self, grant: &Grant<'_>) -> Verdict {
        let body = grant_json(grant);
        let mut last = Verdict::Retry;
        for attempt in 0..=self.retries {
            if attempt > 0 {
                sleep(backoff_ms(attempt - 1, self.retry_delay_ms)).await;
            }
            last = self.post_once(&body, grant.reserved.as_str()).await;
            if last != Verdict::Retry {
                break;
            }
        }
        last
    }

    async fn post_once(&self, body: &str, reserved: &str) -> Verdict {
        let Some(window) = web_sys::window() else { return Verdict::Retry };
        let headers = match &self.headers {
            Some(h) => Headers::new_with_str_sequence_sequence(h),
            None => Headers::new(),
        };
        let Ok(headers) = headers else { return Verdict::Retry };
        if headers.set("Content-Type", "application/json").is_err() || headers.set("Idempotency-Key", reserved).is_err() {
            return Verdict::Retry;
        }
        let controller = AbortController::new().ok();
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from_str(body));
        init.set_headers(&headers);
        init.set_credentials(self.credentials);
        if let Some(c) = &controller {
            init.set_signal(Some(&c.signal()));
        }
        // Raced against a timer as well as aborted, so a fetch that ignores its signal cannot hang us.
        let mut timer = 0;
        let timeout = Promise::new(&mut |_, reject: Function| {
            timer = window.set_timeout_with_callback_and_timeout_and_arguments_0(&reject, self.timeout_ms as i32).unwrap_or(0);
        });
        let fetch = window.fetch_with_str_and_init(&self.url, &init);
        let outcome = JsFuture::from(Promise::race(&Array::of2(&fetch, &timeout))).await;
        window.clear_timeout_with_handle(timer);
        match outcome.ok().and_then(|r| r.dyn_into::<Response>().ok()) {
            Some(response) => verdict(response.status()),
            None => {
                if let Some(c) = controller {
                    c.abort();
                }
                Verdict::Retry
            }
        }
    }
}

/// `{"appid","openid","template_id","scene","reserved"}`: WeChat's names, serialised by the browser.
fn grant_json(grant: &Grant<'_>) -> String {
    let body = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&body, &k.into(), &v);
    };
    set("appid", grant.appid.as_str().into());
    set("openid", grant.openid.as_str().into());
    set("template_id", grant.template_id.as_str().into());
    set("scene", grant.scene.get().into());
    set("reserved", grant.reserved.as_str().into());
    JSON::stringify(&body).ok().and_then(|s| s.as_string()).unwrap_or_default()
}

/// Resolves after `ms` milliseconds.
async fn sleep(ms: u32) {
    let Some(window) = web_sys::window() else { return };
    let wait = Promise::new(&mut |resolve: Function, _| {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
    });
    let _ = JsFuture::from(wait).await;
}
