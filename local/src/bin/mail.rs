//! `mail FILE.eml [--to ADDRESS]... [--verdict NAME=STATUS]...`: receives a mail in the local
//! stack as SES receives one for the support domain (`guichet_local::inbound`): the raw mail
//! stored under `mail/inbound/<id>` in the documents bucket, SES's receipt notification on the
//! inbound-mail queue, for the running consumers' mail-in to file. Prints the mail's id.
//!
//! Reads `DOCUMENTS_BUCKET` and `INBOUND_MAIL_QUEUE_URL`, which provisioning prints (and
//! `scripts/up` writes to `.local/env`), and the emulator's `AWS_ENDPOINT_URL`. `--to` is the
//! recipient SES received it for (`soutien@guichet.example` unless given); `--verdict` sets
//! one of SES's verdicts (`spf`, `dkim`, `dmarc`, `spam`, `virus`) to `PASS`, `FAIL`, `GRAY`
//! or `PROCESSING_FAILED` (all `PASS` unless given).
//!
//! Example: `set -a; . .local/env; set +a; ./target/debug/mail events/mail/attachment.eml`

use std::process::ExitCode;

use guichet_local::error_chain;
use guichet_local::inbound::{deliver, Verdicts};

const USAGE: &str = "usage: mail FILE.eml [--to ADDRESS]... [--verdict NAME=STATUS]...";
const DEFAULT_TO: &str = "soutien@guichet.example";
const STATUSES: &[&str] = &["PASS", "FAIL", "GRAY", "PROCESSING_FAILED"];

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(id) => {
            println!("{id}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("mail: {message}\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    file: String,
    to: Vec<String>,
    verdicts: [(&'static str, String); 5],
}

fn parse(args: Vec<String>) -> Result<Options, String> {
    let mut file = None;
    let mut to = Vec::new();
    let mut verdicts = ["spf", "dkim", "dmarc", "spam", "virus"].map(|n| (n, "PASS".to_owned()));
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--to" => to.push(args.next().ok_or("--to needs an address")?),
            "--verdict" => {
                let value = args.next().ok_or("--verdict needs NAME=STATUS")?;
                let (name, status) = value.split_once('=').ok_or("--verdict is NAME=STATUS")?;
                let status = status.to_ascii_uppercase();
                if !STATUSES.contains(&status.as_str()) {
                    return Err(format!("{status}: a verdict is one of {STATUSES:?}"));
                }
                let slot = verdicts
                    .iter_mut()
                    .find(|(n, _)| *n == name)
                    .ok_or_else(|| format!("{name}: no such verdict"))?;
                slot.1 = status;
            }
            other if other.starts_with("--") => return Err(format!("{other}: unknown option")),
            path if file.is_none() => file = Some(path.to_owned()),
            extra => return Err(format!("{extra}: one file at a time")),
        }
    }
    if to.is_empty() {
        to.push(DEFAULT_TO.to_owned());
    }
    Ok(Options {
        file: file.ok_or("which mail? give an .eml file")?,
        to,
        verdicts,
    })
}

async fn run() -> Result<String, String> {
    let options = parse(std::env::args().skip(1).collect())?;
    let variable = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| format!("{name} is not set (source .local/env after ./scripts/up)"))
    };
    let bucket = variable("DOCUMENTS_BUCKET")?;
    let queue = variable("INBOUND_MAIL_QUEUE_URL")?;
    let raw = std::fs::read(&options.file).map_err(|e| format!("{}: {e}", options.file))?;
    let verdict = |name: &str| {
        options
            .verdicts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("PASS", |(_, s)| s.as_str())
    };
    let verdicts = Verdicts {
        spf: verdict("spf"),
        dkim: verdict("dkim"),
        dmarc: verdict("dmarc"),
        spam: verdict("spam"),
        virus: verdict("virus"),
    };
    let to: Vec<&str> = options.to.iter().map(String::as_str).collect();
    let sdk = guichet_aws::sdk_config().await;
    deliver(&sdk, &bucket, &queue, &raw, &to, verdicts)
        .await
        .map_err(|e| error_chain(&e))
}
