//! Creates the template's resources through the service APIs (DynamoDB tables; KMS keys and
//! aliases; SQS queues and queue policies; S3 buckets and bucket policies; SES e-mail
//! identities; Secrets Manager secrets); [`crate::drift`] checks that what exists matches the
//! template.
//!
//! CloudFormation is deliberately not used: the emulator's `CreateStack` silently drops a table's
//! `TimeToLiveSpecification` and `PointInTimeRecoverySpecification`, and a bucket's
//! `NotificationConfiguration`, `PublicAccessBlockConfiguration` and `LifecycleConfiguration` (see
//! `../shared/emulator-notes.md`), so a stack would look fine while TTL never expires idempotency
//! records and identity documents are never deleted. Calling the APIs ourselves gets every
//! property, and [`describe_drift`] proves it.
//!
//! Resources are created in dependency order, each one's physical id and ARN recorded (as
//! [`PhysicalResources`]) from what the service answered, so later resources resolve their
//! `!GetAtt X.Arn` from real values: key, then queues (a dead-letter queue before the queue that
//! redrives to it), queue policies, buckets (whose notifications need the queue's ARN and, in AWS,
//! its policy), bucket policies, the buckets' access logging (a log bucket's policy must let S3
//! deliver first), e-mail identities, secrets (encrypted with a key of the template).
//!
//! The CloudFront resources (`crate::template::PLAYED_BY_GATEWAY`: the web pages' distribution,
//! its origin access control, response headers policy and function) are not created: the
//! emulator has no CloudFront, and the local gateway plays them (`crate::gateway`). A reference
//! to one resolves to a stand-in (`Template::gateway_stand_ins`).
//!
//! Each resource is built from its resolved properties ([`Template::resolved`]) read through
//! [`Prop`]: every value is checked against what the service takes (the SDK's own list where
//! the emulator takes anything), and a property provisioning would not apply is refused with
//! its path, before the resource is created.
//!
//! A queue's `FifoQueue` can only be set when SQS creates it: an existing queue of the other kind
//! is an error ([`ProvisionError::FifoQueueMismatch`]), never "repaired" by `SetQueueAttributes`
//! (the emulator, moto 5.2.5, would flip it; SQS refuses). The FIFO rules the emulator does not
//! check are checked when the template is read (see [`crate::template::Queue`]).
//!
//! An e-mail identity is account-wide, not a stack's: provisioning creates it when it is missing
//! (tests and developers share it), and drift only reports it missing. Its verification status is
//! not compared: SES verifies an address when its owner follows the e-mail SES sends, which no
//! provisioning can do (the emulator verifies at once).
//!
//! A secret's value is generated once, locally, as `GenerateSecretString` asks (its length, and
//! punctuation or not), when the secret is created; provisioning again keeps it, as
//! CloudFormation does on an update, and only brings its description and key to the template.
//!
//! `DeletionProtectionEnabled` is read from the template but neither applied nor compared: local
//! tables are disposable (tests create one per test, developers reset the emulator), and protecting
//! them would only make cleaning up fail. `DeletionPolicy: Retain` means nothing locally either.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::AsyncSleep;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, PointInTimeRecoveryStatus, Projection, ProjectionType,
    ProvisionedThroughput, ScalarAttributeType, SseSpecification, SseType, StreamSpecification,
    StreamViewType, TableDescription, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_kms::types::KeyMetadata;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketLoggingStatus, BucketVersioningStatus, CorsConfiguration, CorsRule,
    CreateBucketConfiguration, Event, ExpirationStatus, FilterRule, FilterRuleName,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, LoggingEnabled,
    NoncurrentVersionExpiration, NotificationConfiguration, NotificationConfigurationFilter,
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
    QueueConfiguration, S3KeyFilter, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;

pub use crate::drift::{describe_drift, Drift};
use crate::template::{
    partition, PhysicalResources, Prop, Queue, Resolved, Template, TemplateError,
    BUCKET_POLICY_TYPE, BUCKET_TYPE, CONFIGURATION_SET_TYPE, EMAIL_IDENTITY_TYPE, KEY_TYPE,
    QUEUE_POLICY_TYPE, SECRET_TYPE, TABLE_TYPE,
};

/// How long to wait for a new table (and its indexes) to become ACTIVE. The emulator is
/// immediate; real DynamoDB usually takes seconds, a table with indexes up to a few minutes.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
/// Right after creation, real DynamoDB may refuse `UpdateContinuousBackups` for a while.
const PITR_ATTEMPTS: u32 = 20;
/// What S3 takes as a bucket's default encryption (the SDK's `ServerSideEncryption` also names
/// `aws:backup` and `aws:fsx`, which it refuses there).
const SSE_ALGORITHMS: &[&str] = &["aws:kms", "aws:kms:dsse", "AES256"];
/// The methods a CORS rule of S3 may allow.
const CORS_METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "HEAD"];
/// The region whose buckets take no `LocationConstraint` (S3 refuses `us-east-1` there).
const S3_DEFAULT_REGION: &str = "us-east-1";
/// What Secrets Manager's generator draws from (`GetRandomPassword`): letters, digits and, unless
/// excluded, this punctuation.
pub(crate) const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
/// Secrets Manager's default `PasswordLength`.
const DEFAULT_SECRET_LENGTH: usize = 32;
/// What `GenerateSecretString` may say that provisioning applies.
const GENERATED_SECRET: &[&str] = &["PasswordLength", "ExcludePunctuation"];

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A DynamoDB, KMS, SQS, S3, SES, Secrets Manager or STS call failed (including the endpoint being unreachable).
    #[error("{service} {operation} on {resource} failed")]
    Service {
        service: &'static str,
        operation: &'static str,
        resource: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A service answered without something it always returns (e.g. CreateKey without an ARN).
    #[error("{service} {operation} on {resource} answered without {what}")]
    IncompleteAnswer {
        service: &'static str,
        operation: &'static str,
        resource: String,
        what: &'static str,
    },
    #[error("cannot build the {what} of {resource} from the template")]
    Build {
        resource: String,
        what: &'static str,
        #[source]
        source: BuildError,
    },
    #[error("table {table} is not ACTIVE after {waited:?} (last status: {status})")]
    NotActive {
        table: String,
        status: String,
        waited: Duration,
    },
    #[error(
        "table {table} has time to live on `{current}` but the template wants `{wanted}`; \
         DynamoDB cannot switch the attribute in one step: disable TTL (or recreate the table) first"
    )]
    TtlAttributeConflict {
        table: String,
        current: String,
        wanted: String,
    },
    #[error("the SDK config has no async sleep implementation (load it with aws_config, feature rt-tokio)")]
    NoSleepImpl,
    #[error("the SDK config has no region (set AWS_REGION)")]
    NoRegion,
    #[error(
        "KMS key {key} has no AWS::KMS::Alias in the template: a key has no name, so local \
         provisioning finds it again (and stays idempotent) through its alias"
    )]
    KeyWithoutAlias { key: String },
    #[error(
        "queue {queue} exists as a {found} queue but the template declares a {declared} queue; \
         SQS sets FifoQueue only when it creates a queue: delete the queue, then provision again"
    )]
    FifoQueueMismatch {
        queue: String,
        declared: &'static str,
        found: &'static str,
    },
    #[error("queues {queues:?} redrive to each other: no order creates them")]
    QueueCycle { queues: Vec<String> },
    #[error("cannot generate the value of secret {secret}")]
    Random {
        secret: String,
        #[source]
        source: getrandom::Error,
    },
    #[error("the policy of {resource} cannot be serialised")]
    Policy {
        resource: String,
        #[source]
        source: serde_json::Error,
    },
}

/// What exists after [`provision`]: template logical id -> physical id, per kind.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provisioned {
    /// Table names.
    pub tables: BTreeMap<String, String>,
    /// Key ARNs.
    pub keys: BTreeMap<String, String>,
    /// Queue URLs.
    pub queues: BTreeMap<String, String>,
    /// Bucket names.
    pub buckets: BTreeMap<String, String>,
    /// E-mail identities (the address, or domain).
    pub email_identities: BTreeMap<String, String>,
    /// Secret ARNs (a secret's `Ref`, as in CloudFormation).
    pub secrets: BTreeMap<String, String>,
    /// SES configuration set names.
    pub configuration_sets: BTreeMap<String, String>,
    /// Where they live.
    pub target: Target,
    /// Every resource's `Ref` value and attributes (`Arn`), to resolve the template's intrinsics.
    pub resources: PhysicalResources,
}

impl Provisioned {
    pub fn table(&self, logical_id: &str) -> Option<&str> {
        self.tables.get(logical_id).map(String::as_str)
    }

    pub fn key_arn(&self, logical_id: &str) -> Option<&str> {
        self.keys.get(logical_id).map(String::as_str)
    }

    pub fn queue_url(&self, logical_id: &str) -> Option<&str> {
        self.queues.get(logical_id).map(String::as_str)
    }

    pub fn bucket(&self, logical_id: &str) -> Option<&str> {
        self.buckets.get(logical_id).map(String::as_str)
    }

    pub fn email_identity(&self, logical_id: &str) -> Option<&str> {
        self.email_identities.get(logical_id).map(String::as_str)
    }

    pub fn secret_arn(&self, logical_id: &str) -> Option<&str> {
        self.secrets.get(logical_id).map(String::as_str)
    }
}

/// The account and region a stack is provisioned in: what `AWS::AccountId` and `AWS::Region`
/// resolve to. Locally the emulator's account (moto: `123456789012`) and the SDK's region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    pub account_id: String,
    pub region: String,
}

impl Target {
    /// Asks STS who the SDK's credentials belong to (the emulator answers for its own account),
    /// and takes the region from the SDK config: nothing is assumed.
    pub async fn of(sdk: &aws_config::SdkConfig) -> Result<Target, ProvisionError> {
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .ok_or(ProvisionError::NoRegion)?;
        let identity = aws_sdk_sts::Client::new(sdk)
            .get_caller_identity()
            .send()
            .await
            .map_err(service::<aws_sdk_sts::Error, _, _>(
                "STS",
                "GetCallerIdentity",
                "the caller",
            ))?;
        let account_id = identity
            .account()
            .ok_or(ProvisionError::IncompleteAnswer {
                service: "STS",
                operation: "GetCallerIdentity",
                resource: "the caller".to_owned(),
                what: "an account",
            })?
            .to_owned();
        Ok(Target { account_id, region })
    }
}

