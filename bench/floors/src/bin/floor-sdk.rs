//! The floor a function that talks to AWS is held to: the bare runtime plus what every function
//! builds at init — one SDK configuration load and the DynamoDB, S3, SQS and SESv2 clients from
//! it — and no call. A function's init above this is its own work.
//!
//! Two switches, off for the floor itself, measure what the first AWS call of a cold container
//! pays for its connection (TLS handshake included when the endpoint is https):
//! `FLOOR_CALL=1` makes each invocation one DynamoDB `GetItem` on `TICKETS_TABLE`, and
//! `FLOOR_PREWARM=1` makes that same call once at init, so the connection is open before the
//! first invocation.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

fn switch(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

/// One cheap read of a key that does not exist: a full round trip on the client's connection.
async fn one_call(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), Error> {
    dynamodb
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S("BENCH#floor".into()))
        .key("sk", AttributeValue::S("BENCH#floor".into()))
        .send()
        .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    // Kept alive for the container's life as a function's are, so their construction is not
    // optimised away and their drop is not part of any invocation.
    let clients = (
        aws_sdk_dynamodb::Client::new(&sdk),
        aws_sdk_s3::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
        aws_sdk_sesv2::Client::new(&sdk),
    );
    let (call, table) = (
        switch("FLOOR_CALL"),
        std::env::var("TICKETS_TABLE").unwrap_or_default(),
    );
    if switch("FLOOR_PREWARM") {
        one_call(&clients.0, &table).await?;
    }
    let (clients, table) = (&clients, table.as_str());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        if call {
            one_call(&clients.0, table).await?;
        }
        Ok::<_, Error>(event.payload)
    }))
    .await
}
