//! Helpers shared by every integration test. The tests use the real AWS SDK against the local
//! emulator, with resources provisioned from `infra/template.yaml` so they exercise what is
//! deployed.

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::BehaviorVersion;
use guichet_local::provision::provision;
use guichet_local::template::Template;

/// SDK configuration for the emulator.
///
/// Panics unless `AWS_ENDPOINT_URL` is set: without it the SDK would talk to real AWS with whatever
/// credentials are around. Integration tests run through `scripts/test`, which starts the emulator
/// and sets the endpoint and dummy credentials.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    if endpoint.trim().is_empty() {
        panic!(
            "AWS_ENDPOINT_URL is not set: integration tests must run against the local emulator. \
             Run them through scripts/test, which starts it and sets the endpoint and dummy credentials."
        );
    }
    if endpoint.contains("amazonaws.com") {
        panic!("AWS_ENDPOINT_URL={endpoint} is a real AWS endpoint; integration tests only run against the local emulator");
    }
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The specialist teams with an escalation queue of their own, as [`Stack::team_queue_urls`]
/// keys them (the template's `<Team>EscalationQueue`, `<Team>EscalationDeadLetterQueue`).
pub const ESCALATION_TEAMS: [&str; 4] = ["technical", "games", "payments", "security"];

/// The services as the functions wire them on AWS (see [`Stack::desk`] and the others).
pub type AwsDesk =
    guichet_core::tickets::desk::Desk<guichet_aws::dynamo::tickets::DynamoTicketStore>;
pub type AwsVerification = guichet_core::verification::service::Verification<
    guichet_aws::dynamo::cases::DynamoCaseStore,
    guichet_aws::s3::S3DocumentStorage,
>;
pub type AwsAttachments = guichet_core::attachments::service::Attachments<
    guichet_aws::dynamo::attachments::DynamoAttachmentStore,
    guichet_aws::s3::S3DocumentStorage,
>;
pub type AwsIncidents = guichet_core::incidents::service::Incidents<
    guichet_aws::dynamo::incidents::DynamoIncidentStore,
>;
pub type AwsRelay = guichet_core::outbox::relay::Relay<
    guichet_aws::dynamo::tickets::DynamoTicketStore,
    guichet_aws::sqs::SqsQueues,
>;

/// A provisioned copy of the template's resources, private to one test (but for the
/// notification sender: an SES identity is the account's, shared by every stack).
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub tickets_table: String,
    /// Name of the identity documents and attachments bucket.
    pub documents_bucket: String,
    /// URL of the queue that receives the bucket's ObjectCreated events.
    pub document_events_queue_url: String,
    /// URL of its dead-letter queue.
    pub document_events_dlq_url: String,
    /// URL of the queue of escalation requests from the API's outbox (`EscalationsQueue`).
    pub escalations_queue_url: String,
    /// URL of its dead-letter queue.
    pub escalations_dlq_url: String,
    /// Team (each of [`ESCALATION_TEAMS`]) -> URL of its FIFO escalation queue
    /// (`<Team>EscalationQueue`, e.g. `TechnicalEscalationQueue` for `technical`).
    pub team_queue_urls: BTreeMap<String, String>,
    /// Team -> URL of its queue's FIFO dead-letter queue (`<Team>EscalationDeadLetterQueue`).
    pub team_dlq_urls: BTreeMap<String, String>,
    /// URL of the queue of player notifications waiting to be e-mailed (`NotificationsQueue`).
    pub notifications_queue_url: String,
    /// URL of its dead-letter queue.
    pub notifications_dlq_url: String,
    /// URL of the queue of incident status updates to fan out (`IncidentUpdatesQueue`).
    pub incident_updates_queue_url: String,
    /// URL of its dead-letter queue.
    pub incident_updates_dlq_url: String,
    /// URL of the queue of SLA warnings and breaches for the teams' tools (`TeamAlertsQueue`).
    pub team_alerts_queue_url: String,
    /// URL of its dead-letter queue.
    pub team_alerts_dlq_url: String,
    /// The address notifications are sent from: the SES identity provisioning created
    /// (`NotificationSenderIdentity`, the `NotificationSender` parameter's default).
    pub notification_sender: String,
    /// ARN of the secret the live-chat tool signs its hand-offs with (`ChatHandoffSecret`), what
    /// chat-handoff reads from `CHAT_HANDOFF_SECRET_ARN`.
    pub chat_handoff_secret_arn: String,
    /// ARN of the secret the reply addresses are signed with (`MailReplySecret`).
    pub mail_reply_secret_arn: String,
    /// URL of the queue of SES's receipt notifications (`InboundMailQueue`), and of its
    /// dead-letter queue.
    pub inbound_mail_queue_url: String,
    pub inbound_mail_dlq_url: String,
    /// URL of the queue of SES's bounce and complaint events (`MailFeedbackQueue`).
    pub mail_feedback_queue_url: String,
    pub sdk: aws_config::SdkConfig,
}

