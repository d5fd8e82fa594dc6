//! Drift: does what exists match what `infra/template.yaml` declares?
//!
//! One walk ([`compare`]) goes over a resource's `Properties` as the template writes them, every
//! intrinsic resolved against what exists, and compares each with what the services describe.
//! The description is rendered by one function per resource type in the template's own shape,
//! under the same property names: `TimeToLiveSpecification.Enabled` is compared with what
//! DescribeTimeToLive says, `RedrivePolicy.maxReceiveCount` with the queue's attribute, and so on.
//!
//! What it guarantees, for the template's tables, KMS keys and aliases, queues and queue policies,
//! buckets and bucket policies, SES identities and configuration sets, and Secrets Manager
//! secrets:
//! - every property the template writes is compared (but [`NOT_COMPARED`], which provisioning
//!   does not apply either): scalars by their text (`5` and `"5"`, `true` and `"true"` are the
//!   same), lists in any order; an item of a list is compared whole, both ways (an index, a
//!   lifecycle rule, a policy statement with a condition added is a difference), matched by its
//!   name (`IndexName`, `Id`, `Sid`) when it has one, and one found on one side only is a
//!   difference too;
//! - a property the template leaves out is compared with what its absence means where that
//!   matters ([`absent_means`]: no TTL, no point-in-time recovery, no stream, no secondary index,
//!   no lifecycle rule, no notification, no redrive, not FIFO), so that one added by hand shows;
//! - a resource that does not exist is one difference (property `Table`, `Queue`, ...), and what
//!   names it (a policy, a redrive target) shows `<Name> (absent)`.
//!
//! What it does not:
//! - outside lists, a property the template leaves out and AWS gives a default of its own (a
//!   bucket's default encryption, a queue's visibility timeout, a key's spec) is not compared;
//! - nor any resource type but those above ([`NOT_PROVISIONED`], each on purpose; a type of the
//!   template in neither list fails a unit test): functions, the HTTP API, alarms, log groups,
//!   the SNS topics and their subscriptions, SES's receipt rules and the configuration set's
//!   event destination are not provisioned locally (the emulator's CloudFormation knows nothing
//!   of SAM, and receives no mail: the tests put a mail where SES would and announce it on the
//!   queue themselves); nor the CloudFront resources, which the local gateway plays
//!   ([`crate::template::PLAYED_BY_GATEWAY`]);
//! - nor what a policy does, only what it says: the emulator enforces no IAM, KMS key or queue
//!   policy and applies a bucket policy's Deny without its conditions;
//! - nor an identity's verification (SES verifies once the address's owner answers; the emulator
//!   at once);
//! - nor a secret's value, only what it shows of `GenerateSecretString`: its length, and whether
//!   it has punctuation (a value generated with punctuation always has some).
//!
//! The emulator's CloudFormation drops a table's TTL and PITR and a bucket's notifications, public
//! access block and lifecycle (`shared/emulator-notes.md`): provisioning calls the services
//! instead, and this check is what proves that nothing was dropped.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_dynamodb::types::{BillingMode, SseStatus};
use aws_sdk_kms::types::KeyMetadata;
use aws_sdk_s3::types::NotificationConfiguration;
use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Map, Value};

use crate::provision::{
    bucket_arn, bucket_exists, configuration_set_exists, current_bucket_policy,
    current_point_in_time_recovery, current_queue_attributes, current_time_to_live, describe_key,
    describe_secret, describe_table, email_identity_exists, emulator_wrapped_answer, has_code,
    key_arn, kms_api, queue_url, s3_api, secrets_api, xml_element, DescribedSecret, ProvisionError,
    Target, PUNCTUATION,
};
use crate::template::{
    PhysicalResources, Template, ALIAS_TYPE as ALIAS, BUCKET_POLICY_TYPE as BUCKET_POLICY,
    BUCKET_TYPE as BUCKET, CONFIGURATION_SET_TYPE as CONFIGURATION_SET,
    EMAIL_IDENTITY_TYPE as EMAIL_IDENTITY, KEY_TYPE as KEY, QUEUE_POLICY_TYPE as QUEUE_POLICY,
    QUEUE_TYPE as QUEUE, SECRET_TYPE as SECRET, TABLE_TYPE as TABLE,
};

/// One difference between the template and what the services describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub logical_id: String,
    /// The table or bucket name, queue URL, key alias.
    pub physical_id: String,
    /// The template's property path, e.g. `TimeToLiveSpecification.Enabled`,
    /// `GlobalSecondaryIndexes[gsi2]` or `PolicyDocument.Statement[DenyInsecureTransport]`.
    pub property: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}: template has {}, found {}",
            self.logical_id, self.physical_id, self.property, self.expected, self.actual
        )
    }
}

const COMPARED_TYPES: &[&str] = &[
    TABLE,
    KEY,
    ALIAS,
    QUEUE,
    QUEUE_POLICY,
    BUCKET,
    BUCKET_POLICY,
    EMAIL_IDENTITY,
    CONFIGURATION_SET,
    SECRET,
];

/// The resource types of the template that are not provisioned locally, on purpose, besides
/// those the local gateway plays ([`crate::template::PLAYED_BY_GATEWAY`]): the functions run in
/// process (the gateway, the consumers), and the rest only exists in AWS (alarms, logs, SNS,
/// SES's receipt and event plumbing; see the module's documentation).
pub const NOT_PROVISIONED: &[&str] = &[
    "AWS::Serverless::Function",
    "AWS::Serverless::HttpApi",
    "AWS::CloudWatch::Alarm",
    "AWS::Logs::LogGroup",
    "AWS::SNS::Topic",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::SES::ReceiptRuleSet",
    "AWS::SES::ReceiptRule",
    "AWS::SES::ConfigurationSetEventDestination",
];

