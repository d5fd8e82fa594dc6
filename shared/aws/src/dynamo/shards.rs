//! Index partitions spread over shards. A listing whose entries change with every change of
//! their item (a team's queue, the review queue, a team's current incidents, the outbox) would
//! put all those writes on one index partition key, and one key takes about 1,000 writes per
//! second; a throttled index throttles the table's writes with it. So each item's entry goes to
//! one of a few shards (`<partition>#<shard>`), chosen by its random id so that the shards fill
//! evenly and the item stays in its shard for its whole life. A listing reads every shard, and
//! the unsharded partition of before (whatever was written there before the sharding is still
//! listed, until its item's next write moves it), and merges them in sort-key order.

use aws_sdk_dynamodb::Client;
use futures_util::future::try_join_all;

use crate::dynamo::item::{get_s, Item};
use crate::dynamo::query::{page_of_over_fetched, Index, IndexQuery, SortKeys};
use guichet_core::common::paging::Page;
use guichet_core::common::store::StoreError;

/// A listing's partition key spread over `count` shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shards {
    /// The partition key of before the sharding (`QUEUE#games`), which each shard's key
    /// extends (`QUEUE#games#0`).
    unsharded: String,
    count: u8,
}

impl Shards {
    /// At least one shard, and at most sixteen so that a shard is one hex digit.
    pub fn new(unsharded: impl Into<String>, count: u8) -> Self {
        Self {
            unsharded: unsharded.into(),
            count: count.clamp(1, 16),
        }
    }

    /// The partition an item's entry is written to, from its random symbols (an id without its
    /// fixed prefix).
    pub fn partition_of(&self, random: &str) -> String {
        self.shard_key(shard(random, self.count))
    }

    /// Every partition a listing reads: the shards, then the unsharded one of before.
    pub fn partitions(&self) -> impl Iterator<Item = String> + '_ {
        (0..self.count)
            .map(|shard| self.shard_key(shard))
            .chain(std::iter::once(self.unsharded.clone()))
    }

    fn shard_key(&self, shard: u8) -> String {
        format!("{}#{shard:x}", self.unsharded)
    }
}

/// The shard of an item: the value of the first of its random symbols, read as a base-36
/// digit (the hex message ids and the base-32 references and ids alike: each symbol equally
/// likely, so the shards fill evenly), modulo the shard count. A symbol that is no digit (never
/// for a valid id) goes to shard 0.
pub(crate) fn shard(random: &str, count: u8) -> u8 {
    let value = random
        .chars()
        .next()
        .and_then(|symbol| symbol.to_digit(36))
        .unwrap_or(0);
    u8::try_from(value % u32::from(count.max(1))).unwrap_or(0)
}

/// The first `keep` entries of several partitions' reads, each read in the listing's order
/// (`forward`: ascending sort keys), in that order. An entry is its index sort key and its
/// item. Sort keys are unique to their item (they end with its id), so an equal key read twice
/// is one item seen in two partitions at once (moving from the unsharded partition into its
/// shard: index updates are asynchronous), listed once.
pub(crate) fn merge<T>(
    reads: impl IntoIterator<Item = Vec<(String, T)>>,
    forward: bool,
    keep: usize,
) -> Vec<T> {
    let mut entries: Vec<(String, T)> = reads.into_iter().flatten().collect();
    if forward {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
    } else {
        entries.sort_by(|a, b| b.0.cmp(&a.0));
    }
    entries.dedup_by(|a, b| a.0 == b.0);
    entries.truncate(keep);
    entries.into_iter().map(|(_, item)| item).collect()
}

/// A sharded listing on an index: its shards, read in sort-key order (`forward`) or the
/// reverse (newest first).
pub(crate) struct ShardedIndex<'a> {
    pub client: &'a Client,
    pub table: &'a str,
    pub index: Index,
    pub shards: Shards,
    pub forward: bool,
}

