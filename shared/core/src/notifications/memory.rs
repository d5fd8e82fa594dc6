//! Contacts, the delivery ledger and the e-mail sender in memory (feature `mocks`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;

use crate::common::contact::ContactAddress;
use crate::common::player::PlayerId;
use crate::common::store::StoreError;
use crate::outbox::rules::MessageId;

// ---------------------------------------------------------------------------------------------
// Notifications: addresses, delivery records and an e-mail service in memory.

use crate::notifications::ports::{Claim, Email, EmailError, Settled};
use crate::notifications::rules::{About, Notification, StoredNotification};
use crate::outbox::memory::Refused;
use crate::tickets::memory::FixedClock;

/// Players' addresses and the notifications stored with their tickets and cases;
/// `fail_next(n)` makes the next `n` address look-ups fail as a store outage.
#[derive(Default)]
pub struct MemoryContacts {
    addresses: Mutex<BTreeMap<String, ContactAddress>>,
    /// By (what it is about, id, time), as the table keys them.
    notifications: Mutex<BTreeMap<(String, MessageId, Timestamp), StoredNotification>>,
    failures: std::sync::atomic::AtomicUsize,
    sent: Mutex<BTreeMap<String, crate::common::reference::TicketReference>>,
    refused: Mutex<Vec<String>>,
}

impl MemoryContacts {
    /// Keeps `notification` about `about`, whose ticket or case `owner` owns.
    pub fn store(&self, about: About, owner: &PlayerId, notification: &Notification) {
        self.notifications
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                (
                    about.as_str().to_owned(),
                    notification.id.clone(),
                    notification.at,
                ),
                StoredNotification {
                    owner: owner.clone(),
                    notification: notification.clone(),
                },
            );
    }

    pub fn set(&self, player: &PlayerId, address: ContactAddress) {
        self.addresses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(player.as_str().to_owned(), address);
    }

    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Takes one of the failures `counter` was told to produce, if any is left.
fn take_failure(counter: &std::sync::atomic::AtomicUsize) -> bool {
    counter
        .fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |n| n.checked_sub(1),
        )
        .is_ok()
}

impl crate::notifications::ports::ContactBook for MemoryContacts {
    async fn contact_of(&self, player: &PlayerId) -> Result<Option<ContactAddress>, StoreError> {
        if take_failure(&self.failures) {
            return Err(StoreError::Backend(Box::new(Refused)));
        }
        Ok(self
            .addresses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(player.as_str())
            .cloned())
    }
}

