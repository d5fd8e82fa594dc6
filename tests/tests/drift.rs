//! The emulator's resources (tables, KMS key, queues, buckets and policies, e-mail identity,
//! secret) match `infra/template.yaml`, and the drift check really notices when they do not (a
//! check that cannot fail proves nothing), and provisioning again repairs them.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    BucketLoggingStatus, BucketVersioningStatus, CorsConfiguration, CorsRule,
    NotificationConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;
use guichet_local::provision::{describe_drift, provision, Drift, ProvisionError, Target};
use guichet_local::template::{Template, TABLE_TYPE};
use guichet_tests::{
    error_chain, fresh_stack, project_template, sdk_config, unique_stack_name, Stack,
    ESCALATION_TEAMS,
};

fn properties(drifts: &[Drift]) -> Vec<&str> {
    drifts.iter().map(|d| d.property.as_str()).collect()
}

fn listing(drifts: &[Drift]) -> String {
    drifts
        .iter()
        .map(|d| format!("\n  {d}"))
        .collect::<String>()
}

/// The project template with a notification sender of `stack_name`'s own. An SES identity is the
/// account's, not a stack's: every other stack of the emulator shares the default sender, so a
/// test that removes an identity, or expects it missing, needs one nobody else provisions.
fn template_with_own_sender(stack_name: &str) -> (Template, String) {
    let sender = format!("{stack_name}@guichet.example");
    let template = project_template()
        .with_parameter("NotificationSender", &sender)
        .unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    (template, sender)
}

