//! A dependency that does not answer, or asks us to slow down, through the real SDK with the
//! functions' own limits (`guichet_aws::limits`): `POST /tickets` answers the documented
//! `503 busy` JSON with `Retry-After`, well within the function's 10-second timeout, instead of
//! Lambda killing the function and API Gateway answering a bare 503 of its own. A refusal that
//! will not pass (a missing table) stays a 500: only what a retry may mend is a 503.
//!
//! The "dependency" is a TCP listener of the test's own on loopback: one that accepts and never
//! answers (an outage), and one that answers every request as DynamoDB answers when it throttles.

use std::time::{Duration, Instant};

use guichet_edge::config::Config;
use lambda_http::http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The API functions' timeout (the template's `Globals.Function.Timeout`).
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections and never answers, holding them open.
async fn black_hole() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{address}")
}

/// Answers every request with DynamoDB's error of `code` and `status`.
async fn answering(status: u16, code: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(answer(socket, status, code));
        }
    });
    format!("http://{address}")
}

/// Reads one request (headers, then `content-length` bytes) and answers it, connection closed.
async fn answer(mut socket: TcpStream, status: u16, code: &'static str) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let Ok(n) = socket.read(&mut buffer).await else {
            return;
        };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&request);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break;
            }
        }
    }
    let body = format!(
        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"refused by the test"}}"#
    );
    let response = format!(
        "HTTP/1.1 {status} Refused\r\ncontent-type: application/x-amz-json-1.0\r\n\
         x-amzn-errortype: {code}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(response.as_bytes()).await;
}

/// `POST /tickets` as create-ticket's `main` wires it, every client on `endpoint`; its
/// response and how long it took.
async fn create_ticket_against(
    endpoint: &str,
) -> (StatusCode, serde_json::Value, Option<String>, Duration) {
    let sdk = guichet_aws::limits(aws_config::defaults(aws_config::BehaviorVersion::latest()))
        .endpoint_url(endpoint)
        .load()
        .await;
    let config = Config {
        tickets_table: "guichet-outage-tickets".into(),
        idempotency_ttl: jiff::SignedDuration::from_hours(24),
    };
    let desk = guichet_aws::wiring::desk(&config, &sdk).expect("desk");
    let incidents = guichet_aws::wiring::incidents(
        &config.tickets_table,
        guichet_tests::Stack::incident_config(),
        &sdk,
    );
    let started = Instant::now();
    // Without the limits, a call to the black hole would wait forever: this is Lambda's kill.
    let response = tokio::time::timeout(
        FUNCTION_TIMEOUT,
        create_ticket::handle(
            &desk,
            &incidents,
            guichet_edge::testing::event("create-ticket.json"),
        ),
    )
    .await
    .expect("answered before the function's timeout");
    let took = started.elapsed();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        response.status(),
        guichet_edge::testing::body_json(&response),
        retry_after,
        took,
    )
}

#[tokio::test]
async fn a_table_that_does_not_answer_is_a_json_503_in_time() {
    let (status, body, retry_after, took) = create_ticket_against(&black_hole().await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "busy", "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    // The SDK's operation timeout, well before the function's.
    assert!(took < FUNCTION_TIMEOUT / 2, "{took:?}");
    assert!(
        took >= guichet_aws::ATTEMPT_TIMEOUT,
        "it did wait: {took:?}"
    );
}

#[tokio::test]
async fn a_throttling_table_is_a_json_503_after_the_sdks_retries() {
    let endpoint = answering(400, "ThrottlingException").await;
    let (status, body, retry_after, took) = create_ticket_against(&endpoint).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "busy", "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert!(took < FUNCTION_TIMEOUT / 2, "{took:?}");
    // Nothing of the dependency's answer reaches the caller.
    assert!(!body.to_string().contains("refused by the test"), "{body}");
}

#[tokio::test]
async fn a_refusal_that_will_not_pass_is_a_500() {
    let endpoint = answering(400, "ResourceNotFoundException").await;
    let (status, body, retry_after, _) = create_ticket_against(&endpoint).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error"], "internal", "{body}");
    assert_eq!(retry_after, None);
}