/// Creates every resource of `template` for `stack_name` that the local tools know (tables, KMS
/// keys, queues, buckets and their policies, e-mail identities, secrets), in dependency order, and brings
/// each one's properties to what the template says. Idempotent: existing resources are kept and
/// updated, so it is safe to run before every session and repairs drift.
pub async fn provision(
    sdk: &aws_config::SdkConfig,
    template: &Template,
    stack_name: &str,
) -> Result<Provisioned, ProvisionError> {
    let client = Client::new(sdk);
    let sleep = Sleeper::from(sdk)?;
    let target = Target::of(sdk).await?;
    let (account, region) = (target.account_id.as_str(), target.region.as_str());
    let mut provisioned = Provisioned::default();
    // Every resource of a kind, resolved against what exists so far.
    let resolved = |kind, resources: &PhysicalResources| {
        template.resolved(kind, stack_name, account, region, resources)
    };
    let names = template.names(TABLE_TYPE, stack_name, account, region)?;
    let tables = resolved(TABLE_TYPE, &provisioned.resources)?;
    for ((logical_id, name), table) in names.into_iter().zip(tables) {
        provision_table(&client, &sleep, &name, &table.props()).await?;
        provisioned.resources.insert_ref(&logical_id, &name);
        provisioned.tables.insert(logical_id, name);
    }

    let kms = aws_sdk_kms::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let s3 = aws_sdk_s3::Client::new(sdk);

    let aliases = template.key_aliases(stack_name, account, region)?;
    for key in resolved(KEY_TYPE, &provisioned.resources)? {
        let aliases = aliases.get(&key.logical_id).map_or(&[][..], Vec::as_slice);
        let metadata = provision_key(&kms, &key, aliases).await?;
        let arn = key_arn(&metadata, &key.logical_id)?;
        let resources = &mut provisioned.resources;
        resources.insert_ref(&key.logical_id, metadata.key_id());
        resources.insert_attribute(&key.logical_id, "Arn", &arn);
        resources.insert_attribute(&key.logical_id, "KeyId", metadata.key_id());
        provisioned.keys.insert(key.logical_id, arn);
    }

    for queue in dependency_order(template.queues(stack_name, account, region)?)? {
        let properties = template.resolve(
            &queue.logical_id,
            stack_name,
            account,
            region,
            &provisioned.resources,
        )?;
        let url = provision_queue(&sqs, &queue, &properties).await?;
        let arn = queue_arn(&sqs, &url).await?;
        let resources = &mut provisioned.resources;
        resources.insert_ref(&queue.logical_id, &url);
        resources.insert_attribute(&queue.logical_id, "Arn", arn);
        resources.insert_attribute(&queue.logical_id, "QueueName", &queue.queue_name);
        resources.insert_attribute(&queue.logical_id, "QueueUrl", &url);
        provisioned.queues.insert(queue.logical_id, url);
    }
    for policy in resolved(QUEUE_POLICY_TYPE, &provisioned.resources)? {
        provision_queue_policy(&sqs, &policy).await?;
    }

    // Not provisioned: the emulator has no CloudFront, the local gateway plays it. What names
    // one of them (the web bucket's policy admits the distribution) resolves to its stand-in.
    template.gateway_stand_ins(&mut provisioned.resources);

    let mut logging = Vec::new();
    for (logical_id, name) in template.names(BUCKET_TYPE, stack_name, account, region)? {
        // Recorded first, so that a configuration naming the bucket's own ARN resolves.
        let resources = &mut provisioned.resources;
        resources.insert_ref(&logical_id, &name);
        resources.insert_attribute(&logical_id, "Arn", bucket_arn(region, &name));
        let bucket = template.resolve(&logical_id, stack_name, account, region, resources)?;
        let mut configuration = bucket_configuration(&bucket, &name)?;
        logging.push((name.clone(), configuration.logging.take()));
        create_bucket(&s3, &name, region).await?;
        configure_bucket(&s3, &name, configuration).await?;
        provisioned.buckets.insert(logical_id, name);
    }
    for policy in resolved(BUCKET_POLICY_TYPE, &provisioned.resources)? {
        provision_bucket_policy(&s3, &policy).await?;
    }
    // After the policies: S3 (and the emulator, which checks it) delivers access logs to a
    // bucket whose policy lets its log delivery write them.
    for (name, status) in logging {
        apply_bucket_logging(&s3, &name, status).await?;
    }

    let ses = aws_sdk_sesv2::Client::new(sdk);
    for spec in resolved(EMAIL_IDENTITY_TYPE, &provisioned.resources)? {
        let identity = spec.text("EmailIdentity")?;
        provision_email_identity(&ses, identity).await?;
        provisioned.resources.insert_ref(&spec.logical_id, identity);
        provisioned
            .email_identities
            .insert(spec.logical_id.clone(), identity.to_owned());
    }

    // The configuration set the mail is sent with (its bounce and complaint destination is
    // SNS, which is not provisioned locally).
    for spec in resolved(CONFIGURATION_SET_TYPE, &provisioned.resources)? {
        let name = spec.text("Name")?;
        provision_configuration_set(&ses, name).await?;
        provisioned.resources.insert_ref(&spec.logical_id, name);
        provisioned
            .configuration_sets
            .insert(spec.logical_id.clone(), name.to_owned());
    }

    // After the keys, whose ARN a secret names.
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    let names = template.names(SECRET_TYPE, stack_name, account, region)?;
    let specs = resolved(SECRET_TYPE, &provisioned.resources)?;
    for ((_, name), spec) in names.into_iter().zip(specs) {
        let arn = provision_secret(&secrets, &spec, &name).await?;
        let resources = &mut provisioned.resources;
        resources.insert_ref(&spec.logical_id, &arn);
        resources.insert_attribute(&spec.logical_id, "Id", &arn);
        provisioned.secrets.insert(spec.logical_id, arn);
    }

    provisioned.target = target;
    Ok(provisioned)
}

/// `None` when the table does not exist.
pub(crate) async fn describe_table(
    client: &Client,
    table: &str,
) -> Result<Option<TableDescription>, ProvisionError> {
    match client.describe_table().table_name(table).send().await {
        Ok(output) => Ok(output.table),
        Err(SdkError::ServiceError(e))
            if matches!(e.err(), DescribeTableError::ResourceNotFoundException(_)) =>
        {
            Ok(None)
        }
        Err(e) => Err(api("DescribeTable", table)(e)),
    }
}

/// Creates the table unless it exists, waits until it can be used, then brings its TTL and
/// point-in-time recovery to the template (CreateTable takes neither).
async fn provision_table(
    client: &Client,
    sleep: &Sleeper,
    name: &str,
    table: &Prop<'_>,
) -> Result<(), ProvisionError> {
    // Read (and checked) whether or not the table exists.
    let request = create_table_request(client, name, table)?;
    let (ttl, pitr) = ttl_and_pitr(table)?;
    if describe_table(client, name).await?.is_none() {
        match request.send().await {
            Ok(_) => {}
            // Someone else (a parallel run) created it between our describe and create: fine.
            Err(SdkError::ServiceError(e)) if e.err().is_resource_in_use_exception() => {}
            Err(e) => return Err(api("CreateTable", name)(e)),
        }
    }
    wait_until_active(client, sleep, name).await?;
    apply_time_to_live(client, name, ttl).await?;
    apply_point_in_time_recovery(client, sleep, name, pitr).await
}

/// The TTL attribute (`None`: no TTL) and point-in-time recovery, which CreateTable does not take.
fn ttl_and_pitr<'a>(table: &Prop<'a>) -> Result<(Option<&'a str>, bool), TemplateError> {
    let ttl = match table.opt("TimeToLiveSpecification")? {
        Some(ttl) => {
            let ttl = ttl.only(&["AttributeName", "Enabled"])?;
            match ttl.get("Enabled")?.flag()? {
                true => Some(ttl.get("AttributeName")?.text()?),
                false => None,
            }
        }
        None => None,
    };
    let pitr = match table.opt("PointInTimeRecoverySpecification")? {
        Some(pitr) => (pitr.only(&["PointInTimeRecoveryEnabled"])?)
            .opt_flag("PointInTimeRecoveryEnabled")?
            .unwrap_or(false),
        None => false,
    };
    table.opt_flag("DeletionProtectionEnabled")?;
    Ok((ttl, pitr))
}

/// CreateTable with everything it takes from the template, each value one DynamoDB knows.
pub(crate) fn create_table_request(
    client: &Client,
    name: &str,
    table: &Prop<'_>,
) -> Result<CreateTableFluentBuilder, ProvisionError> {
    let billing = match table.opt("BillingMode")? {
        Some(mode) => mode.one_of(BillingMode::values())?,
        // CloudFormation's default.
        None => "PROVISIONED",
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(billing))
        .set_key_schema(Some(key_schema(name, &table.get("KeySchema")?)?))
        .set_provisioned_throughput(throughput(name, table.opt("ProvisionedThroughput")?)?);
    for attribute in table.get("AttributeDefinitions")?.items()? {
        let attribute = attribute.only(&["AttributeName", "AttributeType"])?;
        let kind = attribute.get("AttributeType")?;
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute.get("AttributeName")?.text()?)
                .attribute_type(kind.one_of(ScalarAttributeType::values())?.into())
                .build()
                .map_err(build(name, "attribute definitions"))?,
        );
    }
    for index in table.list("GlobalSecondaryIndexes")? {
        let index = index.only(&[
            "IndexName",
            "KeySchema",
            "Projection",
            "ProvisionedThroughput",
        ])?;
        let projection = index.get("Projection")?;
        let projection = projection.only(&["ProjectionType", "NonKeyAttributes"])?;
        let non_key = (projection.opt("NonKeyAttributes")?)
            .map(|list| list.texts())
            .transpose()?;
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index.get("IndexName")?.text()?)
                .set_key_schema(Some(key_schema(name, &index.get("KeySchema")?)?))
                .projection(
                    Projection::builder()
                        .projection_type(
                            (projection.get("ProjectionType")?)
                                .one_of(ProjectionType::values())?
                                .into(),
                        )
                        .set_non_key_attributes(
                            non_key.map(|names| names.into_iter().map(str::to_owned).collect()),
                        )
                        .build(),
                )
                .set_provisioned_throughput(throughput(name, index.opt("ProvisionedThroughput")?)?)
                .build()
                .map_err(build(name, "global secondary indexes"))?,
        );
    }
    if let Some(stream) = table.opt("StreamSpecification")? {
        let view = stream.only(&["StreamViewType"])?.get("StreamViewType")?;
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view.one_of(StreamViewType::values())?.into())
                .build()
                .map_err(build(name, "stream specification"))?,
        );
    }
    if let Some(sse) = table.opt("SSESpecification")? {
        let sse = sse.only(&["SSEEnabled", "SSEType"])?;
        let sse_type = sse.opt("SSEType")?;
        let sse_type = sse_type.map(|t| t.one_of(SseType::values())).transpose()?;
        if sse.get("SSEEnabled")?.flag()? {
            request = request.sse_specification(
                SseSpecification::builder()
                    .enabled(true)
                    .set_sse_type(sse_type.map(SseType::from))
                    .build(),
            );
        }
    }
    Ok(request)
}

fn key_schema(table: &str, keys: &Prop<'_>) -> Result<Vec<KeySchemaElement>, ProvisionError> {
    keys.items()?
        .into_iter()
        .map(|key| {
            let key = key.only(&["AttributeName", "KeyType"])?;
            KeySchemaElement::builder()
                .attribute_name(key.get("AttributeName")?.text()?)
                .key_type(key.get("KeyType")?.one_of(KeyType::values())?.into())
                .build()
                .map_err(build(table, "key schema"))
        })
        .collect()
}