/// The support mailbox of the test stacks: the `MailDomain` and `MailMailbox` the local
/// template environment gives mail-in.
pub const MAIL_DOMAIN: &str = "guichet.example";
pub const MAIL_MAILBOX: &str = "soutien";

impl Stack {
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::new(&self.sdk)
    }

    /// Puts an item's `gsi2` entry back under `partition` (its `gsi2pk`), the rest of the item
    /// as it is: the layout an item written before its listing was sharded still has, which
    /// the listing must keep showing.
    pub async fn move_gsi2_entry(&self, pk: &str, sk: &str, partition: &str) {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        self.dynamodb()
            .update_item()
            .table_name(&self.tickets_table)
            .key("pk", S(pk.to_owned()))
            .key("sk", S(sk.to_owned()))
            // Only an item already in a listing: a typo in a test's key must not add one.
            .update_expression("SET #p = :partition")
            .condition_expression("attribute_exists(#p)")
            .expression_attribute_names("#p", "gsi2pk")
            .expression_attribute_values(":partition", S(partition.to_owned()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("move {pk} to {partition}: {}", error_chain(&e)));
    }

    /// An item's `gsi2` partition key, if it is in that index.
    pub async fn gsi2_partition(&self, pk: &str, sk: &str) -> Option<String> {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        let item = self
            .dynamodb()
            .get_item()
            .table_name(&self.tickets_table)
            .key("pk", S(pk.to_owned()))
            .key("sk", S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("read {pk}: {}", error_chain(&e)));
        match item.item()?.get("gsi2pk")? {
            S(partition) => Some(partition.clone()),
            _ => None,
        }
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    /// The queues as the functions read them from their environment.
    pub fn queues_config(&self) -> guichet_edge::config::QueuesConfig {
        guichet_edge::config::QueuesConfig::from_lookup(|name| match name {
            "ESCALATIONS_QUEUE_URL" => Some(self.escalations_queue_url.clone()),
            "NOTIFICATIONS_QUEUE_URL" => Some(self.notifications_queue_url.clone()),
            "INCIDENT_UPDATES_QUEUE_URL" => Some(self.incident_updates_queue_url.clone()),
            "TEAM_ALERTS_QUEUE_URL" => Some(self.team_alerts_queue_url.clone()),
            other => other
                .strip_suffix("_ESCALATIONS_QUEUE_URL")
                .and_then(|team| self.team_queue_urls.get(&team.to_ascii_lowercase()))
                .cloned(),
        })
        .unwrap_or_else(|e| panic!("queues: {e}"))
    }

    /// The API functions' configuration on this stack (idempotency keys kept 24 hours).
    pub fn config(&self) -> guichet_edge::config::Config {
        guichet_edge::config::Config {
            tickets_table: self.tickets_table.clone(),
            idempotency_ttl: jiff::SignedDuration::from_hours(24),
        }
    }

    /// The desk the functions use, on this stack.
    pub fn desk(&self) -> AwsDesk {
        guichet_aws::wiring::desk(&self.config(), &self.sdk)
            .unwrap_or_else(|e| panic!("desk: {}", error_chain(&e)))
    }

    /// Identity verification's configuration on this stack (two resubmissions per document).
    pub fn kyc_config(&self) -> guichet_edge::config::KycConfig {
        guichet_edge::config::KycConfig {
            tickets_table: self.tickets_table.clone(),
            documents_bucket: self.documents_bucket.clone(),
            max_resubmissions: 2,
        }
    }

    /// Identity verification as the functions wire it, on this stack.
    pub fn verification(&self) -> AwsVerification {
        guichet_aws::wiring::verification(&self.kyc_config(), &self.sdk)
    }

    /// Ticket attachments as the functions wire them, on this stack.
    pub fn attachments(&self) -> AwsAttachments {
        let config = guichet_edge::config::AttachmentsConfig {
            tickets_table: self.tickets_table.clone(),
            documents_bucket: self.documents_bucket.clone(),
        };
        guichet_aws::wiring::attachments(&config, &self.sdk)
    }

    /// The incident grouping rule the template configures: three reports of a game in an hour.
    pub fn incident_config() -> guichet_core::incidents::service::IncidentConfig {
        guichet_core::incidents::service::IncidentConfig {
            threshold: 3,
            window: jiff::SignedDuration::from_mins(60),
        }
    }

    /// Incidents as the functions wire them, on this stack, with [`Stack::incident_config`].
    pub fn incidents(&self) -> AwsIncidents {
        guichet_aws::wiring::incidents(&self.tickets_table, Self::incident_config(), &self.sdk)
    }

    /// The support mailbox's configuration on this stack.
    pub fn mail_config(&self) -> guichet_edge::config::MailConfig {
        guichet_edge::config::MailConfig {
            mailbox: guichet_core::mail::reply_address::ReplyMailbox::parse(
                MAIL_MAILBOX,
                MAIL_DOMAIN,
            )
            .expect("a valid mailbox"),
            reply_secret_arn: self.mail_reply_secret_arn.clone(),
            // As provisioned from `MailConfigurationSet`: the mail is sent with it, as in AWS.
            configuration_set: Some(format!("{}-mail", self.name)),
        }
    }

    /// The reply addresses' key and mailbox, read from the provisioned secret as the
    /// functions read it at init.
    pub async fn replies(&self) -> guichet_core::notifications::sender::Replies {
        guichet_aws::wiring::replies(&self.mail_config(), &self.sdk)
            .await
            .unwrap_or_else(|e| panic!("the reply secret: {}", error_chain(&e)))
    }

    /// The mailbox as mail-in wires it, on this stack.
    pub async fn inbox(&self) -> guichet_aws::wiring::AwsInbox {
        guichet_aws::wiring::inbox(
            self.desk(),
            &guichet_edge::config::InboxConfig {
                documents_bucket: self.documents_bucket.clone(),
                sender: self.notification_sender.clone(),
            },
            &self.mail_config(),
            self.replies().await,
            &self.sdk,
        )
    }

    /// What the SQS-fed functions run on, on this stack.
    pub async fn consumer_services(&self) -> guichet_local::consumers::ConsumerServices {
        guichet_local::consumers::ConsumerServices {
            verification: self.verification(),
            attachments: self.attachments(),
            desk: self.desk(),
            relay: self.relay(),
            sender: guichet_aws::wiring::sender(
                &guichet_edge::config::SenderConfig {
                    tickets_table: self.tickets_table.clone(),
                    sender: self.notification_sender.clone(),
                    mail: Some(self.mail_config()),
                },
                &self.sdk,
                Some(self.replies().await),
            ),
            incidents: self.incidents(),
            sweep: self.sweep(),
            inbox: self.inbox().await,
        }
    }

    /// The clocks' sweep as sla-sweep wires it, on this stack, over a day of past hours.
    pub fn sweep(&self) -> guichet_local::consumers::LocalSweep {
        guichet_core::promises::sweep::Sweep {
            desk: self.desk(),
            lookback_hours: 24,
        }
    }

    /// Whether the documents bucket holds `key`, as the document check sees it.
    pub async fn object_exists(&self, key: &str) -> bool {
        use guichet_core::documents::ports::DocumentStorage;
        self.verification()
            .storage
            .inspect(key)
            .await
            .unwrap_or_else(|e| panic!("inspecting {key}: {}", error_chain(&e)))
            .is_some()
    }

    /// The outbox relay the functions use, on this stack.
    pub fn relay(&self) -> AwsRelay {
        guichet_aws::wiring::relay(&self.tickets_table, &self.queues_config(), &self.sdk)
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk)
    }

    pub fn secrets(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk)
    }

    /// The chat hand-off secret's current value: what the chat tool signs with.
    pub async fn chat_handoff_secret(&self) -> String {
        self.secrets()
            .get_secret_value()
            .secret_id(&self.chat_handoff_secret_arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("read the chat hand-off secret: {}", error_chain(&e)))
            .secret_string()
            .expect("the chat hand-off secret has no value")
            .to_owned()
    }

    pub fn sesv2(&self) -> aws_sdk_sesv2::Client {
        aws_sdk_sesv2::Client::new(&self.sdk)
    }

    /// URL of `team`'s FIFO escalation queue; panics for a team without one.
    pub fn team_queue_url(&self, team: &str) -> &str {
        self.team_queue_urls
            .get(team)
            .unwrap_or_else(|| panic!("no escalation queue for team {team}"))
    }

    /// The consumers of exactly these queues (logical id in the template, URL), as `scripts/up`
    /// runs them, so a test feeds the functions it is about and no other.
    pub async fn consumers(&self, queues: &[(&str, &str)]) -> guichet_local::consumers::Consumers {
        let queues: BTreeMap<String, String> = queues
            .iter()
            .map(|(id, url)| ((*id).to_owned(), (*url).to_owned()))
            .collect();
        let template = project_template();
        let mut consumers = guichet_local::consumers::Consumers::new(
            &template,
            &self.sdk,
            self.consumer_services().await,
            &queues,
        )
        .await
        .unwrap_or_else(|e| panic!("consumers: {}", guichet_local::error_chain(&e)));
        // The outbox leaves through the table's stream, as relay-stream's mapping feeds it.
        consumers
            .follow_stream(&template, &self.sdk, &self.tickets_table)
            .await
            .unwrap_or_else(|e| panic!("stream: {}", guichet_local::error_chain(&e)));
        consumers
    }

    /// Sends `body` to `queue` as another system (or a redelivery) would; the message id.
    pub async fn send_message(&self, queue: &str, body: &str) -> String {
        self.sqs()
            .send_message()
            .queue_url(queue)
            .message_body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("SendMessage: {}", guichet_local::error_chain(&e)))
            .message_id()
            .expect("a message id")
            .to_owned()
    }

    /// The one message waiting on `queue`, left there for its consumer: received, then made
    /// visible again at once. What tests of duplicate delivery keep to send a second time.
    pub async fn peek_one_message(&self, queue: &str) -> String {
        let sqs = self.sqs();
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(2)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ReceiveMessage: {}", guichet_local::error_chain(&e)));
        let [message] = received.messages() else {
            panic!("expected one message: {:?}", received.messages())
        };
        let body = message.body().expect("a body").to_owned();
        self.make_visible(queue, message.receipt_handle().expect("a receipt handle"))
            .await;
        body
    }

    /// Makes a received message visible again at once, as its visibility timeout passing would.
    pub async fn make_visible(&self, queue: &str, receipt_handle: &str) {
        self.sqs()
            .change_message_visibility()
            .queue_url(queue)
            .receipt_handle(receipt_handle)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "ChangeMessageVisibility: {}",
                    guichet_local::error_chain(&e)
                )
            });
    }

    /// What a dead-letter queue holds now: each message's id and body.
    pub async fn dead_letters(&self, dlq: &str) -> Vec<(String, String)> {
        let dead = self
            .sqs()
            .receive_message()
            .queue_url(dlq)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ReceiveMessage (DLQ): {}", guichet_local::error_chain(&e)));
        dead.messages()
            .iter()
            .map(|m| {
                (
                    m.message_id().unwrap_or_default().to_owned(),
                    m.body().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// Removes the documents bucket's policy, for tests that read or write objects.
    ///
    /// The emulator (moto 5.2.5) evaluates a bucket policy's `Principal: "*"` statements on object
    /// requests but ignores their conditions (it only knows `StringEquals`, and gives it no request
    /// values), so the template's conditional denies (`aws:SecureTransport` false, no
    /// `x-amz-server-side-encryption: aws:kms`) deny every GetObject and PutObject there. The
    /// policy itself is provisioned and drift-checked (`tests/drift.rs`); what it enforces cannot
    /// be tested on the emulator.
    pub async fn remove_bucket_policy_for_object_access(&self) {
        self.s3()
            .delete_bucket_policy()
            .bucket(&self.documents_bucket)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "DeleteBucketPolicy on {}: {}",
                    self.documents_bucket,
                    error_chain(&e)
                )
            });
    }
}

