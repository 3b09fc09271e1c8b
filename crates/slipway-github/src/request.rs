//! Sending requests: under the class's budget, GitHub's rate-limit answers
//! honoured, idempotent requests retried after a 5xx or a transport error,
//! and a POST that failed otherwise never resent.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use slipway_cli::Backoff;

use crate::{EndpointClass, GitHub, GitHubError, throttle_wait};

/// Items asked for per page (GitHub's largest page).
const PER_PAGE: u64 = 100;
/// A bound on pages followed, against a server that never stops.
const MAX_PAGES: u64 = 100;

/// One request: its rate class, method, path under the API and body.
#[derive(Clone, Copy)]
pub(crate) struct Call<'a> {
    pub(crate) class: EndpointClass,
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) body: Option<&'a serde_json::Value>,
}

impl<'a> Call<'a> {
    pub(crate) fn get(path: &'a str) -> Self {
        Call {
            class: EndpointClass::Read,
            method: &Method::GET,
            path,
            body: None,
        }
    }

    pub(crate) fn post(class: EndpointClass, path: &'a str) -> Self {
        Call {
            class,
            method: &Method::POST,
            path,
            body: None,
        }
    }

    fn idempotent(self) -> bool {
        *self.method != Method::POST
    }
}

/// What to do after a failed attempt.
enum Next {
    /// Send again, after this pause (a rate-limit pause is the budget's).
    Retry(Option<Duration>),
    Fail(GitHubError),
}

/// The pause before an idempotent request is sent again after a 5xx or a
/// transport error: from half a second, doubling to 32 s, jittered.
const BACKOFF: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(32));

fn backoff(attempt: u32) -> Duration {
    BACKOFF.delay(attempt)
}

impl GitHub {
    /// Every page of a list: `path` ends in `?` or `&`; `items` gives a
    /// page's total count and items. Stops at a short page, at the total,
    /// or after `MAX_PAGES`.
    pub(crate) async fn every_page<P: DeserializeOwned, T>(
        &self,
        path: &str,
        items: impl Fn(P) -> (u64, Vec<T>),
    ) -> Result<Vec<T>, GitHubError> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let paged = format!("{path}per_page={PER_PAGE}&page={page}");
            let got: P = self.request(Call::get(&paged)).await?;
            let (total, got) = items(got);
            let n = got.len() as u64;
            all.extend(got);
            if n < PER_PAGE || all.len() as u64 >= total {
                break;
            }
        }
        Ok(all)
    }

    /// One request, decoded.
    pub(crate) async fn request<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
    ) -> Result<T, GitHubError> {
        let bytes = self.request_raw(call).await?;
        serde_json::from_slice(&bytes).map_err(|e| GitHubError::Decode {
            method: call.method.clone(),
            path: call.path.to_owned(),
            message: e.to_string(),
        })
    }

    /// One request under the budget, with GitHub's rate-limit answers
    /// honoured; returns the body of a 2xx answer.
    pub(crate) async fn request_raw(&self, call: Call<'_>) -> Result<Vec<u8>, GitHubError> {
        let uri = format!("{}{}", self.inner.api_url, call.path);
        let mut unspecified = self.inner.limits.budget.unspecified_wait;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            tracing::debug!("GitHub {} {} (attempt {attempt})", call.method, call.path);
            let next = match self.send_once(call, &uri).await {
                Err(e) => after_transport_error(call, attempt, &e),
                Ok((status, _, bytes)) if status.is_success() => return Ok(bytes),
                Ok((status, headers, bytes)) => {
                    self.after_refusal(call, attempt, &mut unspecified, status, &headers, &bytes)
                }
            };
            match next {
                Next::Retry(pause) => {
                    self.inner.counters.retried.fetch_add(1, Ordering::Relaxed);
                    if let Some(pause) = pause {
                        tokio::time::sleep(pause).await;
                    }
                }
                Next::Fail(err) => return Err(err),
            }
        }
    }

    /// A non-2xx answer: a rate-limit refusal pauses the class and is sent
    /// again (GitHub did not process it); a 5xx is tried again when
    /// idempotent; anything else fails.
    fn after_refusal(
        &self,
        call: Call<'_>,
        attempt: u32,
        unspecified: &mut Duration,
        status: StatusCode,
        headers: &HeaderMap,
        bytes: &[u8],
    ) -> Next {
        let inner = &self.inner;
        let budget = inner.limits.budget;
        let text = String::from_utf8_lossy(bytes);
        let now = Utc::now().timestamp();
        if let Some(wait) = throttle_wait(status.as_u16(), headers, &text, now, *unspecified) {
            inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
            if !has_wait_headers(headers) {
                *unspecified = unspecified.saturating_mul(2);
            }
            if wait > budget.max_wait || attempt >= budget.max_attempts {
                return Next::Fail(GitHubError::RateLimited {
                    method: call.method.clone(),
                    path: call.path.to_owned(),
                    attempts: attempt,
                    wait,
                    max_wait: budget.max_wait,
                });
            }
            tracing::warn!(
                "GitHub rate limit on {} {} (HTTP {status}): every {} request waits {:.1}s",
                call.method,
                call.path,
                call.class.name(),
                wait.as_secs_f64()
            );
            inner.counters.throttled_wait_ms.fetch_add(
                u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            inner.limits.pause(call.class, wait);
            return Next::Retry(None);
        }
        if status.is_server_error() && call.idempotent() && attempt < 3 {
            tracing::warn!(
                "GitHub {} {}: HTTP {status}; trying again",
                call.method,
                call.path
            );
            return Next::Retry(Some(backoff(attempt)));
        }
        Next::Fail(GitHubError::Status {
            method: call.method.clone(),
            path: call.path.to_owned(),
            status: status.as_u16(),
            message: message_of(status, &text),
        })
    }

    /// Sends a request once, under the budget, and reads the whole answer.
    async fn send_once(
        &self,
        call: Call<'_>,
        uri: &str,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), octocrab::Error> {
        let inner = &self.inner;
        inner.limits.turn(call.class).await;
        let _permit = inner
            .limits
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        inner.counters.count(call.class);
        let response = match *call.method {
            Method::GET => inner.crab._get(uri).await?,
            Method::POST => inner.crab._post(uri, call.body).await?,
            Method::DELETE => inner.crab._delete(uri, call.body).await?,
            _ => unreachable!("only GET, POST and DELETE are used"),
        };
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await?.to_bytes().to_vec();
        Ok((parts.status, parts.headers, bytes))
    }
}