/// Read from the template but neither applied nor compared: local tables are disposable (tests
/// create one per test, developers reset the emulator), and protecting them would only make
/// cleaning up fail.
pub const NOT_COMPARED: &[&str] = &["DeletionProtectionEnabled"];

/// What a property the template leaves out means, where the difference matters.
fn absent_means(resource_type: &str) -> Value {
    match resource_type {
        TABLE => json!({
            "BillingMode": "PROVISIONED",
            "GlobalSecondaryIndexes": [],
            "LocalSecondaryIndexes": [],
            "StreamSpecification": null,
            "SSESpecification": {"SSEEnabled": false},
            "TimeToLiveSpecification": {"Enabled": false},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": false},
        }),
        KEY => json!({"EnableKeyRotation": false}),
        QUEUE => json!({"FifoQueue": false, "RedrivePolicy": null}),
        BUCKET => json!({
            "LoggingConfiguration": null,
            "CorsConfiguration": null,
            "LifecycleConfiguration": {"Rules": []},
            "NotificationConfiguration": {
                "QueueConfigurations": [],
                "TopicConfigurations": [],
                "LambdaConfigurations": [],
            },
        }),
        _ => json!({}),
    }
}

/// The keys that name the items of a list: items are matched by them rather than compared as
/// a set.
const ITEM_NAMES: &[&str] = &["IndexName", "Id", "Sid"];

/// Compares every resource of `template` (for `stack_name`) with what the services describe, and
/// returns one [`Drift`] per difference, in template order; empty means no drift.
pub async fn describe_drift(
    sdk: &aws_config::SdkConfig,
    template: &Template,
    stack_name: &str,
) -> Result<Vec<Drift>, ProvisionError> {
    let target = Target::of(sdk).await?;
    let (account, region) = (target.account_id.as_str(), target.region.as_str());
    let services = Services {
        dynamodb: aws_sdk_dynamodb::Client::new(sdk),
        kms: aws_sdk_kms::Client::new(sdk),
        sqs: aws_sdk_sqs::Client::new(sdk),
        s3: aws_sdk_s3::Client::new(sdk),
        ses: aws_sdk_sesv2::Client::new(sdk),
        secrets: aws_sdk_secretsmanager::Client::new(sdk),
    };

    // First what exists, found by name as provisioning finds it: the template's references to
    // other resources (a dead-letter queue's ARN, the key's ARN) resolve to what is really there;
    // those the local gateway plays, to their stand-ins, as provisioning resolved them.
    let mut found: BTreeMap<String, (String, Option<Value>)> = BTreeMap::new();
    let mut resources = PhysicalResources::default();
    template.gateway_stand_ins(&mut resources);
    let mut queue_policies = BTreeMap::new();
    for (logical_id, name) in template.names(TABLE, stack_name, account, region)? {
        let actual = services.table(&name).await?;
        if actual.is_some() {
            resources.insert_ref(&logical_id, &name);
        }
        found.insert(logical_id, (name, actual));
    }
    let aliases = template.key_aliases(stack_name, account, region)?;
    for spec in template.resolved(KEY, stack_name, account, region, &resources)? {
        // A key has no name: provisioning finds it through its first alias.
        let alias = aliases
            .get(&spec.logical_id)
            .and_then(|aliases| aliases.first())
            .cloned()
            .ok_or_else(|| ProvisionError::KeyWithoutAlias {
                key: spec.logical_id.clone(),
            })?;
        let actual = match describe_key(&services.kms, &alias).await? {
            Some(metadata) => {
                resources.insert_ref(&spec.logical_id, metadata.key_id());
                let arn = key_arn(&metadata, &spec.logical_id)?;
                resources.insert_attribute(&spec.logical_id, "Arn", arn);
                resources.insert_attribute(&spec.logical_id, "KeyId", metadata.key_id());
                Some(services.key(&alias, &metadata).await?)
            }
            None => None,
        };
        found.insert(spec.logical_id, (alias, actual));
    }
    for spec in template.queues(stack_name, account, region)? {
        let entry = match queue_url(&services.sqs, &spec.queue_name).await? {
            Some(url) => {
                let mut attributes = current_queue_attributes(&services.sqs, &url).await?;
                resources.insert_ref(&spec.logical_id, &url);
                // The attributes provisioning records, so that the same `!GetAtt`s resolve.
                if let Some(arn) = attributes.get(&QueueAttributeName::QueueArn) {
                    resources.insert_attribute(&spec.logical_id, "Arn", arn);
                }
                resources.insert_attribute(&spec.logical_id, "QueueName", &spec.queue_name);
                resources.insert_attribute(&spec.logical_id, "QueueUrl", &url);
                queue_policies.insert(url.clone(), attributes.remove(&QueueAttributeName::Policy));
                (url, Some(queue(&spec.queue_name, &attributes)))
            }
            None => (spec.queue_name, None),
        };
        found.insert(spec.logical_id, entry);
    }
    for (logical_id, name) in template.names(BUCKET, stack_name, account, region)? {
        let actual = if bucket_exists(&services.s3, &name).await? {
            resources.insert_ref(&logical_id, &name);
            resources.insert_attribute(&logical_id, "Arn", bucket_arn(region, &name));
            Some(services.bucket(&name).await?)
        } else {
            None
        };
        found.insert(logical_id, (name, actual));
    }
    for spec in template.resolved(EMAIL_IDENTITY, stack_name, account, region, &resources)? {
        let identity = spec.text("EmailIdentity")?;
        let exists = email_identity_exists(&services.ses, identity).await?;
        let actual = exists.then(|| json!({ "EmailIdentity": identity }));
        found.insert(spec.logical_id.clone(), (identity.to_owned(), actual));
    }
    for spec in template.resolved(CONFIGURATION_SET, stack_name, account, region, &resources)? {
        let name = spec.text("Name")?;
        let exists = configuration_set_exists(&services.ses, name).await?;
        resources.insert_ref(&spec.logical_id, name);
        let actual = exists.then(|| json!({ "Name": name }));
        found.insert(spec.logical_id.clone(), (name.to_owned(), actual));
    }
    // Found by name, as provisioning finds them; after the keys, whose ARN a secret names.
    for (logical_id, name) in template.names(SECRET, stack_name, account, region)? {
        let actual = match describe_secret(&services.secrets, &name).await? {
            Some(described) => {
                resources.insert_ref(&logical_id, &described.arn);
                resources.insert_attribute(&logical_id, "Id", &described.arn);
                Some(services.secret(&name, described).await?)
            }
            None => None,
        };
        found.insert(logical_id, (name, actual));
    }

    // Then each resource against its template properties.
    let mut drifts = Vec::new();
    let declared =
        template.resolved_properties(COMPARED_TYPES, stack_name, account, region, &resources)?;
    for (logical_id, resource_type, expected) in declared {
        let expected = with_defaults(expected, &absent_means(resource_type));
        let text = |key: &str| expected.get(key).and_then(Value::as_str).map(str::to_owned);
        let compared: Vec<(String, Value, Option<Value>)> = match resource_type {
            ALIAS => {
                let alias = text("AliasName").unwrap_or_default();
                let actual = describe_key(&services.kms, &alias)
                    .await?
                    .map(|key| json!({ "AliasName": alias, "TargetKeyId": key.key_id() }));
                vec![(alias, expected, actual)]
            }
            QUEUE_POLICY => {
                let document = json!({ "PolicyDocument": expected["PolicyDocument"] });
                let queues = expected["Queues"].as_array().cloned().unwrap_or_default();
                let mut compared = Vec::new();
                for url in queues
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|u| exists(u))
                {
                    let policy = match queue_policies.get(url) {
                        Some(policy) => policy.clone(),
                        None => current_queue_attributes(&services.sqs, url)
                            .await?
                            .remove(&QueueAttributeName::Policy),
                    };
                    let actual = json!({ "PolicyDocument": document_of(policy.as_deref()) });
                    compared.push((url.to_owned(), document.clone(), Some(actual)));
                }
                compared
            }
            BUCKET_POLICY => match text("Bucket").filter(|b| exists(b)) {
                Some(bucket) => {
                    let policy = current_bucket_policy(&services.s3, &bucket).await?;
                    let actual = json!({
                        "Bucket": bucket,
                        "PolicyDocument": document_of(policy.as_deref()),
                    });
                    vec![(bucket, expected, Some(actual))]
                }
                None => Vec::new(),
            },
            _ => match found.remove(&logical_id) {
                Some((physical_id, actual)) => vec![(physical_id, expected, actual)],
                None => Vec::new(),
            },
        };
        for (physical_id, expected, actual) in compared {
            let mut report = Report {
                drifts: &mut drifts,
                logical_id: &logical_id,
                physical_id: &physical_id,
            };
            match actual {
                Some(actual) => compare("", &expected, &actual, &mut report),
                None => {
                    let kind = resource_type.rsplit("::").next().unwrap_or(resource_type);
                    report.check(kind, "present", "absent");
                }
            }
        }
    }
    Ok(drifts)
}

