//! The HTTP client under every call: hyper over rustls, with this client's own TLS
//! configuration, no redirects, no `Referer`, one deadline for a whole exchange, and a cap
//! on the answer's length.
//!
//! dingscope does not build on reqwest: reqwest's TLS features are unified by Cargo with
//! every reqwest in the program, and a provider-less rustls backend there would break the
//! application's own clients.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::Error;

/// Why one attempt brought back no answer to classify.
pub(crate) enum Failure {
    /// The request cannot be built (a header value with a line break, say): final.
    Build(String),
    /// The connection failed, or the answer did not arrive in time.
    Transport {
        /// The deadline passed.
        timeout: bool,
        /// What failed, with no URL, header or body in it.
        message: String,
    },
    /// The answer is longer than the client reads.
    TooLarge {
        /// The HTTP status.
        status: u16,
        /// The limit, in bytes.
        limit: usize,
    },
}

#[cfg(feature = "stream")]
impl Failure {
    /// What failed, with no URL, header or body in it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Failure::Build(m) => m.clone(),
            Failure::Transport { message, .. } => message.clone(),
            Failure::TooLarge { status, limit } => {
                format!("HTTP {status}, an answer longer than {limit} bytes")
            }
        }
    }
}

/// What came back: the status, the body, and `Retry-After` if it gave seconds.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) retry_after: Option<Duration>,
}

/// One outgoing request.
pub(crate) struct Outgoing<'a> {
    pub(crate) method: Method,
    /// The whole URL, query included.
    pub(crate) url: &'a str,
    /// Extra headers; their values are marked sensitive (never logged by hyper).
    pub(crate) headers: &'a [(&'static str, &'a str)],
    /// A JSON body.
    pub(crate) json: Option<Vec<u8>>,
}

/// The shared HTTP client.
#[derive(Clone)]
pub(crate) struct Http {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    limit: usize,
}

const AGENT: &str = concat!("dingscope/", env!("CARGO_PKG_VERSION"));

impl Http {
    /// A client whose every exchange (connecting, sending, reading the answer) ends within
    /// `timeout`, and which reads answers of at most `limit` bytes.
    pub(crate) fn new(timeout: Duration, limit: usize) -> Result<Http, Error> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new()).build(https);
        Ok(Http {
            client,
            timeout,
            limit,
        })
    }

    /// Sends `out` and reads the status and body, within the deadline and the cap.
    pub(crate) async fn send(&self, out: Outgoing<'_>) -> Result<Reply, Failure> {
        let request = build(out)?;
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(Failure::Transport {
                timeout: true,
                message: format!("no answer within {:?}", self.timeout),
            }),
        }
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Reply, Failure> {
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| Failure::Transport {
                timeout: false,
                message: chain(&e),
            })?;
        let status = response.status().as_u16();
        // Seconds only: DingTalk does not send the HTTP-date form.
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let too_large = Failure::TooLarge {
            status,
            limit: self.limit,
        };
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > u64::try_from(self.limit).unwrap_or(u64::MAX)) {
            return Err(too_large);
        }
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Failure::Transport {
                timeout: false,
                message: chain(&e),
            })?;
            if let Ok(data) = frame.into_data() {
                if bytes.len().saturating_add(data.len()) > self.limit {
                    return Err(too_large);
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(Reply {
            status,
            body: bytes,
            retry_after,
        })
    }
}

fn build(out: Outgoing<'_>) -> Result<Request<Full<Bytes>>, Failure> {
    let mut request = Request::builder()
        .method(out.method)
        .uri(out.url)
        .header(USER_AGENT, AGENT);
    for (name, value) in out.headers {
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            Failure::Build(format!(
                "the value of the `{name}` header is not a valid header value"
            ))
        })?;
        value.set_sensitive(true);
        request = request.header(*name, value);
    }
    let body = match out.json {
        Some(json) => {
            request = request.header(CONTENT_TYPE, "application/json");
            Full::new(Bytes::from(json))
        }
        None => Full::new(Bytes::new()),
    };
    // The URL is not in the message: an old-API URL holds the token.
    request
        .body(body)
        .map_err(|e| Failure::Build(format!("the request cannot be built: {e}")))
}

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// The query string for `pairs`, `name=value&...`, form-encoded.
pub(crate) fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The client's TLS: rustls with ring, and the platform's certificate verifier, given to
/// this client alone. The process-wide default provider is left to the application, so
/// that its own clients and its own `install_default()` work as if dingscope were not
/// there.
pub(crate) fn tls_config() -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| Error::Config(format!("cannot set up certificate verification: {e}")))?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_form_encoded() {
        assert_eq!(
            query_string([("a", "1"), ("userIdList", "[\"x y\",\"é&=\"]")]),
            "a=1&userIdList=%5B%22x+y%22%2C%22%C3%A9%26%3D%22%5D"
        );
        assert_eq!(query_string([]), "");
    }
}