#[tokio::test]
async fn provisioned_stack_matches_the_template() {
    let stack = fresh_stack().await;
    let template = project_template();

    let drifts = drift_of(&stack).await;
    assert!(drifts.is_empty(), "unexpected drift:{}", listing(&drifts));

    // Provisioning again is a no-op, not an error (TTL "already enabled", a bucket or a key
    // alias that exists, and the like), and finds the same resources.
    let again = provision(&stack.sdk, &template, &stack.name).await.unwrap();
    // The bucket's notifications were left alone (they match): S3 would have sent the queue a
    // second `s3:TestEvent` for a second put.
    let received = stack
        .sqs()
        .receive_message()
        .queue_url(&stack.document_events_queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let test_events = received
        .messages()
        .iter()
        .filter(|m| m.body().is_some_and(|b| b.contains("s3:TestEvent")))
        .count();
    assert_eq!(test_events, 1, "{received:?}");
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
    for (logical_id, url) in [
        ("EscalationsQueue", &stack.escalations_queue_url),
        ("EscalationsDeadLetterQueue", &stack.escalations_dlq_url),
        ("NotificationsQueue", &stack.notifications_queue_url),
        ("NotificationsDeadLetterQueue", &stack.notifications_dlq_url),
        ("IncidentUpdatesQueue", &stack.incident_updates_queue_url),
        (
            "IncidentUpdatesDeadLetterQueue",
            &stack.incident_updates_dlq_url,
        ),
        ("TeamAlertsQueue", &stack.team_alerts_queue_url),
        ("TeamAlertsDeadLetterQueue", &stack.team_alerts_dlq_url),
        (
            "PaymentsEscalationQueue",
            &stack.team_queue_urls["payments"],
        ),
        (
            "PaymentsEscalationDeadLetterQueue",
            &stack.team_dlq_urls["payments"],
        ),
    ] {
        assert_eq!(
            again.queue_url(logical_id),
            Some(url.as_str()),
            "{logical_id}"
        );
    }
    assert_eq!(again.queues.len(), 22, "{again:?}");
    // The web pages' bucket is provisioned like the others; the CloudFront resources in front
    // of it are not (the local gateway plays them), and that is no drift.
    assert_eq!(again.buckets.len(), 3, "{again:?}");
    assert!(again
        .bucket("WebBucket")
        .is_some_and(|name| name.ends_with("-web-123456789012")));
    assert_eq!(
        again.email_identity("NotificationSenderIdentity"),
        Some("soutien@guichet.example")
    );
    assert_eq!(stack.notification_sender, "soutien@guichet.example");
    // The secret is found again by its name, its ARN (its `Ref`) unchanged.
    assert_eq!(
        again.secret_arn("ChatHandoffSecret"),
        Some(stack.chat_handoff_secret_arn.as_str())
    );
    assert_eq!(
        again.secret_arn("MailReplySecret"),
        Some(stack.mail_reply_secret_arn.as_str())
    );
    assert_eq!(again.secrets.len(), 2, "{again:?}");
    assert_eq!(again.keys.len(), 2, "{again:?}");
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
    let drifts = drift_of(&stack).await;
    assert!(
        drifts.is_empty(),
        "drift after re-provisioning:{}",
        listing(&drifts)
    );
}

#[tokio::test]
async fn disabled_ttl_is_reported_and_provisioning_repairs_it() {
    let stack = fresh_stack().await;

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

    let drifts = drift_of(&stack).await;
    assert_eq!(
        properties(&drifts),
        [
            "TimeToLiveSpecification.AttributeName",
            "TimeToLiveSpecification.Enabled"
        ],
        "{}",
        listing(&drifts)
    );
    let ttl = &drifts[1];
    assert_eq!(ttl.logical_id, "TicketsTable");
    assert_eq!(ttl.physical_id, stack.tickets_table);
    assert_eq!(
        (ttl.expected.as_str(), ttl.actual.as_str()),
        ("true", "false")
    );
    assert_eq!(drifts[0].expected, "expires_at");
    assert!(ttl.to_string().contains("TimeToLiveSpecification.Enabled"));

    assert_repaired(&stack).await;
}

#[tokio::test]
async fn hand_made_table_without_gsi2_is_reported() {
    let sdk = sdk_config().await;
    let template = project_template();
    let stack_name = unique_stack_name();
    let target = Target::of(&sdk).await.unwrap();
    let names = template.names(TABLE_TYPE, &stack_name, &target.account_id, &target.region);
    let table = names.unwrap()[0].1.clone();

    // Same keys and gsi1, but no gsi2, gsi3 or gsi4, no stream, no SSE, no TTL, no PITR.
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
            "GlobalSecondaryIndexes[gsi3]",
            "GlobalSecondaryIndexes[gsi4]",
            "GlobalSecondaryIndexes[gsi5]",
            "PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled",
            "SSESpecification.SSEEnabled",
            "SSESpecification.SSEType",
            "StreamSpecification",
            "TimeToLiveSpecification.AttributeName",
            "TimeToLiveSpecification.Enabled",
        ],
        "{}",
        listing(&drifts)
    );
    let gsi2 = drifts
        .iter()
        .find(|d| d.property == "GlobalSecondaryIndexes[gsi2]")
        .unwrap();
    assert_eq!(gsi2.actual, "absent");
    assert!(gsi2.to_string().contains("gsi2"));
}

