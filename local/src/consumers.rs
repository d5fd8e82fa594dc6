//! Lambda's SQS event source mapping, played locally: for every function the template feeds
//! from a queue (`Events[*]` of `Type: SQS`), long-poll the provisioned queue, build the
//! [`SqsEvent`] Lambda would deliver, run the function's handler in process, and delete the
//! messages the way Lambda does.
//!
//! What is deliberately the same as in AWS, because the tests rely on it:
//! - a received message stays invisible for the queue's own visibility timeout (nothing here
//!   overrides it); a message left undeleted reappears after it, and SQS's redrive policy (not
//!   this code) moves it to the dead-letter queue after `maxReceiveCount` receives;
//! - with `ReportBatchItemFailures`, only the messages named in `batchItemFailures` stay; an
//!   empty or unknown identifier there fails the whole batch; without it, a handled batch is
//!   deleted whole;
//! - a handler that panics fails the whole batch (Lambda reports an invocation error).
//!
//! Not imitated: the function timeout and concurrency scaling; batches are handled one at a
//! time per queue.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::encodings::Base64Data;
use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_sqs::error::SdkError;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName,
};
use guichet_aws::dynamo::attachments::DynamoAttachmentStore;
use guichet_aws::dynamo::cases::DynamoCaseStore;
use guichet_aws::dynamo::tickets::DynamoTicketStore;
use guichet_aws::s3::S3DocumentStorage;
use guichet_aws::sqs::SqsQueues;
use guichet_core::attachments::service::Attachments;
use guichet_core::outbox::relay::{Relay, Relayed};
use guichet_core::tickets::desk::Desk;
use guichet_core::verification::service::Verification;

use crate::template::{QueueConsumer, Template, TemplateError};

/// SQS's longest long poll.
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// SQS's largest batch (ReceiveMessage's `MaxNumberOfMessages`).
const MAX_BATCH: u32 = 10;
/// After a failed poll (emulator restarting...), before polling again.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// The document function's ports, wired to DynamoDB and S3 as in Lambda.
pub type LocalVerification = Verification<DynamoCaseStore, S3DocumentStorage>;
/// The attachment check's ports (the document function checks `tickets/` keys with them).
pub type LocalAttachments = Attachments<DynamoAttachmentStore, S3DocumentStorage>;
/// The desk and the outbox relay, as the escalation router (and the sweep) wire them.
pub type LocalDesk = Desk<DynamoTicketStore>;
pub type LocalRelay = Relay<DynamoTicketStore, SqsQueues>;
/// The notification sender's ports: contacts in the tickets table, its delivery ledger, SES.
pub type LocalSender = guichet_core::notifications::sender::Sender<
    DynamoTicketStore,
    guichet_aws::dynamo::deliveries::DynamoDeliveryLedger,
    guichet_aws::ses::SesEmailSender,
>;

/// The incident fan-out's store: incidents in the tickets table.
pub type LocalIncidents = guichet_core::incidents::service::Incidents<
    guichet_aws::dynamo::incidents::DynamoIncidentStore,
>;

/// The clocks' sweep, as sla-sweep wires it.
pub type LocalSweep = guichet_core::promises::sweep::Sweep<DynamoTicketStore>;

/// What the SQS-fed functions (and the scheduled ones) run on, built once as each Lambda
/// builds it at init.
pub struct ConsumerServices {
    pub verification: LocalVerification,
    pub attachments: LocalAttachments,
    pub desk: LocalDesk,
    pub relay: LocalRelay,
    pub sender: LocalSender,
    pub incidents: LocalIncidents,
    pub sweep: LocalSweep,
    /// The support mailbox, as mail-in wires it.
    pub inbox: guichet_aws::wiring::AwsInbox,
}

/// How long `run` waits before reading the table's stream again when it had nothing: Lambda
/// polls a shard about four times a second.
const STREAM_POLL: Duration = Duration::from_millis(250);