/// Provisions the template under a new, unique stack name, so tests running in parallel (and
/// reruns against a long-lived emulator) never share a table.
pub async fn fresh_stack() -> Stack {
    let sdk = sdk_config().await;
    let name = unique_stack_name();
    let template = project_template();
    let provisioned = provision(&sdk, &template, &name)
        .await
        .unwrap_or_else(|e| panic!("provisioning stack {name} failed: {}", error_chain(&e)));
    let expect = |found: Option<&str>, what: &str| {
        found
            .unwrap_or_else(|| panic!("infra/template.yaml has no {what} (got {provisioned:?})"))
            .to_owned()
    };
    Stack {
        tickets_table: expect(provisioned.table("TicketsTable"), "TicketsTable"),
        documents_bucket: expect(provisioned.bucket("DocumentsBucket"), "DocumentsBucket"),
        document_events_queue_url: expect(
            provisioned.queue_url("DocumentEventsQueue"),
            "DocumentEventsQueue",
        ),
        document_events_dlq_url: expect(
            provisioned.queue_url("DocumentEventsDeadLetterQueue"),
            "DocumentEventsDeadLetterQueue",
        ),
        escalations_queue_url: expect(
            provisioned.queue_url("EscalationsQueue"),
            "EscalationsQueue",
        ),
        escalations_dlq_url: expect(
            provisioned.queue_url("EscalationsDeadLetterQueue"),
            "EscalationsDeadLetterQueue",
        ),
        team_queue_urls: ESCALATION_TEAMS
            .iter()
            .map(|team| {
                let id = format!("{}EscalationQueue", team_logical_prefix(team));
                (team.to_string(), expect(provisioned.queue_url(&id), &id))
            })
            .collect(),
        team_dlq_urls: ESCALATION_TEAMS
            .iter()
            .map(|team| {
                let id = format!("{}EscalationDeadLetterQueue", team_logical_prefix(team));
                (team.to_string(), expect(provisioned.queue_url(&id), &id))
            })
            .collect(),
        notifications_queue_url: expect(
            provisioned.queue_url("NotificationsQueue"),
            "NotificationsQueue",
        ),
        notifications_dlq_url: expect(
            provisioned.queue_url("NotificationsDeadLetterQueue"),
            "NotificationsDeadLetterQueue",
        ),
        incident_updates_queue_url: expect(
            provisioned.queue_url("IncidentUpdatesQueue"),
            "IncidentUpdatesQueue",
        ),
        incident_updates_dlq_url: expect(
            provisioned.queue_url("IncidentUpdatesDeadLetterQueue"),
            "IncidentUpdatesDeadLetterQueue",
        ),
        team_alerts_queue_url: expect(provisioned.queue_url("TeamAlertsQueue"), "TeamAlertsQueue"),
        team_alerts_dlq_url: expect(
            provisioned.queue_url("TeamAlertsDeadLetterQueue"),
            "TeamAlertsDeadLetterQueue",
        ),
        notification_sender: expect(
            provisioned.email_identity("NotificationSenderIdentity"),
            "NotificationSenderIdentity",
        ),
        chat_handoff_secret_arn: expect(
            provisioned.secret_arn("ChatHandoffSecret"),
            "ChatHandoffSecret",
        ),
        mail_reply_secret_arn: expect(provisioned.secret_arn("MailReplySecret"), "MailReplySecret"),
        inbound_mail_queue_url: expect(
            provisioned.queue_url("InboundMailQueue"),
            "InboundMailQueue",
        ),
        inbound_mail_dlq_url: expect(
            provisioned.queue_url("InboundMailDeadLetterQueue"),
            "InboundMailDeadLetterQueue",
        ),
        mail_feedback_queue_url: expect(
            provisioned.queue_url("MailFeedbackQueue"),
            "MailFeedbackQueue",
        ),
        name,
        sdk,
    }
}

