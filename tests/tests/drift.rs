//! The emulator's tables match `infra/template.yaml`, and the drift check really notices when they
//! do not (a check that cannot fail proves nothing).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use guichet_local::provision::{describe_drift, provision, Drift};
use guichet_tests::{fresh_stack, project_template, sdk_config, unique_stack_name};

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

    // Provisioning again is a no-op, not an error (TTL "already enabled" and the like).
    let again = provision(&stack.sdk, &template, &stack.name).await.unwrap();
    assert_eq!(
        again.table("TicketsTable"),
        Some(stack.tickets_table.as_str())
    );
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
    assert_eq!(ttl.table_name, stack.tickets_table);
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

    let drifts = describe_drift(&sdk, &template, &stack_name).await.unwrap();
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
async fn missing_table_is_reported() {
    let sdk = sdk_config().await;
    let drifts = describe_drift(&sdk, &project_template(), &unique_stack_name())
        .await
        .unwrap();
    assert_eq!(properties(&drifts), ["Table"], "{}", listing(&drifts));
}

fn sdk_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}