#[tokio::test]
async fn missing_stack_is_reported() {
    let sdk = sdk_config().await;
    let stack_name = unique_stack_name();
    let (template, sender) = template_with_own_sender(&stack_name);
    let drifts = describe_drift(&sdk, &template, &stack_name).await.unwrap();
    // One line per missing resource, in template order; the policies of missing resources are
    // not compared.
    let found: Vec<_> = drifts
        .iter()
        .map(|d| (d.logical_id.as_str(), d.property.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("TicketsTable", "Table"),
            ("DocumentsKey", "Key"),
            ("DocumentsKeyAlias", "Alias"),
            ("DocumentEventsDeadLetterQueue", "Queue"),
            ("DocumentEventsQueue", "Queue"),
            ("AccessLogsBucket", "Bucket"),
            ("DocumentsBucket", "Bucket"),
            ("WebBucket", "Bucket"),
            ("EscalationsDeadLetterQueue", "Queue"),
            ("EscalationsQueue", "Queue"),
            ("TechnicalEscalationDeadLetterQueue", "Queue"),
            ("TechnicalEscalationQueue", "Queue"),
            ("GamesEscalationDeadLetterQueue", "Queue"),
            ("GamesEscalationQueue", "Queue"),
            ("PaymentsEscalationDeadLetterQueue", "Queue"),
            ("PaymentsEscalationQueue", "Queue"),
            ("SecurityEscalationDeadLetterQueue", "Queue"),
            ("SecurityEscalationQueue", "Queue"),
            ("NotificationsDeadLetterQueue", "Queue"),
            ("NotificationsQueue", "Queue"),
            ("IncidentUpdatesDeadLetterQueue", "Queue"),
            ("IncidentUpdatesQueue", "Queue"),
            ("TeamAlertsDeadLetterQueue", "Queue"),
            ("TeamAlertsQueue", "Queue"),
            ("NotificationSenderIdentity", "EmailIdentity"),
            ("OperationsKey", "Key"),
            ("OperationsKeyAlias", "Alias"),
            ("ChatHandoffSecret", "Secret"),
            ("MailReplySecret", "Secret"),
            ("InboundMailDeadLetterQueue", "Queue"),
            ("InboundMailQueue", "Queue"),
            ("MailConfigurationSet", "ConfigurationSet"),
            ("MailFeedbackDeadLetterQueue", "Queue"),
            ("MailFeedbackQueue", "Queue"),
        ],
        "{}",
        listing(&drifts)
    );
    let identity = drifts
        .iter()
        .find(|d| d.logical_id == "NotificationSenderIdentity")
        .unwrap();
    assert_eq!(identity.physical_id, sender);
}

#[tokio::test]
async fn removed_lifecycle_and_notifications_are_reported_and_repaired() {
    let stack = fresh_stack().await;
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

    let drifts = drift_of(&stack).await;
    assert_eq!(
        properties(&drifts),
        [
            "LifecycleConfiguration.Rules[abort-incomplete-multipart-uploads]",
            "LifecycleConfiguration.Rules[inbound-mail]",
            "LifecycleConfiguration.Rules[quarantine-thirty-days]",
            "LifecycleConfiguration.Rules[ticket-attachments-two-years]",
            "LifecycleConfiguration.Rules[verification-documents-six-years]",
            "NotificationConfiguration.QueueConfigurations",
        ],
        "{}",
        listing(&drifts)
    );
    assert!(drifts
        .iter()
        .all(|d| d.logical_id == "DocumentsBucket" && d.physical_id == stack.documents_bucket));
    assert_eq!(
        drifts[4].expected,
        r#"{"ExpirationInDays":"2192","Id":"verification-documents-six-years","#.to_owned()
            + r#""NoncurrentVersionExpiration":{"NoncurrentDays":"30"},"#
            + r#""Prefix":"verification/","Status":"Enabled"}"#
    );
    assert_eq!(drifts[4].actual, "absent");
    let queue_arn = queue_arn(&stack, &stack.document_events_queue_url).await;
    let notification = |prefix: &str| {
        format!(
            r#"{{"Event":"s3:ObjectCreated:*","Filter":{{"S3Key":{{"Rules":{{"Name":"prefix","Value":"{prefix}"}}}}}},"Queue":"{queue_arn}"}}"#
        )
    };
    assert_eq!(
        drifts[5].expected,
        format!(
            "[{}, {}]",
            notification("tickets/"),
            notification("verification/")
        )
    );
    assert_eq!(drifts[5].actual, "[]");

    assert_repaired(&stack).await;
}

