//! `gateway [--port 3000]`: serves the API locally, routes from `infra/template.yaml`, each
//! request run in process by the same handler function that runs in Lambda, tokens verified
//! with the dev key (see `dev-token`). The port defaults to `GATEWAY_PORT`, else 3000.
//!
//! Needs the functions' environment (`TICKETS_TABLE`, `IDEMPOTENCY_KEY_TTL_HOURS`,
//! `DOCUMENTS_BUCKET`, `MAX_RESUBMISSIONS`) and, for an emulator, `AWS_ENDPOINT_URL` plus dummy
//! credentials and a region.

use std::process::ExitCode;
use std::sync::Arc;

use guichet_edge::config::FromEnv;
use guichet_local::error_chain;
use guichet_local::gateway::{self, Gateway, Services};
use guichet_local::jwt::DevKey;
use guichet_local::template::Template;

const DEFAULT_PORT: u16 = 3000;
const USAGE: &str = "usage: gateway [--port PORT]   (default: $GATEWAY_PORT, else 3000)";

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
    let port = port(std::env::args().skip(1).collect())?;
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
    let gateway = Gateway::new(&template, services, key).map_err(|e| error_chain(&e))?;
    for route in gateway.route_keys() {
        tracing::info!(route = %route, "route");
    }
    let (addr, server) = gateway::serve(Arc::new(gateway), port)
        .await
        .map_err(|e| error_chain(&e))?;
    println!("listening on http://{addr}");
    shutdown_signal().await.map_err(|e| error_chain(&e))?;
    tracing::info!("shutting down");
    server.abort();
    Ok(())
}

fn port(args: Vec<String>) -> Result<u16, String> {
    let parse = |text: &str, origin: &str| {
        text.trim()
            .parse::<u16>()
            .map_err(|_| format!("{origin} `{text}` is not a port number\n{USAGE}"))
    };
    match args.as_slice() {
        [] => match std::env::var("GATEWAY_PORT") {
            Ok(value) if !value.trim().is_empty() => parse(&value, "GATEWAY_PORT"),
            _ => Ok(DEFAULT_PORT),
        },
        [flag, value] if flag == "--port" => parse(value, "--port"),
        [flag] if flag == "--help" || flag == "-h" => Err(USAGE.to_owned()),
        _ => Err(USAGE.to_owned()),
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
