//! Queries: a whole item collection, and the key-condition Query on one of the table's indexes
//! that every list and queue pages through.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::Client;

use crate::dynamo::item::{backend, s, Item};
use guichet_core::common::paging::Page;
use guichet_core::common::store::StoreError;

/// Every page of a query, in order: an item collection (a ticket's history, a case's audit
/// trail) can outgrow one 1 MB response.
pub(crate) async fn query_all(query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start: Option<Item> = None;
    loop {
        let output = query
            .clone()
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(backend)?;
        items.extend(output.items().iter().cloned());
        match output.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(items),
        }
    }
}

/// A whole item collection (every item under one `pk`), read consistently.
pub(crate) async fn read_collection(
    client: &Client,
    table: &str,
    pk: String,
) -> Result<Vec<Item>, StoreError> {
    let query = client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s(pk))
        .consistent_read(true);
    query_all(query).await
}

/// One partition of an index (`gsi1`, `gsi2`, whose keys are named after it: `gsi1pk`,
/// `gsi1sk`), optionally narrowed to a sort-key prefix, in sort-key order (`forward`) or
/// the reverse. Indexes are read eventually consistent, as DynamoDB requires.
pub(crate) struct IndexQuery<'a> {
    pub client: &'a Client,
    pub table: &'a str,
    pub index: &'static str,
    pub partition: String,
    pub prefix: Option<&'static str>,
    pub forward: bool,
}

/// Where a page starts: the last item before it, by its table key and its index sort key.
pub(crate) struct After {
    pub pk: String,
    pub sk: &'static str,
    pub index_sk: String,
}

impl IndexQuery<'_> {
    fn request(&self) -> QueryFluentBuilder {
        let index = self.index;
        let query = self
            .client
            .query()
            .table_name(self.table)
            .index_name(index)
            .expression_attribute_values(":pk", s(&self.partition))
            .scan_index_forward(self.forward);
        match self.prefix {
            Some(prefix) => query
                .key_condition_expression(format!(
                    "{index}pk = :pk AND begins_with({index}sk, :prefix)"
                ))
                .expression_attribute_values(":prefix", s(prefix)),
            None => query.key_condition_expression(format!("{index}pk = :pk")),
        }
    }

    /// Every item of the partition, page after page.
    pub async fn all(&self) -> Result<Vec<Item>, StoreError> {
        query_all(self.request()).await
    }

    /// At most `limit` items, from just after `after` (or the start), in one request.
    pub async fn items(&self, limit: i32, after: Option<After>) -> Result<Vec<Item>, StoreError> {
        let index = self.index;
        let start = after.map(|after| {
            Item::from([
                ("pk".to_owned(), s(after.pk)),
                ("sk".to_owned(), s(after.sk)),
                (format!("{index}pk"), s(&self.partition)),
                (format!("{index}sk"), s(after.index_sk)),
            ])
        });
        let output = self
            .request()
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(backend)?;
        Ok(output.items.unwrap_or_default())
    }

    /// A page of at most `limit` items, each read by `read`, from just after `after`. One more
    /// is asked for: it tells whether another page follows without an empty last page (see
    /// [`Page::of_over_fetched`]).
    pub async fn page<T, S>(
        &self,
        limit: u16,
        after: Option<After>,
        read: impl Fn(&Item) -> Result<T, StoreError>,
        start_of: impl Fn(&T) -> S,
    ) -> Result<Page<T, S>, StoreError> {
        let items = self.items(i32::from(limit) + 1, after).await?;
        let items = items.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::of_over_fetched(items, limit, start_of))
    }
}