/// `technical` -> `Technical`, the prefix of the team's queues' logical ids.
fn team_logical_prefix(team: &str) -> String {
    let mut chars = team.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `infra/template.yaml`, parsed.
pub fn project_template() -> Template {
    let path = Template::default_path();
    Template::load(&path)
        .unwrap_or_else(|e| panic!("cannot load {}: {}", path.display(), error_chain(&e)))
}

/// `t-` and 16 hex digits, unique across threads, processes and runs.
pub fn unique_stack_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded from the OS once per process; the other inputs separate calls within
    // a process, and processes started in the same nanosecond.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("t-{:016x}", hasher.finish())
}

pub use guichet_local::error_chain;

/// The whole HTTP API on a fresh stack: the local gateway serving the template's routes, every
/// service on the real adapters, on a free port, with a development key of its own.
pub struct LocalApi {
    pub addr: std::net::SocketAddr,
    pub key: guichet_local::jwt::DevKey,
    pub stack: Stack,
    _server: tokio::task::JoinHandle<()>,
}

impl LocalApi {
    pub async fn start() -> LocalApi {
        use guichet_local::gateway::{serve, Gateway, Services};

        let stack = fresh_stack().await;
        let key_path = std::env::temp_dir().join(format!("{}.key", unique_stack_name()));
        let key = guichet_local::jwt::DevKey::load_or_create(&key_path)
            .unwrap_or_else(|e| panic!("dev key: {}", error_chain(&e)));
        let _ = std::fs::remove_file(&key_path);
        let services = Services {
            desk: stack.desk(),
            verification: stack.verification(),
            attachments: stack.attachments(),
            incidents: stack.incidents(),
            hours: guichet_core::calendar::hours::DeskHours::bundled()
                .unwrap_or_else(|e| panic!("hours: {e}")),
            // As chat-handoff reads it at init: from the secret provisioning created.
            handoff_key: guichet_aws::wiring::handoff_key(
                &guichet_edge::config::HandoffConfig {
                    secret_arn: stack.chat_handoff_secret_arn.clone(),
                },
                &stack.sdk,
            )
            .await
            .unwrap_or_else(|e| panic!("hand-off key: {}", error_chain(&e))),
            mailroom: guichet_aws::dynamo::mail::DynamoMailroom::new(
                stack.dynamodb(),
                &stack.tickets_table,
            ),
            saved_replies: guichet_core::tickets::saved_replies::SavedReplies::bundled()
                .unwrap_or_else(|e| panic!("saved replies: {e}")),
        };
        let gateway = Gateway::new(&project_template(), services, key.clone())
            .unwrap_or_else(|e| panic!("gateway: {}", error_chain(&e)));
        let (addr, server) = serve(std::sync::Arc::new(gateway), 0)
            .await
            .unwrap_or_else(|e| panic!("serving: {}", error_chain(&e)));
        LocalApi {
            addr,
            key,
            stack,
            _server: server,
        }
    }

