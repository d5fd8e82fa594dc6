//! Configuration: environment variables read once at init into a typed struct. A missing or
//! malformed variable stops the function at init, naming the variable.

use jiff::SignedDuration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `TICKETS_TABLE`: the DynamoDB table of tickets.
    pub tickets_table: String,
    /// `IDEMPOTENCY_KEY_TTL_HOURS`: how long an `Idempotency-Key` stays bound (1–168 hours).
    pub idempotency_ttl: SignedDuration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {rule}")]
    Invalid {
        name: &'static str,
        rule: &'static str,
    },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from any lookup, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let tickets_table = required("TICKETS_TABLE")?;
        let hours: i64 = required("IDEMPOTENCY_KEY_TTL_HOURS")?
            .trim()
            .parse()
            .ok()
            .filter(|h| (1..=168).contains(h))
            .ok_or(ConfigError::Invalid {
                name: "IDEMPOTENCY_KEY_TTL_HOURS",
                rule: "a whole number of hours from 1 to 168",
            })?;
        Ok(Self {
            tickets_table,
            idempotency_ttl: SignedDuration::from_hours(hours),
        })
    }
}

/// What the identity-verification functions read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KycConfig {
    /// `TICKETS_TABLE`: cases live beside the tickets.
    pub tickets_table: String,
    /// `DOCUMENTS_BUCKET`: the private, KMS-encrypted documents bucket.
    pub documents_bucket: String,
    /// `MAX_RESUBMISSIONS`: requests to send a document again before a senior reviewer
    /// takes the case (1–5).
    pub max_resubmissions: u8,
}

impl KycConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        Ok(Self {
            tickets_table: required("TICKETS_TABLE")?,
            documents_bucket: required("DOCUMENTS_BUCKET")?,
            max_resubmissions: required("MAX_RESUBMISSIONS")?
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or(ConfigError::Invalid {
                    name: "MAX_RESUBMISSIONS",
                    rule: "a whole number from 1 to 5",
                })?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn reads_every_variable() {
        let config = Config::from_lookup(lookup(&[
            ("TICKETS_TABLE", "t"),
            ("IDEMPOTENCY_KEY_TTL_HOURS", "24"),
        ]))
        .expect("valid");
        assert_eq!(config.tickets_table, "t");
        assert_eq!(config.idempotency_ttl, SignedDuration::from_hours(24));
    }

    #[test]
    fn kyc_configuration_names_its_variables() {
        let config = KycConfig::from_lookup(lookup(&[
            ("TICKETS_TABLE", "t"),
            ("DOCUMENTS_BUCKET", "b"),
            ("MAX_RESUBMISSIONS", "2"),
        ]))
        .expect("valid");
        assert_eq!(config.max_resubmissions, 2);
        assert_eq!(
            KycConfig::from_lookup(lookup(&[("TICKETS_TABLE", "t")])),
            Err(ConfigError::Missing("DOCUMENTS_BUCKET"))
        );
    }

    #[test]
    fn names_the_missing_or_bad_variable() {
        assert_eq!(
            Config::from_lookup(lookup(&[("IDEMPOTENCY_KEY_TTL_HOURS", "24")])),
            Err(ConfigError::Missing("TICKETS_TABLE"))
        );
        let err = Config::from_lookup(lookup(&[
            ("TICKETS_TABLE", "t"),
            ("IDEMPOTENCY_KEY_TTL_HOURS", "0"),
        ]))
        .expect_err("out of range");
        assert!(err.to_string().contains("IDEMPOTENCY_KEY_TTL_HOURS"));
    }
}
