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

/// A secondary index of the table: its name and its key attributes, named after it (`gsi2`:
/// `gsi2pk`, `gsi2sk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Index {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

/// Which entries of an index partition a query reads, by their sort key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SortKeys<'a> {
    All,
    /// Those beginning with a prefix: one kind of item in a partition several kinds share.
    Prefix(&'static str),
    /// Those strictly beyond a sort key in the read's direction (after it forward, before it
    /// backward): where a page starts in each shard of a sharded partition, whichever shard
    /// the previous page ended in.
    Beyond(&'a str),
    /// Those up to a sort key, inclusive: what fell due by an instant.
    UpTo(&'a str),
    /// Those strictly below a sort key: what is older than an instant.
    Below(&'a str),
}

/// One partition of an index, optionally narrowed by sort key, in sort-key order (`forward`)
/// or the reverse. Indexes are read eventually consistent, as DynamoDB requires.
pub(crate) struct IndexQuery<'a> {
    pub client: &'a Client,
    pub table: &'a str,
    pub index: Index,
    pub partition: String,
    pub keys: SortKeys<'a>,
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
        let Index { name, pk, sk } = self.index;
        let query = self
            .client
            .query()
            .table_name(self.table)
            .index_name(name)
            .expression_attribute_values(":pk", s(&self.partition))
            .scan_index_forward(self.forward);
        match self.keys {
            SortKeys::All => query.key_condition_expression(format!("{pk} = :pk")),
            SortKeys::Prefix(prefix) => query
                .key_condition_expression(format!("{pk} = :pk AND begins_with({sk}, :prefix)"))
                .expression_attribute_values(":prefix", s(prefix)),
            SortKeys::Below(end) => query
                .key_condition_expression(format!("{pk} = :pk AND {sk} < :end"))
                .expression_attribute_values(":end", s(end)),
            SortKeys::UpTo(end) => query
                .key_condition_expression(format!("{pk} = :pk AND {sk} <= :end"))
                .expression_attribute_values(":end", s(end)),
            SortKeys::Beyond(start) => {
                let beyond = if self.forward { ">" } else { "<" };
                query
                    .key_condition_expression(format!("{pk} = :pk AND {sk} {beyond} :start"))
                    .expression_attribute_values(":start", s(start))
            }
        }
    }

    /// Every item of the partition, page after page.
    pub async fn all(&self) -> Result<Vec<Item>, StoreError> {
        query_all(self.request()).await
    }

    /// At most `limit` items, from just after `after` (or the start), in one request.
    pub async fn items(&self, limit: i32, after: Option<After>) -> Result<Vec<Item>, StoreError> {
        let Index { pk, sk, .. } = self.index;
        let start = after.map(|after| {
            Item::from([
                ("pk".to_owned(), s(after.pk)),
                ("sk".to_owned(), s(after.sk)),
                (pk.to_owned(), s(&self.partition)),
                (sk.to_owned(), s(after.index_sk)),
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
        page_of_over_fetched(&items, limit, read, start_of)
    }
}

/// The page cut from items read in order with one more than `limit`, each read by `read`.
pub(crate) fn page_of_over_fetched<T, S>(
    items: &[Item],
    limit: u16,
    read: impl Fn(&Item) -> Result<T, StoreError>,
    start_of: impl Fn(&T) -> S,
) -> Result<Page<T, S>, StoreError> {
    let items = items.iter().map(read).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::of_over_fetched(items, limit, start_of))
}
