//! The players' notifications as the sender reads them back ([`NotificationRecords`]): each is
//! kept in the item collection of what it is about, written in the same transaction as the
//! change that owes it,
//!
//! | item         | pk               | sk                          |
//! |--------------|------------------|-----------------------------|
//! | notification | `TICKET#<ref>`   | `NOTIFICATION#<at ms>#<id>` |
//! | notification | `CASE#<id>`      | `NOTIFICATION#<at ms>#<id>` |
//!
//! and owned by the player of that ticket or case, read from its item's player-index key
//! (`gsi1pk`, `PLAYER#<id>`), the one place the owner is kept.

use guichet_core::common::player::PlayerId;
use guichet_core::common::store::StoreError;
use guichet_core::notifications::ports::NotificationRecords;
use guichet_core::notifications::rules::{About, Notification, StoredNotification};
use guichet_core::outbox::rules::MessageId;
use jiff::Timestamp;
use serde::Deserialize;

use crate::dynamo::cases::{case_pk, CASE_SK};
use crate::dynamo::item::{backend, data, from_item, key, ms, to_item, DataItem, Item, Json};
use crate::dynamo::tickets::{ticket_pk, DynamoTicketStore, NOTIFICATION_PREFIX, TICKET_SK};

/// The notification item of `notification`, in the collection `pk` of its ticket or case.
pub(crate) fn notification_item(
    pk: String,
    notification: &Notification,
) -> Result<Item, StoreError> {
    to_item(&DataItem {
        pk,
        sk: notification_sk(&notification.id, notification.at),
        kind: "notification",
        data: Json(notification),
    })
}

fn notification_sk(id: &MessageId, at: Timestamp) -> String {
    format!("{NOTIFICATION_PREFIX}{}#{id}", ms(at))
}

/// The partition and root item of what a notification is about.
fn collection(about: &About) -> (String, &'static str) {
    match about {
        About::Ticket(reference) => (ticket_pk(reference), TICKET_SK),
        About::Case(case) => (case_pk(case), CASE_SK),
    }
}

/// The player-index key of a ticket or case item.
#[derive(Deserialize)]
struct OwnerItem {
    gsi1pk: String,
}

fn owner(item: &Item) -> Result<PlayerId, StoreError> {
    let OwnerItem { gsi1pk } = from_item(item)?;
    gsi1pk
        .strip_prefix("PLAYER#")
        .and_then(PlayerId::parse)
        .ok_or(StoreError::Corrupt {
            attribute: "gsi1pk",
        })
}

impl DynamoTicketStore {
    async fn get(
        &self,
        item_key: Item,
        projection: Option<&str>,
    ) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .set_projection_expression(projection.map(str::to_owned))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(output.item)
    }
}

impl NotificationRecords for DynamoTicketStore {
    async fn stored(
        &self,
        about: &About,
        id: &MessageId,
        at: Timestamp,
    ) -> Result<Option<StoredNotification>, StoreError> {
        let (pk, root_sk) = collection(about);
        let Some(item) = self
            .get(key(pk.clone(), notification_sk(id, at)), None)
            .await?
        else {
            return Ok(None);
        };
        let notification: Notification = data(&item)?;
        // The notification was written with its ticket or case, which is never deleted while
        // a notification of it is on its way; without one, nothing is owed.
        let Some(root) = self.get(key(pk, root_sk), Some("gsi1pk")).await? else {
            return Ok(None);
        };
        Ok(Some(StoredNotification {
            owner: owner(&root)?,
            notification,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::item::expect::{item, text};
    use guichet_core::common::player::Language;
    use guichet_core::notifications::rules::NotificationKind;

    #[test]
    fn the_owner_is_read_from_the_player_index_key_only() {
        assert_eq!(
            owner(&item([("gsi1pk", text("PLAYER#p-1"))])).expect("owner"),
            PlayerId::parse("p-1").expect("valid")
        );
        for damaged in ["p-1", "PLAYER#", "TEAM#p-1"] {
            assert!(matches!(
                owner(&item([("gsi1pk", text(damaged))])),
                Err(StoreError::Corrupt {
                    attribute: "gsi1pk"
                })
            ));
        }
    }

    #[test]
    fn a_notification_item_is_keyed_by_time_and_id_in_its_collection() {
        let notification = Notification {
            id: MessageId::from_bytes([1; 16]),
            kind: NotificationKind::VerificationApproved,
            language: Language::En,
            subject: "s".into(),
            body: "b".into(),
            at: "2026-12-01T10:00:00Z".parse().expect("valid"),
        };
        let written =
            notification_item("CASE#VC-7K2M9Q4XW3BD".into(), &notification).expect("item");
        assert_eq!(
            written
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str),
            Some("NOTIFICATION#001796119200000#01010101010101010101010101010101")
        );
        assert_eq!(
            data::<Notification>(&written).expect("read back"),
            notification
        );
    }
}
