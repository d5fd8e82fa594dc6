//! The mail desk's records in memory (feature `mocks`), with the DynamoDB adapter's
//! conditions: a mail is held once, an acknowledgement claimed once per interval.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

use crate::common::player::PlayerId;
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::mail::message::MailAddress;
use crate::mail::ports::{
    Filed, HeldMail, MailId, Mailroom, OutgoingMail, RawMail, RawReadError, Refusal,
};

#[derive(Default)]
struct Records {
    filed: BTreeMap<String, Filed>,
    players: BTreeMap<String, Vec<PlayerId>>,
    sent: BTreeMap<String, TicketReference>,
    acks: BTreeMap<String, Timestamp>,
    held: BTreeMap<String, HeldMail>,
    refused: BTreeMap<String, Refusal>,
}

#[derive(Default)]
pub struct MemoryMailroom {
    records: Mutex<Records>,
}

impl MemoryMailroom {
    fn lock(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `player`'s address on file is `address`, as the contact index lists it.
    pub fn index(&self, address: &MailAddress, player: &PlayerId) {
        self.lock()
            .players
            .entry(address.expose().to_owned())
            .or_default()
            .push(player.clone());
    }

    pub fn held(&self) -> Vec<HeldMail> {
        self.lock().held.values().cloned().collect()
    }

    pub fn filed_count(&self) -> usize {
        self.lock().filed.len()
    }
}

impl Mailroom for MemoryMailroom {
    async fn filed(&self, id: &MailId) -> Result<Option<Filed>, StoreError> {
        Ok(self.lock().filed.get(id.as_str()).cloned())
    }

    async fn record(&self, id: &MailId, filed: &Filed, _at: Timestamp) -> Result<(), StoreError> {
        self.lock()
            .filed
            .insert(id.as_str().to_owned(), filed.clone());
        Ok(())
    }

    async fn players_at(
        &self,
        address: &MailAddress,
        limit: u8,
    ) -> Result<Vec<PlayerId>, StoreError> {
        let records = self.lock();
        let mut players = records
            .players
            .get(address.expose())
            .cloned()
            .unwrap_or_default();
        players.truncate(usize::from(limit));
        Ok(players)
    }

    async fn tickets_of_sent(
        &self,
        ids: &[&str],
    ) -> Result<Vec<(String, TicketReference)>, StoreError> {
        let records = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| {
                records
                    .sent
                    .get(*id)
                    .map(|reference| ((*id).to_owned(), reference.clone()))
            })
            .collect())
    }

    async fn claim_ack(
        &self,
        sender: &MailAddress,
        now: Timestamp,
        interval: SignedDuration,
    ) -> Result<bool, StoreError> {
        let mut records = self.lock();
        let free = records
            .acks
            .get(sender.expose())
            .is_none_or(|last| *last <= now - interval);
        if free {
            records.acks.insert(sender.expose().to_owned(), now);
        }
        Ok(free)
    }

    async fn release_ack(&self, sender: &MailAddress, at: Timestamp) -> Result<(), StoreError> {
        let mut records = self.lock();
        if records.acks.get(sender.expose()) == Some(&at) {
            records.acks.remove(sender.expose());
        }
        Ok(())
    }

    async fn hold(&self, held: &HeldMail) -> Result<(), StoreError> {
        self.lock()
            .held
            .entry(held.id.as_str().to_owned())
            .or_insert_with(|| held.clone());
        Ok(())
    }
}

impl OutgoingMail for MemoryMailroom {
    async fn record_sent(
        &self,
        ses_message_id: &str,
        reference: &TicketReference,
        _at: Timestamp,
    ) -> Result<(), StoreError> {
        self.lock()
            .sent
            .insert(ses_message_id.to_owned(), reference.clone());
        Ok(())
    }

    async fn refused(&self, address: &MailAddress) -> Result<Option<Refusal>, StoreError> {
        Ok(self.lock().refused.get(address.expose()).copied())
    }

    async fn refuse(
        &self,
        address: &MailAddress,
        refusal: Refusal,
        _at: Timestamp,
    ) -> Result<(), StoreError> {
        self.lock()
            .refused
            .insert(address.expose().to_owned(), refusal);
        Ok(())
    }

    async fn accept_again(&self, address: &MailAddress) -> Result<(), StoreError> {
        self.lock().refused.remove(address.expose());
        Ok(())
    }
}

/// The raw mails SES stored, and which were set aside.
#[derive(Default)]
pub struct MemoryRawMail {
    stored: Mutex<BTreeMap<String, Vec<u8>>>,
    quarantined: Mutex<Vec<MailId>>,
}

impl MemoryRawMail {
    /// Stores a raw mail as SES would.
    pub fn store(&self, id: &MailId, raw: &[u8]) {
        self.stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.as_str().to_owned(), raw.to_vec());
    }

    pub fn quarantined(&self) -> Vec<MailId> {
        self.quarantined
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl RawMail for MemoryRawMail {
    async fn read(&self, id: &MailId, max: u64) -> Result<Vec<u8>, RawReadError> {
        let stored = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        let raw = stored.get(id.as_str()).ok_or(RawReadError::Missing)?;
        let size = u64::try_from(raw.len()).unwrap_or(u64::MAX);
        if size > max {
            return Err(RawReadError::TooLarge { size, max });
        }
        Ok(raw.clone())
    }

    async fn quarantine(&self, id: &MailId) -> Result<(), StoreError> {
        self.stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id.as_str());
        let mut quarantined = self.quarantined.lock().unwrap_or_else(|e| e.into_inner());
        if !quarantined.contains(id) {
            quarantined.push(id.clone());
        }
        Ok(())
    }
}

impl crate::mail::held::HeldMails for MemoryMailroom {
    async fn held(
        &self,
        limit: u16,
        start: Option<&crate::mail::held::HeldStart>,
    ) -> Result<crate::common::paging::Page<HeldMail, crate::mail::held::HeldStart>, StoreError>
    {
        let mut held: Vec<HeldMail> = self.lock().held.values().cloned().collect();
        held.sort_by(|a, b| (a.received_at, a.id.as_str()).cmp(&(b.received_at, b.id.as_str())));
        let after: Vec<HeldMail> = held
            .into_iter()
            .filter(|h| {
                start
                    .is_none_or(|s| (h.received_at, h.id.as_str()) > (s.received_at, s.id.as_str()))
            })
            .take(usize::from(limit) + 1)
            .collect();
        Ok(crate::common::paging::Page::of_over_fetched(
            after,
            limit,
            |last| crate::mail::held::HeldStart {
                received_at: last.received_at,
                id: last.id.clone(),
            },
        ))
    }
}