/// A transport error: an idempotent request is tried again (three
/// attempts in all); a POST is not, since GitHub may have acted on it.
fn after_transport_error(call: Call<'_>, attempt: u32, err: &octocrab::Error) -> Next {
    let message = slipway_chain(err);
    if call.idempotent() && attempt < 3 {
        tracing::warn!(
            "GitHub {} {}: {message}; trying again",
            call.method,
            call.path
        );
        return Next::Retry(Some(backoff(attempt)));
    }
    Next::Fail(GitHubError::Transport {
        method: call.method.clone(),
        path: call.path.to_owned(),
        message: if call.idempotent() {
            message
        } else {
            format!("{message} (not retried: GitHub may have acted on it)")
        },
    })
}

fn has_wait_headers(headers: &HeaderMap) -> bool {
    headers.contains_key("retry-after")
        || headers
            .get("x-ratelimit-remaining")
            .is_some_and(|v| v.as_bytes() == b"0")
}

/// GitHub's `message` field when the body has one, else the body itself.
fn message_of(status: StatusCode, body: &str) -> String {
    #[derive(Deserialize)]
    struct Message {
        message: String,
    }
    match serde_json::from_str::<Message>(body) {
        Ok(m) => m.message,
        Err(_) if body.trim().is_empty() => {
            status.canonical_reason().unwrap_or("no message").to_owned()
        }
        Err(_) => body.chars().take(300).collect(),
    }
}

/// octocrab's error and its sources, joined.
fn slipway_chain(err: &octocrab::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_from_the_body() {
        assert_eq!(
            message_of(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#),
            "Not Found"
        );
        assert_eq!(message_of(StatusCode::BAD_GATEWAY, ""), "Bad Gateway");
    }
}