fn throughput(
    table: &str,
    throughput: Option<Prop<'_>>,
) -> Result<Option<ProvisionedThroughput>, ProvisionError> {
    let Some(throughput) = throughput else {
        return Ok(None);
    };
    let units = throughput.only(&["ReadCapacityUnits", "WriteCapacityUnits"])?;
    ProvisionedThroughput::builder()
        .read_capacity_units(units.get("ReadCapacityUnits")?.positive()?)
        .write_capacity_units(units.get("WriteCapacityUnits")?.positive()?)
        .build()
        .map(Some)
        .map_err(build(table, "provisioned throughput"))
}

async fn wait_until_active(
    client: &Client,
    sleep: &Sleeper,
    table: &str,
) -> Result<(), ProvisionError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        let status = match describe_table(client, table).await? {
            Some(description) => {
                let table_active = description.table_status() == Some(&TableStatus::Active);
                // Queries on a GSI fail until the index itself is ACTIVE, not just the table.
                let indexes_active = description
                    .global_secondary_indexes()
                    .iter()
                    .all(|i| matches!(i.index_status(), None | Some(IndexStatus::Active)));
                if table_active && indexes_active {
                    return Ok(());
                }
                description
                    .table_status()
                    .map_or("unknown", TableStatus::as_str)
                    .to_owned()
            }
            // Eventual consistency right after CreateTable.
            None => "not yet visible".to_owned(),
        };
        if started.elapsed() >= ACTIVE_TIMEOUT {
            return Err(ProvisionError::NotActive {
                table: table.to_owned(),
                status,
                waited: started.elapsed(),
            });
        }
        sleep.sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Whether the table's TTL is on (or being turned on), and on which attribute.
pub(crate) async fn current_time_to_live(
    client: &Client,
    table: &str,
) -> Result<(bool, Option<String>), ProvisionError> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(api("DescribeTimeToLive", table))?;
    let current = current.time_to_live_description();
    let enabled = matches!(
        current.and_then(|d| d.time_to_live_status()),
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    );
    Ok((
        enabled,
        current.and_then(|d| d.attribute_name().map(str::to_owned)),
    ))
}

async fn apply_time_to_live(
    client: &Client,
    table: &str,
    wanted: Option<&str>,
) -> Result<(), ProvisionError> {
    let (enabled, current_attribute) = current_time_to_live(client, table).await?;
    let current_attribute = current_attribute.as_deref();

    // DynamoDB refuses to enable TTL that is already enabled, so only call it on a change.
    let change = match (wanted, enabled, current_attribute) {
        (Some(wanted), true, Some(current)) if current == wanted => None,
        (Some(wanted), true, current) => {
            return Err(ProvisionError::TtlAttributeConflict {
                table: table.to_owned(),
                current: current.unwrap_or("?").to_owned(),
                wanted: wanted.to_owned(),
            })
        }
        (Some(wanted), false, _) => Some((true, wanted.to_owned())),
        (None, true, Some(current)) => Some((false, current.to_owned())),
        (None, _, _) => None,
    };
    let Some((enable, attribute)) = change else {
        return Ok(());
    };
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(enable)
                .attribute_name(attribute)
                .build()
                .map_err(build(table, "time to live specification"))?,
        )
        .send()
        .await
        .map_err(api("UpdateTimeToLive", table))?;
    Ok(())
}

/// Whether the table's point-in-time recovery is on.
pub(crate) async fn current_point_in_time_recovery(
    client: &Client,
    table: &str,
) -> Result<bool, ProvisionError> {
    let current = client
        .describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .map_err(api("DescribeContinuousBackups", table))?;
    Ok(current
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|d| d.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled))
}

async fn apply_point_in_time_recovery(
    client: &Client,
    sleep: &Sleeper,
    table: &str,
    wanted: bool,
) -> Result<(), ProvisionError> {
    if current_point_in_time_recovery(client, table).await? == wanted {
        return Ok(());
    }
    let specification = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(wanted)
        .build()
        .map_err(build(table, "point-in-time recovery specification"))?;
    let mut attempt = 1;
    loop {
        let result = client
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(specification.clone())
            .send()
            .await;
        match result {
            Ok(_) => return Ok(()),
            Err(SdkError::ServiceError(e))
                if e.err().is_continuous_backups_unavailable_exception()
                    && attempt < PITR_ATTEMPTS =>
            {
                attempt += 1;
                sleep.sleep(Duration::from_secs(3)).await;
            }
            Err(e) => return Err(api("UpdateContinuousBackups", table)(e)),
        }
    }
}

/// The SDK's own sleep, so waiting works on whatever async runtime the SDK was configured with.
struct Sleeper(aws_sdk_dynamodb::config::SharedAsyncSleep);

impl Sleeper {
    fn from(sdk: &aws_config::SdkConfig) -> Result<Self, ProvisionError> {
        sdk.sleep_impl()
            .map(Sleeper)
            .ok_or(ProvisionError::NoSleepImpl)
    }

    async fn sleep(&self, duration: Duration) {
        self.0.sleep(duration).await;
    }
}

fn build(resource: &str, what: &'static str) -> impl FnOnce(BuildError) -> ProvisionError {
    let resource = resource.to_owned();
    move |source| ProvisionError::Build {
        resource,
        what,
        source,
    }
}

// ---- KMS -------------------------------------------------------------------------------------

/// `None` when no key has this id, ARN or alias.
pub(crate) async fn describe_key(
    kms: &aws_sdk_kms::Client,
    key: &str,
) -> Result<Option<KeyMetadata>, ProvisionError> {
    match kms.describe_key().key_id(key).send().await {
        Ok(output) => Ok(output.key_metadata),
        Err(SdkError::ServiceError(e)) if e.err().is_not_found_exception() => Ok(None),
        Err(e) => Err(kms_api("DescribeKey", key)(e)),
    }
}

pub(crate) fn key_arn(metadata: &KeyMetadata, logical_id: &str) -> Result<String, ProvisionError> {
    metadata
        .arn()
        .map(str::to_owned)
        .ok_or_else(|| ProvisionError::IncompleteAnswer {
            service: "KMS",
            operation: "DescribeKey",
            resource: logical_id.to_owned(),
            what: "the key's ARN",
        })
}

/// Finds the key through its first alias (a key has no name of its own) or creates it, then
/// brings its policy, description, rotation and aliases to the template.
async fn provision_key(
    kms: &aws_sdk_kms::Client,
    spec: &Resolved,
    aliases: &[String],
) -> Result<KeyMetadata, ProvisionError> {
    let alias = aliases
        .first()
        .ok_or_else(|| ProvisionError::KeyWithoutAlias {
            key: spec.logical_id.clone(),
        })?;
    let policy = spec
        .properties
        .get("KeyPolicy")
        .map(|document| policy_text(&spec.logical_id, document))
        .transpose()?;
    let description = spec.opt_text("Description")?;
    let enable_key_rotation = spec.flag("EnableKeyRotation")?.unwrap_or(false);
    let metadata = match describe_key(kms, alias).await? {
        Some(existing) => {
            // A new key is created with the policy and description; an existing one may have
            // drifted from them.
            if let Some(policy) = &policy {
                kms.put_key_policy()
                    .key_id(existing.key_id())
                    .policy_name("default")
                    .policy(policy)
                    .send()
                    .await
                    .map_err(kms_api("PutKeyPolicy", alias))?;
            }
            if let Some(description) = description {
                if existing.description() != Some(description) {
                    kms.update_key_description()
                        .key_id(existing.key_id())
                        .description(description)
                        .send()
                        .await
                        .map_err(kms_api("UpdateKeyDescription", alias))?;
                }
            }
            existing
        }
        None => kms
            .create_key()
            .set_policy(policy)
            .set_description(description.map(str::to_owned))
            .send()
            .await
            .map_err(kms_api("CreateKey", &spec.logical_id))?
            .key_metadata
            .ok_or_else(|| ProvisionError::IncompleteAnswer {
                service: "KMS",
                operation: "CreateKey",
                resource: spec.logical_id.clone(),
                what: "the key's metadata",
            })?,
    };
    let key_id = metadata.key_id().to_owned();

    let rotation = kms
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .map_err(kms_api("GetKeyRotationStatus", alias))?
        .key_rotation_enabled();
    if rotation != enable_key_rotation {
        if enable_key_rotation {
            kms.enable_key_rotation()
                .key_id(&key_id)
                .send()
                .await
                .map_err(kms_api("EnableKeyRotation", alias))?;
        } else {
            kms.disable_key_rotation()
                .key_id(&key_id)
                .send()
                .await
                .map_err(kms_api("DisableKeyRotation", alias))?;
        }
    }

    for alias in aliases {
        match describe_key(kms, alias).await? {
            Some(target) if target.key_id() == key_id => {}
            Some(_) => {
                kms.update_alias()
                    .alias_name(alias)
                    .target_key_id(&key_id)
                    .send()
                    .await
                    .map_err(kms_api("UpdateAlias", alias))?;
            }
            None => {
                kms.create_alias()
                    .alias_name(alias)
                    .target_key_id(&key_id)
                    .send()
                    .await
                    .map_err(kms_api("CreateAlias", alias))?;
            }
        }
    }
    Ok(metadata)
}

// ---- SQS -------------------------------------------------------------------------------------

/// Queues ordered so that a queue comes after the queues (and keys) it references: a DLQ's ARN
/// must exist before the queue that redrives to it is created.
fn dependency_order(queues: Vec<Queue>) -> Result<Vec<Queue>, ProvisionError> {
    let mut pending = queues;
    let mut ordered = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let waiting: BTreeSet<String> = pending.iter().map(|q| q.logical_id.clone()).collect();
        let (ready, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|queue| {
            (queue.dead_letter_queue.as_ref()).is_none_or(|dlq| !waiting.contains(dlq))
        });
        if ready.is_empty() {
            return Err(ProvisionError::QueueCycle {
                queues: rest.into_iter().map(|q| q.logical_id).collect(),
            });
        }
        ordered.extend(ready);
        pending = rest;
    }
    Ok(ordered)
}

/// `None` when no queue has this name.
pub(crate) async fn queue_url(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
) -> Result<Option<String>, ProvisionError> {
    match sqs.get_queue_url().queue_name(name).send().await {
        Ok(output) => Ok(output.queue_url),
        // The JSON protocol's error, or the query protocol's code that SQS also sends for
        // compatibility; either means the same.
        Err(SdkError::ServiceError(e))
            if e.err().is_queue_does_not_exist()
                || e.err().code() == Some("AWS.SimpleQueueService.NonExistentQueue") =>
        {
            Ok(None)
        }
        Err(e) => Err(sqs_api("GetQueueUrl", name)(e)),
    }
}