/// A reference to a resource that does not exist resolves to `<Name> (absent)`.
fn exists(physical_id: &str) -> bool {
    !physical_id.ends_with(crate::template::ABSENT)
}

/// The template's properties with what their absence means, for those it leaves out.
fn with_defaults(mut properties: Value, defaults: &Value) -> Value {
    if properties.is_null() {
        properties = json!({});
    }
    if let (Value::Object(properties), Value::Object(defaults)) = (&mut properties, defaults) {
        for (key, default) in defaults {
            match properties.get_mut(key) {
                Some(value @ Value::Object(_)) => {
                    *value = with_defaults(value.take(), default);
                }
                Some(_) => {}
                None => {
                    properties.insert(key.clone(), default.clone());
                }
            }
        }
    }
    properties
}

/// The walk: `expected` (the template's) against `actual` (the services', in the same shape),
/// one [`Drift`] per difference, named by its property path.
fn compare(path: &str, expected: &Value, actual: &Value, report: &mut Report<'_>) {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            // In key order whatever the map type's (a serde_json feature changes it).
            let mut entries: Vec<_> = expected.iter().collect();
            entries.sort_by_key(|(key, _)| *key);
            for (key, value) in entries {
                if path.is_empty() && NOT_COMPARED.contains(&key.as_str()) {
                    continue;
                }
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                compare(
                    &path,
                    value,
                    actual.get(key).unwrap_or(&Value::Null),
                    report,
                );
            }
        }
        // A one-item list may be written as its item (IAM policies often are).
        (Value::Array(expected), Value::Array(actual)) => {
            compare_items(path, expected, actual, report)
        }
        (Value::Array(expected), Value::Null) => compare_items(path, expected, &[], report),
        (Value::Array(expected), single) => {
            compare_items(path, expected, std::slice::from_ref(single), report);
        }
        (single, Value::Array(actual)) if !single.is_null() => {
            compare_items(path, std::slice::from_ref(single), actual, report);
        }
        _ => report.check(path, text(expected), text(actual)),
    }
}

