//! One exchange with DingTalk, retried: transport failures, throttling, timeouts and server
//! failures are tried again with exponential backoff and jitter, for API and token calls
//! alike.

use std::cell::Cell;
use std::future::Future;

use super::answer::Verdict;
use super::builder::Retry;
use crate::Error;
use crate::error::ApiError;

/// The last answer of an exchange: final, or retryable with no attempts left.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) bytes: Vec<u8>,
    pub(crate) verdict: Verdict,
    /// Attempts made, counting from the first of the whole call.
    pub(crate) attempts: u32,
}

/// Sends with `send` until an answer is final or `retry.attempts` are used up; `done` is
/// how many attempts the call has made already. A transport failure on the last attempt is
/// a `Timeout` or `Transport` error.
pub(crate) async fn exchange<F, Fut>(
    retry: &Retry,
    endpoint: &str,
    done: u32,
    classify: fn(u16, &[u8]) -> Verdict,
    mut send: F,
) -> Result<Answer, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(u16, Vec<u8>), reqwest::Error>>,
{
    let mut attempt = done;
    loop {
        attempt += 1;
        let (status, bytes) = match send().await {
            Ok(answer) => answer,
            Err(e) => {
                let timeout = e.is_timeout();
                if attempt < retry.attempts {
                    tracing::debug!(%endpoint, attempt, timeout, "transport error; retrying");
                    backoff(retry, attempt).await;
                    continue;
                }
                let err =
                    ApiError::new(endpoint, 0, "", &e.without_url().to_string(), None, attempt);
                return Err(if timeout {
                    Error::Timeout(err)
                } else {
                    Error::Transport(err)
                });
            }
        };
        let verdict = classify(status, &bytes);
        if verdict.is_retryable() && attempt < retry.attempts {
            tracing::debug!(%endpoint, attempt, status, "throttled or failed; backing off");
            backoff(retry, attempt).await;
            continue;
        }
        return Ok(Answer {
            status,
            bytes,
            verdict,
            attempts: attempt,
        });
    }
}

/// Sleeps `base * 2^(attempt-1)`, capped, with ±50% jitter.
async fn backoff(retry: &Retry, attempt: u32) {
    let exp = retry.base_delay.saturating_mul(1 << (attempt - 1).min(16));
    let capped = exp.min(retry.max_delay);
    let jitter = 0.5 + next_random();
    tokio::time::sleep(capped.mul_f64(jitter)).await;
}

/// A number in [0, 1) from a per-thread xorshift generator; jitter needs no better.
fn next_random() -> f64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
            (t ^ (&t as *const u64 as u64)) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}
