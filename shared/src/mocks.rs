//! In-memory ports for handler unit tests (feature `mocks`, dev-dependencies only). They
//! follow the store's contract (conditional writes, newest-first pages) but prove nothing
//! about DynamoDB: the integration tests do that against the emulator.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;

use crate::core::{
    Clock, IdempotencyRecord, InsertOutcome, MessageQueues, NewTicketWrite, OutboxStore, Page,
    PageStart, QueueStart, ReferenceSource, SendError, StoreError, TicketStore, TicketUpdate,
    TicketWithHistory, Updated,
};
use crate::domain::contact::ContactAddress;
use crate::domain::escalation::{Escalation, EscalationState};
use crate::domain::outbox::{Destination, MessageId, OutboxMessage};
use crate::domain::reference::TicketReference;
use crate::domain::ticket::{PlayerId, Ticket};

#[derive(Default)]
pub struct MemoryTicketStore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    open_cases: BTreeMap<String, crate::domain::verification::CaseId>,
    tickets: BTreeMap<String, TicketWithHistory>,
    keys: BTreeMap<(String, String), (IdempotencyRecord, Timestamp)>,
    outbox: Vec<OutboxMessage>,
    contacts: BTreeMap<String, ContactAddress>,
}

impl MemoryTicketStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in another test thread must not hide this test's result.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn ticket_count(&self) -> usize {
        self.lock().tickets.len()
    }

    /// The outbox messages not yet relayed.
    pub fn outbox(&self) -> Vec<OutboxMessage> {
        self.lock().outbox.clone()
    }

    /// How many notifications of `kind` the tickets `references` carry between them.
    pub fn count_notifications(
        &self,
        references: &[crate::domain::reference::TicketReference],
        kind: crate::domain::notification::NotificationKind,
    ) -> usize {
        let state = self.lock();
        references
            .iter()
            .filter_map(|r| state.tickets.get(r.as_str()))
            .flat_map(|t| &t.notifications)
            .filter(|n| n.kind == kind)
            .count()
    }

    /// An outbox message written by another store's transaction (an incident's status update),
    /// which shares this table in DynamoDB.
    pub(crate) fn add_to_outbox(&self, message: OutboxMessage) {
        self.lock().outbox.push(message);
    }

    /// Gives the player an open verification case, as the case store's marker would.
    pub fn link_open_case(&self, player: &PlayerId, case: crate::domain::verification::CaseId) {
        self.lock()
            .open_cases
            .insert(player.as_str().to_owned(), case);
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
                history: std::iter::once(write.received.clone())
                    .chain(write.history.iter().cloned())
                    .collect(),
                messages: Vec::new(),
                notifications: write.notification.iter().cloned().collect(),
                escalations: write.escalation.iter().cloned().collect(),
            },
        );
        state.outbox.extend(write.outbox.iter().cloned());
        if let Some(contact) = &write.contact {
            state
                .contacts
                .insert(write.ticket.player.as_str().to_owned(), contact.clone());
        }
        Ok(InsertOutcome::Created)
    }

    async fn get(
        &self,
        reference: &TicketReference,
    ) -> Result<Option<TicketWithHistory>, StoreError> {
        Ok(self.lock().tickets.get(reference.as_str()).cloned())
    }

    async fn open_case_of(
        &self,
        player: &PlayerId,
    ) -> Result<Option<crate::domain::verification::CaseId>, StoreError> {
        Ok(self.lock().open_cases.get(player.as_str()).cloned())
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

    async fn update(&self, update: TicketUpdate<'_>) -> Result<Updated, StoreError> {
        let mut state = self.lock();
        let change = update.change;
        let Some(stored) = state.tickets.get(change.ticket.reference.as_str()) else {
            return Ok(Updated::Stale);
        };
        if stored.ticket.version != change.expected_version {
            return Ok(Updated::Stale);
        }
        if let Some(escalation) = update.escalation {
            let existing = stored.escalations.iter().find(|e| e.id == escalation.id);
            let ok = match existing {
                None => escalation.state == EscalationState::Requested,
                Some(e) => e.state == EscalationState::Requested,
            };
            if !ok {
                return Ok(Updated::Stale);
            }
        }
        let Some(stored) = state.tickets.get_mut(change.ticket.reference.as_str()) else {
            return Ok(Updated::Stale);
        };
        stored.ticket = change.ticket.clone();
        stored.history.extend_from_slice(&change.history);
        stored.messages.extend(change.message.clone());
        stored.notifications.extend(update.notification.cloned());
        if let Some(escalation) = update.escalation {
            stored.escalations.retain(|e| e.id != escalation.id);
            stored.escalations.push(escalation.clone());
        }
        state.outbox.extend(update.outbox.iter().cloned());
        Ok(Updated::Done)
    }

    async fn settle_escalation(&self, escalation: &Escalation) -> Result<Updated, StoreError> {
        let mut state = self.lock();
        let Some(stored) = state.tickets.get_mut(escalation.reference.as_str()) else {
            return Ok(Updated::Stale);
        };
        match stored
            .escalations
            .iter_mut()
            .find(|e| e.id == escalation.id)
        {
            Some(e) if e.state == EscalationState::Requested => {
                *e = escalation.clone();
                Ok(Updated::Done)
            }
            _ => Ok(Updated::Stale),
        }
    }

    async fn contact_of(&self, player: &PlayerId) -> Result<Option<ContactAddress>, StoreError> {
        Ok(self.lock().contacts.get(player.as_str()).cloned())
    }

    async fn team_queue(
        &self,
        team: crate::domain::ticket::Team,
        limit: u16,
        start: Option<&QueueStart>,
    ) -> Result<Page<Ticket, QueueStart>, StoreError> {
        use crate::domain::ticket::TicketStatus;
        let key = |t: &Ticket| {
            (
                t.priority.rank(),
                t.created_at,
                t.reference.as_str().to_owned(),
            )
        };
        let state = self.lock();
        let mut queue: Vec<Ticket> = state
            .tickets
            .values()
            .map(|t| &t.ticket)
            .filter(|t| t.team == team)
            .filter(|t| !matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed))
            .filter(|t| match start {
                None => true,
                Some(s) => {
                    key(t)
                        > (
                            s.priority.rank(),
                            s.created_at,
                            s.reference.as_str().to_owned(),
                        )
                }
            })
            .cloned()
            .collect();
        queue.sort_by_key(key);
        Ok(Page::of_over_fetched(queue, limit, |last| QueueStart {
            priority: last.priority,
            created_at: last.created_at,
            reference: last.reference.clone(),
        }))
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

impl OutboxStore for MemoryTicketStore {
    async fn pending(&self, limit: u16) -> Result<Vec<OutboxMessage>, StoreError> {
        Ok(self
            .lock()
            .outbox
            .iter()
            .take(usize::from(limit))
            .cloned()
            .collect())
    }

    async fn remove(&self, id: &MessageId) -> Result<(), StoreError> {
        self.lock().outbox.retain(|m| &m.id != id);
        Ok(())
    }
}

/// Queues that record what was sent, or refuse everything while `failing` is set.
#[derive(Default)]
pub struct MemoryQueues {
    pub sent: Mutex<Vec<(String, String)>>,
    pub failing: std::sync::atomic::AtomicBool,
}

#[derive(Debug, thiserror::Error)]
#[error("the in-memory queue was told to fail")]
struct Refused;

impl MemoryQueues {
    /// `(queue, body)` pairs in send order: `escalations`, `notifications` or `team:<name>`.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn push(&self, queue: String, body: &str) -> Result<(), SendError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SendError::Backend(Box::new(Refused)));
        }
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((queue, body.to_owned()));
        Ok(())
    }
}

