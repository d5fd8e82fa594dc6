//! Opening a function's AWS connections at init. A cold container's first call to an endpoint
//! pays for its connection: DNS, TCP, the TLS handshake and the root certificates. Made during
//! init, before the runtime loop asks for the first event, that cost lands in the init phase
//! (where Lambda does not freeze the process mid-way) instead of in a player's first request,
//! and measured on the floor binary it is cheaper overall (README, "Cold start, first call over
//! TLS"). One cheap call per endpoint, read-only and on a key or prefix nothing is ever stored
//! under; the connection then stays in the pool that every client of the function shares
//! ([`crate::sdk_config`]).
//!
//! A warm-up that fails only logs a warning: the first request then opens the connection as it
//! always did, and a function never fails its init over an optimisation.

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use guichet_edge::config::WarmupConfig;

/// The partition and sort key of the item the DynamoDB warm-up reads: no record has it (every
/// record's `pk` starts with its kind and a `#`), so the read finds nothing, and the template
/// grants the functions that read nothing else `GetItem` on this key only.
pub const WARMUP_KEY: &str = "WARMUP";

/// How long the warm-up may hold init: a healthy endpoint answers in a fraction of this, and
/// past it the first request opens the connection itself.
pub const WARMUP_TIMEOUT: Duration = Duration::from_secs(1);

/// One AWS endpoint a function's first request calls, named by the resource that call is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// DynamoDB: a `GetItem` of [`WARMUP_KEY`] in this table.
    Table(String),
    /// SQS: `GetQueueAttributes` of this queue (by URL), asking for no attribute.
    Queue(String),
    /// SES: `GetEmailIdentity` of this sending identity.
    EmailIdentity(String),
    /// S3: `ListObjectsV2` of this bucket under a prefix nothing is stored under (virtual-hosted
    /// S3 is a host per bucket, so the call must be on the bucket the function reads).
    Bucket(String),
}

