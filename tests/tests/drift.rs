//! The emulator's resources (tables, KMS key, queues, bucket and policies) match
//! `infra/template.yaml`, and the drift check really notices when they do not (a check that cannot
//! fail proves nothing), and provisioning again repairs them.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    BucketVersioningStatus, NotificationConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;
use guichet_local::provision::{describe_drift, provision, Drift};
use guichet_tests::{fresh_stack, project_template, sdk_config, unique_stack_name, Stack};

fn properties(drifts: &[Drift]) -> Vec<&str> {
    drifts.iter().map(|d| d.property.as_str()).collect()
}

fn listing(drifts: &[Drift]) -> String {
    drifts
        .iter()
        .map(|d| format!("\n  {d}"))
        .collect::<String>()
}

#[tokio::test]
async fn provisioned_stack_matches_the_template() {
    let stack = fresh_stack().await;
    let template = project_template();

    let drifts = describe_drift(&stack.sdk, &template, &stack.name)
        .await
        .unwrap();
    assert!(drifts.is_empty(), "unexpected drift:{}", listing(&drifts));

    // Provisioning again is a no-op, not an error (TTL "already enabled", a bucket or a key
    // alias that exists, and the like), and finds the same resources.
    let again = provision(&stack.sdk, &template, &stack.name).await.unwrap();
    assert_eq!(
        again.table("TicketsTable"),
        Some(stack.tickets_table.as_str())
    );
    assert_eq!(
        again.bucket("DocumentsBucket"),
        Some(stack.documents_bucket.as_str())
    );
    assert_eq!(
        again.queue_url("DocumentEventsQueue"),
        Some(stack.document_events_queue_url.as_str())
    );
    assert_eq!(
        again.queue_url("DocumentEventsDeadLetterQueue"),
        Some(stack.document_events_dlq_url.as_str())
    );
    assert_eq!(again.keys.len(), 1, "{again:?}");
    let key = stack
        .kms()
        .describe_key()
        .key_id(format!("alias/{}/documents", stack.name))
        .send()
        .await
        .unwrap();
    assert_eq!(
        key.key_metadata().and_then(|k| k.arn()),
        again.key_arn("DocumentsKey"),
        "re-provisioning must find the key through its alias, not create another"
    );
    // The bucket name carries the emulator's account, which provisioning asked STS for.
    assert_eq!(again.target.account_id, "123456789012");
    assert!(stack.documents_bucket.ends_with("-documents-123456789012"));
    let drifts = describe_drift(&stack.sdk, &template, &stack.name)
        .await
        .unwrap();
    assert!(
        drifts.is_empty(),
        "drift after re-provisioning:{}",
        listing(&drifts)
    );
}

#[tokio::test]
async fn disabled_ttl_is_reported_and_provisioning_repairs_it() {
    let stack = fresh_stack().await;
    let template = project_template();

    // What the emulator's CloudFormation would have left: no TTL, so idempotency records never expire.
    stack
        .dynamodb()
        .update_time_to_live()
        .table_name(&stack.tickets_table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let drifts = describe_drift(&stack.sdk, &template, &stack.name)
        .await
        .unwrap();
    assert_eq!(
        properties(&drifts),
        ["TimeToLiveSpecification"],
        "{}",
        listing(&drifts)
    );
    let ttl = &drifts[0];
    assert_eq!(ttl.logical_id, "TicketsTable");
    assert_eq!(ttl.physical_id, stack.tickets_table);
    assert_eq!(ttl.expected, "ENABLED on `expires_at`");
    assert_eq!(ttl.actual, "DISABLED");
    assert!(ttl.to_string().contains("TimeToLiveSpecification"));

    provision(&stack.sdk, &template, &stack.name).await.unwrap();
    let drifts = describe_drift(&stack.sdk, &template, &stack.name)
        .await
        .unwrap();
    assert!(
        drifts.is_empty(),
        "provisioning did not repair:{}",
        listing(&drifts)
    );
}

#[tokio::test]
async fn hand_made_table_without_gsi2_is_reported() {
    let sdk = sdk_config().await;
    let template = project_template();
    let stack_name = unique_stack_name();
    let table = template.tables(&stack_name).unwrap()[0].table_name.clone();

    // Same keys and gsi1, but no gsi2, no stream, no SSE, no TTL, no PITR.
    let key = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .unwrap()
    };
    let string_attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    sdk_client(&sdk)
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .set_attribute_definitions(Some(
            ["pk", "sk", "gsi1pk", "gsi1sk"]
                .map(string_attribute)
                .to_vec(),
        ))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("gsi1")
                .key_schema(key("gsi1pk", KeyType::Hash))
                .key_schema(key("gsi1sk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // Only the table is there; the missing key, queues and bucket are `missing_stack_is_reported`.
    let drifts: Vec<Drift> = describe_drift(&sdk, &template, &stack_name)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.logical_id == "TicketsTable")
        .collect();
    let mut found = properties(&drifts);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "AttributeDefinitions",
            "GlobalSecondaryIndexes[gsi2]",
            "PointInTimeRecoverySpecification",
            "SSESpecification",
            "StreamSpecification",
            "TimeToLiveSpecification",
        ],
        "{}",
        listing(&drifts)
    );
    let gsi2 = drifts
        .iter()
        .find(|d| d.property == "GlobalSecondaryIndexes[gsi2]")
        .unwrap();
    assert_eq!(gsi2.actual, "no such index");
    assert!(gsi2.to_string().contains("gsi2"));
}

