//! Creates the template's DynamoDB tables through the DynamoDB API, and checks that what exists
//! matches the template (drift).
//!
//! CloudFormation is deliberately not used: the emulator's `CreateStack` silently drops a table's
//! `TimeToLiveSpecification` and `PointInTimeRecoverySpecification` (see
//! `../shared/emulator-notes.md`), so a stack would look fine while TTL never expires idempotency
//! records. Calling `CreateTable`, `UpdateTimeToLive` and `UpdateContinuousBackups` ourselves gets
//! every property, and [`describe_drift`] proves it.
//!
//! `DeletionProtectionEnabled` is read from the template but neither applied nor compared: local
//! tables are disposable (tests create one per test, developers reset the emulator), and protecting
//! them would only make cleaning up fail.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::AsyncSleep;
use aws_sdk_dynamodb::error::{BuildError, SdkError};
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, PointInTimeRecoveryStatus, Projection, ProjectionType,
    ProvisionedThroughput, ScalarAttributeType, SseSpecification, SseStatus, SseType,
    StreamSpecification, StreamViewType, TableDescription, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;

use crate::template::{KeyElement, TableSpec, Template, TemplateError, Throughput};

/// How long to wait for a new table (and its indexes) to become ACTIVE. The emulator is
/// immediate; real DynamoDB usually takes seconds, a table with indexes up to a few minutes.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
/// Right after creation, real DynamoDB may refuse `UpdateContinuousBackups` for a while.
const PITR_ATTEMPTS: u32 = 20;

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
    #[error("cannot build the {what} of table {table} from the template")]
    Build {
        table: String,
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
}

/// The tables that exist after [`provision`]: template logical id -> physical table name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provisioned {
    pub tables: BTreeMap<String, String>,
}

impl Provisioned {
    pub fn table(&self, logical_id: &str) -> Option<&str> {
        self.tables.get(logical_id).map(String::as_str)
    }
}

/// One difference between the template and what DynamoDB describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub logical_id: String,
    pub table_name: String,
    /// CloudFormation property path, e.g. `GlobalSecondaryIndexes[gsi2]` or `TimeToLiveSpecification`.
    pub property: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}: template has {}, DynamoDB has {}",
            self.logical_id, self.table_name, self.property, self.expected, self.actual
        )
    }
}

/// Creates every table of `template` for `stack_name`, waits until it is ACTIVE, then applies its
/// TTL and point-in-time recovery. Idempotent: an existing table is left as is (its TTL and PITR
/// are still brought to what the template says), so it is safe to run before every session.
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
        provisioned.tables.insert(spec.logical_id, spec.table_name);
    }
    Ok(provisioned)
}

/// Compares every table of `template` (for `stack_name`) with DescribeTable, DescribeTimeToLive
/// and DescribeContinuousBackups. Returns one [`Drift`] per difference; empty means no drift.
pub async fn describe_drift(
    sdk: &aws_config::SdkConfig,
    template: &Template,
    stack_name: &str,
) -> Result<Vec<Drift>, ProvisionError> {
    let client = Client::new(sdk);
    let mut drifts = Vec::new();
    for spec in template.tables(stack_name)? {
        let mut report = |property: &str, expected: String, actual: String| {
            if expected != actual {
                drifts.push(Drift {
                    logical_id: spec.logical_id.clone(),
                    table_name: spec.table_name.clone(),
                    property: property.to_owned(),
                    expected,
                    actual,
                });
            }
        };

        let Some(table) = describe_table(&client, &spec.table_name).await? else {
            report("Table", "a table".to_owned(), "no such table".to_owned());
            continue;
        };
        compare_table(&spec, &table, &mut report);

        let ttl = client
            .describe_time_to_live()
            .table_name(&spec.table_name)
            .send()
            .await
            .map_err(api("DescribeTimeToLive", &spec.table_name))?;
        let ttl = ttl.time_to_live_description();
        let actual_ttl = match (
            ttl.and_then(|d| d.time_to_live_status()),
            ttl.and_then(|d| d.attribute_name()),
        ) {
            (Some(status @ (TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)), name) => {
                format!("{} on `{}`", status.as_str(), name.unwrap_or("?"))
            }
            (Some(status), _) => status.as_str().to_owned(),
            (None, _) => "DISABLED".to_owned(),
        };
        let expected_ttl = match &spec.ttl_attribute {
            Some(attribute) => format!("ENABLED on `{attribute}`"),
            None => "DISABLED".to_owned(),
        };
        report("TimeToLiveSpecification", expected_ttl, actual_ttl);

        let backups = client
            .describe_continuous_backups()
            .table_name(&spec.table_name)
            .send()
            .await
            .map_err(api("DescribeContinuousBackups", &spec.table_name))?;
        let actual_pitr = backups
            .continuous_backups_description()
            .and_then(|d| d.point_in_time_recovery_description())
            .and_then(|d| d.point_in_time_recovery_status())
            .map_or("DISABLED", PointInTimeRecoveryStatus::as_str)
            .to_owned();
        let expected_pitr = if spec.point_in_time_recovery {
            "ENABLED"
        } else {
            "DISABLED"
        };
        report(
            "PointInTimeRecoverySpecification",
            expected_pitr.to_owned(),
            actual_pitr,
        );
    }
    Ok(drifts)
}