impl MessageQueues for MemoryQueues {
    async fn send(&self, destination: Destination, body: &str) -> Result<(), SendError> {
        self.push(destination.as_str().to_owned(), body)
    }

    async fn send_to_team(
        &self,
        team: crate::domain::ticket::Team,
        _group: &str,
        _deduplication_id: &str,
        body: &str,
    ) -> Result<(), SendError> {
        self.push(format!("team:{}", team.as_str()), body)
    }
}

/// A relay over the desk's in-memory outbox, to queues that record what they receive.
pub fn relay(
    desk: &crate::tickets::Desk<MemoryTicketStore>,
) -> crate::outbox::Relay<&MemoryTicketStore, MemoryQueues> {
    crate::outbox::Relay {
        store: &desk.store,
        queues: MemoryQueues::default(),
    }
}

/// A relay with an outbox of its own, for handlers whose store is not a ticket store (the
/// verification decisions): what it sends is in `queues`.
pub fn detached_relay() -> crate::outbox::Relay<MemoryTicketStore, MemoryQueues> {
    crate::outbox::Relay {
        store: MemoryTicketStore::default(),
        queues: MemoryQueues::default(),
    }
}

/// A desk over the in-memory store, its clock fixed at `now`.
pub fn desk(now: &str) -> crate::tickets::Desk<MemoryTicketStore> {
    desk_with_clock(FixedClock::at(now))
}