#[tokio::test]
async fn missing_stack_is_reported() {
    let sdk = sdk_config().await;
    let drifts = describe_drift(&sdk, &project_template(), &unique_stack_name())
        .await
        .unwrap();
    // One line per missing resource; the policies of missing resources are not compared.
    let found: Vec<_> = drifts
        .iter()
        .map(|d| (d.logical_id.as_str(), d.property.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("TicketsTable", "Table"),
            ("DocumentsKey", "Key"),
            ("DocumentEventsDeadLetterQueue", "Queue"),
            ("DocumentEventsQueue", "Queue"),
            ("DocumentsBucket", "Bucket"),
        ],
        "{}",
        listing(&drifts)
    );
}

#[tokio::test]
async fn removed_lifecycle_and_notifications_are_reported_and_repaired() {
    let stack = fresh_stack().await;
    let template = project_template();
    let s3 = stack.s3();

    // What the emulator's CloudFormation leaves: documents never expire, nobody hears of uploads.
    s3.delete_bucket_lifecycle()
        .bucket(&stack.documents_bucket)
        .send()
        .await
        .unwrap();
    s3.put_bucket_notification_configuration()
        .bucket(&stack.documents_bucket)
        .notification_configuration(NotificationConfiguration::builder().build())
        .send()
        .await
        .unwrap();

    let drifts = describe_drift(&stack.sdk, &template, &stack.name)
        .await
        .unwrap();
    assert_eq!(
        properties(&drifts),
        [
            "LifecycleConfiguration.Rules[verification-documents-six-years]",
            "LifecycleConfiguration.Rules[ticket-attachments-two-years]",
            "LifecycleConfiguration.Rules[quarantine-thirty-days]",
            "LifecycleConfiguration.Rules[abort-incomplete-multipart-uploads]",
            "NotificationConfiguration.QueueConfigurations",
        ],
        "{}",
        listing(&drifts)
    );
    assert!(drifts
        .iter()
        .all(|d| d.logical_id == "DocumentsBucket" && d.physical_id == stack.documents_bucket));
    assert_eq!(
        drifts[0].expected,
        "Enabled, prefix `verification/`, expire after 2192 days, \
         noncurrent versions expire after 30 days"
    );
    assert_eq!(drifts[0].actual, "no such rule");
    let queue_arn = queue_arn(&stack, &stack.document_events_queue_url).await;
    assert_eq!(
        drifts[4].expected,
        format!(
            "s3:ObjectCreated:* prefix `tickets/` -> {queue_arn}, \
             s3:ObjectCreated:* prefix `verification/` -> {queue_arn}"
        )
    );
    assert_eq!(drifts[4].actual, "none");

    provision(&stack.sdk, &template, &stack.name).await.unwrap();
    assert_no_drift(&stack).await;
}