/// How often `run` sweeps the outbox and the clocks: the local stand-in for relay-outbox's
/// and sla-sweep's one-minute EventBridge schedules, shorter so a failed send or a warning
/// shows up quickly when trying things by hand.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("cannot read the queue consumers from the template")]
    Template(#[from] TemplateError),
    #[error(
        "{function} consumes {queue} with binary `{binary}`, which has no in-process handler in \
         the local consumers; add it to HANDLERS in local/src/consumers.rs"
    )]
    NoHandler {
        function: String,
        binary: String,
        queue: String,
    },
    #[error("{function} consumes {queue}, but no URL is known for that queue (not provisioned?)")]
    NoQueueUrl { function: String, queue: String },
    #[error("environment variable {variable} (the URL of {queue}) is not set")]
    MissingVariable { variable: String, queue: String },
    #[error("SQS {operation} on {queue} failed")]
    Sqs {
        operation: &'static str,
        queue: String,
        #[source]
        source: Box<aws_sdk_sqs::Error>,
    },
    #[error("the table's stream could not be followed")]
    Stream(#[from] crate::stream::StreamError),
    #[error("SQS {operation} on {queue} answered without {what}")]
    IncompleteAnswer {
        operation: &'static str,
        queue: String,
        what: &'static str,
    },
}

fn sqs_error<E, R>(
    operation: &'static str,
    queue: &str,
) -> impl FnOnce(SdkError<E, R>) -> ConsumerError
where
    aws_sdk_sqs::Error: From<SdkError<E, R>>,
{
    let queue = queue.to_owned();
    move |error| ConsumerError::Sqs {
        operation,
        queue,
        source: Box::new(aws_sdk_sqs::Error::from(error)),
    }
}

/// What an in-process consumer returns: the batch response its Lambda would.
type HandlerFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = SqsBatchResponse> + Send + 'a>>;

/// One SQS-fed function run in process, on the services its Lambda builds at init.
type Handler = for<'a> fn(&'a ConsumerServices, SqsEvent) -> HandlerFuture<'a>;

/// The one registry of the SQS-fed functions the consumers run in process, by Cargo binary name
/// (the template's `Metadata.BuildProperties.Binary`). A new consumer is its crate, its template
/// resources, its dependency in `local/Cargo.toml` and one line here.
const HANDLERS: &[(&str, Handler)] = &[
    ("check-documents", |s, e| {
        Box::pin(check_documents::handle(&s.verification, &s.attachments, e))
    }),
    ("route-escalations", |s, e| {
        Box::pin(route_escalations::handle(&s.desk, &s.relay, e))
    }),
    ("send-notifications", |s, e| {
        Box::pin(send_notifications::handle(&s.sender, e))
    }),
    ("mail-in", |s, e| Box::pin(mail_in::handle(&s.inbox, e))),
    ("mail-feedback", |s, e| {
        Box::pin(mail_feedback::handle(&s.desk, &s.inbox.mailroom, e))
    }),
    ("incident-updates", |s, e| {
        Box::pin(incident_updates::handle(
            &s.desk,
            &s.incidents,
            &s.relay,
            incident_updates::PAGE_SIZE,
            e,
        ))
    }),
];

/// The template's queue consumers, each with a handler. Fails for a consumer whose binary has
/// no handler here, so a new SQS-fed function cannot be silently idle locally.
pub fn consumers_of(template: &Template) -> Result<Vec<QueueConsumer>, ConsumerError> {
    let consumers = template.queue_consumers()?;
    for consumer in &consumers {
        handler_of(consumer)?;
    }
    Ok(consumers)
}

fn handler_of(consumer: &QueueConsumer) -> Result<Handler, ConsumerError> {
    crate::registered(HANDLERS, &consumer.binary).ok_or_else(|| ConsumerError::NoHandler {
        function: consumer.function.clone(),
        binary: consumer.binary.clone(),
        queue: consumer.queue.clone(),
    })
}

/// The consumed queues' URLs (logical id -> URL) from the environment variables the template's
/// Globals name for them (`DOCUMENT_EVENTS_QUEUE_URL: !Ref DocumentEventsQueue`), which the
/// `provision` tool prints and `scripts/up` exports.
pub fn queue_urls_from_env(
    template: &Template,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, ConsumerError> {
    let variables = template.resource_env_vars()?;
    let mut urls = BTreeMap::new();
    for consumer in template.queue_consumers()? {
        if urls.contains_key(&consumer.queue) {
            continue;
        }
        let Some((variable, _)) = variables
            .iter()
            .find(|(_, target)| *target == consumer.queue)
        else {
            return Err(ConsumerError::NoQueueUrl {
                function: consumer.function,
                queue: consumer.queue,
            });
        };
        let url = lookup(variable)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ConsumerError::MissingVariable {
                variable: variable.clone(),
                queue: consumer.queue.clone(),
            })?;
        urls.insert(consumer.queue, url);
    }
    Ok(urls)
}

