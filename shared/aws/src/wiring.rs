//! The production wiring: each use case built on its AWS adapters from the typed configuration
//! and one SDK configuration, once per container. A function's `main` calls one of these and
//! nothing else knows which adapter stands behind a port.

use aws_config::SdkConfig;
use guichet_core::attachments::service::Attachments;
use guichet_core::common::clock::{RandomReferences, SystemClock};
use guichet_core::handoffs::signature::HandoffKey;
use guichet_core::incidents::service::{IncidentConfig, Incidents};
use guichet_core::mail::inbox::Inbox;
use guichet_core::mail::reply_address::ReplyKey;
use guichet_core::notifications::rules::{NotificationTemplates, Notifier, TemplateError};
use guichet_core::notifications::sender::{Replies, Sender};
use guichet_core::outbox::relay::Relay;
use guichet_core::promises::clocks::Promises;
use guichet_core::promises::sweep::Sweep;
use guichet_core::tickets::desk::Desk;
use guichet_core::tickets::sla::SupportCalendar;
use guichet_core::verification::service::Verification;
use guichet_edge::config::{
    AttachmentsConfig, Config, ConfigError, FromEnv, HandoffConfig, InboxConfig, KycConfig,
    MailConfig, QueuesConfig, SenderConfig, SweepConfig, WarmupConfig,
};