    /// `method path` as API clients send it: the bearer `token` if any, `headers`, `body`.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> guichet_local::client::ClientResponse {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut sent: Vec<(&str, &str)> = headers.to_vec();
        if let Some(bearer) = &bearer {
            sent.push(("authorization", bearer));
        }
        guichet_local::client::send(self.addr, method, path, &sent, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {}", error_chain(&e)))
    }

    /// `method path` with the bearer `token` and, when given, a JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&serde_json::Value>,
    ) -> guichet_local::client::ClientResponse {
        let headers: &[(&str, &str)] = match body {
            Some(_) => &[("content-type", "application/json")],
            None => &[],
        };
        let body = body.map(|b| b.to_string().into_bytes());
        self.send(method, path, Some(token), headers, body).await
    }

    /// `POST /tickets` as `token`'s player, with `headers` besides the JSON one: the receipt of
    /// the ticket created (any other answer than `201` fails the test).
    pub async fn create_ticket(
        &self,
        token: &str,
        headers: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> serde_json::Value {
        let mut sent = vec![("content-type", "application/json")];
        sent.extend_from_slice(headers);
        let body = Some(body.to_string().into_bytes());
        let created = self
            .send("POST", "/tickets", Some(token), &sent, body)
            .await;
        assert_eq!(created.status, 201, "{:?}", created.json());
        created.json()
    }

    /// A token signed with this API's key, expiring `expires_in` seconds from now (negative:
    /// already expired).
    pub fn token(&self, sub: &str, groups: &[&str], expires_in: i64) -> String {
        self.token_with_email(sub, groups, expires_in, "joueur@example.com")
    }

    /// A token whose `email` claim is `email`: where the player's notifications go.
    pub fn token_with_email(
        &self,
        sub: &str,
        groups: &[&str],
        expires_in: i64,
        email: &str,
    ) -> String {
        dev_token(&self.key, sub, groups, expires_in, email)
    }
}

