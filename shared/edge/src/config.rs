//! Configuration: environment variables read once at init into a typed struct. A missing or
//! malformed variable stops the function at init, naming the variable.

use guichet_core::incidents::service::IncidentConfig;
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

/// Settings a core area defines, read here from the environment (the core never reads it).
pub trait FromEnv: Sized {
    /// Reads from any lookup, so tests need not touch the process environment.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError>;

    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// A variable that must be set to something other than blanks.
fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, ConfigError> {
    lookup(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError::Missing(name))
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from any lookup, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let tickets_table = required(&lookup, "TICKETS_TABLE")?;
        let hours: i64 = required(&lookup, "IDEMPOTENCY_KEY_TTL_HOURS")?
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

/// The queues the outbox relay and the escalation router send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuesConfig {
    /// `ESCALATIONS_QUEUE_URL`: escalation requests, read by route-escalations.
    pub escalations_queue_url: String,
    /// `NOTIFICATIONS_QUEUE_URL`: player notifications, read by send-notifications.
    pub notifications_queue_url: String,
    /// `INCIDENT_UPDATES_QUEUE_URL`: pages of incident status updates to fan out to the linked
    /// players, read by incident-updates.
    pub incident_updates_queue_url: String,
    /// `TEAM_ALERTS_QUEUE_URL`: the promises about to be missed, or missed, that the sweep
    /// found, for the owning teams' tools.
    pub team_alerts_queue_url: String,
    /// `<TEAM>_ESCALATIONS_QUEUE_URL` for technical, games, payments and security: the FIFO
    /// queues the specialist teams consume.
    pub team_queue_urls: Vec<(guichet_core::tickets::ticket::Team, String)>,
}

impl QueuesConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        use guichet_core::tickets::ticket::Team;
        Ok(Self {
            escalations_queue_url: required(&lookup, "ESCALATIONS_QUEUE_URL")?,
            notifications_queue_url: required(&lookup, "NOTIFICATIONS_QUEUE_URL")?,
            incident_updates_queue_url: required(&lookup, "INCIDENT_UPDATES_QUEUE_URL")?,
            team_alerts_queue_url: required(&lookup, "TEAM_ALERTS_QUEUE_URL")?,
            team_queue_urls: vec![
                (
                    Team::Technical,
                    required(&lookup, "TECHNICAL_ESCALATIONS_QUEUE_URL")?,
                ),
                (
                    Team::Games,
                    required(&lookup, "GAMES_ESCALATIONS_QUEUE_URL")?,
                ),
                (
                    Team::Payments,
                    required(&lookup, "PAYMENTS_ESCALATIONS_QUEUE_URL")?,
                ),
                (
                    Team::Security,
                    required(&lookup, "SECURITY_ESCALATIONS_QUEUE_URL")?,
                ),
            ],
        })
    }
}

/// What send-notifications reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderConfig {
    /// `TICKETS_TABLE`: the players' addresses and the delivery records.
    pub tickets_table: String,
    /// `NOTIFICATION_SENDER`: the verified SES identity e-mails are sent from.
    pub sender: String,
    /// The support mailbox, when the desk receives mail (`MAIL_DOMAIN` set): each ticket's
    /// mail then carries its signed reply address.
    pub mail: Option<MailConfig>,
}

/// The support mailbox: what receives mail (mail-in) and what signs the reply addresses of
/// the mail we send (send-notifications).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// `MAIL_MAILBOX` at `MAIL_DOMAIN` (`soutien` at `guichet.example`): checked so that every
    /// reply address it signs is a valid one.
    pub mailbox: guichet_core::mail::reply_address::ReplyMailbox,
    /// `MAIL_REPLY_SECRET_ARN`: the Secrets Manager secret the reply addresses are signed with.
    pub reply_secret_arn: String,
    /// `MAIL_CONFIGURATION_SET` (optional): the SES configuration set whose event destination
    /// reports bounces and complaints.
    pub configuration_set: Option<String>,
}

impl MailConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let domain = required(&lookup, "MAIL_DOMAIN")?;
        let local = required(&lookup, "MAIL_MAILBOX")?;
        let mailbox =
            guichet_core::mail::reply_address::ReplyMailbox::parse(local.trim(), domain.trim())
                .map_err(|e| ConfigError::Invalid {
                    name: match e {
                        guichet_core::mail::reply_address::ReplyMailboxError::LocalPart {
                            ..
                        } => "MAIL_MAILBOX",
                        guichet_core::mail::reply_address::ReplyMailboxError::Domain => {
                            "MAIL_DOMAIN"
                        }
                    },
                    rule: "MAIL_MAILBOX@MAIL_DOMAIN must make a valid address, the local part \
                           of at most 42 letters, digits, '.', '-' or '_'",
                })?;
        Ok(Self {
            mailbox,
            reply_secret_arn: required(&lookup, "MAIL_REPLY_SECRET_ARN")?,
            configuration_set: lookup("MAIL_CONFIGURATION_SET")
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
        })
    }

    /// The mailbox's configuration when `MAIL_DOMAIN` is set; `None` for a desk that receives
    /// no mail.
    pub fn optional(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        match lookup("MAIL_DOMAIN").filter(|v| !v.trim().is_empty()) {
            Some(_) => Self::from_lookup(lookup).map(Some),
            None => Ok(None),
        }
    }
}

