//! Creates the template's resources through the service APIs (DynamoDB tables; KMS keys and
//! aliases; SQS queues and queue policies; S3 buckets and bucket policies; SES e-mail
//! identities); [`crate::drift`] checks that what exists matches the template.
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
//! its policy), bucket policies, e-mail identities.
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
//! `DeletionProtectionEnabled` is read from the template but neither applied nor compared: local
//! tables are disposable (tests create one per test, developers reset the emulator), and protecting
//! them would only make cleaning up fail. `DeletionPolicy: Retain` means nothing locally either.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::AsyncSleep;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
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
    BucketVersioningStatus, CreateBucketConfiguration, Event, ExpirationStatus, FilterRule,
    FilterRuleName, LifecycleExpiration, LifecycleRuleFilter, NoncurrentVersionExpiration,
    NotificationConfiguration, NotificationConfigurationFilter, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, QueueConfiguration, S3KeyFilter,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;

pub use crate::drift::{describe_drift, Drift};
use crate::template::{
    partition, BucketSpec, KeyElement, PhysicalResources, Queue, Reference, Resolved, TableSpec,
    Template, TemplateError, Throughput, BUCKET_POLICY_TYPE, EMAIL_IDENTITY_TYPE, KEY_TYPE,
    QUEUE_POLICY_TYPE,
};

/// How long to wait for a new table (and its indexes) to become ACTIVE. The emulator is
/// immediate; real DynamoDB usually takes seconds, a table with indexes up to a few minutes.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
/// Right after creation, real DynamoDB may refuse `UpdateContinuousBackups` for a while.
const PITR_ATTEMPTS: u32 = 20;
/// The region whose buckets take no `LocationConstraint` (S3 refuses `us-east-1` there).
const S3_DEFAULT_REGION: &str = "us-east-1";

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A DynamoDB call failed (including the endpoint being unreachable).
    #[error("DynamoDB {operation} on table {table} failed")]
    Api {
        operation: &'static str,
        table: String,
        // Boxed: the service error enum is large and would bloat every `Result`.
        #[source]
        source: Box<aws_sdk_dynamodb::Error>,
    },
    /// A KMS, SQS, S3 or STS call failed (including the endpoint being unreachable).
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
    #[error("{resource}: {reference} is not provisioned (not a resource created before it)")]
    NotProvisioned { resource: String, reference: String },
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
/// keys, queues, buckets and their policies, e-mail identities), in dependency order, and brings
/// each one's properties to what the template says. Idempotent: existing resources are kept and
/// updated, so it is safe to run before every session and repairs drift.
pub async fn provision(
    sdk: &aws_config::SdkConfig,
    template: &Template,
    stack_name: &str,
) -> Result<Provisioned, ProvisionError> {
    let client = Client::new(sdk);
    let sleep = Sleeper::from(sdk)?;
    let mut provisioned = Provisioned::default();
    for spec in template.tables(stack_name)? {
        create_if_missing(&client, &spec).await?;
        wait_until_active(&client, &sleep, &spec.table_name).await?;
        apply_time_to_live(&client, &spec).await?;
        apply_point_in_time_recovery(&client, &sleep, &spec).await?;
        provisioned
            .resources
            .insert_ref(&spec.logical_id, &spec.table_name);
        provisioned.tables.insert(spec.logical_id, spec.table_name);
    }

    let target = Target::of(sdk).await?;
    let (account, region) = (target.account_id.as_str(), target.region.as_str());
    let kms = aws_sdk_kms::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let s3 = aws_sdk_s3::Client::new(sdk);

    let aliases = template.key_aliases(stack_name, account, region)?;
    for key in template.resolved(
        KEY_TYPE,
        stack_name,
        account,
        region,
        &provisioned.resources,
    )? {
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
    for policy in template.resolved(
        QUEUE_POLICY_TYPE,
        stack_name,
        account,
        region,
        &provisioned.resources,
    )? {
        provision_queue_policy(&sqs, &policy).await?;
    }

    for spec in template.buckets(stack_name, account, region)? {
        // Created first and recorded, so that a configuration naming the bucket's own ARN resolves.
        create_bucket(&s3, &spec.bucket_name, region).await?;
        let resources = &mut provisioned.resources;
        resources.insert_ref(&spec.logical_id, &spec.bucket_name);
        resources.insert_attribute(
            &spec.logical_id,
            "Arn",
            bucket_arn(region, &spec.bucket_name),
        );
        configure_bucket(&s3, &spec, &provisioned.resources).await?;
        provisioned
            .buckets
            .insert(spec.logical_id, spec.bucket_name);
    }
    for policy in template.resolved(
        BUCKET_POLICY_TYPE,
        stack_name,
        account,
        region,
        &provisioned.resources,
    )? {
        provision_bucket_policy(&s3, &policy).await?;
    }

    let ses = aws_sdk_sesv2::Client::new(sdk);
    for spec in template.resolved(
        EMAIL_IDENTITY_TYPE,
        stack_name,
        account,
        region,
        &provisioned.resources,
    )? {
        let identity = spec.text("EmailIdentity")?;
        provision_email_identity(&ses, identity).await?;
        provisioned.resources.insert_ref(&spec.logical_id, identity);
        provisioned
            .email_identities
            .insert(spec.logical_id.clone(), identity.to_owned());
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

async fn create_if_missing(client: &Client, spec: &TableSpec) -> Result<(), ProvisionError> {
    if describe_table(client, &spec.table_name).await?.is_some() {
        return Ok(());
    }
    let table = spec.table_name.as_str();
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::from(spec.billing_mode.as_str()))
        .set_key_schema(Some(key_schema(table, &spec.key_schema)?));
    for (name, kind) in &spec.attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .map_err(build(table, "attribute definitions"))?,
        );
    }
    if let Some(throughput) = spec.provisioned_throughput {
        request = request.provisioned_throughput(provisioned_throughput(table, throughput)?);
    }
    for index in &spec.global_secondary_indexes {
        let projection = Projection::builder()
            .projection_type(ProjectionType::from(index.projection_type.as_str()))
            .set_non_key_attributes(
                (!index.non_key_attributes.is_empty()).then(|| index.non_key_attributes.clone()),
            )
            .build();
        let throughput = index
            .provisioned_throughput
            .map(|t| provisioned_throughput(table, t))
            .transpose()?;
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .set_key_schema(Some(key_schema(table, &index.key_schema)?))
                .projection(projection)
                .set_provisioned_throughput(throughput)
                .build()
                .map_err(build(table, "global secondary indexes"))?,
        );
    }
    if let Some(view) = &spec.stream_view_type {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view.as_str()))
                .build()
                .map_err(build(table, "stream specification"))?,
        );
    }
    if spec.sse_enabled {
        request = request.sse_specification(
            SseSpecification::builder()
                .enabled(true)
                .set_sse_type(spec.sse_type.as_deref().map(SseType::from))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        // Someone else (a parallel run) created it between our describe and create: fine.
        Err(SdkError::ServiceError(e)) if e.err().is_resource_in_use_exception() => Ok(()),
        Err(e) => Err(api("CreateTable", table)(e)),
    }
}