/// A desk whose clock the test moves.
pub fn desk_with_clock(clock: FixedClock) -> crate::tickets::Desk<MemoryTicketStore> {
    let calendar = crate::domain::sla::SupportCalendar::published()
        .unwrap_or_else(|e| panic!("bundled time zone: {e}"));
    crate::tickets::Desk {
        store: MemoryTicketStore::default(),
        clock: Box::new(clock),
        references: Box::new(crate::core::RandomReferences),
        notifier: crate::domain::notification::Notifier::new(
            crate::domain::notification::NotificationTemplates::bundled()
                .unwrap_or_else(|e| panic!("bundled templates: {e}")),
            calendar.zone().clone(),
        ),
        calendar,
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

// ---------------------------------------------------------------------------------------------
// Identity verification.

use crate::core::{
    CaseStore, CaseWrite, DocumentStorage, ObjectFacts, PendingUpload, Presigned, Saved,
};
use crate::domain::verification::{AuditEntry, CaseId, ContentType, UploadId, VerificationCase};

#[derive(Default)]
pub struct MemoryCaseStore {
    state: Mutex<CaseState>,
}

#[derive(Default)]
struct CaseState {
    cases: BTreeMap<String, VerificationCase>,
    audit: Vec<(String, AuditEntry)>,
    uploads: BTreeMap<String, PendingUpload>,
    open_by_player: BTreeMap<String, String>,
}

impl MemoryCaseStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, CaseState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl CaseStore for MemoryCaseStore {
    async fn save(&self, write: CaseWrite<'_>) -> Result<Saved, StoreError> {
        let mut state = self.lock();
        let id = write.case.id.as_str().to_owned();
        let player = write.case.player.as_str().to_owned();
        let current = state.cases.get(&id).map(|c| c.etag);
        match (write.expected_etag, current) {
            (0, None) => {
                if state.open_by_player.contains_key(&player) {
                    return Ok(Saved::PlayerHasOpenCase);
                }
                state.open_by_player.insert(player.clone(), id.clone());
            }
            (expected, Some(version)) if expected == version => {}
            _ => return Ok(Saved::Stale),
        }
        if !write.case.is_open() && state.open_by_player.get(&player) == Some(&id) {
            state.open_by_player.remove(&player);
        }
        state.cases.insert(id.clone(), write.case.clone());
        for entry in write.audit {
            state.audit.push((id.clone(), entry.clone()));
        }
        if let Some(upload) = write.upload {
            state
                .uploads
                .insert(upload.upload.as_str().to_owned(), upload.clone());
        }
        Ok(Saved::Done)
    }

    async fn case(&self, id: &CaseId) -> Result<Option<VerificationCase>, StoreError> {
        Ok(self.lock().cases.get(id.as_str()).cloned())
    }

    async fn cases_of(&self, player: &PlayerId) -> Result<Vec<VerificationCase>, StoreError> {
        let mut cases: Vec<VerificationCase> = self
            .lock()
            .cases
            .values()
            .filter(|c| &c.player == player)
            .cloned()
            .collect();
        cases.sort_by_key(|c| std::cmp::Reverse(c.opened_at));
        Ok(cases)
    }

    async fn upload(&self, id: &UploadId) -> Result<Option<PendingUpload>, StoreError> {
        Ok(self.lock().uploads.get(id.as_str()).cloned())
    }

    async fn audit_of(&self, id: &CaseId) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self
            .lock()
            .audit
            .iter()
            .filter(|(case, _)| case == id.as_str())
            .map(|(_, entry)| entry.clone())
            .collect())
    }

    async fn review_queue(
        &self,
        senior: bool,
        limit: u16,
    ) -> Result<Vec<VerificationCase>, StoreError> {
        let mut queue: Vec<VerificationCase> = self
            .lock()
            .cases
            .values()
            .filter(|c| {
                c.status == crate::domain::verification::CaseStatus::InReview
                    && c.needs_senior == senior
            })
            .cloned()
            .collect();
        queue.sort_by_key(|c| (!c.blocks_withdrawal(), c.submitted_at));
        queue.truncate(usize::from(limit));
        Ok(queue)
    }
}