pub(crate) async fn current_queue_attributes(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
) -> Result<HashMap<QueueAttributeName, String>, ProvisionError> {
    Ok(sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .map_err(sqs_api("GetQueueAttributes", url))?
        .attributes
        .unwrap_or_default())
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, ProvisionError> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(sqs_api("GetQueueAttributes", url))?
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| ProvisionError::IncompleteAnswer {
            service: "SQS",
            operation: "GetQueueAttributes",
            resource: url.to_owned(),
            what: "QueueArn",
        })
}

/// The attributes the template declares, references resolved: SQS names them as CloudFormation
/// does, a scalar as its text, the redrive policy as its JSON. Absent ones are left to SQS.
fn desired_queue_attributes(properties: &Resolved) -> HashMap<QueueAttributeName, String> {
    let Some(properties) = properties.properties.as_object() else {
        return HashMap::new();
    };
    properties
        .iter()
        // `FifoQueue` is not among them: only CreateQueue takes it (see `provision_queue`).
        .filter(|(name, _)| !matches!(name.as_str(), "QueueName" | "FifoQueue"))
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (QueueAttributeName::from(name.as_str()), text)
        })
        .collect()
}

/// Creates the queue, or sets the template's attributes on the existing one (which repairs a
/// changed redrive policy or timeout). Returns its URL. An existing queue that is not of the
/// declared kind (FIFO or standard) is an error: that cannot be changed.
async fn provision_queue(
    sqs: &aws_sdk_sqs::Client,
    spec: &Queue,
    properties: &Resolved,
) -> Result<String, ProvisionError> {
    let mut attributes = desired_queue_attributes(properties);
    let name = spec.queue_name.as_str();
    // Looked up first: CreateQueue on an existing queue fails when any attribute differs.
    if let Some(url) = queue_url(sqs, name).await? {
        let fifo = (current_queue_attributes(sqs, &url).await?)
            .get(&QueueAttributeName::FifoQueue)
            .is_some_and(|fifo| fifo.eq_ignore_ascii_case("true"));
        if fifo != spec.fifo_queue {
            return Err(ProvisionError::FifoQueueMismatch {
                queue: name.to_owned(),
                declared: queue_kind(spec.fifo_queue),
                found: queue_kind(fifo),
            });
        }
        if !attributes.is_empty() {
            sqs.set_queue_attributes()
                .queue_url(&url)
                .set_attributes(Some(attributes))
                .send()
                .await
                .map_err(sqs_api("SetQueueAttributes", name))?;
        }
        return Ok(url);
    }
    // SQS refuses `FifoQueue: false`, so a standard queue is created without the attribute.
    if spec.fifo_queue {
        attributes.insert(QueueAttributeName::FifoQueue, "true".to_owned());
    }
    sqs.create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes))
        .send()
        .await
        .map_err(sqs_api("CreateQueue", name))?
        .queue_url
        .ok_or_else(|| ProvisionError::IncompleteAnswer {
            service: "SQS",
            operation: "CreateQueue",
            resource: name.to_owned(),
            what: "the queue URL",
        })
}

fn queue_kind(fifo: bool) -> &'static str {
    if fifo {
        "FIFO"
    } else {
        "standard"
    }
}

async fn provision_queue_policy(
    sqs: &aws_sdk_sqs::Client,
    policy: &Resolved,
) -> Result<(), ProvisionError> {
    let text = policy_text(&policy.logical_id, policy.get("PolicyDocument")?)?;
    for url in policy.texts("Queues")? {
        sqs.set_queue_attributes()
            .queue_url(url)
            .attributes(QueueAttributeName::Policy, &text)
            .send()
            .await
            .map_err(sqs_api("SetQueueAttributes", url))?;
    }
    Ok(())
}

// ---- SES -------------------------------------------------------------------------------------

pub(crate) async fn email_identity_exists(
    ses: &aws_sdk_sesv2::Client,
    identity: &str,
) -> Result<bool, ProvisionError> {
    match ses
        .get_email_identity()
        .email_identity(identity)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(SdkError::ServiceError(e)) if e.err().is_not_found_exception() => Ok(false),
        Err(e) => Err(ses_api("GetEmailIdentity", identity)(e)),
    }
}

/// Creates the identity unless it exists. Looked up first: the emulator answers a second
/// `CreateEmailIdentity` with success, SES with `AlreadyExistsException` (also accepted, for an
/// identity created meanwhile, e.g. by tests provisioning in parallel).
async fn provision_email_identity(
    ses: &aws_sdk_sesv2::Client,
    identity: &str,
) -> Result<(), ProvisionError> {
    if email_identity_exists(ses, identity).await? {
        return Ok(());
    }
    match ses
        .create_email_identity()
        .email_identity(identity)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(SdkError::ServiceError(e)) if e.err().is_already_exists_exception() => Ok(()),
        Err(e) => Err(ses_api("CreateEmailIdentity", identity)(e)),
    }
}

/// Listed rather than read with `GetConfigurationSet`, whose answer the emulator writes in a
/// shape the SDK cannot parse (a boolean where it sends an object); a page at a time.
pub(crate) async fn configuration_set_exists(
    ses: &aws_sdk_sesv2::Client,
    name: &str,
) -> Result<bool, ProvisionError> {
    let mut next: Option<String> = None;
    loop {
        let page = ses
            .list_configuration_sets()
            .set_next_token(next.take())
            .send()
            .await
            .map_err(ses_api("ListConfigurationSets", name))?;
        if page.configuration_sets().iter().any(|n| n == name) {
            return Ok(true);
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_owned()),
            _ => return Ok(false),
        }
    }
}

/// Creates the configuration set unless it exists.
async fn provision_configuration_set(
    ses: &aws_sdk_sesv2::Client,
    name: &str,
) -> Result<(), ProvisionError> {
    if configuration_set_exists(ses, name).await? {
        return Ok(());
    }
    match ses
        .create_configuration_set()
        .configuration_set_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(SdkError::ServiceError(e)) if e.err().is_already_exists_exception() => Ok(()),
        Err(e) => Err(ses_api("CreateConfigurationSet", name)(e)),
    }
}

// ---- Secrets Manager -----------------------------------------------------------------------

/// What DescribeSecret says of the secret named `name`, `None` when there is none.
pub(crate) async fn describe_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    name: &str,
) -> Result<Option<DescribedSecret>, ProvisionError> {
    match secrets.describe_secret().secret_id(name).send().await {
        Ok(output) => {
            let arn = output
                .arn()
                .ok_or_else(|| ProvisionError::IncompleteAnswer {
                    service: "Secrets Manager",
                    operation: "DescribeSecret",
                    resource: name.to_owned(),
                    what: "the secret's ARN",
                })?
                .to_owned();
            Ok(Some(DescribedSecret {
                arn,
                kms_key_id: output.kms_key_id().map(str::to_owned),
                description: output.description().map(str::to_owned),
            }))
        }
        Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => Ok(None),
        Err(e) => Err(secrets_api("DescribeSecret", name)(e)),
    }
}

/// What DescribeSecret says of a secret that provisioning sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DescribedSecret {
    pub arn: String,
    pub kms_key_id: Option<String>,
    pub description: Option<String>,
}

/// Creates the secret with a value generated as `GenerateSecretString` asks, or brings an existing
/// one's description and key to the template, its value kept. Returns its ARN.
async fn provision_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    spec: &Resolved,
    name: &str,
) -> Result<String, ProvisionError> {
    let description = spec.opt_text("Description")?;
    let kms_key_id = spec.opt_text("KmsKeyId")?;
    // Read before anything is created: a setting provisioning would not apply is refused.
    let generate = secret_generation(spec)?;
    if let Some(existing) = describe_secret(secrets, name).await? {
        let description_drifted =
            description.is_some_and(|d| existing.description.as_deref() != Some(d));
        let key_drifted = kms_key_id.is_some_and(|k| existing.kms_key_id.as_deref() != Some(k));
        if description_drifted || key_drifted {
            secrets
                .update_secret()
                .secret_id(&existing.arn)
                .set_description(description.map(str::to_owned))
                .set_kms_key_id(kms_key_id.map(str::to_owned))
                .send()
                .await
                .map_err(secrets_api("UpdateSecret", name))?;
        }
        return Ok(existing.arn);
    }
    let value = match generate {
        Some(generation) => generation
            .value()
            .map_err(|source| ProvisionError::Random {
                secret: spec.logical_id.clone(),
                source,
            })?,
        // No `GenerateSecretString` (nor `SecretString`, which provisioning does not take): an
        // empty secret, without a version, as CloudFormation creates it.
        None => String::new(),
    };
    let created = secrets
        .create_secret()
        .name(name)
        .set_description(description.map(str::to_owned))
        .set_kms_key_id(kms_key_id.map(str::to_owned))
        .set_secret_string((!value.is_empty()).then_some(value))
        .send()
        .await
        .map_err(secrets_api("CreateSecret", name))?;
    created
        .arn()
        .map(str::to_owned)
        .ok_or_else(|| ProvisionError::IncompleteAnswer {
            service: "Secrets Manager",
            operation: "CreateSecret",
            resource: name.to_owned(),
            what: "the secret's ARN",
        })
}

/// How a secret's value is generated (`GenerateSecretString`), as far as provisioning applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SecretGeneration {
    pub length: usize,
    pub exclude_punctuation: bool,
}

pub(crate) fn secret_generation(
    spec: &Resolved,
) -> Result<Option<SecretGeneration>, TemplateError> {
    let Some(generate) = spec.props().opt("GenerateSecretString")? else {
        return Ok(None);
    };
    let generate = generate.only(GENERATED_SECRET)?;
    let length = match generate.opt("PasswordLength")? {
        Some(length) => length.positive::<usize>()?,
        None => DEFAULT_SECRET_LENGTH,
    };
    let exclude_punctuation = generate.opt_flag("ExcludePunctuation")?.unwrap_or(false);
    Ok(Some(SecretGeneration {
        length,
        exclude_punctuation,
    }))
}