#[tokio::test]
async fn changed_redrive_is_reported_and_repaired() {
    let stack = fresh_stack().await;
    let dlq_arn = queue_arn(&stack, &stack.document_events_dlq_url).await;
    // The emulator drops a queue's policy on any SetQueueAttributes that does not repeat it (SQS
    // keeps it): send it back, so that only the redrive and the timeout change.
    let policy = stack
        .sqs()
        .get_queue_attributes()
        .queue_url(&stack.document_events_queue_url)
        .attribute_names(QueueAttributeName::Policy)
        .send()
        .await
        .unwrap()
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::Policy))
        .expect("the provisioned queue has a policy");

    // Fifty deliveries of a poison message instead of five.
    stack
        .sqs()
        .set_queue_attributes()
        .queue_url(&stack.document_events_queue_url)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 50}).to_string(),
        )
        .attributes(QueueAttributeName::VisibilityTimeout, "5")
        .attributes(QueueAttributeName::Policy, policy)
        .send()
        .await
        .unwrap();

    let drifts = describe_drift(&stack.sdk, &project_template(), &stack.name)
        .await
        .unwrap();
    assert_eq!(
        properties(&drifts),
        ["VisibilityTimeout", "RedrivePolicy"],
        "{}",
        listing(&drifts)
    );
    let redrive = &drifts[1];
    assert_eq!(redrive.logical_id, "DocumentEventsQueue");
    assert_eq!(redrive.physical_id, stack.document_events_queue_url);
    assert_eq!(redrive.expected, format!("to {dlq_arn} after 5 receives"));
    assert_eq!(redrive.actual, format!("to {dlq_arn} after 50 receives"));

    provision(&stack.sdk, &project_template(), &stack.name)
        .await
        .unwrap();
    assert_no_drift(&stack).await;
}

#[tokio::test]
async fn weakened_protections_are_reported_and_repaired() {
    let stack = fresh_stack().await;
    let (s3, sqs) = (stack.s3(), stack.sqs());
    let bucket = stack.documents_bucket.as_str();

    s3.delete_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    s3.delete_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::Aes256)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    sqs.set_queue_attributes()
        .queue_url(&stack.document_events_queue_url)
        .attributes(QueueAttributeName::Policy, "")
        .send()
        .await
        .unwrap();
    let key_id = format!("alias/{}/documents", stack.name);
    let key_arn = stack
        .kms()
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .unwrap()
        .key_metadata
        .and_then(|k| k.arn)
        .unwrap();
    // Rotation is set by key id or ARN only, not through an alias.
    stack
        .kms()
        .disable_key_rotation()
        .key_id(&key_arn)
        .send()
        .await
        .unwrap();

    let drifts = describe_drift(&stack.sdk, &project_template(), &stack.name)
        .await
        .unwrap();
    let mut found: Vec<_> = drifts
        .iter()
        .map(|d| {
            (
                d.logical_id.as_str(),
                d.property.as_str(),
                d.actual.as_str(),
            )
        })
        .collect();
    found.sort_unstable();
    assert_eq!(
        found,
        [
            ("DocumentEventsQueuePolicy", "PolicyDocument", "no policy"),
            (
                "DocumentsBucket",
                "BucketEncryption",
                "AES256, bucket key off"
            ),
            ("DocumentsBucket", "PublicAccessBlockConfiguration", "none"),
            ("DocumentsBucket", "VersioningConfiguration", "Suspended"),
            ("DocumentsBucketPolicy", "PolicyDocument", "no policy"),
            ("DocumentsKey", "EnableKeyRotation", "false"),
        ],
        "{}",
        listing(&drifts)
    );
    let encryption = drifts
        .iter()
        .find(|d| d.property == "BucketEncryption")
        .unwrap();
    assert_eq!(
        encryption.expected,
        format!("aws:kms with {key_arn}, bucket key on")
    );

    provision(&stack.sdk, &project_template(), &stack.name)
        .await
        .unwrap();
    assert_no_drift(&stack).await;
}

#[tokio::test]
async fn altered_policy_statement_is_reported() {
    let stack = fresh_stack().await;
    let s3 = stack.s3();
    let policy = s3
        .get_bucket_policy()
        .bucket(&stack.documents_bucket)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    // Someone "fixes" uploads by letting any encryption through.
    let weakened = policy.replace("StringNotEquals", "StringEquals");
    assert_ne!(weakened, policy);
    s3.put_bucket_policy()
        .bucket(&stack.documents_bucket)
        .policy(weakened)
        .send()
        .await
        .unwrap();

    let drifts = describe_drift(&stack.sdk, &project_template(), &stack.name)
        .await
        .unwrap();
    assert_eq!(
        properties(&drifts),
        ["PolicyDocument.Statement[DenyObjectsNotEncryptedWithKms]"],
        "{}",
        listing(&drifts)
    );
    assert!(drifts[0].expected.contains("StringNotEquals"));

    provision(&stack.sdk, &project_template(), &stack.name)
        .await
        .unwrap();
    assert_no_drift(&stack).await;
}

async fn assert_no_drift(stack: &Stack) {
    let drifts = describe_drift(&stack.sdk, &project_template(), &stack.name)
        .await
        .unwrap();
    assert!(
        drifts.is_empty(),
        "provisioning did not repair:{}",
        listing(&drifts)
    );
}

async fn queue_arn(stack: &Stack, url: &str) -> String {
    stack
        .sqs()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .unwrap()
}

fn sdk_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}
