//! The DynamoDB adapter of the mail desk's records ([`Mailroom`], [`OutgoingMail`]), in the tickets
//! table, each kind in partitions of its own, read and written by key:
//!
//! | item                       | pk                        | sk       | index                                   |
//! |----------------------------|---------------------------|----------|-----------------------------------------|
//! | what a mail became         | `MAIL#<SES id>`           | `MAIL`   |                                         |
//! | a mail kept for staff      | `HELD#<SES id>`           | `HELD`   | gsi4 `HELD#OPEN` / `<received ms>#<id>` |
//! | a mail we sent             | `SENT#<SES id>`           | `SENT`   |                                         |
//! | a sender's last automatic answer | `SENDER#<address key>` | `ACK` |                                     |
//! | an address mail stopped to | `REFUSED#<address key>` | `REFUSED` |                                  |
//! | (contact, `tickets.rs`)    | `PLAYER#<id>`             | `CONTACT`| gsi5 `ADDRESS#<address key>` / `PLAYER#<id>` |
//!
//! `<address key>` is [`MailAddress::lookup_key`]: no key or index spells an address out. The
//! kept mail holds its sender's address, subject and text (personal information, as the
//! tickets' are); nothing else here does. Every record but the kept mail expires with the
//! table's TTL (`expires_at`).

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::dynamo::item::{self, backend, data, from_item, ms, s, to_item, DataItem, Item, Json};
use crate::dynamo::query::{After, Index, IndexQuery, SortKeys};
use crate::dynamo::tickets::DynamoTicketStore;
use guichet_core::common::paging::Page;
use guichet_core::common::player::PlayerId;
use guichet_core::common::reference::TicketReference;
use guichet_core::common::store::StoreError;
use guichet_core::mail::held::{HeldMails, HeldStart};
use guichet_core::mail::message::MailAddress;
use guichet_core::mail::ports::{
    Filed, HeldMail, HeldReason, MailId, Mailroom, OutgoingMail, Refusal,
};

const MAIL_SK: &str = "MAIL";
const HELD_SK: &str = "HELD";
const SENT_SK: &str = "SENT";
const ACK_SK: &str = "ACK";
/// The one partition of gsi4 that lists the mail waiting for staff, oldest first.
pub const HELD_PARTITION: &str = "HELD#OPEN";

/// What a mail became is only looked at by a second delivery of it: SQS keeps a message 14
/// days at most, dead-letter queue included.
const FILED_RETENTION: SignedDuration = SignedDuration::from_hours(30 * 24);
/// A player may answer a mail of ours for long after it went out; two years is the ticket
/// attachments' retention, past which the thread's evidence is gone anyway.
const SENT_RETENTION: SignedDuration = SignedDuration::from_hours(730 * 24);

/// The reverse look-up of a player by their contact address.
pub(crate) const ADDRESS_INDEX: Index = Index {
    name: "gsi5",
    pk: "gsi5pk",
    sk: "gsi5sk",
};

/// `ADDRESS#<lookup key>`: the gsi5 partition of an address.
pub fn address_pk(address: &MailAddress) -> String {
    format!("ADDRESS#{}", address.lookup_key())
}

#[derive(Clone)]
pub struct DynamoMailroom {
    client: Client,
    table: String,
}

impl DynamoMailroom {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn put(&self, item: Item, condition: Option<&str>) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .send()
            .await;
        conditional(result.map(|_| ()))
    }
}

/// `Ok(false)` when the write's condition failed: the record it guards was already there.
fn conditional(
    result: Result<(), SdkError<PutItemError, HttpResponse>>,
) -> Result<bool, StoreError> {
    match result {
        Ok(()) => Ok(true),
        Err(SdkError::ServiceError(service))
            if matches!(
                service.err(),
                PutItemError::ConditionalCheckFailedException(_)
            ) =>
        {
            Ok(false)
        }
        Err(error) => Err(backend(error)),
    }
}

fn expires(at: Timestamp, retention: SignedDuration) -> i64 {
    (at + retention).as_second()
}

/// What a mail became: its [`Filed`] as JSON in `data`.
#[derive(Serialize)]
struct FiledItem<'a> {
    #[serde(flatten)]
    record: DataItem<'a, Filed>,
    filed_at: Timestamp,
    expires_at: i64,
}

