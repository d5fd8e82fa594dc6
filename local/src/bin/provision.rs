//! `provision [--stack NAME] [--template PATH]`: creates the template's tables, keys, queues and
//! buckets against the endpoint the SDK environment points at (`AWS_ENDPOINT_URL`, normally the
//! local emulator) and prints `VARIABLE=value` lines (table and bucket names, queue URLs, key
//! ARNs), named as the functions read them, so scripts can `source` them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use aws_config::BehaviorVersion;
use guichet_local::error_chain;
use guichet_local::provision::{provision, Provisioned};
use guichet_local::template::Template;

const DEFAULT_STACK: &str = "guichet-local";
const USAGE: &str = "usage: provision [--stack NAME] [--template PATH] [--emulator-object-access]

Creates the DynamoDB tables, KMS keys, SQS queues and S3 buckets of infra/template.yaml (default
stack name: guichet-local) through the endpoint in AWS_ENDPOINT_URL, then prints VARIABLE=value
lines for the functions' environment: the names the template's Globals give (TICKETS_TABLE,
DOCUMENTS_BUCKET, DOCUMENT_EVENTS_QUEUE_URL, ...), else one derived from the logical id
(DOCUMENT_EVENTS_DEAD_LETTER_QUEUE_URL, DOCUMENTS_KEY_ARN).

--emulator-object-access removes the buckets' policies after provisioning them: moto applies a
policy's Deny statements but ignores their conditions (TLS-only, KMS-only), so with the policy in
place every object request is refused locally. Never use it against AWS.";

struct Args {
    stack: String,
    template: PathBuf,
    emulator_object_access: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        stack: DEFAULT_STACK.to_owned(),
        template: Template::default_path(),
        emulator_object_access: false,
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--emulator-object-access" => parsed.emulator_object_access = true,
            "--stack" | "--template" => {
                let value = inline
                    .or_else(|| args.next())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| format!("{flag} needs a value"))?;
                if flag == "--stack" {
                    parsed.stack = value;
                } else {
                    parsed.template = PathBuf::from(value);
                }
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(parsed))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("provision: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    let template = match Template::load(&args.template) {
        Ok(template) => template,
        Err(error) => {
            eprintln!("provision: {}", error_chain(&error));
            return ExitCode::FAILURE;
        }
    };
    // Resolve the variable names before touching AWS, so a template error costs nothing.
    let variables = match template.resource_env_vars() {
        Ok(variables) => variables,
        Err(error) => {
            eprintln!("provision: {}", error_chain(&error));
            return ExitCode::FAILURE;
        }
    };

    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let provisioned = match provision(&sdk, &template, &args.stack).await {
        Ok(provisioned) => provisioned,
        Err(error) => {
            let target = endpoint
                .as_deref()
                .unwrap_or("the default AWS endpoint (AWS_ENDPOINT_URL is not set)");
            eprintln!(
                "provision: stack {} against {target}: {}",
                args.stack,
                error_chain(&error)
            );
            return ExitCode::FAILURE;
        }
    };

    if args.emulator_object_access {
        if endpoint.is_none() {
            eprintln!("provision: --emulator-object-access needs AWS_ENDPOINT_URL (the emulator)");
            return ExitCode::from(2);
        }
        let s3 = aws_sdk_s3::Client::new(&sdk);
        for bucket in provisioned.buckets.values() {
            if let Err(error) = s3.delete_bucket_policy().bucket(bucket).send().await {
                eprintln!(
                    "provision: DeleteBucketPolicy on {bucket}: {}",
                    error_chain(&error)
                );
                return ExitCode::FAILURE;
            }
            eprintln!("provision: removed the policy of {bucket} (emulator only; see --help)");
        }
    }

    for line in output_lines(&provisioned, &variables) {
        println!("{line}");
    }
    ExitCode::SUCCESS
}

/// `VARIABLE=value` for every provisioned resource: the functions' own variable name when the
/// template's Globals give one (`TICKETS_TABLE: !Ref TicketsTable`), else one derived from the
/// logical id, so every resource is printed.
fn output_lines(provisioned: &Provisioned, variables: &[(String, String)]) -> Vec<String> {
    // The suffix says what a derived variable holds (a table's or bucket's name is the logical
    // id's own meaning).
    let kinds: [(&BTreeMap<String, String>, &str); 4] = [
        (&provisioned.tables, ""),
        (&provisioned.buckets, ""),
        (&provisioned.queues, "_URL"),
        (&provisioned.keys, "_ARN"),
    ];
    let mut lines = Vec::new();
    for (resources, suffix) in kinds {
        for (logical_id, value) in resources {
            let names: Vec<&str> = variables
                .iter()
                .filter(|(_, target)| target == logical_id)
                .map(|(name, _)| name.as_str())
                .collect();
            if names.is_empty() {
                lines.push(format!("{}{suffix}={value}", screaming_snake(logical_id)));
            }
            for name in names {
                lines.push(format!("{name}={value}"));
            }
        }
    }
    lines
}

/// `TicketsTable` -> `TICKETS_TABLE`.
fn screaming_snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Option<Args>, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_flags() {
        let parsed = args(&[]).unwrap().unwrap();
        assert_eq!(parsed.stack, "guichet-local");
        assert_eq!(args(&["--stack", "dev"]).unwrap().unwrap().stack, "dev");
        assert_eq!(args(&["--stack=dev"]).unwrap().unwrap().stack, "dev");
        assert!(args(&["--help"]).unwrap().is_none());
        assert!(args(&["--stack"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }

    #[test]
    fn prints_every_resource_under_the_functions_names() {
        let provisioned = Provisioned {
            tables: BTreeMap::from([("TicketsTable".to_owned(), "s-tickets".to_owned())]),
            buckets: BTreeMap::from([("DocumentsBucket".to_owned(), "s-documents-1".to_owned())]),
            queues: BTreeMap::from([
                (
                    "DocumentEventsQueue".to_owned(),
                    "http://q/events".to_owned(),
                ),
                (
                    "DocumentEventsDeadLetterQueue".to_owned(),
                    "http://q/dlq".to_owned(),
                ),
            ]),
            keys: BTreeMap::from([("DocumentsKey".to_owned(), "arn:key".to_owned())]),
            ..Provisioned::default()
        };
        let variables = [
            ("TICKETS_TABLE", "TicketsTable"),
            ("DOCUMENTS_BUCKET", "DocumentsBucket"),
            ("DOCUMENT_EVENTS_QUEUE_URL", "DocumentEventsQueue"),
        ]
        .map(|(name, target)| (name.to_owned(), target.to_owned()));
        assert_eq!(
            output_lines(&provisioned, &variables),
            [
                "TICKETS_TABLE=s-tickets",
                "DOCUMENTS_BUCKET=s-documents-1",
                "DOCUMENT_EVENTS_DEAD_LETTER_QUEUE_URL=http://q/dlq",
                "DOCUMENT_EVENTS_QUEUE_URL=http://q/events",
                "DOCUMENTS_KEY_ARN=arn:key",
            ]
        );
    }

    #[test]
    fn derives_variable_names() {
        assert_eq!(screaming_snake("TicketsTable"), "TICKETS_TABLE");
        assert_eq!(screaming_snake("Audit"), "AUDIT");
    }
}