/// Objects in memory; presigned URLs are fake but carry the signed-header list the real
/// adapter signs, so handlers can be checked for what they promise.
#[derive(Default)]
pub struct MemoryDocumentStorage {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryDocumentStorage {
    pub fn put(&self, key: &str, bytes: &[u8]) {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), bytes.to_vec());
    }

    pub fn keys(&self) -> Vec<String> {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

fn fake_presigned(method: &str, key: &str, now: Timestamp, seconds: i64) -> Presigned {
    Presigned {
        method: method.to_owned(),
        url: format!(
            "https://documents.example/{key}?X-Amz-Expires={seconds}&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-amz-server-side-encryption"
        ),
        headers: BTreeMap::new(),
        expires_at: now + jiff::SignedDuration::from_secs(seconds),
    }
}

impl DocumentStorage for MemoryDocumentStorage {
    async fn presign_put(
        &self,
        key: &str,
        content_type: ContentType,
        size: u64,
        now: Timestamp,
    ) -> Result<Presigned, StoreError> {
        let mut presigned = fake_presigned("PUT", key, now, 600);
        presigned
            .headers
            .insert("content-type".into(), content_type.as_str().into());
        presigned
            .headers
            .insert("content-length".into(), size.to_string());
        presigned
            .headers
            .insert("x-amz-server-side-encryption".into(), "aws:kms".into());
        Ok(presigned)
    }

    async fn presign_get(&self, key: &str, now: Timestamp) -> Result<Presigned, StoreError> {
        Ok(fake_presigned("GET", key, now, 300))
    }

    async fn inspect(&self, key: &str) -> Result<Option<ObjectFacts>, StoreError> {
        Ok(self
            .objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .map(|bytes| ObjectFacts {
                size: bytes.len() as u64,
                head: bytes.iter().take(16).copied().collect(),
            }))
    }

    async fn quarantine(&self, key: &str) -> Result<(), StoreError> {
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bytes) = objects.remove(key) {
            objects.insert(format!("quarantine/{key}"), bytes);
        }
        Ok(())
    }
}

/// Identity verification over the in-memory ports, its clock fixed at `now`.
pub fn verification(now: &str) -> crate::kyc::Verification<MemoryCaseStore, MemoryDocumentStorage> {
    crate::kyc::Verification {
        cases: MemoryCaseStore::default(),
        storage: MemoryDocumentStorage::default(),
        clock: Box::new(FixedClock::at(now)),
        max_resubmissions: 2,
        notifier: crate::domain::notification::Notifier::bundled(),
    }
}

// ---------------------------------------------------------------------------------------------
// Shaping sample events for the verification handlers' tests: case ids are random, so a test
// fills them in, and one sample serves several callers.