impl Endpoint {
    /// The service, for the log: never the resource name.
    pub fn service(&self) -> &'static str {
        match self {
            Endpoint::Table(_) => "dynamodb",
            Endpoint::Queue(_) => "sqs",
            Endpoint::EmailIdentity(_) => "sesv2",
            Endpoint::Bucket(_) => "s3",
        }
    }

    /// The call, on a client built from `sdk` (whose HTTP client, and so whose pool, is the one
    /// every client of the function uses). Any answer means the connection is open; an error
    /// answer is still reported, since it means the grant or the resource is not what the code
    /// expects.
    async fn call(self, sdk: SdkConfig) -> Result<(), WarmupError> {
        let service = self.service();
        let answer = match self {
            Endpoint::Table(table) => {
                let (client, key) = (
                    aws_sdk_dynamodb::Client::new(&sdk),
                    AttributeValue::S(WARMUP_KEY.into()),
                );
                let read = client.get_item().table_name(table).key("pk", key.clone());
                answered(read.key("sk", key).projection_expression("pk").send()).await
            }
            Endpoint::Queue(url) => {
                let client = aws_sdk_sqs::Client::new(&sdk);
                answered(client.get_queue_attributes().queue_url(url).send()).await
            }
            Endpoint::EmailIdentity(identity) => {
                let client = aws_sdk_sesv2::Client::new(&sdk);
                answered(client.get_email_identity().email_identity(identity).send()).await
            }
            Endpoint::Bucket(bucket) => {
                let list = aws_sdk_s3::Client::new(&sdk)
                    .list_objects_v2()
                    .bucket(bucket);
                answered(list.prefix("warmup/").max_keys(1).send()).await
            }
        };
        answer.map_err(|e| WarmupError::Failed {
            service,
            // The SDK's error with its causes on one line (its Display alone is "service error").
            reason: DisplayErrorContext(e.as_ref()).to_string(),
        })
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Whether the call was answered: what it returned is of no use, only the connection is.
async fn answered<T, E: std::error::Error + Send + Sync + 'static>(
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<(), BoxError> {
    call.await.map(drop).map_err(BoxError::from)
}

/// Why one endpoint was not warmed. Logged as a warning, never returned as an init failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WarmupError {
    #[error("{service} did not answer the warm-up call within {timeout:?}")]
    TimedOut {
        service: &'static str,
        timeout: Duration,
    },
    #[error("{service} refused or dropped the warm-up call: {reason}")]
    Failed {
        service: &'static str,
        /// The SDK's error chain as text: the error itself is not `Clone`, and this one is
        /// only ever logged (it names the operation and the service's code, no player data).
        reason: String,
    },
    #[error("the {service} warm-up task stopped before answering")]
    Stopped { service: &'static str },
}

/// Opens a connection to each endpoint, all at once, each bounded by `timeout`; returns what
/// failed, each already logged as a warning. Does nothing when `config` turns it off.
pub async fn warm(
    sdk: &SdkConfig,
    config: WarmupConfig,
    endpoints: &[Endpoint],
    timeout: Duration,
) -> Vec<WarmupError> {
    if !config.warm_connections {
        tracing::debug!("connection warm-up turned off (WARM_CONNECTIONS=false)");
        return Vec::new();
    }
    let started = Instant::now();
    // No retry: the first request retries if it has to, and init should not wait out backoffs.
    let sdk = sdk
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    // Spawned, so the endpoints' handshakes overlap instead of adding up.
    let calls: Vec<_> = endpoints
        .iter()
        .map(|endpoint| {
            let (endpoint, sdk, service) = (endpoint.clone(), sdk.clone(), endpoint.service());
            let call = tokio::spawn(async move {
                tokio::time::timeout(timeout, endpoint.call(sdk))
                    .await
                    .unwrap_or(Err(WarmupError::TimedOut { service, timeout }))
            });
            (service, call)
        })
        .collect();
    let mut failures = Vec::new();
    for (service, call) in calls {
        let error = match call.await {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => error,
            // A panic in the SDK, or the runtime shutting down: the first request will meet
            // the same fault if there is one.
            Err(_) => WarmupError::Stopped { service },
        };
        tracing::warn!(
            error = %error,
            "connection warm-up failed; the first request will open the connection itself"
        );
        failures.push(error);
    }
    tracing::debug!(
        endpoints = endpoints.len(),
        failed = failures.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "connection warm-up done"
    );
    failures
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

    use aws_config::Region;
    use aws_sdk_dynamodb::config::Credentials;

    use super::*;

    /// A port nothing listens on: bound, then closed, so a connection is refused at once.
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").port()
    }

    /// The functions' own SDK configuration (limits, shared HTTP client) pointed at `endpoint`,
    /// with dummy credentials so nothing looks for real ones.
    async fn sdk_at(endpoint: &str) -> SdkConfig {
        crate::loader()
            .endpoint_url(endpoint)
            .region(Region::new("ca-central-1"))
            .credentials_provider(Credentials::for_tests())
            .load()
            .await
    }

    /// The log lines of what runs under it, for the assertions.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn every_endpoint() -> Vec<Endpoint> {
        vec![
            Endpoint::Table("tickets".into()),
            Endpoint::Queue("http://127.0.0.1:1/000000000000/notifications".into()),
            Endpoint::EmailIdentity("soutien@guichet.example".into()),
            Endpoint::Bucket("documents".into()),
        ]
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_a_warning_not_a_failed_init() {
        let sdk = sdk_at(&format!("http://127.0.0.1:{}", closed_port())).await;
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let config = WarmupConfig {
            warm_connections: true,
        };
        let failures = warm(&sdk, config, &every_endpoint(), WARMUP_TIMEOUT * 5).await;

        assert_eq!(failures.len(), 4, "{failures:?}");
        let mut services: Vec<_> = failures
            .iter()
            .map(|f| match f {
                WarmupError::Failed { service, .. } | WarmupError::TimedOut { service, .. } => {
                    *service
                }
                WarmupError::Stopped { service } => service,
            })
            .collect();
        services.sort_unstable();
        assert_eq!(services, ["dynamodb", "s3", "sesv2", "sqs"]);
        let log =
            String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("UTF-8 log");
        assert_eq!(log.matches("WARN").count(), 4, "{log}");
        assert!(log.contains("connection warm-up failed"), "{log}");
        // The resources' names stay out of the log: only the service is named.
        assert!(!log.contains("soutien@"), "{log}");
    }

    #[tokio::test]
    async fn a_silent_endpoint_is_cut_off_at_the_timeout() {
        // Accepts the connection and never answers: only the timeout ends the call.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let sdk = sdk_at(&format!("http://{}", listener.local_addr().expect("addr"))).await;
        let config = WarmupConfig {
            warm_connections: true,
        };
        let timeout = Duration::from_millis(200);
        let failures = warm(&sdk, config, &[Endpoint::Table("t".into())], timeout).await;
        assert_eq!(
            failures,
            [WarmupError::TimedOut {
                service: "dynamodb",
                timeout
            }]
        );
        drop(listener);
    }

    /// A stand-in endpoint that answers `{}` to every request on keep-alive connections, and
    /// counts the connections it accepted.
    async fn counting_endpoint() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let address = listener.local_addr().expect("its address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(answer_each_request(stream));
            }
        });
        (format!("http://{address}"), accepted)
    }

    async fn answer_each_request(stream: tokio::net::TcpStream) {
        let mut stream = tokio::io::BufReader::new(stream);
        loop {
            let mut length = 0;
            loop {
                let mut line = String::new();
                match stream.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let line = line.trim_end().to_ascii_lowercase();
                if line.is_empty() {
                    break;
                }
                if let Some(value) = line.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if stream.read_exact(&mut body).await.is_err() {
                return;
            }
            let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                          content-length: 2\r\n\r\n{}";
            if stream.get_mut().write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    #[tokio::test]
    async fn the_connection_it_opens_serves_every_client_of_the_function() {
        let (endpoint, accepted) = counting_endpoint().await;
        let sdk = sdk_at(&endpoint).await;
        let config = WarmupConfig {
            warm_connections: true,
        };
        let failures = warm(&sdk, config, &[Endpoint::Table("t".into())], WARMUP_TIMEOUT).await;
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        // Two clients built as the wiring builds them (the desk's, the attachments'): their
        // first calls go over the connection the warm-up left in the shared pool.
        for _ in 0..2 {
            aws_sdk_dynamodb::Client::new(&sdk)
                .get_item()
                .table_name("t")
                .key("pk", AttributeValue::S("TICKET#X".into()))
                .key("sk", AttributeValue::S("TICKET".into()))
                .send()
                .await
                .expect("answered");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn turned_off_it_calls_nothing() {
        let sdk = sdk_at(&format!("http://127.0.0.1:{}", closed_port())).await;
        let config = WarmupConfig {
            warm_connections: false,
        };
        assert!(warm(&sdk, config, &every_endpoint(), WARMUP_TIMEOUT)
            .await
            .is_empty());
    }
}
