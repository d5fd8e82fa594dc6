//! Logging set-up. In Lambda: JSON lines with the current span's fields (request id, ticket
//! reference), so CloudWatch Logs Insights can query them. Nothing here logs bodies,
//! names, e-mail addresses or documents; callers log identifiers only.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// JSON logs filtered by `RUST_LOG` (default `info`). Safe to call more than once.
pub fn init_json() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = json_logs(filter, std::io::stdout).try_init();
}

/// The functions' JSON log lines, written to `writer`: one object per event with the current
/// span's fields. What Lambda ships to CloudWatch, and what the log test reads.
pub fn json_logs<W>(filter: EnvFilter, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer)
        .finish()
}

/// Human-readable logs for the local gateway and tools.
pub fn init_pretty() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .try_init();
}

/// The local gateway's and consumers' logs: human-readable, or with `LOG_FORMAT=json` the same
/// JSON lines as in Lambda, for reading them as CloudWatch Logs Insights would.
pub fn init_local() {
    match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => init_json(),
        _ => init_pretty(),
    }
}

/// Quiet by default in tests; `TEST_LOG=1` shows the logs of a failing test.
pub fn init_test() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new("debug"))
            .with_test_writer()
            .try_init();
    }
}
