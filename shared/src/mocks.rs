//! In-memory ports for handler unit tests (feature `mocks`, dev-dependencies only). They
//! follow the store's contract (conditional writes, newest-first pages) but prove nothing
//! about DynamoDB: the integration tests do that against the emulator.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;

use crate::core::{
    Clock, IdempotencyRecord, InsertOutcome, NewTicketWrite, Page, PageStart, ReferenceSource,
    StoreError, TicketStore, TicketWithHistory,
};
use crate::domain::reference::TicketReference;
use crate::domain::ticket::{PlayerId, Ticket};

#[derive(Default)]
pub struct MemoryTicketStore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tickets: BTreeMap<String, TicketWithHistory>,
    keys: BTreeMap<(String, String), (IdempotencyRecord, Timestamp)>,
}

impl MemoryTicketStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in another test thread must not hide this test's result.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn ticket_count(&self) -> usize {
        self.lock().tickets.len()
    }
}

impl TicketStore for MemoryTicketStore {
    async fn insert(&self, write: &NewTicketWrite) -> Result<InsertOutcome, StoreError> {
        let mut state = self.lock();
        if let Some(claim) = &write.idempotency {
            let id = (
                claim.player.as_str().to_owned(),
                claim.key.as_str().to_owned(),
            );
            if let Some((record, expires)) = state.keys.get(&id) {
                if *expires >= claim.claimed_at {
                    return Ok(InsertOutcome::KeyAlreadyUsed(record.clone()));
                }
            }
        }
        let reference = write.ticket.reference.as_str().to_owned();
        if state.tickets.contains_key(&reference) {
            return Ok(InsertOutcome::ReferenceTaken);
        }
        if let Some(claim) = &write.idempotency {
            let id = (
                claim.player.as_str().to_owned(),
                claim.key.as_str().to_owned(),
            );
            let record = IdempotencyRecord {
                fingerprint: claim.fingerprint.clone(),
                reference: write.ticket.reference.clone(),
            };
            state.keys.insert(id, (record, claim.expires_at));
        }
        state.tickets.insert(
            reference,
            TicketWithHistory {
                ticket: write.ticket.clone(),
                history: vec![write.received.clone()],
            },
        );
        Ok(InsertOutcome::Created)
    }

    async fn get(
        &self,
        reference: &TicketReference,
    ) -> Result<Option<TicketWithHistory>, StoreError> {
        Ok(self.lock().tickets.get(reference.as_str()).cloned())
    }

    async fn list_for_player(
        &self,
        player: &PlayerId,
        limit: u16,
        start: Option<&PageStart>,
    ) -> Result<Page<Ticket>, StoreError> {
        let state = self.lock();
        let mut mine: Vec<Ticket> = state
            .tickets
            .values()
            .filter(|t| &t.ticket.player == player)
            .map(|t| t.ticket.clone())
            .collect();
        mine.sort_by(|a, b| {
            (b.created_at, b.reference.as_str()).cmp(&(a.created_at, a.reference.as_str()))
        });
        let after: Vec<Ticket> = mine
            .into_iter()
            .filter(|t| match start {
                None => true,
                Some(s) => {
                    (t.created_at, t.reference.as_str()) < (s.created_at, s.reference.as_str())
                }
            })
            .collect();
        let limit = usize::from(limit);
        let next = (after.len() > limit).then(|| PageStart {
            created_at: after[limit - 1].created_at,
            reference: after[limit - 1].reference.clone(),
        });
        Ok(Page {
            items: after.into_iter().take(limit).collect(),
            next,
        })
    }
}

/// A clock that says what the test tells it; clones share the time.
#[derive(Clone)]
pub struct FixedClock(std::sync::Arc<Mutex<Timestamp>>);

impl FixedClock {
    pub fn at(text: &str) -> Self {
        let now = text
            .parse()
            .unwrap_or_else(|e| panic!("test clock {text}: {e}"));
        Self(std::sync::Arc::new(Mutex::new(now)))
    }

    pub fn set(&self, now: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// References in a fixed order, to test collisions.
pub struct ScriptedReferences(pub Mutex<Vec<TicketReference>>);

impl ReferenceSource for ScriptedReferences {
    fn next_reference(&self) -> Result<TicketReference, getrandom::Error> {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if queue.is_empty() {
            TicketReference::generate()
        } else {
            Ok(queue.remove(0))
        }
    }
}

/// A desk over the in-memory store, its clock fixed at `now`.
pub fn desk(now: &str) -> crate::tickets::Desk<MemoryTicketStore> {
    desk_with_clock(FixedClock::at(now))
}

/// A desk whose clock the test moves.
pub fn desk_with_clock(clock: FixedClock) -> crate::tickets::Desk<MemoryTicketStore> {
    crate::tickets::Desk {
        store: MemoryTicketStore::default(),
        clock: Box::new(clock),
        references: Box::new(crate::core::RandomReferences),
        calendar: crate::domain::sla::SupportCalendar::published()
            .unwrap_or_else(|e| panic!("bundled time zone: {e}")),
        idempotency_ttl: jiff::SignedDuration::from_hours(24),
    }
}

/// A sample API Gateway v2 event from `events/`, parsed the way the Lambda runtime does.
pub fn event(name: &str) -> lambda_http::Request {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    lambda_http::request::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not an API Gateway event: {e}", path.display()))
}

/// The JSON body of a handler's response.
pub fn body_json(response: &lambda_http::Response<lambda_http::Body>) -> serde_json::Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(serde_json::Value::Null)
}