/// Whether [`compare`] finds no difference.
pub(crate) fn matches(expected: &Value, actual: &Value) -> bool {
    let mut drifts = Vec::new();
    let mut report = Report {
        drifts: &mut drifts,
        logical_id: "",
        physical_id: "",
    };
    compare("", expected, actual, &mut report);
    drifts.is_empty()
}

/// Items with a name ([`ITEM_NAMES`]) are matched by it, each compared whole; others are
/// compared as a set.
fn compare_items(path: &str, expected: &[Value], actual: &[Value], report: &mut Report<'_>) {
    match (named(expected), named(actual)) {
        (Some(expected), Some(actual)) => {
            for (name, item) in &expected {
                let found = actual.get(name).map_or("absent".to_owned(), |a| text(a));
                report.check(&format!("{path}[{name}]"), text(item), found);
            }
            for (name, item) in actual.iter().filter(|(n, _)| !expected.contains_key(*n)) {
                report.check(&format!("{path}[{name}]"), "absent", text(item));
            }
        }
        _ => {
            let set = |items: &[Value]| {
                let mut items: Vec<String> = items.iter().map(text).collect();
                items.sort();
                format!("[{}]", items.join(", "))
            };
            report.check(path, set(expected), set(actual));
        }
    }
}

/// `name -> item` when every item is an object with a name; `None` otherwise.
fn named(items: &[Value]) -> Option<BTreeMap<String, &Value>> {
    items
        .iter()
        .map(|item| {
            let name = ITEM_NAMES.iter().find_map(|key| item.get(key)?.as_str())?;
            Some((name.to_owned(), item))
        })
        .collect()
}

/// A value as the drift shows it, after [`canonical`]: a string as itself, nothing as `none`,
/// anything else as canonical JSON.
fn text(value: &Value) -> String {
    match canonical(value) {
        Value::String(text) => text,
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    }
}

/// Brings a value to its meaning, as AWS may hand it back reformatted: a one-item list is its
/// item, a boolean or a number is its text (`"true"` in any case is `true`), keys and list items
/// are in sorted order.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Array(items) if items.len() == 1 => canonical(&items[0]),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(canonical).collect();
            items.sort_by_key(Value::to_string);
            Value::Array(items)
        }
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> =
                map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            // Sorted here rather than trusting the map type: serde_json keeps insertion order
            // when any crate in the build enables `preserve_order`.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::String(text) if text.eq_ignore_ascii_case("true") => Value::String("true".into()),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Value::String("false".into()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(_) | Value::Null => value.clone(),
    }
}

/// A policy document as JSON; `None` (or an empty one) is no policy.
fn document_of(policy: Option<&str>) -> Value {
    match policy.filter(|p| !p.trim().is_empty()) {
        Some(text) => serde_json::from_str(text)
            .unwrap_or_else(|error| Value::String(format!("an unparseable policy ({error})"))),
        None => Value::Null,
    }
}

/// Collects the drifts of one resource.
struct Report<'a> {
    drifts: &'a mut Vec<Drift>,
    logical_id: &'a str,
    physical_id: &'a str,
}

impl Report<'_> {
    fn check(&mut self, property: &str, expected: impl Into<String>, actual: impl Into<String>) {
        let (expected, actual) = (expected.into(), actual.into());
        if expected != actual {
            self.drifts.push(Drift {
                logical_id: self.logical_id.to_owned(),
                physical_id: self.physical_id.to_owned(),
                property: property.to_owned(),
                expected,
                actual,
            });
        }
    }
}

/// What a queue's attributes say, as the template's properties.
fn queue(name: &str, attributes: &std::collections::HashMap<QueueAttributeName, String>) -> Value {
    let mut properties = Map::new();
    properties.insert("QueueName".to_owned(), json!(name));
    // SQS only describes `FifoQueue` for FIFO queues.
    properties.insert("FifoQueue".to_owned(), json!(false));
    for (attribute, value) in attributes {
        let value = match attribute {
            QueueAttributeName::RedrivePolicy if value.is_empty() => continue,
            QueueAttributeName::RedrivePolicy => document_of(Some(value)),
            _ => json!(value),
        };
        properties.insert(attribute.as_str().to_owned(), value);
    }
    Value::Object(properties)
}

struct Services {
    dynamodb: aws_sdk_dynamodb::Client,
    kms: aws_sdk_kms::Client,
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    ses: aws_sdk_sesv2::Client,
    secrets: aws_sdk_secretsmanager::Client,
}

