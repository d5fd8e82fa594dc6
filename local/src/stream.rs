//! Lambda's DynamoDB stream event source mapping, played locally: read the table's stream
//! shard by shard (`DescribeStream`, `GetShardIterator`, `GetRecords`), build the
//! [`Event`] Lambda would deliver, run the stream function's handler in process, and move on
//! the way Lambda does.
//!
//! What is deliberately the same as in AWS, because the tests rely on it:
//! - records of a shard are handed over in order, from the stream's oldest (`TRIM_HORIZON`,
//!   as the template's mapping starts);
//! - with `ReportBatchItemFailures`, the first record the handler names is read again next
//!   time, with every record after it; the records before it are done.
//!
//! Not imitated: the mapping's event filter (the relay itself ignores anything but outbox
//! inserts), its retry limit and record age (locally a failing record is retried until it
//! passes), batching windows and parallelisation factor.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use serde_json::{json, Value};

/// Why the stream could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("table {table} has no stream (StreamSpecification in the template?)")]
    NoStream { table: String },
    #[error("DynamoDB {operation} failed")]
    DynamoDb {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the stream's records do not make a Lambda event")]
    Event(#[source] serde_json::Error),
}

fn failed<E: std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
) -> impl FnOnce(E) -> StreamError {
    move |source| StreamError::DynamoDb {
        operation,
        source: Box::new(source),
    }
}

/// One table's stream, followed from its oldest record.
pub struct StreamFeed {
    client: aws_sdk_dynamodbstreams::Client,
    arn: String,
    region: String,
    batch_size: i32,
    /// Where each shard is read next; `None` once a closed shard is read to its end.
    shards: tokio::sync::Mutex<BTreeMap<String, Option<String>>>,
}

impl StreamFeed {
    /// Follows the stream of `table`, `batch_size` records at a time.
    pub async fn new(
        sdk: &aws_config::SdkConfig,
        table: &str,
        batch_size: u32,
    ) -> Result<Self, StreamError> {
        let described = aws_sdk_dynamodb::Client::new(sdk)
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(failed("DescribeTable"))?;
        let arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| StreamError::NoStream {
                table: table.to_owned(),
            })?
            .to_owned();
        // arn:aws:dynamodb:<region>:…
        let region = arn.split(':').nth(3).unwrap_or_default().to_owned();
        Ok(Self {
            client: aws_sdk_dynamodbstreams::Client::new(sdk),
            arn,
            region,
            batch_size: i32::try_from(batch_size).unwrap_or(100),
            shards: tokio::sync::Mutex::new(BTreeMap::new()),
        })
    }

    /// Reads each shard once and hands what it read to `handler`; how many records were read.
    pub async fn poll<F, Fut>(&self, handler: F) -> Result<usize, StreamError>
    where
        F: Fn(Event) -> Fut,
        Fut: Future<Output = DynamoDbEventResponse>,
    {
        let mut shards = self.shards.lock().await;
        self.discover(&mut shards).await?;
        let mut read = 0;
        for (shard, position) in shards.iter_mut() {
            let Some(iterator) = position.clone() else {
                continue;
            };
            let output = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .limit(self.batch_size)
                .send()
                .await
                .map_err(failed("GetRecords"))?;
            let records = output.records();
            *position = output.next_shard_iterator().map(str::to_owned);
            if records.is_empty() {
                continue;
            }
            read += records.len();
            let response = handler(self.event(records)?).await;
            // Lambda reads again from the first record named, with all that follow it.
            if let Some(retry) = response
                .batch_item_failures
                .first()
                .and_then(|f| f.item_identifier.clone())
            {
                let again = self
                    .client
                    .get_shard_iterator()
                    .stream_arn(&self.arn)
                    .shard_id(shard)
                    .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                    .sequence_number(retry)
                    .send()
                    .await
                    .map_err(failed("GetShardIterator"))?;
                *position = again.shard_iterator().map(str::to_owned);
            }
        }
        Ok(read)
    }

    /// Starts reading, from its oldest record, every shard not seen yet.
    async fn discover(
        &self,
        shards: &mut BTreeMap<String, Option<String>>,
    ) -> Result<(), StreamError> {
        let described = self
            .client
            .describe_stream()
            .stream_arn(&self.arn)
            .send()
            .await
            .map_err(failed("DescribeStream"))?;
        let ids: Vec<String> = described
            .stream_description()
            .map(|d| d.shards())
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.shard_id().map(str::to_owned))
            .collect();
        for id in ids {
            if shards.contains_key(&id) {
                continue;
            }
            let start = self
                .client
                .get_shard_iterator()
                .stream_arn(&self.arn)
                .shard_id(&id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .map_err(failed("GetShardIterator"))?;
            shards.insert(id, start.shard_iterator().map(str::to_owned));
        }
        Ok(())
    }

    /// The event Lambda would deliver for these records.
    fn event(&self, records: &[Record]) -> Result<Event, StreamError> {
        let records: Vec<Value> = records
            .iter()
            .map(|record| {
                let change = record.dynamodb();
                json!({
                    "eventID": record.event_id(),
                    "eventName": record.event_name().map(|n| n.as_str()),
                    "eventVersion": record.event_version(),
                    "eventSource": "aws:dynamodb",
                    "awsRegion": self.region,
                    "eventSourceARN": self.arn,
                    "dynamodb": {
                        "Keys": image(change.and_then(|c| c.keys())),
                        "NewImage": image(change.and_then(|c| c.new_image())),
                        "OldImage": image(change.and_then(|c| c.old_image())),
                        "SequenceNumber": change.and_then(|c| c.sequence_number()),
                        "SizeBytes": change.and_then(|c| c.size_bytes()).unwrap_or_default(),
                        "StreamViewType": change
                            .and_then(|c| c.stream_view_type())
                            .map(|v| v.as_str()),
                    },
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).map_err(StreamError::Event)
    }
}

/// An image in the DynamoDB JSON of Lambda's events (`{"S": "…"}`).
fn image(attributes: Option<&HashMap<String, AttributeValue>>) -> Value {
    let item: serde_dynamo::Item = attributes.cloned().unwrap_or_default().into();
    serde_json::to_value(item).unwrap_or(Value::Null)
}