impl SecretGeneration {
    /// The characters a value is drawn from.
    pub(crate) fn alphabet(&self) -> Vec<u8> {
        let mut alphabet: Vec<u8> = (b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .chain(b'0'..=b'9')
            .collect();
        if !self.exclude_punctuation {
            alphabet.extend(PUNCTUATION.bytes());
        }
        alphabet
    }

    /// A value of `length` characters drawn uniformly from the alphabet (bytes past the largest
    /// multiple of its size are redrawn, so no character is likelier than another), with at
    /// least one of each kind it includes, as Secrets Manager's `RequireEachIncludedType`
    /// (on by default) asks.
    pub(crate) fn value(&self) -> Result<String, getrandom::Error> {
        let alphabet = self.alphabet();
        // One byte draws one character: of 256 values, the few past the largest multiple of the
        // alphabet's size (8 for 62 characters, 68 for 94) are redrawn.
        let limit = 256 - 256 % alphabet.len();
        loop {
            let mut value = String::with_capacity(self.length);
            let mut bytes = [0u8; 64];
            while value.len() < self.length {
                getrandom::fill(&mut bytes)?;
                for &byte in bytes.iter().filter(|&&b| usize::from(b) < limit) {
                    if value.len() == self.length {
                        break;
                    }
                    value.push(char::from(alphabet[usize::from(byte) % alphabet.len()]));
                }
            }
            if self.has_each_kind(&value) {
                return Ok(value);
            }
        }
    }

    /// Whether `value` has an upper-case letter, a lower-case letter, a digit and, unless
    /// excluded, a punctuation character (or is too short to have them all).
    pub(crate) fn has_each_kind(&self, value: &str) -> bool {
        let kinds: [fn(&u8) -> bool; 4] = [
            u8::is_ascii_uppercase,
            u8::is_ascii_lowercase,
            u8::is_ascii_digit,
            |b| PUNCTUATION.as_bytes().contains(b),
        ];
        let wanted = if self.exclude_punctuation { 3 } else { 4 };
        self.length < wanted
            || kinds[..wanted]
                .iter()
                .all(|kind| value.bytes().any(|b| kind(&b)))
    }
}

// ---- S3 --------------------------------------------------------------------------------------

/// S3 has no API that returns a bucket's ARN: its format is fixed, `arn:<partition>:s3:::<name>`.
pub(crate) fn bucket_arn(region: &str, name: &str) -> String {
    format!("arn:{}:s3:::{name}", partition(region))
}

async fn create_bucket(
    s3: &aws_sdk_s3::Client,
    name: &str,
    region: &str,
) -> Result<(), ProvisionError> {
    let mut request = s3.create_bucket().bucket(name);
    if region != S3_DEFAULT_REGION {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        // Ours from an earlier run: provisioning is idempotent.
        Err(SdkError::ServiceError(e)) if e.err().is_bucket_already_owned_by_you() => Ok(()),
        Err(e) => Err(s3_api("CreateBucket", name)(e)),
    }
}

pub(crate) async fn bucket_exists(
    s3: &aws_sdk_s3::Client,
    name: &str,
) -> Result<bool, ProvisionError> {
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => Ok(true),
        Err(SdkError::ServiceError(e)) if e.err().is_not_found() => Ok(false),
        Err(e) => Err(s3_api("HeadBucket", name)(e)),
    }
}

/// What S3 takes for each bucket property the template declares; `None` where it declares none.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BucketConfiguration {
    pub encryption: Option<ServerSideEncryptionConfiguration>,
    pub public_access_block: Option<PublicAccessBlockConfiguration>,
    pub ownership: Option<OwnershipControls>,
    pub versioning: Option<VersioningConfiguration>,
    pub lifecycle: Option<BucketLifecycleConfiguration>,
    pub notifications: NotificationConfiguration,
    /// Where its server access logs go; applied after the bucket policies.
    pub logging: Option<LoggingEnabled>,
    /// Its CORS rules; `None` removes any (one added by hand is drift).
    pub cors: Option<CorsConfiguration>,
}

/// A bucket's resolved properties as S3 takes them, each value one S3 knows.
pub(crate) fn bucket_configuration(
    bucket: &Resolved,
    name: &str,
) -> Result<BucketConfiguration, ProvisionError> {
    let properties = bucket.props();
    let encryption = match properties.opt("BucketEncryption")? {
        Some(encryption) => {
            let rule = (encryption.only(&["ServerSideEncryptionConfiguration"])?)
                .get("ServerSideEncryptionConfiguration")?
                .single()?
                .only(&["ServerSideEncryptionByDefault", "BucketKeyEnabled"])?;
            let default = rule.get("ServerSideEncryptionByDefault")?;
            let default = default.only(&["SSEAlgorithm", "KMSMasterKeyID"])?;
            let algorithm = default.get("SSEAlgorithm")?.one_of(SSE_ALGORITHMS)?;
            let default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(algorithm.into())
                .set_kms_master_key_id(default.opt_text("KMSMasterKeyID")?.map(str::to_owned))
                .build()
                .map_err(build(name, "default encryption"))?;
            let rule = ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default)
                .bucket_key_enabled(rule.opt_flag("BucketKeyEnabled")?.unwrap_or(false))
                .build();
            Some(
                ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(build(name, "encryption configuration"))?,
            )
        }
        None => None,
    };
    let public_access_block = match properties.opt("PublicAccessBlockConfiguration")? {
        Some(block) => {
            let block = block.only(&[
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            ])?;
            // An absent flag is `false`, as in CloudFormation.
            let flag = |key| Ok::<_, TemplateError>(block.opt_flag(key)?.unwrap_or(false));
            Some(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(flag("BlockPublicAcls")?)
                    .block_public_policy(flag("BlockPublicPolicy")?)
                    .ignore_public_acls(flag("IgnorePublicAcls")?)
                    .restrict_public_buckets(flag("RestrictPublicBuckets")?)
                    .build(),
            )
        }
        None => None,
    };
    let ownership = match properties.opt("OwnershipControls")? {
        Some(controls) => {
            let rule =
                (controls.only(&["Rules"])?.get("Rules")?.single()?).only(&["ObjectOwnership"])?;
            let ownership = rule
                .get("ObjectOwnership")?
                .one_of(ObjectOwnership::values())?;
            let rule = OwnershipControlsRule::builder()
                .object_ownership(ownership.into())
                .build()
                .map_err(build(name, "ownership controls"))?;
            Some(
                OwnershipControls::builder()
                    .rules(rule)
                    .build()
                    .map_err(build(name, "ownership controls"))?,
            )
        }
        None => None,
    };
    let versioning = match properties.opt("VersioningConfiguration")? {
        Some(versioning) => {
            let status = versioning.only(&["Status"])?.get("Status")?;
            let status = status.one_of(BucketVersioningStatus::values())?;
            Some(
                VersioningConfiguration::builder()
                    .status(status.into())
                    .build(),
            )
        }
        None => None,
    };
    let lifecycle = match properties.opt("LifecycleConfiguration")? {
        Some(lifecycle) => Some(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules(lifecycle, "Rules", |r| {
                    lifecycle_rule(name, r)
                })?))
                .build()
                .map_err(build(name, "lifecycle configuration"))?,
        ),
        None => None,
    };
    let logging = match properties.opt("LoggingConfiguration")? {
        Some(logging) => {
            let logging = logging.only(&["DestinationBucketName", "LogFilePrefix"])?;
            // As CloudFormation: without a destination, the bucket logs to itself; without a
            // prefix, at the top of the destination.
            let destination = logging.opt_text("DestinationBucketName")?.unwrap_or(name);
            Some(
                LoggingEnabled::builder()
                    .target_bucket(destination)
                    .target_prefix(logging.opt_text("LogFilePrefix")?.unwrap_or_default())
                    .build()
                    .map_err(build(name, "logging configuration"))?,
            )
        }
        None => None,
    };
    let mut queues = Vec::new();
    if let Some(notification) = properties.opt("NotificationConfiguration")? {
        let notification = notification.only(&["QueueConfigurations"])?;
        for (index, queue) in notification
            .list("QueueConfigurations")?
            .into_iter()
            .enumerate()
        {
            let queue = queue.only(&["Event", "Queue", "Filter"])?;
            let mut rules = Vec::new();
            if let Some(filter) = queue.opt("Filter")? {
                let key = filter.only(&["S3Key"])?.get("S3Key")?;
                for rule in key.only(&["Rules"])?.get("Rules")?.items()? {
                    let rule = rule.only(&["Name", "Value"])?;
                    let name_node = rule.get("Name")?;
                    // S3 takes `prefix` / `suffix` in any case.
                    let rule_name = name_node.text()?.to_ascii_lowercase();
                    if !FilterRuleName::values().contains(&rule_name.as_str()) {
                        return Err(TemplateError::NotAllowed {
                            path: name_node.path,
                            value: rule_name,
                            allowed: FilterRuleName::values(),
                        }
                        .into());
                    }
                    rules.push(
                        FilterRule::builder()
                            .name(rule_name.as_str().into())
                            .value(rule.get("Value")?.text()?)
                            .build(),
                    );
                }
            }
            let filter = (!rules.is_empty()).then(|| {
                NotificationConfigurationFilter::builder()
                    .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                    .build()
            });
            queues.push(
                QueueConfiguration::builder()
                    // CloudFormation generates the ids; a stable one reads better in the console.
                    .id(format!("{}-{}", bucket.logical_id, index + 1))
                    .queue_arn(queue.get("Queue")?.text()?)
                    .events(queue.get("Event")?.one_of(Event::values())?.into())
                    .set_filter(filter)
                    .build()
                    .map_err(build(name, "queue notifications"))?,
            );
        }
    }
    let cors = match properties.opt("CorsConfiguration")? {
        Some(cors) => Some(
            CorsConfiguration::builder()
                .set_cors_rules(Some(rules(cors, "CorsRules", |r| cors_rule(name, r))?))
                .build()
                .map_err(build(name, "CORS configuration"))?,
        ),
        None => None,
    };
    Ok(BucketConfiguration {
        encryption,
        public_access_block,
        ownership,
        versioning,
        lifecycle,
        notifications: NotificationConfiguration::builder()
            .set_queue_configurations(Some(queues))
            .build(),
        logging,
        cors,
    })
}