fn key_schema(table: &str, keys: &[KeyElement]) -> Result<Vec<KeySchemaElement>, ProvisionError> {
    keys.iter()
        .map(|key| {
            KeySchemaElement::builder()
                .attribute_name(&key.attribute_name)
                .key_type(KeyType::from(key.key_type.as_str()))
                .build()
                .map_err(build(table, "key schema"))
        })
        .collect()
}

fn provisioned_throughput(
    table: &str,
    throughput: Throughput,
) -> Result<ProvisionedThroughput, ProvisionError> {
    ProvisionedThroughput::builder()
        .read_capacity_units(throughput.read_capacity_units)
        .write_capacity_units(throughput.write_capacity_units)
        .build()
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

async fn apply_time_to_live(client: &Client, spec: &TableSpec) -> Result<(), ProvisionError> {
    let table = spec.table_name.as_str();
    let (enabled, current_attribute) = current_time_to_live(client, table).await?;
    let current_attribute = current_attribute.as_deref();

    // DynamoDB refuses to enable TTL that is already enabled, so only call it on a change.
    let change = match (&spec.ttl_attribute, enabled, current_attribute) {
        (Some(wanted), true, Some(current)) if current == wanted => None,
        (Some(wanted), true, current) => {
            return Err(ProvisionError::TtlAttributeConflict {
                table: table.to_owned(),
                current: current.unwrap_or("?").to_owned(),
                wanted: wanted.clone(),
            })
        }
        (Some(wanted), false, _) => Some((true, wanted.clone())),
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

async fn apply_point_in_time_recovery(
    client: &Client,
    sleep: &Sleeper,
    spec: &TableSpec,
) -> Result<(), ProvisionError> {
    let table = spec.table_name.as_str();
    let current = client
        .describe_continuous_backups()
        .table_name(table)
        .send()
        .await
        .map_err(api("DescribeContinuousBackups", table))?;
    let enabled = current
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|d| d.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled);
    if enabled == spec.point_in_time_recovery {
        return Ok(());
    }
    let specification = PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(spec.point_in_time_recovery)
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

pub(crate) fn api<E, R>(
    operation: &'static str,
    table: &str,
) -> impl FnOnce(SdkError<E, R>) -> ProvisionError
where
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    let table = table.to_owned();
    move |error| ProvisionError::Api {
        operation,
        table,
        source: Box::new(aws_sdk_dynamodb::Error::from(error)),
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
        let fifo = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::FifoQueue)
            .send()
            .await
            .map_err(sqs_api("GetQueueAttributes", name))?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::FifoQueue))
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

/// Applies every bucket property the template declares, in the order S3 needs: encryption and
/// access settings before anything is written, notifications last.
async fn configure_bucket(
    s3: &aws_sdk_s3::Client,
    spec: &BucketSpec,
    resources: &PhysicalResources,
) -> Result<(), ProvisionError> {
    let name = spec.bucket_name.as_str();
    if let Some(encryption) = &spec.encryption {
        let key = encryption
            .kms_master_key
            .as_ref()
            .map(|key| resolved(key, resources, &spec.logical_id))
            .transpose()?;
        let default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::from(
                encryption.sse_algorithm.as_str(),
            ))
            .set_kms_master_key_id(key.map(str::to_owned))
            .build()
            .map_err(build(name, "default encryption"))?;
        let configuration = ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .bucket_key_enabled(encryption.bucket_key_enabled)
                    .build(),
            )
            .build()
            .map_err(build(name, "encryption configuration"))?;
        s3.put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(configuration)
            .send()
            .await
            .map_err(s3_api("PutBucketEncryption", name))?;
    }
    if let Some(block) = spec.public_access_block {
        s3.put_public_access_block()
            .bucket(name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(block.block_public_acls)
                    .block_public_policy(block.block_public_policy)
                    .ignore_public_acls(block.ignore_public_acls)
                    .restrict_public_buckets(block.restrict_public_buckets)
                    .build(),
            )
            .send()
            .await
            .map_err(s3_api("PutPublicAccessBlock", name))?;
    }
    if let Some(ownership) = &spec.object_ownership {
        let rule = OwnershipControlsRule::builder()
            .object_ownership(ObjectOwnership::from(ownership.as_str()))
            .build()
            .map_err(build(name, "ownership controls"))?;
        s3.put_bucket_ownership_controls()
            .bucket(name)
            .ownership_controls(
                OwnershipControls::builder()
                    .rules(rule)
                    .build()
                    .map_err(build(name, "ownership controls"))?,
            )
            .send()
            .await
            .map_err(s3_api("PutBucketOwnershipControls", name))?;
    }
    if let Some(status) = &spec.versioning {
        s3.put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::from(status.as_str()))
                    .build(),
            )
            .send()
            .await
            .map_err(s3_api("PutBucketVersioning", name))?;
    }
    if !spec.lifecycle_rules.is_empty() {
        let mut rules = Vec::with_capacity(spec.lifecycle_rules.len());
        for rule in &spec.lifecycle_rules {
            let filter = LifecycleRuleFilter::builder()
                .set_prefix(rule.prefix.clone())
                .build();
            rules.push(
                aws_sdk_s3::types::LifecycleRule::builder()
                    .set_id(rule.id.clone())
                    .status(ExpirationStatus::from(rule.status.as_str()))
                    // An empty filter is the whole bucket.
                    .filter(filter)
                    .set_expiration(
                        rule.expiration_days
                            .map(|days| LifecycleExpiration::builder().days(days).build()),
                    )
                    .set_noncurrent_version_expiration(rule.noncurrent_version_expiration_days.map(
                        |days| {
                            NoncurrentVersionExpiration::builder()
                                .noncurrent_days(days)
                                .build()
                        },
                    ))
                    .set_abort_incomplete_multipart_upload(
                        rule.abort_incomplete_multipart_upload_days.map(|days| {
                            AbortIncompleteMultipartUpload::builder()
                                .days_after_initiation(days)
                                .build()
                        }),
                    )
                    .build()
                    .map_err(build(name, "lifecycle rules"))?,
            );
        }
        s3.put_bucket_lifecycle_configuration()
            .bucket(name)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()
                    .map_err(build(name, "lifecycle configuration"))?,
            )
            .send()
            .await
            .map_err(s3_api("PutBucketLifecycleConfiguration", name))?;
    }

    // Only put when different: S3 sends every destination queue an `s3:TestEvent` on each put,
    // and consumers should not see one per provisioning run.
    let mut wanted = Vec::with_capacity(spec.queue_notifications.len());
    for notification in &spec.queue_notifications {
        let mut item = serde_json::json!({
            "Event": notification.event,
            "Queue": resolved(&notification.queue, resources, &spec.logical_id)?,
        });
        let rules: Vec<_> = [
            ("prefix", &notification.prefix),
            ("suffix", &notification.suffix),
        ]
        .into_iter()
        .filter_map(|(rule, value)| {
            Some(serde_json::json!({ "Name": rule, "Value": value.as_deref()? }))
        })
        .collect();
        if !rules.is_empty() {
            item["Filter"] = serde_json::json!({ "S3Key": { "Rules": rules } });
        }
        wanted.push(item);
    }
    let wanted = serde_json::json!({
        "QueueConfigurations": wanted,
        "TopicConfigurations": [],
        "LambdaConfigurations": [],
    });
    if !crate::drift::matches(
        &wanted,
        &crate::drift::bucket_notifications(s3, name).await?,
    ) {
        let mut configurations = Vec::with_capacity(spec.queue_notifications.len());
        for (index, notification) in spec.queue_notifications.iter().enumerate() {
            let mut rules = Vec::new();
            if let Some(prefix) = &notification.prefix {
                rules.push(
                    FilterRule::builder()
                        .name(FilterRuleName::Prefix)
                        .value(prefix)
                        .build(),
                );
            }
            if let Some(suffix) = &notification.suffix {
                rules.push(
                    FilterRule::builder()
                        .name(FilterRuleName::Suffix)
                        .value(suffix)
                        .build(),
                );
            }
            let filter = (!rules.is_empty()).then(|| {
                NotificationConfigurationFilter::builder()
                    .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                    .build()
            });
            configurations.push(
                QueueConfiguration::builder()
                    // CloudFormation generates the ids; a stable one reads better in the console.
                    .id(format!("{}-{}", spec.logical_id, index + 1))
                    .queue_arn(resolved(&notification.queue, resources, &spec.logical_id)?)
                    .events(Event::from(notification.event.as_str()))
                    .set_filter(filter)
                    .build()
                    .map_err(build(name, "queue notifications"))?,
            );
        }
        s3.put_bucket_notification_configuration()
            .bucket(name)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .set_queue_configurations(Some(configurations))
                    .build(),
            )
            .send()
            .await
            .map_err(s3_api("PutBucketNotificationConfiguration", name))?;
    }
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