use crate::dynamo::attachments::DynamoAttachmentStore;
use crate::dynamo::cases::DynamoCaseStore;
use crate::dynamo::deliveries::DynamoDeliveryLedger;
use crate::dynamo::incidents::DynamoIncidentStore;
use crate::dynamo::mail::DynamoMailroom;
use crate::dynamo::tickets::DynamoTicketStore;
use crate::s3::{S3DocumentStorage, S3RawMail};
use crate::ses::SesEmailSender;
use crate::sqs::SqsQueues;
use crate::warmup::{Endpoint, WARMUP_TIMEOUT};

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the desk's time zone could not be loaded")]
    Calendar(#[source] jiff::Error),
    #[error("the notification templates are invalid")]
    Templates(#[from] TemplateError),
    #[error("the desk's hours or promises are invalid")]
    Promises(#[from] guichet_core::common::settings::SettingsError),
    #[error("the chat hand-off secret could not be read")]
    HandoffSecret(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the chat hand-off secret has no text value")]
    HandoffSecretEmpty,
    #[error("the chat hand-off secret is unusable")]
    HandoffKey(#[from] guichet_core::handoffs::signature::KeyError),
    #[error("the mail reply secret could not be read")]
    ReplySecret(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the mail reply secret has no text value")]
    ReplySecretEmpty,
    #[error("the mail reply secret is unusable")]
    ReplyKey(#[from] guichet_core::mail::reply_address::ReplyKeyError),
}

/// The desk (intake, reading, the staff workflow) on the tickets table, the system clock and
/// the published calendar.
pub fn desk(config: &Config, sdk: &SdkConfig) -> Result<Desk<DynamoTicketStore>, InitError> {
    let calendar = SupportCalendar::published().map_err(InitError::Calendar)?;
    Ok(Desk {
        store: DynamoTicketStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            config.tickets_table.clone(),
        ),
        clock: Box::new(SystemClock),
        references: Box::new(RandomReferences),
        notifier: Notifier::new(NotificationTemplates::bundled()?, calendar.zone().clone()),
        calendar,
        idempotency_ttl: config.idempotency_ttl,
        promises: Promises::bundled()?,
    })
}

/// What a function builds its use cases from at init: the tickets configuration and one SDK
/// configuration, each read once per container and shared by every client built from them. A
/// function's `main` is then its configuration, the services it needs, the connections its
/// first request will use ([`Wiring::warm`]), and its runtime loop.
pub struct Wiring {
    config: Config,
    warmup: WarmupConfig,
    sdk: SdkConfig,
}

impl Wiring {
    /// Reads the tickets configuration (failing with the variable's name) and loads the SDK
    /// configuration.
    pub async fn from_env() -> Result<Self, InitError> {
        Ok(Self {
            config: Config::from_env()?,
            warmup: WarmupConfig::from_env()?,
            sdk: crate::sdk_config().await,
        })
    }

    /// Opens the connections a function's first request uses: the tickets table's, which every
    /// service built here reads or writes, and `also` (a queue the function sends to on every
    /// request, say). Never fails: see [`crate::warmup`].
    pub async fn warm(&self, also: &[Endpoint]) {
        let mut endpoints = vec![Endpoint::Table(self.config.tickets_table.clone())];
        endpoints.extend_from_slice(also);
        crate::warmup::warm(&self.sdk, self.warmup, &endpoints, WARMUP_TIMEOUT).await;
    }

    pub fn desk(&self) -> Result<Desk<DynamoTicketStore>, InitError> {
        desk(&self.config, &self.sdk)
    }

    /// The outbox relay, to the queues named in the environment.
    pub fn relay(&self) -> Result<Relay<DynamoTicketStore, SqsQueues>, InitError> {
        let queues = QueuesConfig::from_env()?;
        Ok(relay(&self.config.tickets_table, &queues, &self.sdk))
    }

    /// The live-chat tool's signing key, read from the Secrets Manager secret named in the
    /// environment (once per container; the value is never logged).
    pub async fn chat_handoff_key(&self) -> Result<HandoffKey, InitError> {
        handoff_key(&HandoffConfig::from_env()?, &self.sdk).await
    }

    /// The reply addresses' key and mailbox (see [`replies`]).
    pub async fn replies(&self, mail: &MailConfig) -> Result<Replies, InitError> {
        replies(mail, &self.sdk).await
    }

    /// The support mailbox (see [`inbox`]).
    pub fn inbox(
        &self,
        config: &InboxConfig,
        mail: &MailConfig,
        replies: Replies,
    ) -> Result<AwsInbox, InitError> {
        Ok(inbox(self.desk()?, config, mail, replies, &self.sdk))
    }

    /// The verification cases, in the tickets table.
    pub fn cases(&self) -> DynamoCaseStore {
        DynamoCaseStore::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            self.config.tickets_table.clone(),
        )
    }

    /// The mail desk's records, in the tickets table.
    pub fn mailroom(&self) -> DynamoMailroom {
        DynamoMailroom::new(
            aws_sdk_dynamodb::Client::new(&self.sdk),
            &self.config.tickets_table,
        )
    }

    /// The clocks' sweep, over the lookback named in the environment.
    pub fn sweep(&self) -> Result<Sweep<DynamoTicketStore>, InitError> {
        let config = SweepConfig::from_env()?;
        Ok(Sweep {
            desk: self.desk()?,
            lookback_hours: config.lookback_hours,
        })
    }

    /// Incidents, with the grouping rule named in the environment.
    pub fn incidents(&self) -> Result<Incidents<DynamoIncidentStore>, InitError> {
        let rule = IncidentConfig::from_env()?;
        Ok(incidents(&self.config.tickets_table, rule, &self.sdk))
    }

    /// Ticket attachments, in the documents bucket named in the environment.
    pub fn attachments(
        &self,
    ) -> Result<Attachments<DynamoAttachmentStore, S3DocumentStorage>, InitError> {
        Ok(attachments(&AttachmentsConfig::from_env()?, &self.sdk))
    }
}

/// [`desk`] from the environment and a fresh SDK configuration, with the table's connection
/// open: the only endpoint the desk calls.
pub async fn desk_from_env() -> Result<Desk<DynamoTicketStore>, InitError> {
    let wiring = Wiring::from_env().await?;
    let desk = wiring.desk()?;
    wiring.warm(&[]).await;
    Ok(desk)
}

/// A secret's value now and, while a rotation is under way, the one before it
/// (`AWSPREVIOUS`, absent for a secret never rotated); `None` for a value without text.
type SecretValues = (Option<String>, Option<String>);

/// Reads a signing secret the way each container does at init: [`SecretValues`].
async fn secret_values(
    sdk: &SdkConfig,
    arn: &str,
) -> Result<SecretValues, Box<dyn std::error::Error + Send + Sync>> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let read = |stage: &'static str| {
        client
            .get_secret_value()
            .secret_id(arn)
            .version_stage(stage)
            .send()
    };
    let current = read("AWSCURRENT").await?.secret_string().map(str::to_owned);
    let previous = match read("AWSPREVIOUS").await {
        Ok(previous) => previous.secret_string().map(str::to_owned),
        Err(aws_sdk_secretsmanager::error::SdkError::ServiceError(e))
            if e.err().is_resource_not_found_exception() =>
        {
            None
        }
        Err(e) => return Err(Box::new(e)),
    };
    Ok((current, previous))
}

/// The live-chat tool's signing key, from the Secrets Manager secret of `config`: its current
/// value, and the value before it while a rotation is under way (`AWSPREVIOUS`), so that the
/// chat tool may switch to the new one at its own pace.
pub async fn handoff_key(config: &HandoffConfig, sdk: &SdkConfig) -> Result<HandoffKey, InitError> {
    let (current, previous) = secret_values(sdk, &config.secret_arn)
        .await
        .map_err(InitError::HandoffSecret)?;
    let key = HandoffKey::parse(current.ok_or(InitError::HandoffSecretEmpty)?.as_bytes())?;
    match previous {
        Some(before) => Ok(key.with_previous(before.as_bytes())?),
        None => Ok(key),
    }
}

/// The documents bucket both upload pipelines (verification documents, attachments) store in.
fn documents(bucket: &str, sdk: &SdkConfig) -> S3DocumentStorage {
    S3DocumentStorage::new(aws_sdk_s3::Client::new(sdk), bucket.to_owned())
}

/// Identity verification: cases in the tickets table, documents in the documents bucket.
pub fn verification(
    config: &KycConfig,
    sdk: &SdkConfig,
) -> Verification<DynamoCaseStore, S3DocumentStorage> {
    Verification {
        cases: DynamoCaseStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            config.tickets_table.clone(),
        ),
        storage: documents(&config.documents_bucket, sdk),
        clock: Box::new(SystemClock),
        max_resubmissions: config.max_resubmissions,
        notifier: Notifier::bundled(),
    }
}

/// [`verification`] from the environment and a fresh SDK configuration, with the table's
/// connection open: the functions built on it only presign S3 requests, which needs no
/// connection.
pub async fn verification_from_env(
) -> Result<Verification<DynamoCaseStore, S3DocumentStorage>, ConfigError> {
    let (config, warmup) = (KycConfig::from_env()?, WarmupConfig::from_env()?);
    let sdk = crate::sdk_config().await;
    let verification = verification(&config, &sdk);
    let table = [Endpoint::Table(config.tickets_table)];
    crate::warmup::warm(&sdk, warmup, &table, WARMUP_TIMEOUT).await;
    Ok(verification)
}

/// Ticket attachments: records in their ticket's item collection, objects under `tickets/`.
pub fn attachments(
    config: &AttachmentsConfig,
    sdk: &SdkConfig,
) -> Attachments<DynamoAttachmentStore, S3DocumentStorage> {
    Attachments {
        store: DynamoAttachmentStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            config.tickets_table.clone(),
        ),
        storage: documents(&config.documents_bucket, sdk),
        clock: Box::new(SystemClock),
    }
}

