//! `provision [--stack NAME] [--template PATH]`: creates the template's tables, keys, queues,
//! buckets, e-mail identities and secrets against the endpoint the SDK environment points at
//! (`AWS_ENDPOINT_URL`, normally the local emulator) and prints `VARIABLE=value` lines (table and
//! bucket names, queue URLs, key and secret ARNs, identities, and the parameter values the
//! Globals pass on), named as the functions read them, so scripts can `source` them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use aws_config::BehaviorVersion;
use guichet_local::error_chain;
use guichet_local::provision::{provision, Provisioned};
use guichet_local::template::{Template, TemplateError};

const DEFAULT_STACK: &str = "guichet-local";
const USAGE: &str = "usage: provision [--stack NAME] [--template PATH] [--parameter NAME=VALUE]...
                 [--emulator-object-access]

Creates the DynamoDB tables, KMS keys, SQS queues, S3 buckets, SES e-mail identities and Secrets
Manager secrets of infra/template.yaml (default stack name: guichet-local) through the endpoint in
AWS_ENDPOINT_URL, then prints VARIABLE=value lines for the functions' environment: the names the
template's Globals give (TICKETS_TABLE, DOCUMENTS_BUCKET, DOCUMENT_EVENTS_QUEUE_URL, ...), else
one derived from the logical id (DOCUMENT_EVENTS_DEAD_LETTER_QUEUE_URL, DOCUMENTS_KEY_ARN,
CHAT_HANDOFF_SECRET_ARN, the name chat-handoff reads it under), and the parameters the
Globals pass on (NOTIFICATION_SENDER, MAX_RESUBMISSIONS, ...). A parameter whose Globals variable
is already set in the environment takes that value, for provisioning too (MAX_RESUBMISSIONS=3,
NOTIFICATION_SENDER=other@example.com).

--parameter NAME=VALUE gives a template parameter its value, as sam deploy's
--parameter-overrides does (scripts/up: SupportSiteOrigin=http://127.0.0.1:3000, the local
gateway's origin, which plays the support pages' distribution).

--emulator-object-access removes the buckets' policies after provisioning them: moto applies a
policy's Deny statements but ignores their conditions (TLS-only, KMS-only), so with the policy in
place every object request is refused locally. Never use it against AWS.";

