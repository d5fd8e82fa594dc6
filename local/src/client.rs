//! A minimal HTTP/1.1 client for tests and tools that talk to the local gateway: one request
//! per connection, the whole response read into memory. Deliberately free of TLS, redirects,
//! pooling and retries, so a test sees exactly what the gateway answered.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::HeaderValue;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Longer than the gateway's own integration timeout, so that a slow handler shows up as the
/// gateway's 503 rather than as a client error.
pub const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {addr}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("`{0}` is not an HTTP method")]
    Method(String),
    #[error("the request cannot be built")]
    Request(#[from] hyper::http::Error),
    #[error("the HTTP exchange failed")]
    Http(#[from] hyper::Error),
    #[error("no complete response within {TIMEOUT:?}")]
    Timeout,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientResponse {
    pub status: u16,
    /// Names lower-case, in the order received; repeated headers stay separate.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ClientResponse {
    /// The body as JSON, or `Null` if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request to `addr` and reads the whole response. `Host` is set to `addr` unless
/// given in `headers`.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Result<ClientResponse, ClientError> {
    tokio::time::timeout(
        TIMEOUT,
        exchange(addr, method, path_and_query, headers, body),
    )
    .await
    .map_err(|_| ClientError::Timeout)?
}

async fn exchange(
    addr: SocketAddr,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Result<ClientResponse, ClientError> {
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| ClientError::Method(method.to_owned()))?;
    let mut builder = Request::builder().method(method).uri(path_and_query);
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        builder = builder.header(hyper::header::HOST, addr.to_string());
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(Full::new(Bytes::from(body.unwrap_or_default())))?;

    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| ClientError::Connect { addr, source })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // The connection future drives the socket; it ends when the response is read and the
    // sender dropped.
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes().to_vec();
    drop(sender);
    driver.abort();

    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), text(value)))
        .collect();
    Ok(ClientResponse {
        status: parts.status.as_u16(),
        headers,
        body,
    })
}

fn text(value: &HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}