fn filed_item(id: &MailId, filed: &Filed, at: Timestamp) -> Result<Item, StoreError> {
    to_item(&FiledItem {
        record: DataItem {
            pk: format!("MAIL#{}", id.as_str()),
            sk: MAIL_SK.to_owned(),
            kind: "mail_filed",
            data: Json(filed),
        },
        filed_at: at,
        expires_at: expires(at, FILED_RETENTION),
    })
}

/// A mail kept for staff, listed in gsi4's `HELD#OPEN` partition until staff deal with it.
#[derive(Serialize, Deserialize)]
struct HeldItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: &'static str,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    mail_id: String,
    received_at: Timestamp,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<String>,
    subject: String,
    text: String,
    attachments: u32,
    #[serde(skip_deserializing)]
    gsi4pk: &'static str,
    #[serde(skip_deserializing)]
    gsi4sk: String,
}

fn held_item(held: &HeldMail) -> Result<Item, StoreError> {
    to_item(&HeldItem {
        pk: format!("HELD#{}", held.id.as_str()),
        sk: HELD_SK,
        kind: "mail_held",
        mail_id: held.id.as_str().to_owned(),
        received_at: held.received_at,
        reason: held.reason.as_str().to_owned(),
        from: held.from.as_ref().map(|a| a.expose().to_owned()),
        ticket: held.ticket.as_ref().map(|r| r.as_str().to_owned()),
        subject: held.subject.clone(),
        text: held.text.clone(),
        attachments: u32::try_from(held.attachments).unwrap_or(u32::MAX),
        gsi4pk: HELD_PARTITION,
        gsi4sk: held_sk(held.received_at, &held.id),
    })
}

#[derive(Serialize, Deserialize)]
struct SentItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: &'static str,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    #[serde(with = "item::reference")]
    reference: TicketReference,
    #[serde(skip_deserializing)]
    sent_at: Timestamp,
    #[serde(skip_deserializing)]
    expires_at: i64,
}

fn sent_pk(ses_message_id: &str) -> String {
    format!("SENT#{ses_message_id}")
}

fn sent_item(
    ses_message_id: &str,
    reference: &TicketReference,
    at: Timestamp,
) -> Result<Item, StoreError> {
    to_item(&SentItem {
        pk: sent_pk(ses_message_id),
        sk: SENT_SK,
        kind: "mail_sent",
        reference: reference.clone(),
        sent_at: at,
        expires_at: expires(at, SENT_RETENTION),
    })
}

/// Records a mail we sent: what [`OutgoingMail`] writes, for whichever store the sender holds.
async fn put_sent(
    client: &Client,
    table: &str,
    ses_message_id: &str,
    reference: &TicketReference,
    at: Timestamp,
) -> Result<(), StoreError> {
    client
        .put_item()
        .table_name(table)
        .set_item(Some(sent_item(ses_message_id, reference, at)?))
        .send()
        .await
        .map_err(backend)?;
    Ok(())
}

const REFUSED_SK: &str = "REFUSED";

fn refused_key(address: &MailAddress) -> Item {
    item::key(format!("REFUSED#{}", address.lookup_key()), REFUSED_SK)
}

/// An address mail no longer goes to. Kept until its owner writes from it again: a bounce or a
/// complaint does not wear off with time.
#[derive(Serialize, Deserialize)]
struct RefusedItem {
    #[serde(skip_deserializing)]
    pk: String,
    #[serde(skip_deserializing)]
    sk: &'static str,
    #[serde(rename = "type", skip_deserializing)]
    kind: &'static str,
    refusal: Refusal,
    #[serde(skip_deserializing)]
    at: Timestamp,
}

async fn get_refused(
    client: &Client,
    table: &str,
    address: &MailAddress,
) -> Result<Option<Refusal>, StoreError> {
    let output = client
        .get_item()
        .table_name(table)
        .set_key(Some(refused_key(address)))
        .send()
        .await
        .map_err(backend)?;
    output
        .item()
        .map(|item| from_item::<RefusedItem>(item).map(|r| r.refusal))
        .transpose()
}

async fn put_refused(
    client: &Client,
    table: &str,
    address: &MailAddress,
    refusal: Refusal,
    at: Timestamp,
) -> Result<(), StoreError> {
    let key = refused_key(address);
    let pk = item::get_s(&key, "pk")?.to_owned();
    let record = to_item(&RefusedItem {
        pk,
        sk: REFUSED_SK,
        kind: "mail_refused",
        refusal,
        at,
    })?;
    client
        .put_item()
        .table_name(table)
        .set_item(Some(record))
        .send()
        .await
        .map_err(backend)?;
    Ok(())
}