/// The value of `reference`, which must be a resource created before `resource`.
fn resolved<'a>(
    reference: &'a Reference,
    resources: &'a PhysicalResources,
    resource: &str,
) -> Result<&'a str, ProvisionError> {
    reference
        .resolve(resources)
        .ok_or_else(|| ProvisionError::NotProvisioned {
            resource: resource.to_owned(),
            reference: reference.to_string(),
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

pub(crate) fn kms_api<E, R>(
    operation: &'static str,
    resource: &str,
) -> impl FnOnce(SdkError<E, R>) -> ProvisionError
where
    aws_sdk_kms::Error: From<SdkError<E, R>>,
{
    service::<aws_sdk_kms::Error, E, R>("KMS", operation, resource)
}

fn sqs_api<E, R>(
    operation: &'static str,
    resource: &str,
) -> impl FnOnce(SdkError<E, R>) -> ProvisionError
where
    aws_sdk_sqs::Error: From<SdkError<E, R>>,
{
    service::<aws_sdk_sqs::Error, E, R>("SQS", operation, resource)
}

fn ses_api<E, R>(
    operation: &'static str,
    resource: &str,
) -> impl FnOnce(SdkError<E, R>) -> ProvisionError
where
    aws_sdk_sesv2::Error: From<SdkError<E, R>>,
{
    service::<aws_sdk_sesv2::Error, E, R>("SES", operation, resource)
}

pub(crate) fn s3_api<E, R>(
    operation: &'static str,
    resource: &str,
) -> impl FnOnce(SdkError<E, R>) -> ProvisionError
where
    aws_sdk_s3::Error: From<SdkError<E, R>>,
{
    service::<aws_sdk_s3::Error, E, R>("S3", operation, resource)
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