/// What mail-in reads besides the desk's [`Config`] and the [`MailConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxConfig {
    /// `DOCUMENTS_BUCKET`: where SES stores each received mail (`mail/inbound/`).
    pub documents_bucket: String,
    /// `NOTIFICATION_SENDER`: the verified SES identity acknowledgements are sent from.
    pub sender: String,
}

impl InboxConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let sender = SenderConfig::from_lookup(|name| match name {
            "TICKETS_TABLE" => Some("-".to_owned()),
            "MAIL_DOMAIN" => None,
            other => lookup(other),
        })?;
        Ok(Self {
            documents_bucket: required(&lookup, "DOCUMENTS_BUCKET")?,
            sender: sender.sender,
        })
    }
}

impl SenderConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let tickets_table = required(&lookup, "TICKETS_TABLE")?;
        // Checked here so a typo stops the function at init, not at every send.
        let sender = guichet_core::common::contact::ContactAddress::parse(&required(
            &lookup,
            "NOTIFICATION_SENDER",
        )?)
        .ok_or(ConfigError::Invalid {
            name: "NOTIFICATION_SENDER",
            rule: "a single e-mail address",
        })?;
        Ok(Self {
            tickets_table,
            sender: sender.expose().to_owned(),
            mail: MailConfig::optional(&lookup)?,
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
        Ok(Self {
            tickets_table: required(&lookup, "TICKETS_TABLE")?,
            documents_bucket: required(&lookup, "DOCUMENTS_BUCKET")?,
            max_resubmissions: required(&lookup, "MAX_RESUBMISSIONS")?
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

/// What the live-chat hand-off reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffConfig {
    /// `CHAT_HANDOFF_SECRET_ARN`: the Secrets Manager secret the chat tool signs with.
    pub secret_arn: String,
}

impl HandoffConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            secret_arn: required(&lookup, "CHAT_HANDOFF_SECRET_ARN")?,
        })
    }
}

/// What the clocks' sweep reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepConfig {
    /// `SWEEP_LOOKBACK_HOURS`: the past hours of the due-time index each sweep reads besides
    /// the current one (1–168), so a sweep that did not run for a while finds what fell due.
    pub lookback_hours: u16,
}

impl SweepConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            lookback_hours: required(&lookup, "SWEEP_LOOKBACK_HOURS")?
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=168).contains(n))
                .ok_or(ConfigError::Invalid {
                    name: "SWEEP_LOOKBACK_HOURS",
                    rule: "a whole number of hours from 1 to 168",
                })?,
        })
    }
}

/// What the functions that touch attachments read from their environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentsConfig {
    /// `TICKETS_TABLE`: attachments live in their ticket's item collection.
    pub tickets_table: String,
    /// `DOCUMENTS_BUCKET`: the objects, under `tickets/`.
    pub documents_bucket: String,
}

impl AttachmentsConfig {
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
        })
    }
}

/// Whether a function opens its AWS connections at init (`guichet_aws::warmup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WarmupConfig {
    /// `WARM_CONNECTIONS`: `true` or `false` (the default, also when unset). Off, the first
    /// request pays the connection (DNS, TCP, TLS) itself. On moves that cost into init, which
    /// pays only where init runs before any request (provisioned concurrency): on an on-demand
    /// cold start the player waits for both, and the benchmark measured no saving.
    pub warm_connections: bool,
}

impl FromEnv for WarmupConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let name = "WARM_CONNECTIONS";
        let warm_connections = match lookup(name) {
            None => false,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                // Set but empty reads as unset: a template that blanks it keeps the default.
                "" | "false" => false,
                "true" => true,
                _ => {
                    return Err(ConfigError::Invalid {
                        name,
                        rule: "true or false",
                    })
                }
            },
        };
        Ok(Self { warm_connections })
    }
}