async fn delete_refused(
    client: &Client,
    table: &str,
    address: &MailAddress,
) -> Result<(), StoreError> {
    client
        .delete_item()
        .table_name(table)
        .set_key(Some(refused_key(address)))
        .send()
        .await
        .map_err(backend)?;
    Ok(())
}

fn ack_pk(sender: &MailAddress) -> String {
    format!("SENDER#{}", sender.lookup_key())
}

/// The sender's last automatic answer; `at` in epoch milliseconds (`N`) so that the claim's
/// condition compares it as a number.
fn ack_item(sender: &MailAddress, now: Timestamp, interval: SignedDuration) -> Item {
    Item::from([
        ("pk".to_owned(), s(ack_pk(sender))),
        ("sk".to_owned(), s(ACK_SK)),
        ("type".to_owned(), s("mail_ack")),
        (
            "at".to_owned(),
            AttributeValue::N(now.as_millisecond().to_string()),
        ),
        (
            "expires_at".to_owned(),
            AttributeValue::N(expires(now, interval).to_string()),
        ),
    ])
}

/// The player id in a gsi5 entry's sort key (`PLAYER#<id>`).
#[derive(Deserialize)]
struct AddressEntry {
    gsi5sk: String,
}

impl Mailroom for DynamoMailroom {
    async fn filed(&self, id: &MailId) -> Result<Option<Filed>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item::key(format!("MAIL#{}", id.as_str()), MAIL_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        output.item().map(data::<Filed>).transpose()
    }

    async fn record(&self, id: &MailId, filed: &Filed, at: Timestamp) -> Result<(), StoreError> {
        // Unconditional: a second record of one mail says the same (every step is idempotent).
        self.put(filed_item(id, filed, at)?, None).await.map(|_| ())
    }

    async fn players_at(
        &self,
        address: &MailAddress,
        limit: u8,
    ) -> Result<Vec<PlayerId>, StoreError> {
        let query = IndexQuery {
            client: &self.client,
            table: &self.table,
            index: ADDRESS_INDEX,
            partition: address_pk(address),
            keys: SortKeys::Prefix("PLAYER#"),
            forward: true,
        };
        query
            .items(i32::from(limit), None)
            .await?
            .iter()
            .map(|item| {
                let entry: AddressEntry = from_item(item)?;
                entry
                    .gsi5sk
                    .strip_prefix("PLAYER#")
                    .and_then(PlayerId::parse)
                    .ok_or(StoreError::Corrupt {
                        attribute: "gsi5sk",
                    })
            })
            .collect()
    }

    async fn tickets_of_sent(
        &self,
        ids: &[&str],
    ) -> Result<Vec<(String, TicketReference)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys = KeysAndAttributes::builder();
        for id in ids {
            keys = keys.keys(item::key(sent_pk(id), SENT_SK));
        }
        let keys = keys.build().map_err(backend)?;
        let mut request = Some(std::collections::HashMap::from([(
            self.table.clone(),
            keys,
        )]));
        let mut found = Vec::new();
        // At most 20 keys (threading's limit), well within one BatchGetItem's 100; what
        // DynamoDB leaves unprocessed (throttling) is asked again.
        while let Some(items) = request.take().filter(|r| !r.is_empty()) {
            let output = self
                .client
                .batch_get_item()
                .set_request_items(Some(items))
                .send()
                .await
                .map_err(backend)?;
            for item in output
                .responses()
                .and_then(|r| r.get(&self.table))
                .into_iter()
                .flatten()
            {
                let pk = item::get_s(item, "pk")?;
                let id = pk
                    .strip_prefix("SENT#")
                    .ok_or(StoreError::Corrupt { attribute: "pk" })?;
                let sent: SentItem = from_item(item)?;
                found.push((id.to_owned(), sent.reference));
            }
            request = output.unprocessed_keys().cloned();
        }
        Ok(found)
    }

    async fn claim_ack(
        &self,
        sender: &MailAddress,
        now: Timestamp,
        interval: SignedDuration,
    ) -> Result<bool, StoreError> {
        let cutoff = (now - interval).as_millisecond();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(ack_item(sender, now, interval)))
            .condition_expression("attribute_not_exists(pk) OR #at <= :cutoff")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":cutoff", AttributeValue::N(cutoff.to_string()))
            .send()
            .await;
        conditional(result.map(|_| ()))
    }

    async fn release_ack(&self, sender: &MailAddress, at: Timestamp) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item::key(ack_pk(sender), ACK_SK)))
            .condition_expression("#at = :at")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":at", AttributeValue::N(at.as_millisecond().to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Another claim replaced it since: that one is not ours to give back.
            Err(SdkError::ServiceError(service))
                if service.err().is_conditional_check_failed_exception() =>
            {
                Ok(())
            }
            Err(error) => Err(backend(error)),
        }
    }

    async fn hold(&self, held: &HeldMail) -> Result<(), StoreError> {
        self.put(held_item(held)?, Some("attribute_not_exists(pk)"))
            .await
            .map(|_| ())
    }
}