impl Services {
    /// DescribeTable, DescribeTimeToLive and DescribeContinuousBackups, as the template's
    /// properties; `None` when there is no such table.
    async fn table(&self, name: &str) -> Result<Option<Value>, ProvisionError> {
        let Some(table) = describe_table(&self.dynamodb, name).await? else {
            return Ok(None);
        };
        let keys = |keys: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<Value> {
            keys.iter()
                .map(|k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()}))
                .collect()
        };
        // DynamoDB omits the summary for tables that were always provisioned.
        let billing = table
            .billing_mode_summary()
            .and_then(|s| s.billing_mode())
            .map_or("PROVISIONED", BillingMode::as_str);
        let provisioned = billing == "PROVISIONED";
        let throughput = |read: Option<i64>, write: Option<i64>| json!({"ReadCapacityUnits": read, "WriteCapacityUnits": write});
        let indexes: Vec<Value> = table
            .global_secondary_indexes()
            .iter()
            .map(|index| {
                let projection = index.projection();
                let mut projected = json!({
                    "ProjectionType": projection.and_then(|p| p.projection_type()).map(|t| t.as_str()),
                });
                let non_key = projection.map(|p| p.non_key_attributes()).unwrap_or_default();
                if !non_key.is_empty() {
                    projected["NonKeyAttributes"] = json!(non_key);
                }
                let mut item = json!({
                    "IndexName": index.index_name(),
                    "KeySchema": keys(index.key_schema()),
                    "Projection": projected,
                });
                if let (true, Some(t)) = (provisioned, index.provisioned_throughput()) {
                    item["ProvisionedThroughput"] =
                        throughput(t.read_capacity_units(), t.write_capacity_units());
                }
                item
            })
            .collect();
        let local_indexes: Vec<Value> = table
            .local_secondary_indexes()
            .iter()
            .map(|index| json!({ "IndexName": index.index_name() }))
            .collect();
        let stream = table
            .stream_specification()
            .filter(|s| s.stream_enabled())
            .map(|s| json!({ "StreamViewType": s.stream_view_type().map(|v| v.as_str()) }));
        let sse = match table.sse_description() {
            Some(sse) if matches!(sse.status(), Some(SseStatus::Enabled | SseStatus::Enabling)) => {
                json!({"SSEEnabled": true, "SSEType": sse.sse_type().map(|t| t.as_str())})
            }
            _ => json!({ "SSEEnabled": false }),
        };
        let (enabled, attribute) = current_time_to_live(&self.dynamodb, name).await?;
        let mut ttl_properties = json!({ "Enabled": enabled });
        if let Some(attribute) = attribute.filter(|_| enabled) {
            ttl_properties["AttributeName"] = json!(attribute);
        }
        let pitr = current_point_in_time_recovery(&self.dynamodb, name).await?;
        let mut properties = json!({
            "TableName": name,
            "BillingMode": billing,
            "KeySchema": keys(table.key_schema()),
            "AttributeDefinitions": table.attribute_definitions().iter()
                .map(|a| json!({"AttributeName": a.attribute_name(), "AttributeType": a.attribute_type().as_str()}))
                .collect::<Vec<_>>(),
            "GlobalSecondaryIndexes": indexes,
            "LocalSecondaryIndexes": local_indexes,
            "StreamSpecification": stream,
            "SSESpecification": sse,
            "TimeToLiveSpecification": ttl_properties,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": pitr},
        });
        if let (true, Some(t)) = (provisioned, table.provisioned_throughput()) {
            properties["ProvisionedThroughput"] =
                throughput(t.read_capacity_units(), t.write_capacity_units());
        }
        Ok(Some(properties))
    }

    /// The secret's name, description and key, and what its current value shows of how it was
    /// generated (its length; punctuation or none), as the template's properties.
    async fn secret(
        &self,
        name: &str,
        described: DescribedSecret,
    ) -> Result<Value, ProvisionError> {
        let request = self
            .secrets
            .get_secret_value()
            .secret_id(described.arn.as_str());
        let value = match request.send().await {
            Ok(output) => output.secret_string().map(str::to_owned),
            // A secret without a value (no version yet): nothing was generated.
            Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => None,
            Err(e) => return Err(secrets_api("GetSecretValue", name)(e)),
        };
        let generated = value.map(|value| {
            json!({
                "PasswordLength": value.chars().count(),
                "ExcludePunctuation": !value.chars().any(|c| PUNCTUATION.contains(c)),
            })
        });
        Ok(json!({
            "Name": name,
            "Description": described.description,
            "KmsKeyId": described.kms_key_id,
            "GenerateSecretString": generated,
        }))
    }

    /// The key's description, rotation and policy, as the template's properties.
    async fn key(&self, alias: &str, metadata: &KeyMetadata) -> Result<Value, ProvisionError> {
        let key_id = metadata.key_id();
        let rotation = self
            .kms
            .get_key_rotation_status()
            .key_id(key_id)
            .send()
            .await
            .map_err(kms_api("GetKeyRotationStatus", alias))?
            .key_rotation_enabled();
        let policy = self
            .kms
            .get_key_policy()
            .key_id(key_id)
            .policy_name("default")
            .send()
            .await
            .map_err(kms_api("GetKeyPolicy", alias))?;
        Ok(json!({
            "Description": metadata.description(),
            "EnableKeyRotation": rotation,
            "KeyPolicy": document_of(policy.policy()),
        }))
    }

    /// Every bucket configuration the template can declare, as its properties: `null` where the
    /// bucket has none.
    async fn bucket(&self, name: &str) -> Result<Value, ProvisionError> {
        let s3 = &self.s3;
        let encryption = match s3.get_bucket_encryption().bucket(name).send().await {
            Ok(output) => {
                let rules: Vec<Value> = output
                    .server_side_encryption_configuration()
                    .map(|c| c.rules())
                    .unwrap_or_default()
                    .iter()
                    .map(|rule| {
                        let default = rule.apply_server_side_encryption_by_default();
                        let mut by_default = json!({
                            "SSEAlgorithm": default.map(|d| d.sse_algorithm().as_str()),
                        });
                        if let Some(key) = default.and_then(|d| d.kms_master_key_id()) {
                            by_default["KMSMasterKeyID"] = json!(key);
                        }
                        json!({
                            "ServerSideEncryptionByDefault": by_default,
                            "BucketKeyEnabled": rule.bucket_key_enabled().unwrap_or(false),
                        })
                    })
                    .collect();
                json!({ "ServerSideEncryptionConfiguration": rules })
            }
            Err(e) if has_code(&e, "ServerSideEncryptionConfigurationNotFoundError") => Value::Null,
            Err(e) => return Err(s3_api("GetBucketEncryption", name)(e)),
        };
        let public_access = match s3.get_public_access_block().bucket(name).send().await {
            Ok(output) => output
                .public_access_block_configuration()
                .map_or(Value::Null, |c| {
                    json!({
                        "BlockPublicAcls": c.block_public_acls().unwrap_or(false),
                        "BlockPublicPolicy": c.block_public_policy().unwrap_or(false),
                        "IgnorePublicAcls": c.ignore_public_acls().unwrap_or(false),
                        "RestrictPublicBuckets": c.restrict_public_buckets().unwrap_or(false),
                    })
                }),
            Err(e) if has_code(&e, "NoSuchPublicAccessBlockConfiguration") => Value::Null,
            Err(e) => return Err(s3_api("GetPublicAccessBlock", name)(e)),
        };
        let ownership = match s3.get_bucket_ownership_controls().bucket(name).send().await {
            Ok(output) => {
                let rules: Vec<Value> = output
                    .ownership_controls()
                    .map(|c| c.rules())
                    .unwrap_or_default()
                    .iter()
                    .map(|rule| json!({ "ObjectOwnership": rule.object_ownership().as_str() }))
                    .collect();
                json!({ "Rules": rules })
            }
            Err(e) if has_code(&e, "OwnershipControlsNotFoundError") => Value::Null,
            Err(e) => return Err(s3_api("GetBucketOwnershipControls", name)(e)),
        };
        let versioning = match s3.get_bucket_versioning().bucket(name).send().await {
            Ok(output) => output.status().map(|s| s.as_str().to_owned()),
            Err(e) => match emulator_wrapped_answer(&e, "GetBucketVersioningResponse") {
                Some(body) => xml_element(body, "Status").map(str::to_owned),
                None => return Err(s3_api("GetBucketVersioning", name)(e)),
            },
        };
        let rules = match s3
            .get_bucket_lifecycle_configuration()
            .bucket(name)
            .send()
            .await
        {
            Ok(output) => output.rules,
            Err(e) if has_code(&e, "NoSuchLifecycleConfiguration") => None,
            Err(e) => return Err(s3_api("GetBucketLifecycleConfiguration", name)(e)),
        };
        let rules: Vec<Value> = rules
            .unwrap_or_default()
            .iter()
            .map(lifecycle_rule)
            .collect();
        let logging = s3
            .get_bucket_logging()
            .bucket(name)
            .send()
            .await
            .map_err(s3_api("GetBucketLogging", name))?;
        let logging = logging.logging_enabled().map_or(Value::Null, |enabled| {
            json!({
                "DestinationBucketName": enabled.target_bucket(),
                "LogFilePrefix": enabled.target_prefix(),
            })
        });
        let cors = match s3.get_bucket_cors().bucket(name).send().await {
            Ok(output) => {
                let rules: Vec<Value> = (output.cors_rules().iter())
                    .map(|rule| {
                        let mut item = json!({
                            "AllowedOrigins": rule.allowed_origins(),
                            "AllowedMethods": rule.allowed_methods(),
                        });
                        let mut set = |key: &str, value: Value| {
                            if !value.is_null() {
                                item[key] = value;
                            }
                        };
                        set("Id", json!(rule.id()));
                        let listed = |list: &[String]| (!list.is_empty()).then(|| json!(list));
                        set("AllowedHeaders", json!(listed(rule.allowed_headers())));
                        set("ExposedHeaders", json!(listed(rule.expose_headers())));
                        set("MaxAge", json!(rule.max_age_seconds()));
                        item
                    })
                    .collect();
                json!({ "CorsRules": rules })
            }
            Err(e) if has_code(&e, "NoSuchCORSConfiguration") => Value::Null,
            Err(e) => return Err(s3_api("GetBucketCors", name)(e)),
        };
        Ok(json!({
            "BucketName": name,
            "CorsConfiguration": cors,
            "BucketEncryption": encryption,
            "PublicAccessBlockConfiguration": public_access,
            "OwnershipControls": ownership,
            "VersioningConfiguration": versioning.map(|status| json!({ "Status": status })),
            "LifecycleConfiguration": { "Rules": rules },
            "LoggingConfiguration": logging,
            "NotificationConfiguration": bucket_notifications(s3, name).await?,
        }))
    }
}