#[derive(Debug, Clone)]
struct Consumer {
    function: String,
    queue: String,
    url: String,
    /// `eventSourceARN` of the records.
    arn: String,
    /// `awsRegion` of the records, from the ARN.
    region: String,
    batch_size: i32,
    report_batch_item_failures: bool,
    handler: Handler,
}

/// What one round did, over all consumers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drained {
    pub received: usize,
    /// Records read from the table's stream (every write of the table, the relay's own
    /// deletes among them), handed to the stream function.
    pub streamed: usize,
    pub deleted: usize,
    /// Messages left on their queue, to reappear after the visibility timeout.
    pub failed: usize,
    /// Those messages, so a test can make them visible again at once (ChangeMessageVisibility
    /// 0) instead of waiting for the timeout.
    pub left: Vec<LeftMessage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftMessage {
    pub queue_url: String,
    pub message_id: String,
    pub receipt_handle: String,
}

impl Drained {
    fn add(&mut self, other: Drained) {
        self.received += other.received;
        self.streamed += other.streamed;
        self.deleted += other.deleted;
        self.failed += other.failed;
        self.left.extend(other.left);
    }
}

/// Every queue consumer of the template, ready to poll.
pub struct Consumers {
    sqs: aws_sdk_sqs::Client,
    consumers: Vec<Consumer>,
    services: Arc<ConsumerServices>,
    /// The tickets table's stream and the function it feeds, once [`Consumers::follow_stream`].
    stream: Option<(crate::stream::StreamFeed, StreamHandler)>,
}

/// What an in-process stream function returns: the batch response its Lambda would.
type StreamFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = DynamoDbEventResponse> + Send + 'a>>;

/// One stream-fed function run in process.
type StreamHandler = for<'a> fn(&'a ConsumerServices, DynamoDbEvent) -> StreamFuture<'a>;

/// The stream-fed functions the consumers run in process, by Cargo binary name.
const STREAM_HANDLERS: &[(&str, StreamHandler)] = &[("relay-stream", |s, e| {
    Box::pin(relay_stream::handle(&s.relay, e))
})];

impl Consumers {
    /// `queue_urls` maps a queue's logical id to its URL (`Provisioned::queues`, or
    /// [`queue_urls_from_env`], which requires every consumed queue): the consumers of exactly
    /// those queues are run, so a test can feed one function alone. Asks SQS for each queue's
    /// ARN, as the event source mapping knows it.
    pub async fn new(
        template: &Template,
        sdk: &aws_config::SdkConfig,
        services: ConsumerServices,
        queue_urls: &BTreeMap<String, String>,
    ) -> Result<Consumers, ConsumerError> {
        // The poller is the event source mapping, not a function: its long polls wait up to
        // MAX_WAIT, longer than the functions' own operation timeout (`guichet_aws::limits`).
        let polling = aws_sdk_sqs::config::Builder::from(sdk).timeout_config(
            aws_sdk_sqs::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(MAX_WAIT + Duration::from_secs(5))
                .operation_timeout(MAX_WAIT + Duration::from_secs(10))
                .build(),
        );
        let sqs = aws_sdk_sqs::Client::from_conf(polling.build());
        let mut consumers = Vec::new();
        for spec in consumers_of(template)? {
            let handler = handler_of(&spec)?;
            let Some(url) = queue_urls.get(&spec.queue).cloned() else {
                continue;
            };
            let arn = queue_arn(&sqs, &url).await?;
            let region = arn.split(':').nth(3).unwrap_or_default().to_owned();
            consumers.push(Consumer {
                function: spec.function,
                queue: spec.queue,
                url,
                arn,
                region,
                // SQS hands out at most ten per receive, whatever the template says.
                batch_size: i32::try_from(spec.batch_size.min(MAX_BATCH)).unwrap_or(10),
                report_batch_item_failures: spec.report_batch_item_failures,
                handler,
            });
        }
        if consumers.is_empty() && !queue_urls.is_empty() {
            let spec = consumers_of(template)?.into_iter().next();
            if let Some(spec) = spec {
                return Err(ConsumerError::NoQueueUrl {
                    function: spec.function,
                    queue: spec.queue,
                });
            }
        }
        Ok(Consumers {
            sqs,
            consumers,
            services: Arc::new(services),
            stream: None,
        })
    }