#[tokio::test]
async fn changed_redrive_is_reported_and_repaired() {
    let stack = fresh_stack().await;
    let dlq_arn = queue_arn(&stack, &stack.document_events_dlq_url).await;
    // The emulator drops a queue's policy on any SetQueueAttributes that does not repeat it (SQS
    // keeps it): send it back, so that only the redrive and the timeout change.
    let policy = queue_attribute(
        &stack,
        &stack.document_events_queue_url,
        QueueAttributeName::Policy,
    )
    .await
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

    let drifts = drift_of(&stack).await;
    assert_eq!(
        properties(&drifts),
        ["RedrivePolicy.maxReceiveCount", "VisibilityTimeout"],
        "{}",
        listing(&drifts)
    );
    let redrive = &drifts[0];
    assert_eq!(redrive.logical_id, "DocumentEventsQueue");
    assert_eq!(redrive.physical_id, stack.document_events_queue_url);
    assert_eq!(
        (redrive.expected.as_str(), redrive.actual.as_str()),
        ("5", "50")
    );

    assert_repaired(&stack).await;
}

#[tokio::test]
async fn changed_fifo_settings_are_reported_and_repaired() {
    let stack = fresh_stack().await;
    let url = stack.team_queue_url("payments").to_owned();
    let sqs = stack.sqs();
    let fifo = |name: QueueAttributeName| {
        let sqs = sqs.clone();
        let url = url.clone();
        async move {
            sqs.get_queue_attributes()
                .queue_url(&url)
                .attribute_names(name.clone())
                .send()
                .await
                .unwrap()
                .attributes
                .and_then(|mut a| a.remove(&name))
        }
    };
    // Provisioned as declared: a FIFO queue, explicit deduplication ids, per-ticket ordering.
    assert_eq!(
        fifo(QueueAttributeName::FifoQueue).await.as_deref(),
        Some("true")
    );
    assert_eq!(
        fifo(QueueAttributeName::FifoThroughputLimit)
            .await
            .as_deref(),
        Some("perMessageGroupId")
    );

    // The emulator drops a queue's policy on any SetQueueAttributes that does not repeat it (SQS
    // keeps it): send it back, so that only the FIFO settings change.
    let policy = fifo(QueueAttributeName::Policy)
        .await
        .expect("the provisioned queue has a policy");

    // Someone "simplifies" the queue: deduplication by content, one ordering for all tickets.
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
        .attributes(QueueAttributeName::DeduplicationScope, "queue")
        .attributes(QueueAttributeName::FifoThroughputLimit, "perQueue")
        .attributes(QueueAttributeName::Policy, policy)
        .send()
        .await
        .unwrap();

    let drifts = drift_of(&stack).await;
    let found: Vec<_> = drifts
        .iter()
        .map(|d| {
            (
                d.logical_id.as_str(),
                d.property.as_str(),
                d.expected.as_str(),
                d.actual.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "PaymentsEscalationQueue",
                "ContentBasedDeduplication",
                "false",
                "true"
            ),
            (
                "PaymentsEscalationQueue",
                "DeduplicationScope",
                "messageGroup",
                "queue"
            ),
            (
                "PaymentsEscalationQueue",
                "FifoThroughputLimit",
                "perMessageGroupId",
                "perQueue"
            ),
        ],
        "{}",
        listing(&drifts)
    );
    assert!(drifts.iter().all(|d| d.physical_id == url));

    assert_repaired(&stack).await;
}