impl crate::notifications::ports::NotificationRecords for MemoryContacts {
    async fn stored(
        &self,
        about: &About,
        id: &MessageId,
        at: Timestamp,
    ) -> Result<Option<StoredNotification>, StoreError> {
        Ok(self
            .notifications
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(about.as_str().to_owned(), id.clone(), at))
            .cloned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeliveryRecord {
    Sending { lease_until: Timestamp },
    Settled(Settled),
}

/// Delivery records with the DynamoDB ledger's conditions.
#[derive(Default)]
pub struct MemoryDeliveryLedger {
    records: Mutex<BTreeMap<MessageId, DeliveryRecord>>,
}

impl MemoryDeliveryLedger {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<MessageId, DeliveryRecord>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The record's `state` as the DynamoDB ledger stores it: `sending`, `sent`, `no_address`.
    pub fn state(&self, id: &MessageId) -> Option<String> {
        self.lock().get(id).map(|record| {
            match record {
                DeliveryRecord::Sending { .. } => "sending",
                DeliveryRecord::Settled(Settled::Sent) => "sent",
                DeliveryRecord::Settled(Settled::NoAddress) => "no_address",
            }
            .to_owned()
        })
    }
}

impl crate::notifications::ports::DeliveryLedger for MemoryDeliveryLedger {
    async fn claim(
        &self,
        id: &MessageId,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Claim, StoreError> {
        let mut records = self.lock();
        match records.get(id) {
            Some(DeliveryRecord::Settled(settled)) => Ok(Claim::Settled(*settled)),
            Some(DeliveryRecord::Sending { lease_until: until }) if *until >= now => {
                Ok(Claim::Held { until: *until })
            }
            _ => {
                records.insert(id.clone(), DeliveryRecord::Sending { lease_until });
                Ok(Claim::Claimed)
            }
        }
    }

    async fn mark_sent(
        &self,
        id: &MessageId,
        _provider_message_id: &str,
        _sent_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.lock()
            .insert(id.clone(), DeliveryRecord::Settled(Settled::Sent));
        Ok(())
    }

    async fn mark_no_address(&self, id: &MessageId, _at: Timestamp) -> Result<(), StoreError> {
        self.lock()
            .insert(id.clone(), DeliveryRecord::Settled(Settled::NoAddress));
        Ok(())
    }

    async fn release(&self, id: &MessageId, lease_until: Timestamp) -> Result<(), StoreError> {
        let mut records = self.lock();
        if records.get(id) == Some(&DeliveryRecord::Sending { lease_until }) {
            records.remove(id);
        }
        Ok(())
    }
}

/// An e-mail the in-memory service accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub reply_to: Option<String>,
    pub auto_submitted: String,
    pub provider_message_id: String,
}

/// An e-mail service that keeps what it is given; `fail_next(n)` makes the next `n` sends fail
/// as SES throttling would.
#[derive(Default)]
pub struct MemoryEmailSender {
    sent: Mutex<Vec<SentEmail>>,
    failures: std::sync::atomic::AtomicUsize,
}

impl MemoryEmailSender {
    pub fn sent(&self) -> Vec<SentEmail> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

impl crate::notifications::ports::EmailSender for MemoryEmailSender {
    async fn send(&self, email: Email<'_>) -> Result<String, EmailError> {
        if take_failure(&self.failures) {
            return Err(EmailError::Refused {
                code: "TooManyRequestsException".into(),
            });
        }
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let provider_message_id = format!("memory-{}", sent.len() + 1);
        sent.push(SentEmail {
            from: email.from.to_owned(),
            to: email.to.expose().to_owned(),
            subject: email.subject.to_owned(),
            body: email.body.to_owned(),
            reply_to: email.reply_to.map(|r| r.expose().to_owned()),
            auto_submitted: email.auto_submitted.to_owned(),
            provider_message_id: provider_message_id.clone(),
        });
        Ok(provider_message_id)
    }
}

/// The notification sender over the in-memory ports, its clock fixed at `now`, sending from
/// `soutien@guichet.example`.
pub fn sender(
    now: &str,
) -> crate::notifications::sender::Sender<MemoryContacts, MemoryDeliveryLedger, MemoryEmailSender> {
    crate::notifications::sender::Sender {
        contacts: MemoryContacts::default(),
        ledger: MemoryDeliveryLedger::default(),
        email: MemoryEmailSender::default(),
        clock: Box::new(FixedClock::at(now)),
        from: "soutien@guichet.example".into(),
        replies: None,
    }
}

/// The sent mails' ids, recorded as the DynamoDB adapter records them beside the contacts.
impl crate::mail::ports::OutgoingMail for MemoryContacts {
    async fn record_sent(
        &self,
        ses_message_id: &str,
        reference: &crate::common::reference::TicketReference,
        _at: Timestamp,
    ) -> Result<(), StoreError> {
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ses_message_id.to_owned(), reference.clone());
        Ok(())
    }

    async fn refused(
        &self,
        address: &crate::mail::message::MailAddress,
    ) -> Result<Option<crate::mail::ports::Refusal>, StoreError> {
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        Ok(refused
            .iter()
            .any(|r| r == address.expose())
            .then_some(crate::mail::ports::Refusal::Bounce))
    }

    async fn refuse(
        &self,
        address: &crate::mail::message::MailAddress,
        _refusal: crate::mail::ports::Refusal,
        _at: Timestamp,
    ) -> Result<(), StoreError> {
        self.refuse(address.expose());
        Ok(())
    }

    async fn accept_again(
        &self,
        address: &crate::mail::message::MailAddress,
    ) -> Result<(), StoreError> {
        self.refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|r| r != address.expose());
        Ok(())
    }
}

impl MemoryContacts {
    /// Mail to `address` stops, as a bounce makes it.
    pub fn refuse(&self, address: &str) {
        self.refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(address.to_owned());
    }

    /// The ticket of each mail sent, by its provider message id.
    pub fn sent_mail(&self) -> BTreeMap<String, crate::common::reference::TicketReference> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