/// The core's incident rule (`guichet_core::incidents`), read from the environment.
impl FromEnv for IncidentConfig {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |name: &'static str, min: i64, max: i64, rule: &'static str| {
            required(&lookup, name)?
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or(ConfigError::Invalid { name, rule })
        };
        // One report is not an outbreak: the lower bound keeps every report from opening one.
        let threshold = number(
            "INCIDENT_THRESHOLD",
            2,
            100,
            "a whole number of reports from 2 to 100",
        )?;
        let minutes = number(
            "INCIDENT_WINDOW_MINUTES",
            5,
            1440,
            "a whole number of minutes from 5 to 1440",
        )?;
        Ok(Self {
            threshold: u32::try_from(threshold).map_err(|_| ConfigError::Invalid {
                name: "INCIDENT_THRESHOLD",
                rule: "a whole number of reports from 2 to 100",
            })?,
            window: SignedDuration::from_mins(minutes),
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
    fn sender_configuration_names_its_variables() {
        let config = SenderConfig::from_lookup(lookup(&[
            ("TICKETS_TABLE", "t"),
            ("NOTIFICATION_SENDER", " soutien@guichet.example "),
        ]))
        .expect("valid");
        assert_eq!(config.sender, "soutien@guichet.example");
        assert_eq!(
            SenderConfig::from_lookup(lookup(&[("TICKETS_TABLE", "t")])),
            Err(ConfigError::Missing("NOTIFICATION_SENDER"))
        );
        let err = SenderConfig::from_lookup(lookup(&[
            ("TICKETS_TABLE", "t"),
            ("NOTIFICATION_SENDER", "Soutien <soutien@guichet.example>"),
        ]))
        .expect_err("not a bare address");
        assert!(err.to_string().contains("NOTIFICATION_SENDER"));
    }

    #[test]
    fn the_mailbox_is_checked_at_init_and_optional_for_the_sender() {
        let base = [
            ("TICKETS_TABLE", "t"),
            ("NOTIFICATION_SENDER", "soutien@guichet.example"),
        ];
        assert_eq!(
            SenderConfig::from_lookup(lookup(&base))
                .expect("valid")
                .mail,
            None
        );
        let with_mail = [
            ("TICKETS_TABLE", "t"),
            ("NOTIFICATION_SENDER", "soutien@guichet.example"),
            ("MAIL_DOMAIN", "guichet.example"),
            ("MAIL_MAILBOX", "Soutien"),
            ("MAIL_REPLY_SECRET_ARN", "arn:secret"),
            ("MAIL_CONFIGURATION_SET", "guichet-mail"),
        ];
        let mail = SenderConfig::from_lookup(lookup(&with_mail))
            .expect("valid")
            .mail
            .expect("a mailbox");
        assert_eq!(mail.mailbox.address().expose(), "soutien@guichet.example");
        assert_eq!(mail.configuration_set.as_deref(), Some("guichet-mail"));
        let missing = [
            ("MAIL_DOMAIN", "guichet.example"),
            ("MAIL_MAILBOX", "soutien"),
        ];
        assert_eq!(
            MailConfig::from_lookup(lookup(&missing)),
            Err(ConfigError::Missing("MAIL_REPLY_SECRET_ARN"))
        );
        let bad = [
            ("MAIL_DOMAIN", "guichet.example"),
            ("MAIL_MAILBOX", "sou+tien"),
            ("MAIL_REPLY_SECRET_ARN", "arn:secret"),
        ];
        let err = MailConfig::from_lookup(lookup(&bad)).expect_err("a plus sign");
        assert!(err.to_string().contains("MAIL_MAILBOX"), "{err}");
        let inbox = InboxConfig::from_lookup(lookup(&[
            ("DOCUMENTS_BUCKET", "docs"),
            ("NOTIFICATION_SENDER", "soutien@guichet.example"),
        ]))
        .expect("valid");
        assert_eq!(inbox.documents_bucket, "docs");
    }

    #[test]
    fn incident_configuration_names_its_variables() {
        let config = IncidentConfig::from_lookup(lookup(&[
            ("INCIDENT_THRESHOLD", "3"),
            ("INCIDENT_WINDOW_MINUTES", "60"),
        ]))
        .expect("valid");
        assert_eq!(config.threshold, 3);
        assert_eq!(config.window, SignedDuration::from_mins(60));
        assert_eq!(
            IncidentConfig::from_lookup(lookup(&[("INCIDENT_THRESHOLD", "3")])),
            Err(ConfigError::Missing("INCIDENT_WINDOW_MINUTES"))
        );
        let err = IncidentConfig::from_lookup(lookup(&[
            ("INCIDENT_THRESHOLD", "1"),
            ("INCIDENT_WINDOW_MINUTES", "60"),
        ]))
        .expect_err("one report is no outbreak");
        assert!(err.to_string().contains("INCIDENT_THRESHOLD"));
    }

    #[test]
    fn connections_are_warmed_only_when_turned_on() {
        let warm = |pairs: &[(&str, &str)]| {
            WarmupConfig::from_lookup(lookup(pairs)).map(|c| c.warm_connections)
        };
        assert_eq!(warm(&[]), Ok(false));
        assert_eq!(warm(&[("WARM_CONNECTIONS", " ")]), Ok(false));
        assert_eq!(warm(&[("WARM_CONNECTIONS", "True")]), Ok(true));
        assert_eq!(warm(&[("WARM_CONNECTIONS", "false")]), Ok(false));
        let err = warm(&[("WARM_CONNECTIONS", "0")]).expect_err("neither true nor false");
        assert!(err.to_string().contains("WARM_CONNECTIONS"));
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
