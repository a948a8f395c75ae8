//! One exchange with DingTalk, retried: transport failures, throttling, timeouts and server
//! failures are tried again with exponential backoff and jitter, for API and token calls
//! alike.

use std::cell::Cell;
use std::future::Future;

use std::time::SystemTime;

use super::DingTalk;
use super::answer::Verdict;
use super::answer::final_error;
use super::builder::Retry;
use super::throttle::{Pacing, hold_for};
use super::transport::{Failure, Reply};
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

/// Sends with `send` until an answer is final or the configured attempts are used up;
/// `done` is how many attempts the call has made already. A transport failure on the last
/// attempt is a `Timeout` or `Transport` error. A request that cannot be built, an answer
/// over the size limit and a redirect are final at once: DingTalk's APIs do not redirect,
/// and no redirect is followed.
///
/// Before each attempt, the throttle deadlines that concern the call (`pacing`: the
/// corp's endpoint; `None` for token calls, which only the IP ban concerns) are waited
/// out or fail the call ([`DingTalk::pace`]); a throttled answer sets them.
pub(crate) async fn exchange<F, Fut>(
    dt: &DingTalk,
    endpoint: &str,
    pacing: Option<&Pacing<'_>>,
    done: u32,
    classify: fn(u16, &[u8]) -> Verdict,
    mut send: F,
) -> Result<Answer, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Reply, Failure>>,
{
    let retry = &dt.inner.retry;
    let mut attempt = done;
    loop {
        attempt += 1;
        let permit = dt.in_flight(pacing).await;
        dt.pace(endpoint, pacing, attempt).await?;
        let sent = send().await;
        drop(permit);
        let (status, bytes, retry_after) = match sent {
            Ok(r) => (r.status, r.body, r.retry_after),
            Err(Failure::TooLarge { status, limit }) => {
                return Err(Error::Protocol(ApiError::new(
                    endpoint,
                    status,
                    "",
                    &format!("an answer longer than {limit} bytes; not read"),
                    None,
                    attempt,
                )));
            }
            Err(Failure::Build(message)) => {
                return Err(Error::Config(format!("{endpoint}: {message}")));
            }
            Err(Failure::Transport { timeout, message }) => {
                if attempt < retry.attempts {
                    tracing::debug!(%endpoint, attempt, timeout, "transport error; retrying");
                    backoff(retry, attempt).await;
                    continue;
                }
                let err = ApiError::new(endpoint, 0, "", &message, None, attempt);
                return Err(if timeout {
                    Error::Timeout(err)
                } else {
                    Error::Transport(err)
                });
            }
        };
        if (300..400).contains(&status) {
            return Err(Error::Protocol(ApiError::new(
                endpoint,
                status,
                "",
                "a redirect, which DingTalk's APIs never answer; not followed",
                None,
                attempt,
            )));
        }
        let verdict = classify(status, &bytes);
        if let Some(hold) = hold_for(&verdict, retry_after, SystemTime::now()) {
            let until = dt.hold(hold, pacing).await;
            let wait = until.duration_since(SystemTime::now()).unwrap_or_default();
            if verdict.is_retryable() && attempt < retry.attempts && wait <= dt.inner.throttle_wait
            {
                tracing::debug!(%endpoint, attempt, status, "throttled; waiting for the deadline");
                continue;
            }
            let mut err = match final_error(verdict, endpoint, status, attempt) {
                Error::Throttled(e) => e,
                other => return Err(other),
            };
            err.retry_at = Some(until);
            return Err(Error::Throttled(err));
        }
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
    tokio::time::sleep(jittered(capped, next_random())).await;
}

/// `delay` times a factor between 0.5 and 1.5 (`unit` in [0, 1)), without overflow: a
/// delay too long to scale stays as it is.
pub(crate) fn jittered(delay: std::time::Duration, unit: f64) -> std::time::Duration {
    std::time::Duration::try_from_secs_f64(delay.as_secs_f64() * (0.5 + unit)).unwrap_or(delay)
}

/// A number in [0, 1) from a per-thread xorshift generator; jitter needs no better.
pub(crate) fn next_random() -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// `Retry { base_delay: Duration::MAX, max_delay: Duration::MAX, .. }` means "no
    /// cap": scaling it by a jitter above 1 overflows (`Duration::mul_f64` panics), so the
    /// jitter keeps such a delay as it is.
    #[test]
    fn jitter_never_overflows() {
        assert!(std::panic::catch_unwind(|| Duration::MAX.mul_f64(1.2)).is_err());
        for unit in [0.0, 0.5, 0.7, 0.999_999] {
            assert!(jittered(Duration::MAX, unit) >= Duration::MAX / 2, "{unit}");
            let d = jittered(Duration::from_secs(2), unit);
            assert!(
                d >= Duration::from_secs(1) && d < Duration::from_secs(3),
                "{d:?}"
            );
        }
    }
}