/// A bucket's notification configuration, as the template's `NotificationConfiguration`.
pub(crate) async fn bucket_notifications(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<Value, ProvisionError> {
    let current = match s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(current) => NotificationConfiguration::builder()
            .set_queue_configurations(current.queue_configurations)
            .set_topic_configurations(current.topic_configurations)
            .set_lambda_function_configurations(current.lambda_function_configurations)
            .set_event_bridge_configuration(current.event_bridge_configuration)
            .build(),
        // The emulator's empty answer (see `emulator_wrapped_answer`): no notifications.
        Err(e)
            if emulator_wrapped_answer(&e, "GetBucketNotificationResponse")
                .is_some_and(|body| !body.contains("Configuration")) =>
        {
            NotificationConfiguration::builder().build()
        }
        Err(e) => return Err(s3_api("GetBucketNotificationConfiguration", bucket)(e)),
    };
    Ok(notification_properties(&current))
}

/// A notification configuration as the template writes one: one queue configuration per event.
pub(crate) fn notification_properties(configuration: &NotificationConfiguration) -> Value {
    let mut queues = Vec::new();
    for queue in configuration.queue_configurations() {
        let rules: Vec<Value> = (queue.filter().and_then(|f| f.key()))
            .map(|k| k.filter_rules())
            .unwrap_or_default()
            .iter()
            .map(|rule| {
                // S3 answers `Prefix`; the template (and S3 itself) take any case.
                let name = rule.name().map(|n| n.as_str().to_ascii_lowercase());
                json!({ "Name": name, "Value": rule.value() })
            })
            .collect();
        for event in queue.events() {
            let mut item = json!({ "Event": event.as_str(), "Queue": queue.queue_arn() });
            if !rules.is_empty() {
                item["Filter"] = json!({ "S3Key": { "Rules": rules } });
            }
            queues.push(item);
        }
    }
    let topics: Vec<Value> = (configuration.topic_configurations().iter())
        .map(|t| json!({ "Topic": t.topic_arn() }))
        .collect();
    let functions: Vec<Value> = (configuration.lambda_function_configurations().iter())
        .map(|f| json!({ "Function": f.lambda_function_arn() }))
        .collect();
    json!({
        "QueueConfigurations": queues,
        "TopicConfigurations": topics,
        "LambdaConfigurations": functions,
        "EventBridgeConfiguration": configuration.event_bridge_configuration().map(|_| json!({"EventBridgeEnabled": true})),
    })
}

