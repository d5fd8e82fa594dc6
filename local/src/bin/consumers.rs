//! `consumers [--stack NAME]`: runs every SQS-fed function of `infra/template.yaml` in process,
//! fed from the provisioned queues the way Lambda's event source mapping feeds it (see
//! `guichet_local::consumers`). Stops on Ctrl-C or SIGTERM.
//!
//! Reads the queue URLs and resource names from the variables `provision` prints
//! (`DOCUMENT_EVENTS_QUEUE_URL`, `TICKETS_TABLE`, `DOCUMENTS_BUCKET`, ...); the functions' other
//! variables (`MAX_RESUBMISSIONS`) come from the template as deployed, unless set in the
//! environment. For an emulator: `AWS_ENDPOINT_URL` plus dummy credentials and a region.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use guichet_core::incidents::service::IncidentConfig;
use guichet_edge::config::AttachmentsConfig;
use guichet_edge::config::{
    Config, FromEnv, InboxConfig, KycConfig, MailConfig, QueuesConfig, SenderConfig, SweepConfig,
};
use guichet_local::consumers::{consumers_of, queue_urls_from_env, ConsumerServices, Consumers};
use guichet_local::error_chain;
use guichet_local::template::Template;

const DEFAULT_STACK: &str = "guichet-local";
/// The scheduled function whose sweep the consumers also run, as its schedule would.
const SWEEP_FUNCTION: &str = "SlaSweepFunction";
/// The function whose environment names the support mailbox.
const MAIL_FUNCTION: &str = "MailInFunction";
/// What its environment refers to beyond the Globals: `(logical id, printed variable)`.
const MAIL_RESOURCES: [(&str, &str); 2] = [
    ("MailReplySecret", "MAIL_REPLY_SECRET_ARN"),
    ("MailConfigurationSet", "MAIL_CONFIGURATION_SET"),
];
const USAGE: &str = "usage: consumers [--stack NAME]   (default stack: guichet-local)";

#[tokio::main]
async fn main() -> ExitCode {
    guichet_edge::telemetry::init_local();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("consumers: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let stack = stack(std::env::args().skip(1).collect())?;
    let template = Template::load(&Template::default_path()).map_err(|e| error_chain(&e))?;
    // Before any AWS call: a consumer without an in-process handler is a start-up error.
    let specs = consumers_of(&template).map_err(|e| error_chain(&e))?;
    let Some(first) = specs.first() else {
        println!("no function of the template reads a queue: nothing to run");
        return Ok(());
    };
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let queue_urls = queue_urls_from_env(&template, env).map_err(|e| error_chain(&e))?;

    // The function's environment as deployed (Globals and its own variables, parameter
    // defaults), with the physical names provisioning printed; the process environment wins.
    let mut physical_ids: BTreeMap<String, String> = template
        .resource_env_vars()
        .map_err(|e| error_chain(&e))?
        .into_iter()
        .filter_map(|(variable, logical_id)| env(&variable).map(|value| (logical_id, value)))
        .collect();
    // The resources only mail-in's environment names, under the variables provisioning prints
    // for them (their function's own variable names).
    for (logical_id, variable) in MAIL_RESOURCES {
        if let Some(value) = env(variable) {
            physical_ids.insert(logical_id.to_owned(), value);
        }
    }
    let deployed = template
        .function_environment(&first.function, &stack, &physical_ids)
        .map_err(|e| format!("the environment of {}: {}", first.function, error_chain(&e)))?;
    let config = KycConfig::from_lookup(|name| env(name).or_else(|| deployed.get(name).cloned()))
        .map_err(|e| error_chain(&e))?;

    let sdk = guichet_aws::sdk_config().await;
    let verification = guichet_aws::wiring::verification(&config, &sdk);
    let attachments = guichet_aws::wiring::attachments(
        &AttachmentsConfig {
            tickets_table: config.tickets_table.clone(),
            documents_bucket: config.documents_bucket.clone(),
        },
        &sdk,
    );
    let lookup = |name: &str| env(name).or_else(|| deployed.get(name).cloned());
    // The sweep's own settings are in its function's environment.
    let sweep_env = template
        .function_environment(SWEEP_FUNCTION, &stack, &physical_ids)
        .map_err(|e| format!("the environment of {SWEEP_FUNCTION}: {}", error_chain(&e)))?;
    // The mailbox's settings are in mail-in's environment; send-notifications has the same.
    let mail_env = template
        .function_environment(MAIL_FUNCTION, &stack, &physical_ids)
        .map_err(|e| format!("the environment of {MAIL_FUNCTION}: {}", error_chain(&e)))?;
    let mail_lookup = |name: &str| env(name).or_else(|| mail_env.get(name).cloned());
    let mail = MailConfig::from_lookup(mail_lookup).map_err(|e| error_chain(&e))?;
    let inbox_config = InboxConfig::from_lookup(mail_lookup).map_err(|e| error_chain(&e))?;
    let desk_config = Config::from_lookup(lookup).map_err(|e| error_chain(&e))?;
    let replies = guichet_aws::wiring::replies(&mail, &sdk)
        .await
        .map_err(|e| error_chain(&e))?;
    let queues = QueuesConfig::from_lookup(lookup).map_err(|e| error_chain(&e))?;
    let services = ConsumerServices {
        verification,
        attachments,
        desk: guichet_aws::wiring::desk(&desk_config, &sdk).map_err(|e| error_chain(&e))?,
        relay: guichet_aws::wiring::relay(&desk_config.tickets_table, &queues, &sdk),
        sender: guichet_aws::wiring::sender(
            &SenderConfig::from_lookup(mail_lookup).map_err(|e| error_chain(&e))?,
            &sdk,
            Some(replies.clone()),
        ),
        incidents: guichet_aws::wiring::incidents(
            &desk_config.tickets_table,
            IncidentConfig::from_lookup(lookup).map_err(|e| error_chain(&e))?,
            &sdk,
        ),
        sweep: guichet_core::promises::sweep::Sweep {
            desk: guichet_aws::wiring::desk(&desk_config, &sdk).map_err(|e| error_chain(&e))?,
            lookback_hours: SweepConfig::from_lookup(|name| {
                env(name).or_else(|| sweep_env.get(name).cloned())
            })
            .map_err(|e| error_chain(&e))?
            .lookback_hours,
        },
        inbox: guichet_aws::wiring::inbox(
            guichet_aws::wiring::desk(&desk_config, &sdk).map_err(|e| error_chain(&e))?,
            &inbox_config,
            &mail,
            replies,
            &sdk,
        ),
    };
    let mut consumers = Consumers::new(&template, &sdk, services, &queue_urls)
        .await
        .map_err(|e| error_chain(&e))?;
    // The outbox leaves through the table's stream, as relay-stream's mapping feeds it.
    consumers
        .follow_stream(&template, &sdk, &desk_config.tickets_table)
        .await
        .map_err(|e| error_chain(&e))?;
    for line in consumers.describe() {
        tracing::info!(consumer = %line, "consuming");
    }
    println!("consuming {} queue(s)", queue_urls.len());
    let polling = tokio::spawn(Arc::new(consumers).run());
    shutdown_signal().await.map_err(|e| error_chain(&e))?;
    tracing::info!("shutting down");
    polling.abort();
    Ok(())
}

fn stack(args: Vec<String>) -> Result<String, String> {
    match args.as_slice() {
        [] => Ok(DEFAULT_STACK.to_owned()),
        [flag, value] if flag == "--stack" && !value.is_empty() => Ok(value.clone()),
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
