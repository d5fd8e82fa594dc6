//! `provision [--stack NAME] [--template PATH]`: creates the template's tables against the endpoint
//! the SDK environment points at (`AWS_ENDPOINT_URL`, normally the local emulator) and prints
//! `VARIABLE=table-name` lines, named as the functions read them, so scripts can `source` them.

use std::path::PathBuf;
use std::process::ExitCode;

use aws_config::BehaviorVersion;
use guichet_local::error_chain;
use guichet_local::provision::provision;
use guichet_local::template::Template;

const DEFAULT_STACK: &str = "guichet-local";
const USAGE: &str = "usage: provision [--stack NAME] [--template PATH]

Creates the DynamoDB tables of infra/template.yaml (default stack name: guichet-local) through the
endpoint in AWS_ENDPOINT_URL, then prints VARIABLE=table-name lines for the functions' environment.";

struct Args {
    stack: String,
    template: PathBuf,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        stack: DEFAULT_STACK.to_owned(),
        template: Template::default_path(),
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
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
    // Resolve the variable names before touching DynamoDB, so a template error costs nothing.
    let variables = match template.table_env_vars() {
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

    for (logical_id, table) in &provisioned.tables {
        // The functions' own variable name when the template gives one (TICKETS_TABLE), else one
        // derived from the logical id, so every table is printed.
        let names: Vec<&str> = variables
            .iter()
            .filter(|(_, target)| target == logical_id)
            .map(|(name, _)| name.as_str())
            .collect();
        if names.is_empty() {
            println!("{}={table}", screaming_snake(logical_id));
        }
        for name in names {
            println!("{name}={table}");
        }
    }
    ExitCode::SUCCESS
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
    fn derives_variable_names() {
        assert_eq!(screaming_snake("TicketsTable"), "TICKETS_TABLE");
        assert_eq!(screaming_snake("Audit"), "AUDIT");
    }
}