    /// Also feeds the template's stream function from `table`'s stream (the provisioned name
    /// of the template's one stream-fed table), from its oldest record, as the mapping does.
    pub async fn follow_stream(
        &mut self,
        template: &Template,
        sdk: &aws_config::SdkConfig,
        table: &str,
    ) -> Result<(), ConsumerError> {
        for spec in template.stream_consumers()? {
            let handler = crate::registered(STREAM_HANDLERS, &spec.binary).ok_or_else(|| {
                ConsumerError::NoHandler {
                    function: spec.function.clone(),
                    binary: spec.binary.clone(),
                    queue: format!("{} (stream)", spec.table),
                }
            })?;
            let feed = crate::stream::StreamFeed::new(sdk, table, spec.batch_size).await?;
            self.stream = Some((feed, handler));
        }
        Ok(())
    }

    /// One read of every shard of the followed stream, handed to its function.
    async fn poll_stream(&self) -> Result<usize, ConsumerError> {
        let Some((feed, handler)) = &self.stream else {
            return Ok(0);
        };
        let services = &*self.services;
        Ok(feed.poll(|event| handler(services, event)).await?)
    }

    /// `Function <- Queue (url)` for each consumer, for the start-up log.
    pub fn describe(&self) -> Vec<String> {
        self.consumers
            .iter()
            .map(|c| format!("{} <- {} ({})", c.function, c.queue, c.url))
            .collect()
    }

    /// One round: for each consumer, one ReceiveMessage (waiting up to `wait`, at most
    /// [`MAX_WAIT`]), the handler over what arrived, then the deletes. Deterministic for
    /// tests: nothing runs in the background.
    pub async fn drain_once(&self, wait: Duration) -> Result<Drained, ConsumerError> {
        let mut total = Drained {
            // First what the writes so far put in the outbox, as the stream relay would.
            streamed: self.poll_stream().await?,
            ..Drained::default()
        };
        for consumer in &self.consumers {
            total.add(self.poll(consumer, wait).await?);
        }
        Ok(total)
    }

    /// One sweep of the clocks, as sla-sweep does on its schedule.
    pub async fn sweep_clocks(
        &self,
    ) -> Result<guichet_core::promises::sweep::SweepReport, guichet_core::promises::sweep::SweepError>
    {
        self.services.sweep.run().await
    }

    /// One outbox sweep, as relay-outbox does on its schedule.
    pub async fn sweep_outbox(&self) -> Result<Relayed, guichet_core::common::store::StoreError> {
        self.services.relay.sweep(relay_outbox::BATCH).await
    }