/// The rules of a configuration whose only key is `key` (a lifecycle's `Rules`, CORS's
/// `CorsRules`), each read by `read`.
fn rules<T>(
    configuration: Prop<'_>,
    key: &str,
    read: impl Fn(&Prop<'_>) -> Result<T, ProvisionError>,
) -> Result<Vec<T>, ProvisionError> {
    (configuration.only(&[key])?.get(key)?.items()?.iter())
        .map(read)
        .collect()
}

/// One of `CorsConfiguration.CorsRules`, as S3 takes it; the methods are those S3 knows.
fn cors_rule(bucket: &str, rule: &Prop<'_>) -> Result<CorsRule, ProvisionError> {
    let rule = rule.clone().only(&[
        "Id",
        "AllowedOrigins",
        "AllowedMethods",
        "AllowedHeaders",
        "ExposedHeaders",
        "MaxAge",
    ])?;
    let texts = |key: &str| -> Result<Option<Vec<String>>, ProvisionError> {
        Ok(rule
            .opt(key)?
            .map(|list| list.texts())
            .transpose()?
            .map(|list| list.into_iter().map(str::to_owned).collect()))
    };
    let methods = (rule.get("AllowedMethods")?.items()?.iter())
        .map(|method| method.one_of(CORS_METHODS).map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()?;
    let max_age = rule
        .opt("MaxAge")?
        .map(|age| age.integer::<i32>())
        .transpose()?;
    CorsRule::builder()
        .set_id(rule.opt_text("Id")?.map(str::to_owned))
        .set_allowed_origins(Some(
            rule.get("AllowedOrigins")?
                .texts()?
                .into_iter()
                .map(str::to_owned)
                .collect(),
        ))
        .set_allowed_methods(Some(methods))
        .set_allowed_headers(texts("AllowedHeaders")?)
        .set_expose_headers(texts("ExposedHeaders")?)
        .set_max_age_seconds(max_age)
        .build()
        .map_err(build(bucket, "CORS rule"))
}

fn lifecycle_rule(bucket: &str, rule: &Prop<'_>) -> Result<LifecycleRule, ProvisionError> {
    let rule = rule.clone().only(&[
        "Id",
        "Status",
        "Prefix",
        "ExpirationInDays",
        "NoncurrentVersionExpiration",
        "NoncurrentVersionExpirationInDays",
        "AbortIncompleteMultipartUpload",
    ])?;
    let days = |parent: Option<Prop<'_>>, key: &str| -> Result<Option<i32>, TemplateError> {
        match parent {
            Some(parent) => parent.only(&[key])?.get(key)?.positive().map(Some),
            None => Ok(None),
        }
    };
    let noncurrent = match rule.opt("NoncurrentVersionExpiration")? {
        Some(expiration) => days(Some(expiration), "NoncurrentDays")?,
        // The older, flat spelling of the same setting.
        None => (rule.opt("NoncurrentVersionExpirationInDays")?)
            .map(|days| days.positive())
            .transpose()?,
    };
    let abort = days(
        rule.opt("AbortIncompleteMultipartUpload")?,
        "DaysAfterInitiation",
    )?;
    let expiration = rule.opt("ExpirationInDays")?;
    LifecycleRule::builder()
        .set_id(rule.opt_text("Id")?.map(str::to_owned))
        .status(
            rule.get("Status")?
                .one_of(ExpirationStatus::values())?
                .into(),
        )
        // An empty filter is the whole bucket.
        .filter(
            LifecycleRuleFilter::builder()
                .set_prefix(rule.opt_text("Prefix")?.map(str::to_owned))
                .build(),
        )
        .set_expiration(
            (expiration.map(|days| days.positive()).transpose()?)
                .map(|days| LifecycleExpiration::builder().days(days).build()),
        )
        .set_noncurrent_version_expiration(noncurrent.map(|days| {
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(days)
                .build()
        }))
        .set_abort_incomplete_multipart_upload(abort.map(|days| {
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(days)
                .build()
        }))
        .build()
        .map_err(build(bucket, "lifecycle rules"))
}

/// Applies every bucket property the template declares, in the order S3 needs: encryption and
/// access settings before anything is written, notifications last.
async fn configure_bucket(
    s3: &aws_sdk_s3::Client,
    name: &str,
    configuration: BucketConfiguration,
) -> Result<(), ProvisionError> {
    if let Some(encryption) = configuration.encryption {
        s3.put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(encryption)
            .send()
            .await
            .map_err(s3_api("PutBucketEncryption", name))?;
    }
    if let Some(block) = configuration.public_access_block {
        s3.put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(block)
            .send()
            .await
            .map_err(s3_api("PutPublicAccessBlock", name))?;
    }
    if let Some(ownership) = configuration.ownership {
        s3.put_bucket_ownership_controls()
            .bucket(name)
            .ownership_controls(ownership)
            .send()
            .await
            .map_err(s3_api("PutBucketOwnershipControls", name))?;
    }
    if let Some(versioning) = configuration.versioning {
        s3.put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(versioning)
            .send()
            .await
            .map_err(s3_api("PutBucketVersioning", name))?;
    }
    if let Some(lifecycle) = configuration.lifecycle {
        s3.put_bucket_lifecycle_configuration()
            .bucket(name)
            .lifecycle_configuration(lifecycle)
            .send()
            .await
            .map_err(s3_api("PutBucketLifecycleConfiguration", name))?;
    }
    match configuration.cors {
        Some(cors) => {
            s3.put_bucket_cors()
                .bucket(name)
                .cors_configuration(cors)
                .send()
                .await
                .map_err(s3_api("PutBucketCors", name))?;
        }
        None => {
            s3.delete_bucket_cors()
                .bucket(name)
                .send()
                .await
                .map_err(s3_api("DeleteBucketCors", name))?;
        }
    }
    // Only put when different: S3 sends every destination queue an `s3:TestEvent` on each put,
    // and consumers should not see one per provisioning run.
    let wanted = crate::drift::notification_properties(&configuration.notifications);
    if !crate::drift::matches(
        &wanted,
        &crate::drift::bucket_notifications(s3, name).await?,
    ) {
        s3.put_bucket_notification_configuration()
            .bucket(name)
            .notification_configuration(configuration.notifications)
            .send()
            .await
            .map_err(s3_api("PutBucketNotificationConfiguration", name))?;
    }
    Ok(())
}

/// Brings the bucket's server access logging to `logging`; `None` turns it off (one switched on
/// by hand is drift).
async fn apply_bucket_logging(
    s3: &aws_sdk_s3::Client,
    name: &str,
    logging: Option<LoggingEnabled>,
) -> Result<(), ProvisionError> {
    s3.put_bucket_logging()
        .bucket(name)
        .bucket_logging_status(
            BucketLoggingStatus::builder()
                .set_logging_enabled(logging)
                .build(),
        )
        .send()
        .await
        .map_err(s3_api("PutBucketLogging", name))?;
    Ok(())
}

async fn provision_bucket_policy(
    s3: &aws_sdk_s3::Client,
    policy: &Resolved,
) -> Result<(), ProvisionError> {
    let bucket = policy.text("Bucket")?;
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy_text(
            &policy.logical_id,
            policy.get("PolicyDocument")?,
        )?)
        .send()
        .await
        .map_err(s3_api("PutBucketPolicy", bucket))?;
    Ok(())
}

/// `None` when the bucket has no policy.
pub(crate) async fn current_bucket_policy(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<Option<String>, ProvisionError> {
    match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(output) => Ok(output.policy),
        Err(e) if has_code(&e, "NoSuchBucketPolicy") => Ok(None),
        Err(e) => Err(s3_api("GetBucketPolicy", bucket)(e)),
    }
}

/// The emulator (moto 5.2.5) wraps some S3 answers in a `<{Operation}Response>` root element
/// instead of S3's own (`<VersioningConfiguration>`, `<NotificationConfiguration>`), which the SDK
/// refuses to parse: GetBucketVersioning always, GetBucketNotificationConfiguration when the bucket
/// has none. Returns such an answer's body (a 200 with that root), for the caller to read what the
/// emulator did say; `None` for any other failure, which stays an error.
pub(crate) fn emulator_wrapped_answer<'a, E>(
    error: &'a SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    root: &str,
) -> Option<&'a str> {
    let response = error.raw_response()?;
    let body = std::str::from_utf8(response.body().bytes()?).ok()?;
    (response.status().as_u16() == 200 && body.contains(&format!("<{root}"))).then_some(body)
}

/// Text of the first `<element>...</element>` in `xml` (the emulator's answers are flat).
pub(crate) fn xml_element<'a>(xml: &'a str, element: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{element}>"))? + element.len() + 2;
    let length = xml[start..].find(&format!("</{element}>"))?;
    Some(&xml[start..start + length])
}

// ---- Policies and references ------------------------------------------------------------------

fn policy_text(resource: &str, document: &serde_json::Value) -> Result<String, ProvisionError> {
    serde_json::to_string(document).map_err(|source| ProvisionError::Policy {
        resource: resource.to_owned(),
        source,
    })
}

pub(crate) fn has_code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>, code: &str) -> bool {
    matches!(error, SdkError::ServiceError(e) if e.err().code() == Some(code))
}

/// Maps a failed call of any service to [`ProvisionError::Service`], through the service's own
/// error type (whose message carries the error code).
fn service<S, E, R>(
    service: &'static str,
    operation: &'static str,
    resource: &str,
) -> impl FnOnce(SdkError<E, R>) -> ProvisionError
where
    S: From<SdkError<E, R>> + std::error::Error + Send + Sync + 'static,
{
    let resource = resource.to_owned();
    move |error| ProvisionError::Service {
        service,
        operation,
        resource,
        source: Box::new(S::from(error)),
    }
}

/// One error mapper per service: `s3_api("PutBucketPolicy", bucket)` maps a failed call to
/// [`ProvisionError::Service`].
macro_rules! service_errors {
    ($($name:ident: $error:ty, $service:literal;)*) => {$(
        pub(crate) fn $name<E, R>(
            operation: &'static str,
            resource: &str,
        ) -> impl FnOnce(SdkError<E, R>) -> ProvisionError
        where
            $error: From<SdkError<E, R>>,
        {
            service::<$error, E, R>($service, operation, resource)
        }
    )*};
}