/// A lifecycle rule as the template writes one. What it cannot declare (transitions, tag or
/// size filters, dated expirations) is spelt out under names of its own, so that it shows.
fn lifecycle_rule(rule: &aws_sdk_s3::types::LifecycleRule) -> Value {
    let mut item = json!({ "Status": rule.status().as_str() });
    let mut set = |key: &str, value: Value| {
        if !value.is_null() {
            item[key] = value;
        }
    };
    set("Id", json!(rule.id()));
    let filter = rule.filter();
    // `Prefix` directly on the rule is the older spelling of the filter's.
    #[allow(deprecated)]
    let prefix = filter.and_then(|f| f.prefix()).or(rule.prefix());
    set("Prefix", json!(prefix.filter(|p| !p.is_empty())));
    if filter.is_some_and(|f| {
        f.tag().is_some()
            || f.and().is_some()
            || f.object_size_greater_than().is_some()
            || f.object_size_less_than().is_some()
    }) {
        set("OtherFilters", json!(true));
    }
    let expiration = rule.expiration();
    set("ExpirationInDays", json!(expiration.and_then(|e| e.days())));
    if expiration.is_some_and(|e| e.date().is_some() || e.expired_object_delete_marker().is_some())
    {
        set("OtherExpirations", json!(true));
    }
    if let Some(days) = rule
        .noncurrent_version_expiration()
        .and_then(|e| e.noncurrent_days())
    {
        set(
            "NoncurrentVersionExpiration",
            json!({ "NoncurrentDays": days }),
        );
    }
    if let Some(days) = rule
        .abort_incomplete_multipart_upload()
        .and_then(|a| a.days_after_initiation())
    {
        set(
            "AbortIncompleteMultipartUpload",
            json!({ "DaysAfterInitiation": days }),
        );
    }
    if !rule.transitions().is_empty() || !rule.noncurrent_version_transitions().is_empty() {
        set("Transitions", json!(true));
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::PLAYED_BY_GATEWAY;
    use std::collections::HashMap;

    /// A resource type the drift check neither compares nor leaves out on purpose would be
    /// silently ignored: every type of the project template is one or the other.
    #[test]
    fn every_resource_type_of_the_template_is_compared_or_left_out_on_purpose() {
        let template = Template::load(&Template::default_path()).unwrap();
        let unknown: Vec<&str> = (template.resource_types().into_iter())
            .filter(|kind| {
                !COMPARED_TYPES.contains(kind)
                    && !NOT_PROVISIONED.contains(kind)
                    && !PLAYED_BY_GATEWAY.contains(kind)
            })
            .collect();
        assert!(unknown.is_empty(), "{unknown:?}");
        // The web pages' CloudFront resources are there, played by the gateway.
        let played: Vec<(String, &str)> = template.played_by_gateway();
        assert_eq!(
            played.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
            [
                "WebOriginAccessControl",
                "WebSecurityHeaders",
                "WebApiPrefix",
                "WebPageIndex",
                "WebDistribution"
            ]
        );
    }

    fn drift(property: &str, expected: &str, actual: &str) -> (String, String, String) {
        (property.into(), expected.into(), actual.into())
    }

    fn drifts(expected: Value, actual: Value) -> Vec<(String, String, String)> {
        let mut drifts = Vec::new();
        let mut report = Report {
            drifts: &mut drifts,
            logical_id: "R",
            physical_id: "r",
        };
        compare("", &expected, &actual, &mut report);
        // Sorted: the walk follows the map's order, which a serde_json feature can change.
        let mut drifts: Vec<_> = drifts
            .into_iter()
            .map(|d| (d.property, d.expected, d.actual))
            .collect();
        drifts.sort();
        drifts
    }

    #[test]
    fn compares_meaning_not_spelling() {
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "A",
                "Effect": "Deny",
                "Action": ["s3:*"],
                "Resource": ["arn:b", "arn:a"],
                "Condition": {"Bool": {"aws:SecureTransport": false}}
            }]
        });
        let reformatted: Value = serde_json::from_str(
            r#"{"Statement": {"Resource": ["arn:a", "arn:b"], "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}, "Effect": "Deny", "Sid": "A"},
            "Version": "2012-10-17"}"#,
        )
        .unwrap();
        let expected = json!({
            "VisibilityTimeout": 60,
            "FifoQueue": true,
            "DeletionProtectionEnabled": true,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "PolicyDocument": policy,
        });
        let actual = json!({
            "VisibilityTimeout": "60",
            "FifoQueue": "True",
            "KeySchema": [{"KeyType": "RANGE", "AttributeName": "sk"}, {"AttributeName": "pk", "KeyType": "HASH"}],
            "PolicyDocument": reformatted,
            "SomethingTheTemplateLeavesOut": 1,
        });
        assert_eq!(drifts(expected, actual), []);
    }

    #[test]
    fn notices_each_kind_of_difference() {
        let expected = json!({
            "RedrivePolicy": {"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 5},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": true},
            "GlobalSecondaryIndexes": [{"IndexName": "gsi1"}, {"IndexName": "gsi2"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "PolicyDocument": {"Statement": [{"Sid": "A", "Effect": "Deny"}]},
        });
        let actual = json!({
            "RedrivePolicy": {"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": "50"},
            "GlobalSecondaryIndexes": [{"IndexName": "gsi1"}, {"IndexName": "gsi3"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "N"}],
            "PolicyDocument": {"Statement": [{"Sid": "A", "Effect": "Allow"}]},
        });
        assert_eq!(
            drifts(expected, actual),
            [
                drift(
                    "AttributeDefinitions",
                    r#"[{"AttributeName":"pk","AttributeType":"S"}]"#,
                    r#"[{"AttributeName":"pk","AttributeType":"N"}]"#
                ),
                drift(
                    "GlobalSecondaryIndexes[gsi2]",
                    r#"{"IndexName":"gsi2"}"#,
                    "absent"
                ),
                drift(
                    "GlobalSecondaryIndexes[gsi3]",
                    "absent",
                    r#"{"IndexName":"gsi3"}"#
                ),
                drift(
                    "PolicyDocument.Statement[A]",
                    r#"{"Effect":"Deny","Sid":"A"}"#,
                    r#"{"Effect":"Allow","Sid":"A"}"#
                ),
                drift(
                    "PublicAccessBlockConfiguration",
                    r#"{"BlockPublicAcls":"true"}"#,
                    "none"
                ),
                drift("RedrivePolicy.maxReceiveCount", "5", "50"),
            ]
        );
    }

    #[test]
    fn what_the_template_leaves_out_is_compared_with_what_its_absence_means() {
        let expected = with_defaults(
            json!({"TableName": "t", "SSESpecification": {"SSEEnabled": true}}),
            &absent_means(TABLE),
        );
        let actual = json!({
            "TableName": "t",
            "BillingMode": "PROVISIONED",
            "LocalSecondaryIndexes": [],
            "StreamSpecification": {"StreamViewType": "KEYS_ONLY"},
            "SSESpecification": {"SSEEnabled": true, "SSEType": "KMS"},
            "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "gone"},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": false},
        });
        assert_eq!(
            drifts(expected, actual),
            [
                drift(
                    "StreamSpecification",
                    "none",
                    r#"{"StreamViewType":"KEYS_ONLY"}"#
                ),
                drift("TimeToLiveSpecification.Enabled", "false", "true"),
            ]
        );
    }

    #[test]
    fn fifo_settings_compare_with_their_case() {
        let expected = with_defaults(
            crate::provision::tests::fifo_queue_properties(),
            &absent_means(QUEUE),
        );
        let mut attributes: HashMap<QueueAttributeName, String> = [
            (QueueAttributeName::FifoQueue, "true"),
            (QueueAttributeName::ContentBasedDeduplication, "false"),
            (QueueAttributeName::DeduplicationScope, "messageGroup"),
            (QueueAttributeName::FifoThroughputLimit, "perMessageGroupId"),
            (QueueAttributeName::VisibilityTimeout, "300"),
            (
                QueueAttributeName::RedrivePolicy,
                r#"{"deadLetterTargetArn":"arn:dlq","maxReceiveCount":5}"#,
            ),
        ]
        .map(|(name, value)| (name, value.to_owned()))
        .into();
        assert_eq!(
            drifts(expected.clone(), queue("Main.fifo", &attributes)),
            []
        );

        attributes.insert(QueueAttributeName::ContentBasedDeduplication, "true".into());
        attributes.insert(QueueAttributeName::DeduplicationScope, "queue".into());
        attributes.insert(QueueAttributeName::FifoThroughputLimit, "perqueue".into());
        assert_eq!(
            drifts(expected.clone(), queue("Main.fifo", &attributes)),
            [
                drift("ContentBasedDeduplication", "false", "true"),
                drift("DeduplicationScope", "messageGroup", "queue"),
                drift("FifoThroughputLimit", "perMessageGroupId", "perqueue"),
            ]
        );

        // SQS describes no FifoQueue for a standard queue.
        attributes.remove(&QueueAttributeName::FifoQueue);
        let found = drifts(expected, queue("Main.fifo", &attributes));
        assert!(found.contains(&drift("FifoQueue", "true", "false")));
        let standard = with_defaults(json!({"QueueName": "Plain"}), &absent_means(QUEUE));
        let fifo_found = HashMap::from([(QueueAttributeName::FifoQueue, "true".to_owned())]);
        assert_eq!(
            found_pairs(drifts(standard, queue("Plain", &fifo_found))),
            [("FifoQueue".to_owned(), "false".to_owned())]
        );
    }

    fn found_pairs(drifts: Vec<(String, String, String)>) -> Vec<(String, String)> {
        drifts.into_iter().map(|(p, e, _)| (p, e)).collect()
    }
}