impl ShardedIndex<'_> {
    /// The first `count` entries strictly beyond the sort key `after` (or from the start), in
    /// the listing's order. Each partition is asked for `count` from there, all at once: the
    /// first `count` of the listing are among them, whichever partitions they are in.
    pub async fn items(&self, count: usize, after: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let keys = after.map_or(SortKeys::All, SortKeys::Beyond);
        let limit = i32::try_from(count).unwrap_or(i32::MAX);
        let reads = try_join_all(self.shards.partitions().map(|partition| async move {
            let query = IndexQuery {
                client: self.client,
                table: self.table,
                index: self.index,
                partition,
                keys,
                forward: self.forward,
            };
            let items = query.items(limit, None).await?;
            items
                .into_iter()
                .map(|item| Ok((get_s(&item, self.index.sk)?.to_owned(), item)))
                .collect::<Result<Vec<_>, StoreError>>()
        }))
        .await?;
        Ok(merge(reads, self.forward, count))
    }

    /// A page of at most `limit` items, each read by `read`, from just beyond the sort key
    /// `after`, the page's cursor. One more is read: it tells whether another page follows
    /// (see [`Page::of_over_fetched`]), which starts beyond the page's last item (`start_of`).
    pub async fn page<T, S>(
        &self,
        limit: u16,
        after: Option<&str>,
        read: impl Fn(&Item) -> Result<T, StoreError>,
        start_of: impl Fn(&T) -> S,
    ) -> Result<Page<T, S>, StoreError> {
        let items = self.items(usize::from(limit) + 1, after).await?;
        page_of_over_fetched(&items, limit, read, start_of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn an_items_shard_is_fixed_by_its_first_random_symbol() {
        let queue = Shards::new("QUEUE#games", 4);
        // '9' is 9, modulo 4: 1; 'A' is 10: 2; whatever follows does not count.
        assert_eq!(queue.partition_of("9999999992"), "QUEUE#games#1");
        assert_eq!(queue.partition_of("9ZZZZZZZZZ"), "QUEUE#games#1");
        assert_eq!(queue.partition_of("A000000000"), "QUEUE#games#2");
        assert_eq!(queue.partition_of("a000000000"), "QUEUE#games#2");
        // Sixteen shards are the hex digits: a hex id's first digit is its shard.
        let outbox = Shards::new("OUTBOX", 16);
        assert_eq!(outbox.partition_of("ab01"), "OUTBOX#a");
        assert_eq!(outbox.partition_of("f0"), "OUTBOX#f");
        // Never a shard that is not read: nothing, or a symbol that is no digit, goes to 0.
        assert_eq!(queue.partition_of(""), "QUEUE#games#0");
        assert_eq!(queue.partition_of("-1"), "QUEUE#games#0");
        assert_eq!(Shards::new("X", 0).partition_of("7"), "X#0");
    }

    #[test]
    fn the_shards_spread_every_alphabet_evenly() {
        use guichet_core::common::id::ID_ALPHABET;
        let spread = |alphabet: &[u8], count: u8| {
            let mut per_shard = BTreeMap::new();
            for symbol in alphabet {
                let random = char::from(*symbol).to_string();
                *per_shard.entry(shard(&random, count)).or_insert(0) += 1;
            }
            per_shard
        };
        // The base-32 ids (cases, incidents): 8, 8, 7 and 9 of the 32 symbols.
        let ids = spread(ID_ALPHABET, 4);
        assert_eq!(ids.len(), 4);
        assert!(ids.values().all(|n| (7..=9).contains(n)), "{ids:?}");
        // Ticket references: the same alphabet without `V`.
        let references: Vec<u8> = ID_ALPHABET.iter().copied().filter(|s| *s != b'V').collect();
        let tickets = spread(&references, 4);
        assert_eq!(tickets.len(), 4);
        assert!(tickets.values().all(|n| (6..=9).contains(n)), "{tickets:?}");
        // Hex message ids over sixteen shards: one digit each.
        let hex = spread(b"0123456789abcdef", 16);
        assert_eq!(hex.len(), 16);
        assert!(hex.values().all(|n| *n == 1), "{hex:?}");
    }

    #[test]
    fn a_listing_reads_every_shard_and_the_partition_of_before_once() {
        let partitions: Vec<String> = Shards::new("REVIEW#senior", 4).partitions().collect();
        assert_eq!(
            partitions,
            [
                "REVIEW#senior#0",
                "REVIEW#senior#1",
                "REVIEW#senior#2",
                "REVIEW#senior#3",
                "REVIEW#senior"
            ]
        );
        // Whatever an item's random symbols, its shard is one of them.
        let shards = Shards::new("INCIDENTS#games", 4);
        let read: Vec<String> = shards.partitions().collect();
        for symbol in guichet_core::common::id::ID_ALPHABET {
            let random = char::from(*symbol).to_string();
            assert!(read.contains(&shards.partition_of(&random)), "{random}");
        }
    }

    /// A partition of the index in memory: its sort keys, in order.
    type Partition = Vec<String>;

    /// What one partition's `Query` answers: at most `limit` sort keys strictly beyond `after`
    /// in the read's direction (`gsi2sk > :start`, or `<` newest first).
    fn query(
        partition: &Partition,
        forward: bool,
        after: Option<&str>,
        limit: usize,
    ) -> Vec<String> {
        let mut keys = partition.clone();
        keys.sort();
        if !forward {
            keys.reverse();
        }
        keys.into_iter()
            .filter(|key| match after {
                Some(after) if forward => key.as_str() > after,
                Some(after) => key.as_str() < after,
                None => true,
            })
            .take(limit)
            .collect()
    }

    /// Every page of a sharded listing, `limit` at a time, as [`ShardedIndex::page`] cuts them:
    /// `limit + 1` from each partition, merged, the page and whether another follows, the next
    /// page beyond the last one's last key.
    fn pages(partitions: &[Partition], forward: bool, limit: u16) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let wanted = usize::from(limit) + 1;
            let reads = partitions.iter().map(|partition| {
                query(partition, forward, after.as_deref(), wanted)
                    .into_iter()
                    .map(|key| (key.clone(), key))
                    .collect::<Vec<_>>()
            });
            let page = Page::of_over_fetched(merge(reads, forward, wanted), limit, Clone::clone);
            pages.push(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => return pages,
            }
        }
    }

    /// Twelve entries (`<rank>#<ms>#<id>`) over four shards and the partition of before.
    fn listing() -> Vec<Partition> {
        let key = |rank: u8, ms: u32, id: &str| format!("{rank}#{ms:015}#{id}");
        vec![
            vec![key(0, 5, "A1"), key(1, 1, "A2"), key(2, 9, "A3")],
            vec![
                key(0, 1, "B1"),
                key(0, 2, "B2"),
                key(0, 3, "B3"),
                key(2, 1, "B4"),
            ],
            vec![],
            vec![key(1, 7, "D1"), key(2, 2, "D2")],
            // Written before the sharding: still listed, in its place.
            vec![key(0, 4, "L1"), key(1, 3, "L2"), key(2, 5, "L3")],
        ]
    }

    #[test]
    fn pages_across_shards_list_every_entry_once_in_order() {
        let partitions = listing();
        let mut every: Vec<String> = partitions.iter().flatten().cloned().collect();
        every.sort();
        for limit in [1, 2, 3, 4, 5, 11, 12, 13, 50] {
            let pages = pages(&partitions, true, limit);
            assert!(pages.iter().all(|page| page.len() <= usize::from(limit)));
            // No empty last page: the over-fetched entry told whether one followed.
            assert!(pages.iter().all(|page| !page.is_empty()), "{limit}");
            let listed: Vec<String> = pages.concat();
            assert_eq!(listed, every, "{limit} a page");
        }
        // Newest first: the same, in reverse.
        every.reverse();
        for limit in [1, 2, 5, 12, 13] {
            assert_eq!(pages(&partitions, false, limit).concat(), every, "{limit}");
        }
    }

    #[test]
    fn entries_written_before_the_sharding_are_listed_in_their_place() {
        let partitions = listing();
        let first = &pages(&partitions, true, 4)[0];
        // `0#…4#L1` (the partition of before) between shard 1's third and shard 0's first.
        assert_eq!(
            first.iter().map(|k| &k[k.len() - 2..]).collect::<Vec<_>>(),
            ["B1", "B2", "B3", "L1"]
        );
        // Only the partition of before: a listing as it was.
        let before = vec![vec![], vec![], vec![], vec![], partitions[4].clone()];
        assert_eq!(pages(&before, true, 2).concat(), partitions[4]);
    }

    #[test]
    fn an_item_seen_in_two_partitions_at_once_is_listed_once() {
        let moving = "1#000000000000003#L2".to_owned();
        let reads = vec![
            vec![(moving.clone(), "shard"), ("2#x".into(), "shard")],
            vec![("0#x".into(), "before"), (moving.clone(), "before")],
        ];
        let merged = merge(reads, true, 10);
        assert_eq!(merged.len(), 3);
        assert_eq!(
            merge(Vec::<Vec<(String, ())>>::new(), true, 10),
            Vec::<()>::new()
        );
        // And the page is cut after the duplicate is gone.
        let keys = merge(
            vec![
                vec![(moving.clone(), moving.clone())],
                vec![
                    (moving.clone(), moving.clone()),
                    ("2#y".into(), "2#y".into()),
                ],
            ],
            true,
            2,
        );
        assert_eq!(keys, [moving, "2#y".to_owned()]);
    }
}
