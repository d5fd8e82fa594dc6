//! The local emulator's transactions, through the real SDK: `scripts/emulator.py` replaces
//! moto's whole-table backup with a copy of the items a transaction touches, so a cancelled
//! transaction must still leave every one of them exactly as it was.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use guichet_tests::{error_chain, fresh_stack};

type Item = HashMap<String, AttributeValue>;

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn n(value: &str) -> AttributeValue {
    AttributeValue::N(value.to_owned())
}

fn key(pk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s("ITEM"))])
}

fn item(pk: &str, attributes: &[(&str, AttributeValue)]) -> Item {
    let mut item = key(pk);
    item.extend(attributes.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    item
}

/// What the table holds before each transaction: four items the transaction names (one to
/// overwrite, one to update, one to delete, one to check) and one it does not. The updated one
/// has a nested map, which moto's Update changes in place.
fn seeded() -> Vec<Item> {
    vec![
        item("T#PUT", &[("note", s("before")), ("n", n("1"))]),
        item(
            "T#UPDATE",
            &[
                ("count", n("1")),
                (
                    "nested",
                    AttributeValue::M(HashMap::from([
                        ("x".to_owned(), s("before")),
                        ("list".to_owned(), AttributeValue::L(vec![n("1"), s("two")])),
                    ])),
                ),
            ],
        ),
        item("T#DELETE", &[("note", s("to delete"))]),
        item("T#CHECK", &[("state", s("open"))]),
        item("T#UNTOUCHED", &[("note", s("not in the transaction"))]),
    ]
}

/// Put of a new item, Put over an existing one, Update, Delete, and a ConditionCheck that
/// expects `state` to be `expected_state`: the one entry that can fail.
fn five_entries(table: &str, expected_state: &str) -> Vec<TransactWriteItem> {
    let new = Put::builder()
        .table_name(table)
        .set_item(Some(item("T#NEW", &[("note", s("created"))])))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .expect("a put");
    let overwrite = Put::builder()
        .table_name(table)
        .set_item(Some(item("T#PUT", &[("note", s("after"))])))
        .build()
        .expect("a put");
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key("T#UPDATE")))
        .update_expression("SET #count = #count + :one, nested.x = :after REMOVE nested.#list")
        .expression_attribute_names("#count", "count")
        .expression_attribute_names("#list", "list")
        .expression_attribute_values(":one", n("1"))
        .expression_attribute_values(":after", s("after"))
        .build()
        .expect("an update");
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key("T#DELETE")))
        .build()
        .expect("a delete");
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key("T#CHECK")))
        .condition_expression("#state = :state")
        .expression_attribute_names("#state", "state")
        .expression_attribute_values(":state", s(expected_state))
        .build()
        .expect("a condition check");
    vec![
        TransactWriteItem::builder().put(new).build(),
        TransactWriteItem::builder().put(overwrite).build(),
        TransactWriteItem::builder().update(update).build(),
        TransactWriteItem::builder().delete(delete).build(),
        TransactWriteItem::builder().condition_check(check).build(),
    ]
}

/// Every item in the table, in key order.
async fn everything(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<Item> {
    let scanned = client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("Scan: {}", error_chain(&e)));
    assert!(scanned.last_evaluated_key().is_none(), "one page expected");
    let mut items = scanned.items().to_vec();
    items.sort_by_key(|i| format!("{:?}", i.get("pk")));
    items
}

async fn seed(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<Item> {
    for item in seeded() {
        client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutItem: {}", error_chain(&e)));
    }
    let before = everything(client, table).await;
    assert_eq!(before.len(), seeded().len(), "{before:?}");
    before
}

#[tokio::test]
async fn a_cancelled_transaction_leaves_every_item_it_touched_as_it_was() {
    let stack = fresh_stack().await;
    let (client, table) = (stack.dynamodb(), stack.tickets_table.as_str());
    let before = seed(&client, table).await;

    let error = client
        .transact_write_items()
        .set_transact_items(Some(five_entries(table, "closed")))
        .send()
        .await
        .expect_err("the condition check fails, so the transaction is cancelled");
    let reasons: Vec<_> = match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or_default().to_owned())
            .collect(),
        _ => panic!("expected a cancellation: {}", error_chain(&error)),
    };
    assert_eq!(
        reasons,
        ["None", "None", "None", "None", "ConditionalCheckFailed"]
    );

    // The overwritten, updated (nested map included) and deleted items are back as they were,
    // the new one is absent, and nothing else changed.
    assert_eq!(everything(&client, table).await, before);

    // The restored items are live ones: the same transaction, now able to pass, applies.
    client
        .transact_write_items()
        .set_transact_items(Some(five_entries(table, "open")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("TransactWriteItems: {}", error_chain(&e)));
    assert_eq!(everything(&client, table).await, applied());
}

#[tokio::test]
async fn a_transaction_whose_conditions_hold_applies_every_entry() {
    let stack = fresh_stack().await;
    let (client, table) = (stack.dynamodb(), stack.tickets_table.as_str());
    seed(&client, table).await;

    client
        .transact_write_items()
        .set_transact_items(Some(five_entries(table, "open")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("TransactWriteItems: {}", error_chain(&e)));
    assert_eq!(everything(&client, table).await, applied());
}

/// The table after the five entries applied to [`seeded`], in key order.
fn applied() -> Vec<Item> {
    vec![
        item("T#CHECK", &[("state", s("open"))]),
        item("T#NEW", &[("note", s("created"))]),
        item("T#PUT", &[("note", s("after"))]),
        item("T#UNTOUCHED", &[("note", s("not in the transaction"))]),
        item(
            "T#UPDATE",
            &[
                ("count", n("2")),
                (
                    "nested",
                    AttributeValue::M(HashMap::from([("x".to_owned(), s("after"))])),
                ),
            ],
        ),
    ]
}