/// Gives every contact written before the address look-up existed its gsi5 entry: what
/// `ContactItem` writes for new contacts. A one-off migration, run once per table after the
/// release that brought inbound mail (`index-contacts`); the only Scan of the table, filtered
/// to contacts without the entry, so a second run finds nothing to do. Each contact is
/// rewritten only if its address is still the one read. Returns how many it indexed.
pub async fn index_contacts(client: &Client, table: &str) -> Result<usize, StoreError> {
    let mut indexed = 0;
    let mut start: Option<Item> = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .filter_expression("sk = :contact AND attribute_not_exists(gsi5pk)")
            .expression_attribute_values(":contact", s("CONTACT"))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(backend)?;
        for contact in page.items() {
            let pk = item::get_s(contact, "pk")?;
            let email = item::get_s(contact, "email")?;
            let (Some(player), Some(address)) = (
                pk.strip_prefix("PLAYER#").and_then(PlayerId::parse),
                MailAddress::parse(email),
            ) else {
                // Not an address mail can be compared with: left out of the look-up, as a new
                // contact would be.
                continue;
            };
            let written = client
                .update_item()
                .table_name(table)
                .set_key(Some(item::key(pk, "CONTACT")))
                .update_expression("SET gsi5pk = :address, gsi5sk = :player")
                .condition_expression("email = :email")
                .expression_attribute_values(":address", s(address_pk(&address)))
                .expression_attribute_values(":player", s(format!("PLAYER#{}", player.as_str())))
                .expression_attribute_values(":email", s(email))
                .send()
                .await;
            match written {
                Ok(_) => indexed += 1,
                // Rewritten meanwhile by a new ticket, which wrote the entry itself.
                Err(SdkError::ServiceError(e))
                    if e.err().is_conditional_check_failed_exception() => {}
                Err(e) => return Err(backend(e)),
            }
        }
        match page.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => return Ok(indexed),
        }
    }
}

/// The open held mail's index: gsi4, in its own partition (the complaints' report reads
/// another).
const HELD_INDEX: Index = crate::dynamo::tickets::COMPLAINT_INDEX;

fn held_sk(received_at: Timestamp, id: &MailId) -> String {
    format!("{}#{}", ms(received_at), id.as_str())
}

fn held_from(item: &Item) -> Result<HeldMail, StoreError> {
    let read: HeldItem = from_item(item)?;
    let corrupt = |attribute| StoreError::Corrupt { attribute };
    Ok(HeldMail {
        id: MailId::parse(&read.mail_id).ok_or(corrupt("mail_id"))?,
        received_at: read.received_at,
        reason: HeldReason::parse(&read.reason).ok_or(corrupt("reason"))?,
        from: match read.from {
            Some(from) => Some(MailAddress::parse(&from).ok_or(corrupt("from"))?),
            None => None,
        },
        ticket: match read.ticket {
            Some(ticket) => Some(TicketReference::parse(&ticket).map_err(|_| corrupt("ticket"))?),
            None => None,
        },
        subject: read.subject,
        text: read.text,
        attachments: usize::try_from(read.attachments).unwrap_or(usize::MAX),
    })
}