service_errors! {
    api: aws_sdk_dynamodb::Error, "DynamoDB";
    kms_api: aws_sdk_kms::Error, "KMS";
    sqs_api: aws_sdk_sqs::Error, "SQS";
    ses_api: aws_sdk_sesv2::Error, "SES";
    secrets_api: aws_sdk_secretsmanager::Error, "Secrets Manager";
    s3_api: aws_sdk_s3::Error, "S3";
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A FIFO queue's resolved properties, with every FIFO setting and a redrive.
    pub(crate) fn fifo_queue_properties() -> serde_json::Value {
        serde_json::json!({
            "QueueName": "Main.fifo",
            "FifoQueue": true,
            "ContentBasedDeduplication": false,
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
            "VisibilityTimeout": 300,
            "RedrivePolicy": {"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 5},
        })
    }

    fn queue(id: &str, dlq: Option<&str>) -> Queue {
        Queue {
            logical_id: id.to_owned(),
            queue_name: id.to_owned(),
            fifo_queue: false,
            dead_letter_queue: dlq.map(str::to_owned),
        }
    }

    #[test]
    fn dead_letter_queues_come_first() {
        let ordered = dependency_order(vec![
            queue("Main", Some("Dlq")),
            queue("Dlq", None),
            queue("Other", Some("Elsewhere")),
        ])
        .unwrap();
        let ids: Vec<_> = ordered.iter().map(|q| q.logical_id.as_str()).collect();
        assert_eq!(ids, ["Dlq", "Other", "Main"]);

        let err = dependency_order(vec![queue("A", Some("B")), queue("B", Some("A"))]).unwrap_err();
        assert!(matches!(err, ProvisionError::QueueCycle { queues } if queues == ["A", "B"]));
    }

    #[test]
    fn fifo_settings_are_set_but_fifo_queue_only_at_creation() {
        let properties = Resolved {
            logical_id: "Main".to_owned(),
            properties: fifo_queue_properties(),
        };
        let desired = desired_queue_attributes(&properties);
        let text = |name: QueueAttributeName| desired.get(&name).map(String::as_str);
        assert_eq!(
            text(QueueAttributeName::ContentBasedDeduplication),
            Some("false")
        );
        assert_eq!(
            text(QueueAttributeName::DeduplicationScope),
            Some("messageGroup")
        );
        assert_eq!(
            text(QueueAttributeName::FifoThroughputLimit),
            Some("perMessageGroupId")
        );
        assert_eq!(text(QueueAttributeName::VisibilityTimeout), Some("300"));
        let redrive: serde_json::Value =
            serde_json::from_str(text(QueueAttributeName::RedrivePolicy).unwrap()).unwrap();
        assert_eq!(
            redrive,
            serde_json::json!({"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 5})
        );
        // Only CreateQueue may carry it (provision_queue adds it there); the name is no attribute.
        assert_eq!(text(QueueAttributeName::FifoQueue), None);
        assert_eq!(desired.len(), 5);
    }

    use crate::template::tests::{Refused, DOCUMENTS, MINI};
    use aws_sdk_dynamodb::operation::create_table::builders::CreateTableInputBuilder;

    /// The resource's resolved properties, each of `others` standing for itself (`Ref`: its
    /// logical id; `Arn`: `arn:<LogicalId>`).
    fn resolve(
        template: &Template,
        logical_id: &str,
        others: &[&str],
    ) -> Result<Resolved, TemplateError> {
        let mut resources = PhysicalResources::default();
        for id in others {
            resources.insert_ref(id, *id);
            resources.insert_attribute(id, "Arn", format!("arn:{id}"));
        }
        template.resolve(logical_id, "s", "1", "ca-central-1", &resources)
    }

    /// CreateTable, TTL attribute and point-in-time recovery for the table.
    fn table(
        template: &Template,
        logical_id: &str,
    ) -> Result<(CreateTableInputBuilder, Option<String>, bool), ProvisionError> {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build();
        let resolved = resolve(template, logical_id, &[])?;
        let request = create_table_request(&Client::from_conf(config), "t", &resolved.props())?;
        let (ttl, pitr) = ttl_and_pitr(&resolved.props())?;
        Ok((request.as_input().clone(), ttl.map(str::to_owned), pitr))
    }

    fn keys(keys: &[KeySchemaElement]) -> Vec<(&str, &str)> {
        (keys.iter())
            .map(|k| (k.attribute_name(), k.key_type().as_str()))
            .collect()
    }

    #[test]
    fn builds_tables_as_declared() {
        let mini = Template::parse(MINI).unwrap();
        let (things, ttl, pitr) = table(&mini, "ThingsTable").unwrap();
        assert_eq!(things.get_billing_mode(), &Some(BillingMode::PayPerRequest));
        let attributes: Vec<_> = (things.get_attribute_definitions().iter().flatten())
            .map(|a| (a.attribute_name(), a.attribute_type().as_str()))
            .collect();
        assert_eq!(attributes, [("pk", "S"), ("n", "N")]);
        let indexes = things.get_global_secondary_indexes().clone().unwrap();
        let projection = indexes[0].projection().unwrap();
        assert_eq!(
            (indexes[0].index_name(), projection.projection_type()),
            ("by-n", Some(&ProjectionType::Include))
        );
        assert_eq!(projection.non_key_attributes(), ["a", "b"]);
        // `Enabled: "true"`, as a parameter would give it.
        assert_eq!((ttl.as_deref(), pitr), (Some("gone_at"), false));
        assert_eq!(things.get_stream_specification(), &None);
        assert_eq!(things.get_sse_specification(), &None);

        // CloudFormation's default billing mode; `WriteCapacityUnits: "2"` is a number.
        let (plain, ..) = table(&mini, "Plain").unwrap();
        assert_eq!(plain.get_billing_mode(), &Some(BillingMode::Provisioned));
        let throughput = plain.get_provisioned_throughput().clone().unwrap();
        assert_eq!(
            (
                throughput.read_capacity_units(),
                throughput.write_capacity_units()
            ),
            (5, 2)
        );

        let project = Template::load(&Template::default_path()).unwrap();
        let (tickets, ttl, pitr) = table(&project, "TicketsTable").unwrap();
        assert_eq!(
            tickets.get_billing_mode(),
            &Some(BillingMode::PayPerRequest)
        );
        assert_eq!(
            keys(tickets.get_key_schema().as_deref().unwrap()),
            [("pk", "HASH"), ("sk", "RANGE")]
        );
        let indexes: Vec<_> = (tickets.get_global_secondary_indexes().iter().flatten())
            .map(|i| {
                let projection = i.projection().and_then(|p| p.projection_type());
                (i.index_name(), keys(i.key_schema()), projection)
            })
            .collect();
        let all = Some(&ProjectionType::All);
        assert_eq!(
            indexes,
            [
                ("gsi1", vec![("gsi1pk", "HASH"), ("gsi1sk", "RANGE")], all),
                ("gsi2", vec![("gsi2pk", "HASH"), ("gsi2sk", "RANGE")], all),
                ("gsi3", vec![("gsi3pk", "HASH"), ("gsi3sk", "RANGE")], all),
                ("gsi4", vec![("gsi4pk", "HASH"), ("gsi4sk", "RANGE")], all),
                (
                    "gsi5",
                    vec![("gsi5pk", "HASH"), ("gsi5sk", "RANGE")],
                    Some(&ProjectionType::KeysOnly)
                ),
            ]
        );
        let attributes = tickets.get_attribute_definitions().clone().unwrap();
        assert_eq!(attributes.len(), 12);
        assert!(attributes
            .iter()
            .all(|a| a.attribute_type() == &ScalarAttributeType::S));
        assert_eq!((ttl.as_deref(), pitr), (Some("expires_at"), true));
        let stream = tickets.get_stream_specification().clone().unwrap();
        assert_eq!(
            stream.stream_view_type(),
            Some(&StreamViewType::NewAndOldImages)
        );
        let sse = tickets.get_sse_specification().clone().unwrap();
        assert_eq!(
            (sse.enabled(), sse.sse_type()),
            (Some(true), Some(&SseType::Kms))
        );
        let resolved = resolve(&project, "TicketsTable", &[]).unwrap();
        assert_eq!(
            resolved.flag("DeletionProtectionEnabled").unwrap(),
            Some(true)
        );
    }

    type Rule<'a> = (
        Option<&'a str>,
        &'a str,
        Option<&'a str>,
        Option<i32>,
        Option<i32>,
        Option<i32>,
    );

    /// `(Id, Status, Prefix, ExpirationInDays, NoncurrentDays, DaysAfterInitiation)` per rule.
    fn lifecycle(configuration: &BucketConfiguration) -> Vec<Rule<'_>> {
        let rules = configuration.lifecycle.as_ref().map(|l| l.rules());
        (rules.unwrap_or_default().iter())
            .map(|r| {
                (
                    r.id(),
                    r.status().as_str(),
                    r.filter().and_then(|f| f.prefix()),
                    r.expiration().and_then(|e| e.days()),
                    (r.noncurrent_version_expiration()).and_then(|e| e.noncurrent_days()),
                    (r.abort_incomplete_multipart_upload()).and_then(|a| a.days_after_initiation()),
                )
            })
            .collect()
    }

    fn access_block(configuration: &BucketConfiguration) -> [Option<bool>; 4] {
        let block = configuration.public_access_block.as_ref().unwrap();
        [
            block.block_public_acls(),
            block.block_public_policy(),
            block.ignore_public_acls(),
            block.restrict_public_buckets(),
        ]
    }

    /// `(SSEAlgorithm, KMSMasterKeyID, BucketKeyEnabled)`, ObjectOwnership, versioning Status.
    fn settings(c: &BucketConfiguration) -> ((&str, Option<&str>, Option<bool>), &str, &str) {
        let rule = &c.encryption.as_ref().unwrap().rules()[0];
        let default = rule.apply_server_side_encryption_by_default().unwrap();
        let ownership = &c.ownership.as_ref().unwrap().rules()[0];
        (
            (
                default.sse_algorithm().as_str(),
                default.kms_master_key_id(),
                rule.bucket_key_enabled(),
            ),
            ownership.object_ownership().as_str(),
            c.versioning
                .as_ref()
                .and_then(|v| v.status())
                .unwrap()
                .as_str(),
        )
    }

    #[test]
    fn builds_buckets_as_declared() {
        let template = Template::parse(DOCUMENTS).unwrap();
        let docs = resolve(&template, "Docs", &["Key", "Events"]).unwrap();
        let docs = bucket_configuration(&docs, "s-docs").unwrap();
        assert_eq!(
            settings(&docs),
            (
                ("aws:kms", Some("arn:Key"), Some(true)),
                "BucketOwnerEnforced",
                "Enabled"
            )
        );
        assert_eq!(
            access_block(&docs),
            [Some(true), Some(false), Some(false), Some(true)]
        );
        assert_eq!(
            lifecycle(&docs),
            [
                (Some("keep"), "Enabled", Some("a/"), Some(10), Some(3), None),
                (None, "Disabled", None, None, Some(4), Some(1)),
            ]
        );
        // `Name: Prefix` is taken as S3 takes it, in any case.
        assert_eq!(
            crate::drift::notification_properties(&docs.notifications),
            serde_json::json!({
                "QueueConfigurations": [
                    {"Event": "s3:ObjectCreated:*", "Queue": "arn:Events", "Filter": {"S3Key": {"Rules": [
                        {"Name": "prefix", "Value": "a/"}, {"Name": "suffix", "Value": ".png"}
                    ]}}},
                    {"Event": "s3:ObjectRemoved:*", "Queue": "arn:aws:sqs:elsewhere"},
                ],
                "TopicConfigurations": [],
                "LambdaConfigurations": [],
                "EventBridgeConfiguration": null,
            })
        );
        // Nothing declared: nothing applied.
        let plain =
            bucket_configuration(&resolve(&template, "Plain", &[]).unwrap(), "s-plain").unwrap();
        assert_eq!(
            plain,
            BucketConfiguration {
                encryption: None,
                public_access_block: None,
                ownership: None,
                versioning: None,
                lifecycle: None,
                notifications: NotificationConfiguration::builder()
                    .set_queue_configurations(Some(Vec::new()))
                    .build(),
                logging: None,
                cors: None,
            }
        );

        let project = Template::load(&Template::default_path()).unwrap();
        let bucket = resolve(
            &project,
            "DocumentsBucket",
            &["DocumentsKey", "DocumentEventsQueue", "AccessLogsBucket"],
        )
        .unwrap();
        let bucket = bucket_configuration(&bucket, "b").unwrap();
        // Its access logs go to the log bucket, apart from any other bucket's.
        let logging = bucket.logging.as_ref().unwrap();
        assert_eq!(
            (logging.target_bucket(), logging.target_prefix()),
            ("AccessLogsBucket", "documents/")
        );
        // No CORS rule until the support site's origin is given; then that origin's only.
        assert_eq!(bucket.cors, None);
        let site = (project.clone())
            .with_parameter("SupportSiteOrigin", "http://127.0.0.1:3000")
            .unwrap();
        let with_site = resolve(
            &site,
            "DocumentsBucket",
            &["DocumentsKey", "DocumentEventsQueue", "AccessLogsBucket"],
        )
        .unwrap();
        let cors = bucket_configuration(&with_site, "b").unwrap().cors.unwrap();
        let [rule] = cors.cors_rules() else {
            panic!("one CORS rule expected: {cors:?}")
        };
        assert_eq!(rule.allowed_origins(), ["http://127.0.0.1:3000"]);
        assert_eq!(rule.allowed_methods(), ["PUT", "GET"]);
        assert_eq!(
            rule.allowed_headers(),
            [
                "content-type",
                "if-none-match",
                "x-amz-server-side-encryption"
            ]
        );
        assert_eq!(rule.expose_headers(), ["ETag"]);
        assert_eq!(rule.max_age_seconds(), Some(600));
        let logs = resolve(&project, "AccessLogsBucket", &[]).unwrap();
        let logs = bucket_configuration(&logs, "l").unwrap();
        // S3 delivers access logs only to a bucket with S3-managed encryption.
        assert_eq!(
            settings(&logs),
            (
                ("AES256", None, Some(false)),
                "BucketOwnerEnforced",
                "Enabled"
            )
        );
        assert_eq!(access_block(&logs), [Some(true); 4]);
        assert_eq!(
            lifecycle(&logs),
            [(
                Some("access-logs-one-year"),
                "Enabled",
                None,
                Some(365),
                Some(30),
                None
            )]
        );
        assert_eq!(logs.logging, None);
        assert_eq!(
            settings(&bucket),
            (
                ("aws:kms", Some("arn:DocumentsKey"), Some(true)),
                "BucketOwnerEnforced",
                "Enabled"
            )
        );
        assert_eq!(access_block(&bucket), [Some(true); 4]);
        let rules: Vec<_> = (lifecycle(&bucket).into_iter())
            .map(|(_, status, prefix, expiration, noncurrent, abort)| {
                assert_eq!(status, "Enabled");
                (prefix, expiration, noncurrent, abort)
            })
            .collect();
        assert_eq!(
            rules,
            [
                (Some("verification/"), Some(2192), Some(30), None),
                (Some("tickets/"), Some(730), Some(30), None),
                (Some("quarantine/"), Some(30), Some(1), None),
                (Some("mail/inbound/"), Some(730), Some(30), None),
                (None, None, None, Some(1)),
            ]
        );
        let notified = |prefix| serde_json::json!({"Event": "s3:ObjectCreated:*", "Queue": "arn:DocumentEventsQueue", "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": prefix}]}}});
        assert_eq!(
            crate::drift::notification_properties(&bucket.notifications)["QueueConfigurations"],
            serde_json::json!([notified("verification/"), notified("tickets/")])
        );
    }

    /// Reads every resource of `yaml` as provisioning does, without creating any.
    fn refusal(yaml: &str) -> TemplateError {
        let template = Template::parse(yaml).unwrap();
        let everything = || -> Result<(), ProvisionError> {
            let none = PhysicalResources::default();
            template.key_aliases("s", "1", "r")?;
            template.queues("s", "1", "r")?;
            template.resolved(KEY_TYPE, "s", "1", "r", &none)?;
            for resource in template.resolved(TABLE_TYPE, "s", "1", "r", &none)? {
                table(&template, &resource.logical_id)?;
            }
            for (id, name) in template.names(BUCKET_TYPE, "s", "1", "r")? {
                bucket_configuration(&resolve(&template, &id, &["Key", "Events"])?, &name)?;
            }
            Ok(())
        };
        match everything() {
            Err(ProvisionError::Template(e)) => e,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn generates_secret_values_as_asked() {
        let spec = |generate: serde_json::Value| Resolved {
            logical_id: "S".to_owned(),
            properties: serde_json::json!({ "GenerateSecretString": generate }),
        };
        let asked = serde_json::json!({"PasswordLength": 64, "ExcludePunctuation": true});
        let letters_and_digits = secret_generation(&spec(asked)).unwrap().unwrap();
        assert_eq!(
            letters_and_digits,
            SecretGeneration {
                length: 64,
                exclude_punctuation: true
            }
        );
        for _ in 0..20 {
            let value = letters_and_digits.value().unwrap();
            assert_eq!(value.len(), 64);
            assert!(value.bytes().all(|b| b.is_ascii_alphanumeric()), "{value}");
            assert!(letters_and_digits.has_each_kind(&value), "{value}");
        }
        assert!(!letters_and_digits.has_each_kind(&"a1".repeat(32)));

        // Secrets Manager's defaults: 32 characters, punctuation included.
        let default = secret_generation(&spec(serde_json::json!({})))
            .unwrap()
            .unwrap();
        assert_eq!(
            default,
            SecretGeneration {
                length: 32,
                exclude_punctuation: false
            }
        );
        let value = default.value().unwrap();
        assert_eq!(value.len(), 32);
        assert!(value.bytes().all(|b| b.is_ascii_graphic()), "{value}");
        assert!(value.bytes().any(|b| PUNCTUATION.as_bytes().contains(&b)));
        assert_eq!(default.alphabet().len(), 94);

        // Nothing to generate without it; a setting provisioning would not apply is refused.
        let none = Resolved {
            logical_id: "S".to_owned(),
            properties: serde_json::json!({}),
        };
        assert_eq!(secret_generation(&none).unwrap(), None);
        let excluded = spec(serde_json::json!({"ExcludeCharacters": "O0l1"}));
        assert!(matches!(
            secret_generation(&excluded),
            Err(TemplateError::UnsupportedProperty { path })
                if path == "Resources.S.Properties.GenerateSecretString.ExcludeCharacters"
        ));
        let empty = spec(serde_json::json!({"PasswordLength": 0}));
        assert!(matches!(
            secret_generation(&empty),
            Err(TemplateError::NotPositive { .. })
        ));
    }

    #[test]
    fn refuses_what_provisioning_would_not_apply() {
        let cases = [
            (DOCUMENTS, "      VersioningConfiguration: {Status: Enabled}\n", "      VersioningConfiguration: {Status: Enabled}\n      AccelerateConfiguration: {AccelerationStatus: Enabled}\n", "Resources.Docs.Properties.AccelerateConfiguration"),
            (DOCUMENTS, "        QueueConfigurations:\n", "        LambdaConfigurations: []\n        QueueConfigurations:\n", "Resources.Docs.Properties.NotificationConfiguration.LambdaConfigurations"),
            (DOCUMENTS, "ExpirationInDays: 10,", "ExpirationInDays: 10, Transitions: [],", "Resources.Docs.Properties.LifecycleConfiguration.Rules[0].Transitions"),
            (DOCUMENTS, "{DaysAfterInitiation: 1}", "{DaysAfterInitiation: 1, Other: 2}", "Resources.Docs.Properties.LifecycleConfiguration.Rules[1].AbortIncompleteMultipartUpload.Other"),
            (DOCUMENTS, "      VisibilityTimeout: 0\n", "      VisibilityTimeout: 0\n      DelaySeconds: 5\n", "Resources.Events.Properties.DelaySeconds"),
            (DOCUMENTS, "      EnableKeyRotation: \"true\"\n", "      EnableKeyRotation: \"true\"\n      MultiRegion: true\n", "Resources.Key.Properties.MultiRegion"),
            (DOCUMENTS, "      VersioningConfiguration: {Status: Enabled}\n", "      VersioningConfiguration: {Status: Enabled}\n      CorsConfiguration: {CorsRules: [{AllowedOrigins: [o], AllowedMethods: [GET], Origin: x}]}\n", "Resources.Docs.Properties.CorsConfiguration.CorsRules[0].Origin"),
            (MINI, "      BillingMode: PAY_PER_REQUEST\n", "      BillingMode: PAY_PER_REQUEST\n      LocalSecondaryIndexes: []\n", "Resources.ThingsTable.Properties.LocalSecondaryIndexes"),
            (MINI, "NonKeyAttributes: [a, b]", "NonKeyAttributes: [a, b]\n            Extra: 1", "Resources.ThingsTable.Properties.GlobalSecondaryIndexes[0].Projection.Extra"),
            (MINI, "Enabled: \"true\"}", "Enabled: \"true\", Extra: 1}", "Resources.ThingsTable.Properties.TimeToLiveSpecification.Extra"),
        ];
        for (fixture, from, to, expected) in cases {
            let yaml = fixture.replace(from, to);
            assert_ne!(yaml, fixture, "{from}");
            let err = refusal(&yaml);
            assert!(
                matches!(&err, TemplateError::UnsupportedProperty { path } if path == expected),
                "{expected}: {err}"
            );
        }

        // Values the emulator would store, and the service refuses.
        let cases: [(&str, &str, &str, Refused); 6] = [
            // Written but empty: not the same as left out.
            (
                DOCUMENTS,
                "        BlockPublicAcls: true\n        RestrictPublicBuckets: \"true\"\n",
                "",
                |e| {
                    matches!(e, TemplateError::WrongType { path, .. }
                    if path == "Resources.Docs.Properties.PublicAccessBlockConfiguration")
                },
            ),
            (
                MINI,
                "BillingMode: PAY_PER_REQUEST",
                "BillingMode: ON_DEMAND",
                |e| {
                    matches!(e, TemplateError::NotAllowed { path, value, .. }
                    if path == "Resources.ThingsTable.Properties.BillingMode" && value == "ON_DEMAND")
                },
            ),
            (
                DOCUMENTS,
                "ExpirationInDays: 10",
                "ExpirationInDays: 0",
                |e| {
                    matches!(e, TemplateError::NotPositive { path, value }
                    if path == "Resources.Docs.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays" && value == "0")
                },
            ),
            (
                DOCUMENTS,
                "Rules: [{ObjectOwnership: BucketOwnerEnforced}]",
                "Rules: [{ObjectOwnership: BucketOwnerEnforced}, {ObjectOwnership: ObjectWriter}]",
                |e| matches!(e, TemplateError::WrongType { path, .. } if path == "Resources.Docs.Properties.OwnershipControls.Rules"),
            ),
            (
                DOCUMENTS,
                "SSEAlgorithm: aws:kms",
                "SSEAlgorithm: aws:fsx",
                |e| matches!(e, TemplateError::NotAllowed { value, .. } if value == "aws:fsx"),
            ),
            (
                DOCUMENTS,
                "TargetKeyId: !Ref Key",
                "TargetKeyId: some-key-id",
                |e| matches!(e, TemplateError::WrongTarget { .. }),
            ),
        ];
        for (fixture, from, to, expected) in cases {
            let yaml = fixture.replace(from, to);
            assert_ne!(yaml, fixture, "{from}");
            let err = refusal(&yaml);
            assert!(expected(&err), "{to}: {err}");
        }
    }

    #[test]
    fn reads_flat_xml_elements() {
        let body = r#"<GetBucketVersioningResponse xmlns="x"><Status>Enabled</Status></GetBucketVersioningResponse>"#;
        assert_eq!(xml_element(body, "Status"), Some("Enabled"));
        assert_eq!(
            xml_element("<GetBucketVersioningResponse/>", "Status"),
            None
        );
    }

    #[test]
    fn bucket_arn_follows_the_partition() {
        assert_eq!(bucket_arn("ca-central-1", "b"), "arn:aws:s3:::b");
        assert_eq!(bucket_arn("cn-north-1", "b"), "arn:aws-cn:s3:::b");
    }
}