/// DescribeTable-level comparison: keys, attributes, billing, stream, SSE, indexes.
fn compare_table(
    spec: &TableSpec,
    table: &TableDescription,
    report: &mut impl FnMut(&str, String, String),
) {
    report(
        "KeySchema",
        keys_text(
            spec.key_schema
                .iter()
                .map(|k| (k.attribute_name.as_str(), k.key_type.as_str())),
        ),
        keys_text(
            table
                .key_schema()
                .iter()
                .map(|k| (k.attribute_name(), k.key_type().as_str())),
        ),
    );

    // Order does not matter to DynamoDB, so compare as sorted sets.
    let expected: BTreeSet<String> = spec
        .attributes
        .iter()
        .map(|(name, kind)| format!("{name}:{kind}"))
        .collect();
    let actual: BTreeSet<String> = table
        .attribute_definitions()
        .iter()
        .map(|a| format!("{}:{}", a.attribute_name(), a.attribute_type().as_str()))
        .collect();
    report(
        "AttributeDefinitions",
        set_text(&expected),
        set_text(&actual),
    );

    // DynamoDB omits the summary for tables that were always provisioned.
    let billing = table
        .billing_mode_summary()
        .and_then(|s| s.billing_mode())
        .map_or("PROVISIONED", BillingMode::as_str);
    report("BillingMode", spec.billing_mode.clone(), billing.to_owned());
    if let Some(expected) = spec.provisioned_throughput {
        let actual = table
            .provisioned_throughput()
            .map_or("none".to_owned(), |t| {
                throughput_text(t.read_capacity_units(), t.write_capacity_units())
            });
        report(
            "ProvisionedThroughput",
            throughput_text(
                Some(expected.read_capacity_units),
                Some(expected.write_capacity_units),
            ),
            actual,
        );
    }

    let stream = match table.stream_specification() {
        Some(s) if s.stream_enabled() => s
            .stream_view_type()
            .map_or("enabled without a view type", StreamViewType::as_str)
            .to_owned(),
        _ => "no stream".to_owned(),
    };
    report(
        "StreamSpecification",
        spec.stream_view_type
            .clone()
            .unwrap_or_else(|| "no stream".to_owned()),
        stream,
    );

    let expected_sse = if spec.sse_enabled {
        // DynamoDB's default when SSEType is left out is KMS.
        format!("ENABLED ({})", spec.sse_type.as_deref().unwrap_or("KMS"))
    } else {
        "DISABLED".to_owned()
    };
    let actual_sse = match table.sse_description() {
        Some(sse) if matches!(sse.status(), Some(SseStatus::Enabled | SseStatus::Enabling)) => {
            format!("ENABLED ({})", sse.sse_type().map_or("?", SseType::as_str))
        }
        _ => "DISABLED".to_owned(),
    };
    report("SSESpecification", expected_sse, actual_sse);

    let expected: BTreeSet<&str> = spec
        .global_secondary_indexes
        .iter()
        .map(|i| i.index_name.as_str())
        .collect();
    for index in spec.global_secondary_indexes.iter() {
        let property = format!("GlobalSecondaryIndexes[{}]", index.index_name);
        let Some(actual) = table
            .global_secondary_indexes()
            .iter()
            .find(|a| a.index_name() == Some(index.index_name.as_str()))
        else {
            report(&property, "an index".to_owned(), "no such index".to_owned());
            continue;
        };
        report(
            &format!("{property}.KeySchema"),
            keys_text(
                index
                    .key_schema
                    .iter()
                    .map(|k| (k.attribute_name.as_str(), k.key_type.as_str())),
            ),
            keys_text(
                actual
                    .key_schema()
                    .iter()
                    .map(|k| (k.attribute_name(), k.key_type().as_str())),
            ),
        );
        let projection = actual.projection();
        report(
            &format!("{property}.Projection.ProjectionType"),
            index.projection_type.clone(),
            projection
                .and_then(|p| p.projection_type())
                .map_or("none", ProjectionType::as_str)
                .to_owned(),
        );
        let expected_non_key: BTreeSet<String> = index.non_key_attributes.iter().cloned().collect();
        let actual_non_key: BTreeSet<String> = projection
            .map(|p| p.non_key_attributes().iter().cloned().collect())
            .unwrap_or_default();
        report(
            &format!("{property}.Projection.NonKeyAttributes"),
            set_text(&expected_non_key),
            set_text(&actual_non_key),
        );
    }
    for actual in table.global_secondary_indexes() {
        let name = actual.index_name().unwrap_or("?");
        if !expected.contains(name) {
            report(
                &format!("GlobalSecondaryIndexes[{name}]"),
                "no such index".to_owned(),
                "an index".to_owned(),
            );
        }
    }
    for actual in table.local_secondary_indexes() {
        report(
            &format!(
                "LocalSecondaryIndexes[{}]",
                actual.index_name().unwrap_or("?")
            ),
            "no such index".to_owned(),
            "an index".to_owned(),
        );
    }
}

fn keys_text<'a>(keys: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let keys: Vec<String> = keys.map(|(name, kind)| format!("{name} {kind}")).collect();
    if keys.is_empty() {
        "no keys".to_owned()
    } else {
        keys.join(", ")
    }
}

fn set_text(items: &BTreeSet<String>) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

fn throughput_text(read: Option<i64>, write: Option<i64>) -> String {
    let show = |v: Option<i64>| v.map_or("?".to_owned(), |v| v.to_string());
    format!("{} read / {} write", show(read), show(write))
}

/// `None` when the table does not exist.
async fn describe_table(
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

async fn apply_time_to_live(client: &Client, spec: &TableSpec) -> Result<(), ProvisionError> {
    let table = spec.table_name.as_str();
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
    let current_attribute = current.and_then(|d| d.attribute_name());

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

fn api<E, R>(operation: &'static str, table: &str) -> impl FnOnce(SdkError<E, R>) -> ProvisionError
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

fn build(table: &str, what: &'static str) -> impl FnOnce(BuildError) -> ProvisionError {
    let table = table.to_owned();
    move |source| ProvisionError::Build {
        table,
        what,
        source,
    }
}