    /// Polls every queue until the process ends; a failed poll is logged and retried. Sweeps
    /// the outbox every [`SWEEP_EVERY`].
    pub async fn run(self: Arc<Self>) {
        let mut tasks = tokio::task::JoinSet::new();
        let sweeper = Arc::clone(&self);
        tasks.spawn(async move {
            loop {
                tokio::time::sleep(SWEEP_EVERY).await;
                match sweeper.sweep_outbox().await {
                    Ok(relayed) if relayed.sent > 0 || relayed.kept > 0 => {
                        tracing::info!(sent = relayed.sent, kept = relayed.kept, "outbox swept");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(
                        error = %crate::error_chain(&error),
                        "outbox sweep failed; trying again"
                    ),
                }
                // The clocks' sweep logs what it recorded itself.
                if let Err(error) = sweeper.sweep_clocks().await {
                    tracing::warn!(
                        error = %crate::error_chain(&error),
                        "clocks sweep failed; trying again"
                    );
                }
            }
        });
        let streamer = Arc::clone(&self);
        tasks.spawn(async move {
            loop {
                match streamer.poll_stream().await {
                    // Busy: read on at once.
                    Ok(read) if read > 0 => continue,
                    Ok(_) => {}
                    Err(error) => tracing::warn!(
                        error = %crate::error_chain(&error),
                        "reading the table's stream failed; trying again"
                    ),
                }
                tokio::time::sleep(STREAM_POLL).await;
            }
        });
        for index in 0..self.consumers.len() {
            let consumers = Arc::clone(&self);
            tasks.spawn(async move {
                let consumer = &consumers.consumers[index];
                loop {
                    if let Err(error) = consumers.poll(consumer, MAX_WAIT).await {
                        tracing::warn!(
                            function = %consumer.function,
                            error = %crate::error_chain(&error),
                            "polling failed; trying again"
                        );
                        tokio::time::sleep(RETRY_PAUSE).await;
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn poll(&self, consumer: &Consumer, wait: Duration) -> Result<Drained, ConsumerError> {
        let wait = i32::try_from(wait.min(MAX_WAIT).as_secs()).unwrap_or(20);
        let output = self
            .sqs
            .receive_message()
            .queue_url(&consumer.url)
            .max_number_of_messages(consumer.batch_size)
            .wait_time_seconds(wait)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(sqs_error("ReceiveMessage", &consumer.queue))?;
        let messages = output.messages();
        if messages.is_empty() {
            return Ok(Drained::default());
        }
        let mut event = SqsEvent::default();
        event.records = messages
            .iter()
            .map(|m| lambda_record(m, consumer))
            .collect();
        let response = self.invoke(consumer, event).await;
        let keep = messages_to_keep(consumer, messages, response.as_ref());

        let mut drained = Drained {
            received: messages.len(),
            ..Drained::default()
        };
        let mut entries = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            let (id, handle) = (
                message.message_id().unwrap_or_default(),
                message.receipt_handle().unwrap_or_default(),
            );
            if keep[index] {
                drained.left.push(LeftMessage {
                    queue_url: consumer.url.clone(),
                    message_id: id.to_owned(),
                    receipt_handle: handle.to_owned(),
                });
            } else if let Ok(entry) = DeleteMessageBatchRequestEntry::builder()
                // Ids only need to be unique within the request.
                .id(format!("m{index}"))
                .receipt_handle(handle)
                .build()
            {
                entries.push(entry);
            }
        }
        drained.failed = drained.left.len();
        drained.deleted = self.delete(consumer, entries).await?;
        tracing::info!(
            function = %consumer.function,
            received = drained.received,
            deleted = drained.deleted,
            failed = drained.failed,
            "batch handled"
        );
        for left in &drained.left {
            tracing::warn!(
                function = %consumer.function,
                message_id = %left.message_id,
                "message left on the queue; it reappears after the visibility timeout"
            );
        }
        Ok(drained)
    }

    /// Runs the handler in its own task, as Lambda runs it in its own process: a panic is an
    /// invocation error (`None`), which fails the whole batch, instead of ending the consumers.
    async fn invoke(&self, consumer: &Consumer, event: SqsEvent) -> Option<SqsBatchResponse> {
        let services = Arc::clone(&self.services);
        let handler = consumer.handler;
        let task = tokio::spawn(async move { handler(&services, event).await });
        match task.await {
            Ok(response) => Some(response),
            Err(error) => {
                tracing::error!(
                    function = %consumer.function,
                    panicked = error.is_panic(),
                    "invocation failed; the whole batch will be retried"
                );
                None
            }
        }
    }

    /// Deletes handled messages; returns how many SQS deleted. A delete that fails leaves the
    /// message to be delivered again, which the handlers take as a duplicate.
    async fn delete(
        &self,
        consumer: &Consumer,
        entries: Vec<DeleteMessageBatchRequestEntry>,
    ) -> Result<usize, ConsumerError> {
        if entries.is_empty() {
            return Ok(0);
        }
        let output = self
            .sqs
            .delete_message_batch()
            .queue_url(&consumer.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(sqs_error("DeleteMessageBatch", &consumer.queue))?;
        for failed in output.failed() {
            tracing::warn!(
                function = %consumer.function,
                code = failed.code(),
                "a handled message could not be deleted; it will be delivered again"
            );
        }
        Ok(output.successful().len())
    }
}

/// Which messages stay on the queue, by position, as Lambda decides from the handler's answer.
fn messages_to_keep(
    consumer: &Consumer,
    messages: &[Message],
    response: Option<&SqsBatchResponse>,
) -> Vec<bool> {
    let all = |keep| vec![keep; messages.len()];
    let Some(response) = response else {
        return all(true);
    };
    if !consumer.report_batch_item_failures {
        // Without ReportBatchItemFailures Lambda ignores the answer: a returned batch succeeded.
        if !response.batch_item_failures.is_empty() {
            tracing::warn!(
                function = %consumer.function,
                "the handler reported failures, but the event source has no \
                 ReportBatchItemFailures: the whole batch is deleted, as in Lambda"
            );
        }
        return all(false);
    }
    let ids: Vec<&str> = messages
        .iter()
        .map(|m| m.message_id().unwrap_or_default())
        .collect();
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    // Lambda treats an empty identifier, or one that is not in the batch, as a failure of the
    // whole batch.
    if failed.iter().any(|f| f.is_empty() || !ids.contains(f)) {
        return all(true);
    }
    ids.iter().map(|id| failed.contains(id)).collect()
}

/// The record Lambda builds from one received message.
fn lambda_record(message: &Message, consumer: &Consumer) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = message.message_id().map(str::to_owned);
    record.receipt_handle = message.receipt_handle().map(str::to_owned);
    record.body = message.body().map(str::to_owned);
    record.md5_of_body = message.md5_of_body().map(str::to_owned);
    record.md5_of_message_attributes = message.md5_of_message_attributes().map(str::to_owned);
    record.attributes = message
        .attributes()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                .collect()
        })
        .unwrap_or_default();
    record.message_attributes = message
        .message_attributes()
        .map(|attributes| {
            attributes
                .iter()
                .map(|(name, value)| (name.clone(), lambda_attribute(value)))
                .collect::<HashMap<_, _>>()
        })
        .unwrap_or_default();
    record.event_source = Some("aws:sqs".to_owned());
    record.event_source_arn = Some(consumer.arn.clone());
    record.aws_region = Some(consumer.region.clone());
    record
}

fn lambda_attribute(value: &MessageAttributeValue) -> SqsMessageAttribute {
    let mut attribute = SqsMessageAttribute::default();
    attribute.string_value = value.string_value().map(str::to_owned);
    attribute.binary_value = value.binary_value().map(|b| base64_data(b.as_ref()));
    attribute.string_list_values = value.string_list_values().to_vec();
    attribute.binary_list_values = value
        .binary_list_values()
        .iter()
        .map(|b| base64_data(b.as_ref()))
        .collect();
    attribute.data_type = Some(value.data_type().to_owned());
    attribute
}

/// `Base64Data` is non-exhaustive: filled through its `DerefMut` to the bytes.
fn base64_data(bytes: &[u8]) -> Base64Data {
    let mut data = Base64Data::default();
    data.extend_from_slice(bytes);
    data
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, ConsumerError> {
    let output = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(sqs_error("GetQueueAttributes", url))?;
    output
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| ConsumerError::IncompleteAnswer {
            operation: "GetQueueAttributes",
            queue: url.to_owned(),
            what: "the queue's ARN",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Events:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: events
  Checker:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: check-documents
    Properties:
      Environment:
        Variables:
          EVENTS_URL: !Ref Events
      Events:
        New:
          Type: SQS
          Properties:
            Queue: !GetAtt Events.Arn
            FunctionResponseTypes: [ReportBatchItemFailures]
Globals:
  Function:
    Environment:
      Variables:
        EVENTS_URL: !Ref Events
"#;

    fn consumer(report: bool) -> Consumer {
        Consumer {
            function: "Checker".to_owned(),
            queue: "Events".to_owned(),
            url: "http://q".to_owned(),
            arn: "arn:aws:sqs:ca-central-1:1:events".to_owned(),
            region: "ca-central-1".to_owned(),
            batch_size: 10,
            report_batch_item_failures: report,
            handler: crate::registered(HANDLERS, "check-documents").expect("a registered consumer"),
        }
    }

    fn message(id: &str) -> Message {
        Message::builder()
            .message_id(id)
            .receipt_handle(format!("handle-{id}"))
            .body("{}")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "1")
            .build()
    }

    fn failing(ids: &[&str]) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        response.set_failures(ids.iter().copied());
        response
    }

    #[test]
    fn every_consumer_needs_a_handler() {
        let template = Template::parse(TEMPLATE).unwrap();
        assert_eq!(consumers_of(&template).unwrap().len(), 1);
        let other =
            Template::parse(&TEMPLATE.replace("Binary: check-documents", "Binary: nope")).unwrap();
        let err = consumers_of(&other).unwrap_err();
        assert!(
            matches!(&err, ConsumerError::NoHandler { function, binary, .. }
                if function == "Checker" && binary == "nope"),
            "{err}"
        );
    }

    #[test]
    fn the_project_template_feeds_the_document_check_from_its_queue() {
        let template = Template::load(&Template::default_path()).unwrap();
        let consumers = consumers_of(&template).unwrap();
        let check = consumers
            .iter()
            .find(|c| c.function == "CheckDocumentsFunction")
            .expect("CheckDocumentsFunction reads a queue");
        assert_eq!(check.queue, "DocumentEventsQueue");
        assert_eq!(check.batch_size, 10);
        assert!(check.report_batch_item_failures);
        // The binary builds the function's configuration from its deployed environment.
        let mut ids = BTreeMap::from([
            ("TicketsTable".to_owned(), "t".to_owned()),
            ("DocumentsBucket".to_owned(), "b".to_owned()),
            ("DocumentEventsQueue".to_owned(), "http://q".to_owned()),
        ]);
        // The other resources the Globals name (the escalation and notification queues).
        for (_, logical_id) in template.resource_env_vars().unwrap() {
            ids.entry(logical_id.clone())
                .or_insert_with(|| format!("http://{logical_id}"));
        }
        let environment = template
            .function_environment("CheckDocumentsFunction", "s", &ids)
            .unwrap();
        let config =
            guichet_edge::config::KycConfig::from_lookup(|name| environment.get(name).cloned())
                .unwrap();
        assert_eq!(
            (
                config.tickets_table.as_str(),
                config.documents_bucket.as_str()
            ),
            ("t", "b")
        );
        let urls = queue_urls_from_env(&template, |name| environment.get(name).cloned()).unwrap();
        assert_eq!(urls["DocumentEventsQueue"], "http://q");
    }

    #[test]
    fn queue_urls_come_from_the_variables_the_template_names() {
        let template = Template::parse(TEMPLATE).unwrap();
        let urls = queue_urls_from_env(&template, |name| {
            (name == "EVENTS_URL").then(|| "http://q".to_owned())
        })
        .unwrap();
        assert_eq!(urls, BTreeMap::from([("Events".into(), "http://q".into())]));
        let err = queue_urls_from_env(&template, |_| None).unwrap_err();
        assert!(
            matches!(&err, ConsumerError::MissingVariable { variable, .. } if variable == "EVENTS_URL"),
            "{err}"
        );
    }

    #[test]
    fn only_reported_failures_stay_on_the_queue() {
        let messages = [message("a"), message("b"), message("c")];
        let reporting = consumer(true);
        assert_eq!(
            messages_to_keep(&reporting, &messages, Some(&failing(&["b"]))),
            [false, true, false]
        );
        assert_eq!(
            messages_to_keep(&reporting, &messages, Some(&failing(&[]))),
            [false, false, false]
        );
        // An empty or unknown identifier, or a crash, fails the whole batch.
        for response in [Some(failing(&[""])), Some(failing(&["zz"])), None] {
            assert_eq!(
                messages_to_keep(&reporting, &messages, response.as_ref()),
                [true, true, true]
            );
        }
        // Without ReportBatchItemFailures the answer is ignored.
        assert_eq!(
            messages_to_keep(&consumer(false), &messages, Some(&failing(&["b"]))),
            [false, false, false]
        );
    }

    #[test]
    fn records_look_like_lambdas() {
        let record = lambda_record(&message("a"), &consumer(true));
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["messageId"], "a");
        assert_eq!(json["receiptHandle"], "handle-a");
        assert_eq!(json["body"], "{}");
        assert_eq!(json["eventSource"], "aws:sqs");
        assert_eq!(json["eventSourceARN"], "arn:aws:sqs:ca-central-1:1:events");
        assert_eq!(json["awsRegion"], "ca-central-1");
        assert_eq!(json["attributes"]["ApproximateReceiveCount"], "1");
    }
}