impl HeldMails for DynamoMailroom {
    async fn held(
        &self,
        limit: u16,
        start: Option<&HeldStart>,
    ) -> Result<Page<HeldMail, HeldStart>, StoreError> {
        let query = IndexQuery {
            client: &self.client,
            table: &self.table,
            index: HELD_INDEX,
            partition: HELD_PARTITION.to_owned(),
            keys: SortKeys::All,
            forward: true,
        };
        let after = start.map(|s| After {
            pk: format!("HELD#{}", s.id.as_str()),
            sk: HELD_SK,
            index_sk: held_sk(s.received_at, &s.id),
        });
        query
            .page(limit, after, held_from, |last| HeldStart {
                received_at: last.received_at,
                id: last.id.clone(),
            })
            .await
    }
}

/// [`OutgoingMail`] on a store of the tickets table (its `client` and `table`): the mail
/// records are the table's, whichever store holds it.
macro_rules! outgoing_mail_on_the_table {
    ($store:ty) => {
        impl OutgoingMail for $store {
            async fn record_sent(
                &self,
                ses_message_id: &str,
                reference: &TicketReference,
                at: Timestamp,
            ) -> Result<(), StoreError> {
                put_sent(&self.client, &self.table, ses_message_id, reference, at).await
            }

            async fn refused(&self, address: &MailAddress) -> Result<Option<Refusal>, StoreError> {
                get_refused(&self.client, &self.table, address).await
            }

            async fn refuse(
                &self,
                address: &MailAddress,
                refusal: Refusal,
                at: Timestamp,
            ) -> Result<(), StoreError> {
                put_refused(&self.client, &self.table, address, refusal, at).await
            }

            async fn accept_again(&self, address: &MailAddress) -> Result<(), StoreError> {
                delete_refused(&self.client, &self.table, address).await
            }
        }
    };
}

outgoing_mail_on_the_table!(DynamoMailroom);
// The notification sender holds the tickets store (contacts and notifications): it records
// the mails it sends, and reads the refused addresses, through it.
outgoing_mail_on_the_table!(DynamoTicketStore);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::item::expect::{item, num, text};
    use guichet_core::mail::ports::HeldReason;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    #[test]
    fn no_key_spells_an_address_out() {
        let address = MailAddress::parse("joueur@exemple.ca").expect("valid");
        for key in [address_pk(&address), ack_pk(&address)] {
            assert!(!key.contains("joueur"), "{key}");
            assert!(key.ends_with(&address.lookup_key()), "{key}");
        }
        let item = ack_item(
            &address,
            at("2026-12-03T15:00:00Z"),
            SignedDuration::from_hours(24),
        );
        assert_eq!(item.get("at"), Some(&num("1796310000000")));
        assert_eq!(item.get("expires_at"), Some(&num("1796396400")));
    }

    #[test]
    fn what_a_mail_became_reads_back_and_expires() {
        let id = MailId::parse("abc123").expect("valid");
        let filed = Filed::Answered {
            reference: TicketReference::from_random([2; 9]),
        };
        let written = filed_item(&id, &filed, at("2026-12-03T15:00:00Z")).expect("item");
        assert_eq!(written.get("pk"), Some(&text("MAIL#abc123")));
        assert_eq!(data::<Filed>(&written).expect("read"), filed);
        assert!(written.contains_key("expires_at"));
    }

    #[test]
    fn a_held_mail_is_listed_for_staff_by_arrival() {
        let held = HeldMail {
            id: MailId::parse("abc123").expect("valid"),
            received_at: at("2026-12-03T15:00:00Z"),
            reason: HeldReason::UnknownSender,
            from: MailAddress::parse("inconnu@ailleurs.ca"),
            ticket: None,
            subject: "Bonjour".into(),
            text: "Une question.".into(),
            attachments: 1,
        };
        let written = held_item(&held).expect("item");
        assert_eq!(written.get("gsi4pk"), Some(&text(HELD_PARTITION)));
        assert_eq!(written.get("gsi4sk"), Some(&text("001796310000000#abc123")));
        assert_eq!(written.get("reason"), Some(&text("unknown_sender")));
        assert!(!written.contains_key("expires_at"));
        assert_eq!(held_from(&written).expect("read"), held);
        let _ = item([("pk", text("x"))]);
    }

    #[test]
    fn a_sent_mail_names_its_ticket() {
        let reference = TicketReference::from_random([5; 9]);
        let written =
            sent_item("0100019abc", &reference, at("2026-12-03T15:00:00Z")).expect("item");
        assert_eq!(written.get("pk"), Some(&text("SENT#0100019abc")));
        let read: SentItem = from_item(&written).expect("read");
        assert_eq!(read.reference, reference);
    }
}
