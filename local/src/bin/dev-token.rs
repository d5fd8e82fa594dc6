//! `dev-token --sub ID [--groups player,agent] [--email ADDR] [--ttl-seconds 3600]`: prints a
//! token the local gateway accepts, signed with the dev key (`.local/dev-jwt.key`, created on
//! first use). Groups go into `cognito:groups` as a JSON array, as Cognito issues them.
//!
//! Example: `curl -H "Authorization: Bearer $(cargo run -q -p guichet-local --bin dev-token -- --sub p-1)" ...`

use std::process::ExitCode;

use guichet_local::jwt::{DevKey, DEV_AUDIENCE, DEV_ISSUER};
use serde_json::{json, Map, Value};

const USAGE: &str =
    "usage: dev-token --sub ID [--groups player,agent] [--email ADDR] [--ttl-seconds 3600]";
const DEFAULT_TTL_SECONDS: i64 = 3600;
/// A dev token should not outlive a working week; longer ones get pasted into places.
const MAX_TTL_SECONDS: i64 = 7 * 24 * 3600;

struct Options {
    sub: String,
    groups: Vec<String>,
    email: Option<String>,
    ttl_seconds: i64,
}

fn main() -> ExitCode {
    match run() {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("dev-token: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, String> {
    let options = parse(std::env::args().skip(1))?;
    let key = DevKey::load_or_create(&DevKey::default_path()).map_err(|error| {
        let mut message = error.to_string();
        if let Some(source) = std::error::Error::source(&error) {
            message.push_str(&format!(": {source}"));
        }
        message
    })?;
    let now = jiff::Timestamp::now().as_second();
    let mut claims = Map::new();
    claims.insert("sub".to_owned(), json!(options.sub));
    claims.insert("cognito:groups".to_owned(), json!(options.groups));
    if let Some(email) = options.email {
        claims.insert("email".to_owned(), json!(email));
    }
    claims.insert("iss".to_owned(), json!(DEV_ISSUER));
    claims.insert("aud".to_owned(), json!(DEV_AUDIENCE));
    claims.insert("iat".to_owned(), json!(now));
    claims.insert("exp".to_owned(), Value::from(now + options.ttl_seconds));
    Ok(key.issue(&claims))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut sub = None;
    let mut groups = vec!["player".to_owned()];
    let mut email = None;
    let mut ttl_seconds = DEFAULT_TTL_SECONDS;
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_owned());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--sub" => sub = Some(value),
            "--groups" => {
                groups = value
                    .split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "--email" => email = Some(value),
            "--ttl-seconds" => {
                ttl_seconds = value
                    .parse()
                    .ok()
                    .filter(|t| (1..=MAX_TTL_SECONDS).contains(t))
                    .ok_or_else(|| {
                        format!("--ttl-seconds must be a whole number from 1 to {MAX_TTL_SECONDS}")
                    })?;
            }
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    let sub = sub
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| format!("--sub is required\n{USAGE}"))?;
    Ok(Options {
        sub,
        groups,
        email,
        ttl_seconds,
    })
}
