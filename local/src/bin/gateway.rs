//! `gateway [--port 3000] [--web-root DIR]`: serves the API locally, routes from
//! `infra/template.yaml`, each request run in process by the same handler function that runs in
//! Lambda, tokens verified with the dev key (see `dev-token`), and the support pages from the
//! web root as the CloudFront distribution serves them (`/api/...` routed as the same path
//! without `/api`). The port defaults to `GATEWAY_PORT`, else 3000; the web root to `WEB_ROOT`,
//! else `<repo>/web/dist` (absent, its pages are 404 and the API still answers).
//!
//! Needs the functions' environment (`TICKETS_TABLE`, `IDEMPOTENCY_KEY_TTL_HOURS`,
//! `DOCUMENTS_BUCKET`, `MAX_RESUBMISSIONS`) and, for an emulator, `AWS_ENDPOINT_URL` plus dummy
//! credentials and a region.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use guichet_edge::config::FromEnv;
use guichet_local::error_chain;
use guichet_local::gateway::{self, Gateway, Services, Site};
use guichet_local::jwt::DevKey;
use guichet_local::template::Template;

const DEFAULT_PORT: u16 = 3000;
const USAGE: &str = "usage: gateway [--port PORT] [--web-root DIR]
  --port      default: $GATEWAY_PORT, else 3000
  --web-root  the built pages; default: $WEB_ROOT, else <repo>/web/dist";

/// What the command line and the environment ask for.
#[derive(Debug, PartialEq, Eq)]
struct Options {
    port: u16,
    web_root: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    guichet_edge::telemetry::init_local();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gateway: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let environment = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let options = options(std::env::args().skip(1).collect(), environment)?;
    let template_path = Template::default_path();
    let template = Template::load(&template_path).map_err(|e| error_chain(&e))?;
    // Every variable read and checked first, then one SDK configuration for every client,
    // as each function loads it once at init.
    let config = guichet_edge::config::Config::from_env().map_err(|e| error_chain(&e))?;
    let kyc = guichet_edge::config::KycConfig::from_env().map_err(|e| error_chain(&e))?;
    let attachments =
        guichet_edge::config::AttachmentsConfig::from_env().map_err(|e| error_chain(&e))?;
    let incident_rule = guichet_core::incidents::service::IncidentConfig::from_env()
        .map_err(|e| error_chain(&e))?;
    let handoff = guichet_edge::config::HandoffConfig::from_env().map_err(|e| error_chain(&e))?;
    let sdk = guichet_aws::sdk_config().await;
    let desk = guichet_aws::wiring::desk(&config, &sdk).map_err(|e| error_chain(&e))?;
    let verification = guichet_aws::wiring::verification(&kyc, &sdk);
    let attachments = guichet_aws::wiring::attachments(&attachments, &sdk);
    let incidents = guichet_aws::wiring::incidents(&config.tickets_table, incident_rule, &sdk);
    let key = DevKey::load_or_create(&DevKey::default_path()).map_err(|e| error_chain(&e))?;
    // The bundled hours, checked here as support-hours checks them at init.
    let hours = guichet_core::calendar::hours::DeskHours::bundled().map_err(|e| error_chain(&e))?;
    // As chat-handoff reads it at init: from the secret provisioning created.
    let handoff_key = guichet_aws::wiring::handoff_key(&handoff, &sdk)
        .await
        .map_err(|e| error_chain(&e))?;
    let services = Services {
        desk,
        verification,
        attachments,
        incidents,
        hours,
        handoff_key,
        mailroom: guichet_aws::dynamo::mail::DynamoMailroom::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            &config.tickets_table,
        ),
        saved_replies: guichet_core::tickets::saved_replies::SavedReplies::bundled()
            .map_err(|e| error_chain(&e))?,
    };
    // Presigned uploads go where the SDK points: the emulator locally, else S3 itself.
    let storage_origin = match environment("AWS_ENDPOINT_URL") {
        Some(endpoint) => origin_of(&endpoint)?,
        None => format!(
            "https://{}.s3.{}.amazonaws.com",
            kyc.documents_bucket,
            sdk.region().map(|r| r.to_string()).unwrap_or_default()
        ),
    };
    let site = Site::new(&template, options.web_root.clone(), &storage_origin)
        .map_err(|e| error_chain(&e))?;
    if !options.web_root.is_dir() {
        tracing::warn!(
            web_root = %options.web_root.display(),
            "no web root: the pages answer 404 (build them into it), the API answers as usual"
        );
    }
    let gateway = Gateway::new(&template, services, key)
        .map_err(|e| error_chain(&e))?
        .with_site(site);
    for route in gateway.route_keys() {
        tracing::info!(route = %route, "route");
    }
    let (addr, server) = gateway::serve(Arc::new(gateway), options.port)
        .await
        .map_err(|e| error_chain(&e))?;
    println!("listening on http://{addr}");
    shutdown_signal().await.map_err(|e| error_chain(&e))?;
    tracing::info!("shutting down");
    server.abort();
    Ok(())
}