#[tokio::test]
async fn standard_queue_under_a_fifo_name_is_reported_and_refused() {
    let sdk = sdk_config().await;
    let template = project_template();
    let stack_name = unique_stack_name();
    let name = format!("{stack_name}-escalations-games.fifo");
    // SQS refuses a standard queue named `.fifo`; the emulator creates one (and would let
    // SetQueueAttributes turn a FIFO queue into a standard one): what drift must catch.
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    sqs.create_queue().queue_name(&name).send().await.unwrap();

    let drifts: Vec<Drift> = describe_drift(&sdk, &template, &stack_name)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.logical_id == "GamesEscalationQueue")
        .collect();
    let fifo = drifts
        .iter()
        .find(|d| d.property == "FifoQueue")
        .unwrap_or_else(|| panic!("no FifoQueue drift:{}", listing(&drifts)));
    assert_eq!(
        (fifo.expected.as_str(), fifo.actual.as_str()),
        ("true", "false")
    );
    let mut found = properties(&drifts);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "ContentBasedDeduplication",
            "DeduplicationScope",
            "FifoQueue",
            "FifoThroughputLimit",
            "MessageRetentionPeriod",
            "RedrivePolicy",
            "VisibilityTimeout",
        ],
        "{}",
        listing(&drifts)
    );

    // SQS sets FifoQueue only at creation: provisioning stops, it does not "repair" the kind.
    let err = provision(&sdk, &template, &stack_name).await.unwrap_err();
    assert!(
        matches!(&err, ProvisionError::FifoQueueMismatch { queue, declared: "FIFO", found: "standard" }
            if *queue == name),
        "{}",
        error_chain(&err)
    );
}