/// The event with another caller: `sub` and `cognito:groups` rendered as API Gateway renders
/// them (`[a b]`).
pub fn with_caller(
    request: lambda_http::Request,
    sub: &str,
    groups: &[&str],
) -> lambda_http::Request {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    let Some(RequestContext::ApiGatewayV2(mut context)) = request.request_context_ref().cloned()
    else {
        panic!("not an API Gateway v2 event");
    };
    let claims = &mut context
        .authorizer
        .as_mut()
        .and_then(|a| a.jwt.as_mut())
        .unwrap_or_else(|| panic!("the sample event has no JWT authorizer"))
        .claims;
    claims.insert("sub".to_owned(), sub.to_owned());
    claims.insert(
        crate::http::GROUPS_CLAIM.to_owned(),
        format!("[{}]", groups.join(" ")),
    );
    request.with_request_context(RequestContext::ApiGatewayV2(context))
}

/// The event with these path parameters (all of them).
pub fn with_path(request: lambda_http::Request, params: &[(&str, &str)]) -> lambda_http::Request {
    use lambda_http::RequestExt;
    let map: std::collections::HashMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    request.with_path_parameters(map)
}

/// The event with this query string (all of it).
pub fn with_query(request: lambda_http::Request, params: &[(&str, &str)]) -> lambda_http::Request {
    use lambda_http::RequestExt;
    let map: std::collections::HashMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    request.with_query_string_parameters(map)
}

/// The event with this JSON body.
pub fn with_json(
    mut request: lambda_http::Request,
    body: serde_json::Value,
) -> lambda_http::Request {
    *request.body_mut() = lambda_http::Body::Text(body.to_string());
    request
}

/// A PDF-looking file of exactly `size` bytes.
pub fn pdf_bytes(size: u64) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(usize::try_from(size).unwrap_or(9).max(bytes.len()), b' ');
    bytes
}

/// Opens a case for `player` and uploads every document it requires through the same use
/// cases the functions call (URL issued, object stored, object checked): the case ends in
/// review.
pub async fn case_in_review(
    v: &crate::kyc::Verification<MemoryCaseStore, MemoryDocumentStorage>,
    player: &str,
    reason: crate::domain::verification::CaseReason,
) -> VerificationCase {
    use crate::domain::ticket::{Actor, Language};
    let player = PlayerId::parse(player).unwrap_or_else(|| panic!("player id {player}"));
    let case = v
        .open_case(&Actor::System, player.clone(), reason, &[], Language::Fr)
        .await
        .unwrap_or_else(|e| panic!("opening a case: {e}"));
    for slot in &case.documents {
        let (upload, _) = v
            .request_upload(&Actor::Player, &player, slot.kind, ContentType::Pdf, 2048)
            .await
            .unwrap_or_else(|e| panic!("upload URL: {e}"));
        v.storage.put(&upload.key, &pdf_bytes(2048));
        v.check_object(&upload.key)
            .await
            .unwrap_or_else(|e| panic!("checking the upload: {e}"));
    }
    v.cases
        .case(&case.id)
        .await
        .ok()
        .flatten()
        .filter(|c| c.status == crate::domain::verification::CaseStatus::InReview)
        .unwrap_or_else(|| panic!("the case did not reach review"))
}

// ---------------------------------------------------------------------------------------------
// Ticket attachments.

/// Attachments in memory, with the store's contract: the limit on counting attachments, and
/// settling only what is still pending. It does not know the tickets (the handlers check the
/// ticket first; the DynamoDB store also conditions on it), so it never answers `NoTicket`.
#[derive(Default)]
pub struct MemoryAttachmentStore {
    attachments: Mutex<BTreeMap<(String, String), crate::domain::attachment::Attachment>>,
}

impl crate::attachments::AttachmentStore for MemoryAttachmentStore {
    async fn issue(
        &self,
        attachment: &crate::domain::attachment::Attachment,
        max: u32,
    ) -> Result<crate::attachments::Issued, StoreError> {
        use crate::attachments::Issued;
        let mut all = self.attachments.lock().unwrap_or_else(|e| e.into_inner());
        let reference = attachment.reference.as_str().to_owned();
        let counting = all
            .values()
            .filter(|a| a.reference.as_str() == reference && a.counts())
            .count();
        if counting >= max as usize {
            return Ok(Issued::LimitReached);
        }
        let id = (reference, attachment.upload.as_str().to_owned());
        if all.contains_key(&id) {
            return Ok(Issued::Contended);
        }
        all.insert(id, attachment.clone());
        Ok(Issued::Done)
    }