/// A token signed with `key` for `sub` with `groups` and `email`, expiring `expires_in` seconds
/// from now (negative: already expired), as the identity provider would issue it.
pub fn dev_token(
    key: &guichet_local::jwt::DevKey,
    sub: &str,
    groups: &[&str],
    expires_in: i64,
    email: &str,
) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let claims = serde_json::json!({
        "sub": sub, "cognito:groups": groups, "email": email,
        "iss": guichet_local::jwt::DEV_ISSUER, "aud": guichet_local::jwt::DEV_AUDIENCE,
        "iat": now, "exp": now + expires_in,
    });
    match claims {
        serde_json::Value::Object(map) => key.issue(&map),
        _ => unreachable!("claims are an object"),
    }
}

/// Sending requests to presigned URLs of the emulator, and reading their signed parameters.
pub mod presigned {
    use std::net::ToSocketAddrs;

    use guichet_local::client::{send, ClientResponse};

    use crate::error_chain;

    /// Sends a presigned request with exactly the headers it was signed with, plus `Host`
    /// (the URL's own authority, which is signed too).
    pub async fn send_presigned(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> ClientResponse {
        let rest = url
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("not an http URL of the emulator: {url}"));
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, "/"),
        };
        let addr = authority
            .to_socket_addrs()
            .unwrap_or_else(|e| panic!("resolving {authority}: {e}"))
            .next()
            .unwrap_or_else(|| panic!("{authority} resolves to nothing"));
        let mut sent = headers.to_vec();
        if !sent.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            sent.push(("host", authority));
        }
        send(addr, method, path, &sent, body)
            .await
            .unwrap_or_else(|e| panic!("{method} to the presigned URL: {}", error_chain(&e)))
    }

    /// PUTs `body` to a presigned URL with exactly the `headers` it was signed with, and fails
    /// the test unless the emulator stored it.
    pub async fn put_stored(url: &str, headers: &[(&str, &str)], body: Vec<u8>) {
        let response = send_presigned("PUT", url, headers, Some(body)).await;
        assert_eq!(
            response.status,
            200,
            "presigned PUT refused: {}",
            String::from_utf8_lossy(&response.body)
        );
    }

    /// A query parameter of a URL, percent-decoded (e.g. `X-Amz-SignedHeaders`).
    pub fn query_param(url: &str, name: &str) -> Option<String> {
        let query = url.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| percent_decode(value))
        })
    }

    fn percent_decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
                .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
                .flatten()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok());
            match escaped {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                }
                None => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// An e-mail as the emulator's SES recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub id: String,
    pub source: String,
    pub subject: String,
    pub body: String,
}