#[tokio::test]
async fn missing_email_identity_is_reported_and_repaired() {
    let sdk = sdk_config().await;
    let stack_name = unique_stack_name();
    let (template, sender) = template_with_own_sender(&stack_name);
    let provisioned = provision(&sdk, &template, &stack_name).await.unwrap();
    assert_eq!(
        provisioned.email_identity("NotificationSenderIdentity"),
        Some(sender.as_str())
    );
    let drifts = describe_drift(&sdk, &template, &stack_name).await.unwrap();
    assert!(drifts.is_empty(), "unexpected drift:{}", listing(&drifts));

    let ses = aws_sdk_sesv2::Client::new(&sdk);
    ses.delete_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();
    let drifts = describe_drift(&sdk, &template, &stack_name).await.unwrap();
    let found: Vec<_> = drifts
        .iter()
        .map(|d| {
            (
                d.logical_id.as_str(),
                d.physical_id.as_str(),
                d.property.as_str(),
                d.actual.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [(
            "NotificationSenderIdentity",
            sender.as_str(),
            "EmailIdentity",
            "absent"
        )],
        "{}",
        listing(&drifts)
    );

    // Provisioning again recreates it (and an existing identity is not an error).
    provision(&sdk, &template, &stack_name).await.unwrap();
    provision(&sdk, &template, &stack_name).await.unwrap();
    let drifts = describe_drift(&sdk, &template, &stack_name).await.unwrap();
    assert!(
        drifts.is_empty(),
        "provisioning did not repair:{}",
        listing(&drifts)
    );
    let identity = ses
        .get_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();
    assert_eq!(
        identity.identity_type().map(|t| t.as_str()),
        Some("EMAIL_ADDRESS")
    );
}

#[tokio::test]
async fn changed_or_missing_secret_is_reported_and_repaired() {
    let stack = fresh_stack().await;
    let secrets = stack.secrets();
    let value = stack.chat_handoff_secret().await;
    // Generated as the template asks: 64 letters and digits.
    assert_eq!(value.len(), 64);
    assert!(value.bytes().all(|b| b.is_ascii_alphanumeric()), "{value}");
    assert_eq!(
        secrets
            .describe_secret()
            .secret_id(&stack.chat_handoff_secret_arn)
            .send()
            .await
            .unwrap()
            .name(),
        Some(format!("{}/chat-handoff", stack.name).as_str())
    );

    // A description changed by hand is reported; provisioning brings it back, the value kept
    // (the chat tool holds a copy of it).
    secrets
        .update_secret()
        .secret_id(&stack.chat_handoff_secret_arn)
        .description("changed by hand")
        .send()
        .await
        .unwrap();
    let drifts = drift_of(&stack).await;
    let found: Vec<_> = drifts
        .iter()
        .map(|d| {
            (
                d.logical_id.as_str(),
                d.property.as_str(),
                d.actual.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("ChatHandoffSecret", "Description", "changed by hand")],
        "{}",
        listing(&drifts)
    );
    assert_repaired(&stack).await;
    assert_eq!(stack.chat_handoff_secret().await, value);

    // A value that is not what the template generates is reported (and kept: provisioning
    // never replaces a value the chat tool may hold).
    secrets
        .put_secret_value()
        .secret_id(&stack.chat_handoff_secret_arn)
        .secret_string("short;one")
        .send()
        .await
        .unwrap();
    let drifts = drift_of(&stack).await;
    assert_eq!(
        properties(&drifts),
        [
            "GenerateSecretString.ExcludePunctuation",
            "GenerateSecretString.PasswordLength"
        ],
        "{}",
        listing(&drifts)
    );

    // A deleted secret is reported missing; provisioning creates it again, with a new value.
    secrets
        .delete_secret()
        .secret_id(&stack.chat_handoff_secret_arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let drifts = drift_of(&stack).await;
    let found: Vec<_> = drifts
        .iter()
        .map(|d| {
            (
                d.logical_id.as_str(),
                d.property.as_str(),
                d.actual.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [("ChatHandoffSecret", "Secret", "absent")],
        "{}",
        listing(&drifts)
    );
    let provisioned = provision(&stack.sdk, &project_template(), &stack.name)
        .await
        .unwrap();
    let recreated = provisioned.secret_arn("ChatHandoffSecret").unwrap();
    let drifts = drift_of(&stack).await;
    assert!(drifts.is_empty(), "not repaired:{}", listing(&drifts));
    let value = secrets
        .get_secret_value()
        .secret_id(recreated)
        .send()
        .await
        .unwrap();
    let value = value.secret_string().unwrap();
    assert_eq!(value.len(), 64);
    assert!(value.bytes().all(|b| b.is_ascii_alphanumeric()), "{value}");
}

#[tokio::test]
async fn every_team_has_its_fifo_escalation_queue() {
    let stack = fresh_stack().await;
    assert_eq!(stack.team_queue_urls.keys().collect::<Vec<_>>(), {
        let mut teams = ESCALATION_TEAMS.to_vec();
        teams.sort_unstable();
        teams
    });
    for team in ESCALATION_TEAMS {
        let url = stack.team_queue_url(team);
        assert!(
            url.ends_with(&format!("-escalations-{team}.fifo")),
            "{team}: {url}"
        );
        assert!(
            stack.team_dlq_urls[team].ends_with(&format!("-escalations-{team}-dlq.fifo")),
            "{team}"
        );
    }
    assert!(stack.escalations_queue_url.ends_with("-escalations"));
    assert!(stack.notifications_dlq_url.ends_with("-notifications-dlq"));

    // The queue keeps what it is declared for: per-ticket order, and an escalation sent twice
    // (same MessageDeduplicationId) delivered once.
    let sqs = stack.sqs();
    let url = stack.team_queue_url("security");
    for (body, group, dedup) in [
        ("first", "K7M2Q-9XW45", "ESC-1"),
        ("again", "K7M2Q-9XW45", "ESC-1"),
        ("second", "K7M2Q-9XW45", "ESC-2"),
    ] {
        sqs.send_message()
            .queue_url(url)
            .message_body(body)
            .message_group_id(group)
            .message_deduplication_id(dedup)
            .send()
            .await
            .unwrap();
    }
    let received = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let bodies: Vec<_> = received
        .messages()
        .iter()
        .filter_map(|m| m.body())
        .collect();
    assert_eq!(bodies, ["first", "second"]);
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
    // Nobody would know who read a document.
    s3.put_bucket_logging()
        .bucket(bucket)
        .bucket_logging_status(BucketLoggingStatus::builder().build())
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
    // Any web page could upload with a presigned URL it got hold of.
    s3.put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(
                    CorsRule::builder()
                        .allowed_origins("*")
                        .allowed_methods("GET")
                        .build()
                        .unwrap(),
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

    let drifts = drift_of(&stack).await;
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
            ("DocumentEventsQueuePolicy", "PolicyDocument", "none"),
            (
                "DocumentsBucket",
                "BucketEncryption.ServerSideEncryptionConfiguration",
                r#"[{"BucketKeyEnabled":"false","ServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]"#
            ),
            (
                "DocumentsBucket",
                "CorsConfiguration",
                r#"{"CorsRules":{"AllowedMethods":"GET","AllowedOrigins":"*"}}"#
            ),
            ("DocumentsBucket", "LoggingConfiguration", "none"),
            ("DocumentsBucket", "PublicAccessBlockConfiguration", "none"),
            (
                "DocumentsBucket",
                "VersioningConfiguration.Status",
                "Suspended"
            ),
            ("DocumentsBucketPolicy", "PolicyDocument", "none"),
            ("DocumentsKey", "EnableKeyRotation", "false"),
        ],
        "{}",
        listing(&drifts)
    );
    let encryption = drifts
        .iter()
        .find(|d| d.property == "BucketEncryption.ServerSideEncryptionConfiguration")
        .unwrap();
    assert_eq!(
        encryption.expected,
        format!(
            r#"[{{"BucketKeyEnabled":"true","ServerSideEncryptionByDefault":{{"KMSMasterKeyID":"{key_arn}","SSEAlgorithm":"aws:kms"}}}}]"#
        )
    );

    assert_repaired(&stack).await;
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

    let drifts = drift_of(&stack).await;
    assert_eq!(
        properties(&drifts),
        ["PolicyDocument.Statement[DenyObjectsNotEncryptedWithKms]"],
        "{}",
        listing(&drifts)
    );
    assert!(drifts[0].expected.contains("StringNotEquals"));

    assert_repaired(&stack).await;
}

#[tokio::test]
async fn queue_policy_admitting_another_writer_is_reported() {
    let stack = fresh_stack().await;
    let sqs = stack.sqs();
    let url = &stack.notifications_queue_url;
    let policy = queue_attribute(&stack, url, QueueAttributeName::Policy)
        .await
        .expect("the provisioned queue has a policy");
    // Someone lets one more role send notifications, beside the functions the template admits.
    let writer = "-RelayOutboxFunctionRole\"";
    let widened = policy.replace(
        writer,
        &format!("{writer},\"arn:aws:iam::123456789012:role/intruder\""),
    );
    assert_ne!(widened, policy);
    sqs.set_queue_attributes()
        .queue_url(url)
        .attributes(QueueAttributeName::Policy, widened)
        .send()
        .await
        .unwrap();

    let drifts = drift_of(&stack).await;
    assert_eq!(
        properties(&drifts),
        ["PolicyDocument.Statement[OnlyTheWritersSend]"],
        "{}",
        listing(&drifts)
    );
    assert_eq!(drifts[0].logical_id, "NotificationsQueuePolicy");
    assert!(drifts[0].actual.contains("role/intruder"), "{}", drifts[0]);

    assert_repaired(&stack).await;
}

/// The stack's drift from the project template.
async fn drift_of(stack: &Stack) -> Vec<Drift> {
    describe_drift(&stack.sdk, &project_template(), &stack.name)
        .await
        .unwrap()
}

/// Provisioning again leaves no drift.
async fn assert_repaired(stack: &Stack) {
    provision(&stack.sdk, &project_template(), &stack.name)
        .await
        .unwrap();
    let drifts = drift_of(stack).await;
    assert!(
        drifts.is_empty(),
        "provisioning did not repair:{}",
        listing(&drifts)
    );
}

async fn queue_arn(stack: &Stack, url: &str) -> String {
    queue_attribute(stack, url, QueueAttributeName::QueueArn)
        .await
        .unwrap()
}

/// One attribute of the queue; `None` when it has none (a queue without a policy).
async fn queue_attribute(stack: &Stack, url: &str, name: QueueAttributeName) -> Option<String> {
    stack
        .sqs()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(name.clone())
        .send()
        .await
        .unwrap()
        .attributes
        .and_then(|mut a| a.remove(&name))
}

fn sdk_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}