    async fn attachment(
        &self,
        reference: &TicketReference,
        upload: &UploadId,
    ) -> Result<Option<crate::domain::attachment::Attachment>, StoreError> {
        Ok(self
            .attachments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(reference.as_str().to_owned(), upload.as_str().to_owned()))
            .cloned())
    }

    async fn attachments_of(
        &self,
        reference: &TicketReference,
    ) -> Result<Vec<crate::domain::attachment::Attachment>, StoreError> {
        let mut found: Vec<_> = self
            .attachments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|a| &a.reference == reference)
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            (a.issued_at, a.upload.as_str()).cmp(&(b.issued_at, b.upload.as_str()))
        });
        Ok(found)
    }

    async fn settle(
        &self,
        attachment: &crate::domain::attachment::Attachment,
        from: crate::domain::attachment::AttachmentState,
    ) -> Result<crate::attachments::Settled, StoreError> {
        use crate::attachments::Settled;
        use crate::domain::attachment::AttachmentState;
        let mut all = self.attachments.lock().unwrap_or_else(|e| e.into_inner());
        let id = (
            attachment.reference.as_str().to_owned(),
            attachment.upload.as_str().to_owned(),
        );
        // Compared by name, as the DynamoDB store's condition is (not the failure's reason).
        let same = |a: AttachmentState, b: AttachmentState| {
            std::mem::discriminant(&a) == std::mem::discriminant(&b)
        };
        match all.get(&id) {
            Some(current) if same(current.state, from) => {
                all.insert(id, attachment.clone());
                Ok(Settled::Done)
            }
            _ => Ok(Settled::StateChanged),
        }
    }
}

/// Ticket attachments over the in-memory ports, their clock fixed at `now`.
pub fn attachments(
    now: &str,
) -> crate::attachments::Attachments<MemoryAttachmentStore, MemoryDocumentStorage> {
    crate::attachments::Attachments {
        store: MemoryAttachmentStore::default(),
        storage: MemoryDocumentStorage::default(),
        clock: Box::new(FixedClock::at(now)),
    }
}

/// A PNG-looking file of exactly `size` bytes (at least its 8-byte signature).
pub fn png_bytes(size: u64) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(usize::try_from(size).unwrap_or(8).max(bytes.len()), 0);
    bytes
}

// ---------------------------------------------------------------------------------------------
// Notifications: addresses, delivery records and an e-mail service in memory.

use crate::notifications::{Claim, Email, EmailError, Settled};

/// Players' addresses; `fail_next(n)` makes the next `n` look-ups fail as a store outage.
#[derive(Default)]
pub struct MemoryContacts {
    addresses: Mutex<BTreeMap<String, ContactAddress>>,
    failures: std::sync::atomic::AtomicUsize,
}

impl MemoryContacts {
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

impl crate::notifications::ContactBook for MemoryContacts {
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

impl crate::notifications::DeliveryLedger for MemoryDeliveryLedger {
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

impl crate::notifications::EmailSender for MemoryEmailSender {
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
            provider_message_id: provider_message_id.clone(),
        });
        Ok(provider_message_id)
    }
}

/// The notification sender over the in-memory ports, its clock fixed at `now`, sending from
/// `soutien@guichet.example`.
pub fn sender(
    now: &str,
) -> crate::notifications::Sender<MemoryContacts, MemoryDeliveryLedger, MemoryEmailSender> {
    crate::notifications::Sender {
        contacts: MemoryContacts::default(),
        ledger: MemoryDeliveryLedger::default(),
        email: MemoryEmailSender::default(),
        clock: Box::new(FixedClock::at(now)),
        from: "soutien@guichet.example".into(),
    }
}