/// The notification sender: addresses and delivery records in the tickets table, e-mail
/// through SES; `replies` (from [`replies`]) signs each ticket's reply address.
pub fn sender(
    config: &SenderConfig,
    sdk: &SdkConfig,
    replies: Option<Replies>,
) -> Sender<DynamoTicketStore, DynamoDeliveryLedger, SesEmailSender> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    let configuration_set = config
        .mail
        .as_ref()
        .and_then(|mail| mail.configuration_set.clone());
    Sender {
        contacts: DynamoTicketStore::new(dynamodb.clone(), &config.tickets_table),
        ledger: DynamoDeliveryLedger::new(dynamodb, &config.tickets_table),
        email: SesEmailSender::new(aws_sdk_sesv2::Client::new(sdk))
            .with_configuration_set(configuration_set),
        clock: Box::new(SystemClock),
        from: config.sender.clone(),
        replies,
    }
}

/// The reply addresses' signing key, from the Secrets Manager secret of `mail`: its current
/// value, and the one before it (`AWSPREVIOUS`), so that the addresses signed before a rotation
/// still name their ticket; with the mailbox it signs for.
pub async fn replies(mail: &MailConfig, sdk: &SdkConfig) -> Result<Replies, InitError> {
    let (current, previous) = secret_values(sdk, &mail.reply_secret_arn)
        .await
        .map_err(InitError::ReplySecret)?;
    let key = ReplyKey::parse(current.ok_or(InitError::ReplySecretEmpty)?.as_bytes())?;
    let key = match previous {
        Some(before) => key.with_previous(before.as_bytes())?,
        None => key,
    };
    Ok(Replies {
        key,
        mailbox: mail.mailbox.clone(),
    })
}

/// The support mailbox: what mail-in files each received mail with.
pub type AwsInbox = Inbox<
    DynamoTicketStore,
    DynamoMailroom,
    S3RawMail,
    SesEmailSender,
    DynamoAttachmentStore,
    S3DocumentStorage,
>;

/// The mailbox: the desk and the mail records on the tickets table, the raw mail in the
/// documents bucket, acknowledgements through SES.
pub fn inbox(
    desk: Desk<DynamoTicketStore>,
    config: &InboxConfig,
    mail: &MailConfig,
    replies: Replies,
    sdk: &SdkConfig,
) -> AwsInbox {
    let table = desk.store.table_name().to_owned();
    Inbox {
        desk,
        mailroom: DynamoMailroom::new(aws_sdk_dynamodb::Client::new(sdk), &table),
        raw: S3RawMail::new(aws_sdk_s3::Client::new(sdk), &config.documents_bucket),
        email: SesEmailSender::new(aws_sdk_sesv2::Client::new(sdk))
            .with_configuration_set(mail.configuration_set.clone()),
        attachments: attachments(
            &AttachmentsConfig {
                tickets_table: table.clone(),
                documents_bucket: config.documents_bucket.clone(),
            },
            sdk,
        ),
        key: replies.key,
        mailbox: replies.mailbox,
        from: config.sender.clone(),
    }
}

/// The outbox relay: the tickets table's outbox and the queues of `queues`.
pub fn relay(
    tickets_table: &str,
    queues: &QueuesConfig,
    sdk: &SdkConfig,
) -> Relay<DynamoTicketStore, SqsQueues> {
    Relay {
        store: DynamoTicketStore::new(aws_sdk_dynamodb::Client::new(sdk), tickets_table),
        queues: SqsQueues::new(aws_sdk_sqs::Client::new(sdk), queues),
    }
}

/// Incidents on the tickets table, with the grouping rule of `config`.
pub fn incidents(
    tickets_table: &str,
    config: IncidentConfig,
    sdk: &SdkConfig,
) -> Incidents<DynamoIncidentStore> {
    Incidents {
        store: DynamoIncidentStore::new(aws_sdk_dynamodb::Client::new(sdk), tickets_table),
        config,
    }
}