/// The e-mails the emulator's SES accepted for `to` (moto keeps SES v2 messages in its v1
/// backend, which `GET /moto-api/data.json` dumps as `ses.Message`; the list is global to the
/// emulator, so each test sends to an address of its own).
pub async fn emails_to(to: &str) -> Vec<SentEmail> {
    use std::net::ToSocketAddrs;
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL is set");
    let authority = endpoint
        .strip_prefix("http://")
        .expect("the emulator speaks plain HTTP")
        .trim_end_matches('/');
    let addr = authority
        .to_socket_addrs()
        .unwrap_or_else(|e| panic!("resolving {authority}: {e}"))
        .next()
        .unwrap_or_else(|| panic!("{authority} resolves to nothing"));
    // The dump checks each attribute, then serialises them all: a DynamoDB stream record that
    // a concurrent test writes in between makes it answer 500. Another read gets through.
    let mut data = serde_json::Value::Null;
    for _ in 0..20 {
        let response = guichet_local::client::send(addr, "GET", "/moto-api/data.json", &[], None)
            .await
            .unwrap_or_else(|e| panic!("GET /moto-api/data.json: {}", error_chain(&e)));
        if response.status == 200 {
            data = response.json();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(data.is_object(), "the emulator's data.json kept failing");
    let messages = data["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    messages
        .iter()
        .filter(|m| {
            m["destinations"]["ToAddresses"]
                .as_array()
                .is_some_and(|to_list| to_list.iter().any(|a| a == to))
        })
        .map(|m| SentEmail {
            id: m["id"].as_str().unwrap_or_default().to_owned(),
            source: m["source"].as_str().unwrap_or_default().to_owned(),
            subject: m["subject"].as_str().unwrap_or_default().to_owned(),
            body: m["body"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// How long each receive of [`drain`] waits for messages.
pub const DRAIN_POLL: std::time::Duration = std::time::Duration::from_secs(1);
/// Rounds after which [`drain`] gives up: a consumer that keeps finding work is a bug.
pub const MAX_DRAIN_ROUNDS: usize = 20;

/// Receive-and-dispatch rounds until no consumed queue has anything visible: what the event
/// source mappings would have done by then. Messages a handler failed stay on their queue,
/// invisible until their visibility timeout, and are listed in `left`.
pub async fn drain(
    consumers: &guichet_local::consumers::Consumers,
) -> guichet_local::consumers::Drained {
    let mut total = guichet_local::consumers::Drained::default();
    for _ in 0..MAX_DRAIN_ROUNDS {
        let round = consumers
            .drain_once(DRAIN_POLL)
            .await
            .unwrap_or_else(|e| panic!("drain: {}", error_chain(&e)));
        if round.received == 0 && round.streamed == 0 {
            return total;
        }
        total.received += round.received;
        total.streamed += round.streamed;
        total.deleted += round.deleted;
        total.failed += round.failed;
        total.left.extend(round.left);
    }
    panic!("the queues were not empty after {MAX_DRAIN_ROUNDS} rounds: {total:?}");
}

/// Drains while a poison message is on a queue: each round it must be the only message left,
/// and it is made visible again at once (as its visibility timeout passing would) until the
/// redrive policy parks it. Returns how many times it was received and how many messages were
/// handled (deleted) meanwhile.
pub async fn drain_with_poison(
    consumers: &guichet_local::consumers::Consumers,
    stack: &Stack,
    poison: &str,
) -> (usize, usize) {
    let (mut receives, mut handled) = (0, 0);
    for _ in 0..MAX_DRAIN_ROUNDS {
        let round = consumers
            .drain_once(DRAIN_POLL)
            .await
            .unwrap_or_else(|e| panic!("drain: {}", error_chain(&e)));
        if round.received == 0 && round.streamed == 0 {
            return (receives, handled);
        }
        handled += round.deleted;
        if round.received == 0 {
            // Only the stream moved (the relay's own writes): the queues had nothing.
            continue;
        }
        let left: Vec<&str> = round.left.iter().map(|l| l.message_id.as_str()).collect();
        assert_eq!(left, [poison], "only the poison message stays");
        receives += 1;
        for message in &round.left {
            stack
                .make_visible(&message.queue_url, &message.receipt_handle)
                .await;
        }
    }
    panic!("the poison message was still received after {MAX_DRAIN_ROUNDS} rounds");
}