struct Args {
    stack: String,
    template: PathBuf,
    emulator_object_access: bool,
    /// `--parameter NAME=VALUE`, in the order given.
    parameters: Vec<(String, String)>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        stack: DEFAULT_STACK.to_owned(),
        template: Template::default_path(),
        emulator_object_access: false,
        parameters: Vec::new(),
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--emulator-object-access" => parsed.emulator_object_access = true,
            "--stack" | "--template" | "--parameter" => {
                let value = inline
                    .or_else(|| args.next())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| format!("{flag} needs a value"))?;
                match flag.as_str() {
                    "--stack" => parsed.stack = value,
                    "--template" => parsed.template = PathBuf::from(value),
                    _ => match value.split_once('=') {
                        Some((name, value)) if !name.is_empty() => {
                            parsed.parameters.push((name.to_owned(), value.to_owned()));
                        }
                        _ => return Err(format!("--parameter needs NAME=VALUE, not `{value}`")),
                    },
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

    // Resolve the variable names and values before touching AWS, so a template error costs
    // nothing.
    let environment = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (template, variables, parameters) = match Template::load(&args.template)
        .and_then(|template| {
            (args.parameters.iter()).try_fold(template, |template, (name, value)| {
                template.with_parameter(name, value)
            })
        })
        .and_then(|template| read_variables(template, environment))
    {
        Ok(read) => read,
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

    for line in output_lines(&provisioned, &variables, &parameters) {
        println!("{line}");
    }
    ExitCode::SUCCESS
}

/// The template with the parameters the environment overrides, the Globals variables that name
/// its resources (`(variable, logical id)`), and those that name its parameters, with their
/// values (`(variable, value)`). A Globals variable set in the environment (`environment`) gives
/// its parameter's value, as `--parameter-overrides` would: the identity created and the value
/// printed are then the same.
type Variables = (Template, Vec<(String, String)>, Vec<(String, String)>);

fn read_variables(
    mut template: Template,
    environment: impl Fn(&str) -> Option<String>,
) -> Result<Variables, TemplateError> {
    let resources = template.resource_env_vars()?;
    let named = template.parameter_env_vars()?;
    for (variable, parameter) in &named {
        if let Some(value) = environment(variable) {
            template = template.with_parameter(parameter, value)?;
        }
    }
    let parameters = named
        .into_iter()
        .map(|(variable, parameter)| Ok((variable, template.parameter_value(&parameter)?)))
        .collect::<Result<_, TemplateError>>()?;
    Ok((template, resources, parameters))
}

/// `VARIABLE=value` for every provisioned resource: the functions' own variable name when the
/// template's Globals give one (`TICKETS_TABLE: !Ref TicketsTable`), else one derived from the
/// logical id, so every resource is printed; then every parameter the Globals pass on
/// (`parameters`: `(variable, value)`).
fn output_lines(
    provisioned: &Provisioned,
    variables: &[(String, String)],
    parameters: &[(String, String)],
) -> Vec<String> {
    // The suffix says what a derived variable holds (a table's or bucket's name, an identity's
    // address, is the logical id's own meaning). A secret's is its function's own variable
    // (`CHAT_HANDOFF_SECRET_ARN: !Ref ChatHandoffSecret`), not a Globals one.
    let kinds: [(&BTreeMap<String, String>, &str); 7] = [
        (&provisioned.tables, ""),
        (&provisioned.buckets, ""),
        (&provisioned.queues, "_URL"),
        (&provisioned.keys, "_ARN"),
        (&provisioned.email_identities, ""),
        (&provisioned.secrets, "_ARN"),
        (&provisioned.configuration_sets, ""),
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
    for (name, value) in parameters {
        lines.push(format!("{name}={value}"));
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
        let parameters = args(&["--parameter", "A=b=c", "--parameter=B="])
            .unwrap()
            .unwrap()
            .parameters;
        assert_eq!(
            parameters,
            [
                ("A".to_owned(), "b=c".to_owned()),
                ("B".to_owned(), String::new())
            ]
        );
        assert!(args(&["--parameter", "no-equals"]).is_err());
        assert!(args(&["--parameter", "=value"]).is_err());
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
            email_identities: BTreeMap::from([(
                "NotificationSenderIdentity".to_owned(),
                "soutien@example.com".to_owned(),
            )]),
            secrets: BTreeMap::from([("ChatHandoffSecret".to_owned(), "arn:secret".to_owned())]),
            configuration_sets: BTreeMap::from([(
                "MailConfigurationSet".to_owned(),
                "s-mail".to_owned(),
            )]),
            ..Provisioned::default()
        };
        let variables = [
            ("TICKETS_TABLE", "TicketsTable"),
            ("DOCUMENTS_BUCKET", "DocumentsBucket"),
            ("DOCUMENT_EVENTS_QUEUE_URL", "DocumentEventsQueue"),
        ]
        .map(|(name, target)| (name.to_owned(), target.to_owned()));
        let parameters = [("NOTIFICATION_SENDER", "soutien@example.com")]
            .map(|(name, value)| (name.to_owned(), value.to_owned()));
        assert_eq!(
            output_lines(&provisioned, &variables, &parameters),
            [
                "TICKETS_TABLE=s-tickets",
                "DOCUMENTS_BUCKET=s-documents-1",
                "DOCUMENT_EVENTS_DEAD_LETTER_QUEUE_URL=http://q/dlq",
                "DOCUMENT_EVENTS_QUEUE_URL=http://q/events",
                "DOCUMENTS_KEY_ARN=arn:key",
                "NOTIFICATION_SENDER_IDENTITY=soutien@example.com",
                "CHAT_HANDOFF_SECRET_ARN=arn:secret",
                "MAIL_CONFIGURATION_SET=s-mail",
                "NOTIFICATION_SENDER=soutien@example.com",
            ]
        );
    }

    #[test]
    fn prints_every_globals_variable_of_the_project_template() {
        let template = Template::load(&Template::default_path()).unwrap();
        let (_, variables, parameters) = read_variables(template.clone(), |_| None).unwrap();
        // Every `!Ref` of the Globals is printed: a resource's (once provisioned) or a
        // parameter's; RUST_LOG, a literal, is the functions' own.
        let provisioned = Provisioned {
            queues: variables
                .iter()
                .map(|(_, logical_id)| (logical_id.clone(), format!("value-of-{logical_id}")))
                .collect(),
            ..Provisioned::default()
        };
        let lines = output_lines(&provisioned, &variables, &parameters);
        for expected in [
            "ESCALATIONS_QUEUE_URL=value-of-EscalationsQueue",
            "TECHNICAL_ESCALATIONS_QUEUE_URL=value-of-TechnicalEscalationQueue",
            "GAMES_ESCALATIONS_QUEUE_URL=value-of-GamesEscalationQueue",
            "PAYMENTS_ESCALATIONS_QUEUE_URL=value-of-PaymentsEscalationQueue",
            "SECURITY_ESCALATIONS_QUEUE_URL=value-of-SecurityEscalationQueue",
            "NOTIFICATIONS_QUEUE_URL=value-of-NotificationsQueue",
            "INCIDENT_UPDATES_QUEUE_URL=value-of-IncidentUpdatesQueue",
            "TEAM_ALERTS_QUEUE_URL=value-of-TeamAlertsQueue",
            "DOCUMENT_EVENTS_QUEUE_URL=value-of-DocumentEventsQueue",
            "NOTIFICATION_SENDER=soutien@guichet.example",
            "MAX_RESUBMISSIONS=2",
            "IDEMPOTENCY_KEY_TTL_HOURS=24",
        ] {
            assert!(lines.iter().any(|l| l == expected), "{expected}: {lines:?}");
        }
        assert!(!lines.iter().any(|l| l.starts_with("RUST_LOG=")));

        // A secret's derived variable is the one its function reads the ARN from.
        let with_secret = Provisioned {
            secrets: BTreeMap::from([("ChatHandoffSecret".to_owned(), "arn:s".to_owned())]),
            ..Provisioned::default()
        };
        let mut ids: BTreeMap<String, String> = (variables.iter())
            .map(|(_, logical_id)| (logical_id.clone(), "x".to_owned()))
            .collect();
        ids.insert("ChatHandoffSecret".to_owned(), "arn:s".to_owned());
        let function = template
            .function_environment("ChatHandoffFunction", "s", &ids)
            .unwrap();
        assert_eq!(
            output_lines(&with_secret, &variables, &[]),
            [format!(
                "CHAT_HANDOFF_SECRET_ARN={}",
                function["CHAT_HANDOFF_SECRET_ARN"]
            )]
        );

        // The environment overrides a parameter for what is provisioned and what is printed.
        let environment = |name: &str| {
            (name == "NOTIFICATION_SENDER").then(|| "autre@guichet.example".to_owned())
        };
        let (overridden, _, parameters) = read_variables(template, environment).unwrap();
        assert!(parameters.contains(&(
            "NOTIFICATION_SENDER".to_owned(),
            "autre@guichet.example".to_owned()
        )));
        let identities = overridden
            .resolved(
                guichet_local::template::EMAIL_IDENTITY_TYPE,
                "s",
                "1",
                "ca-central-1",
                &Default::default(),
            )
            .unwrap();
        assert_eq!(
            identities[0].text("EmailIdentity").unwrap(),
            "autre@guichet.example"
        );
    }

    #[test]
    fn derives_variable_names() {
        assert_eq!(screaming_snake("TicketsTable"), "TICKETS_TABLE");
        assert_eq!(screaming_snake("Audit"), "AUDIT");
    }
}