fn options(
    args: Vec<String>,
    environment: impl Fn(&str) -> Option<String>,
) -> Result<Options, String> {
    let parse = |text: &str, origin: &str| {
        text.trim()
            .parse::<u16>()
            .map_err(|_| format!("{origin} `{text}` is not a port number\n{USAGE}"))
    };
    let mut port = None;
    let mut web_root = None;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let value = match flag.as_str() {
            "--port" | "--web-root" => args.next().ok_or_else(|| USAGE.to_owned())?,
            _ => return Err(USAGE.to_owned()),
        };
        if flag == "--port" {
            port = Some(parse(&value, "--port")?);
        } else {
            web_root = Some(PathBuf::from(value));
        }
    }
    let port = match port {
        Some(port) => port,
        None => match environment("GATEWAY_PORT") {
            Some(value) => parse(&value, "GATEWAY_PORT")?,
            None => DEFAULT_PORT,
        },
    };
    let web_root = web_root
        .or_else(|| environment("WEB_ROOT").map(PathBuf::from))
        .unwrap_or_else(Site::default_root);
    Ok(Options { port, web_root })
}

/// `scheme://host[:port]` of an endpoint URL (the emulator's `http://127.0.0.1:4566/`).
fn origin_of(endpoint: &str) -> Result<String, String> {
    let uri: hyper::Uri = endpoint
        .parse()
        .map_err(|_| format!("AWS_ENDPOINT_URL `{endpoint}` is not a URL"))?;
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => Ok(format!("{scheme}://{authority}")),
        _ => Err(format!(
            "AWS_ENDPOINT_URL `{endpoint}` has no scheme and host"
        )),
    }
}

/// Ctrl-C, or SIGTERM from a script or container runtime.
async fn shutdown_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str], environment: &[(&str, &str)]) -> Result<Options, String> {
        let environment = |name: &str| {
            (environment.iter())
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        };
        options(args.iter().map(|a| (*a).to_owned()).collect(), environment)
    }

    #[test]
    fn reads_the_port_and_the_web_root_from_flags_else_the_environment() {
        assert_eq!(
            parsed(&[], &[]),
            Ok(Options {
                port: DEFAULT_PORT,
                web_root: Site::default_root()
            })
        );
        let environment = [("GATEWAY_PORT", "4000"), ("WEB_ROOT", "/srv/pages")];
        assert_eq!(
            parsed(&[], &environment),
            Ok(Options {
                port: 4000,
                web_root: PathBuf::from("/srv/pages")
            })
        );
        assert_eq!(
            parsed(&["--web-root", "dist", "--port", "5000"], &environment),
            Ok(Options {
                port: 5000,
                web_root: PathBuf::from("dist")
            })
        );
        for args in [
            &["--port"][..],
            &["--port", "x"],
            &["--help"],
            &["--web-root"],
        ] {
            assert!(parsed(args, &[]).is_err(), "{args:?}");
        }
    }

    #[test]
    fn the_storage_origin_is_the_endpoints_scheme_host_and_port() {
        assert_eq!(
            origin_of("http://127.0.0.1:4566/").as_deref(),
            Ok("http://127.0.0.1:4566")
        );
        assert_eq!(
            origin_of("http://localhost:4566").as_deref(),
            Ok("http://localhost:4566")
        );
        assert!(origin_of("127.0.0.1").is_err());
    }
}
