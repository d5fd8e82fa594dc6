//! The document function over the in-memory ports, fed SQS events shaped like the ones Lambda
//! delivers (`events/document-*.json`).

/// The property tests of this function's own parsers, run with its handler's tests (a lib
/// with `test = false` would never run them).
#[path = "handler/properties.rs"]
mod properties;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use guichet_core::common::player::{Author, Language, PlayerId};
use guichet_core::common::store::StoreError;
use guichet_core::documents::memory::MemoryDocumentStorage;
use guichet_core::documents::ports::{DocumentStorage, ObjectFacts, Presigned};
use guichet_core::documents::rules::{CheckFailure, ContentType};
use guichet_core::tickets::memory::FixedClock;
use guichet_core::verification::memory::MemoryCaseStore;
use guichet_core::verification::ports::{CaseStore, PendingUpload, UploadState};
use guichet_core::verification::rules::{
    CaseReason, CaseStatus, DocumentKind, DocumentStatus, VerificationCase,
};
use guichet_core::verification::service::Verification;
use guichet_edge::testing::failed_ids;
use jiff::Timestamp;

const NOW: &str = "2026-11-26T16:00:00Z";

type MemoryVerification = Verification<MemoryCaseStore, MemoryDocumentStorage>;

fn pdf(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.resize(size, b'x');
    bytes
}

fn png(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(size, 0);
    bytes
}

fn player(id: &str) -> PlayerId {
    PlayerId::parse(id).expect("valid player id")
}

/// Encodes a key the way S3 does in event notifications (a space as `+`).
fn s3_encode(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || b"-_./~".contains(&b) => out.push(char::from(b)),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The `document-uploaded` message, announcing `key` instead of the fixture's.
fn announcement(message_id: &str, key: &str) -> SqsMessage {
    let mut message = guichet_edge::testing::sqs_event("document-uploaded.json")
        .records
        .remove(0);
    let body = message.body.as_deref().expect("the fixture has a body");
    let mut body: serde_json::Value = serde_json::from_str(body).expect("JSON body");
    body["Records"][0]["s3"]["object"]["key"] = serde_json::Value::String(s3_encode(key));
    message.body = Some(body.to_string());
    message.message_id = Some(message_id.to_owned());
    message
}

fn raw_message(message_id: &str, body: Option<&str>) -> SqsMessage {
    let mut message = announcement(message_id, "unused");
    message.body = body.map(str::to_owned);
    message
}

fn batch(messages: Vec<SqsMessage>) -> SqsEvent {
    guichet_edge::testing::sqs_batch("document-uploaded.json", messages)
}

async fn open_case<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    who: &str,
) -> VerificationCase {
    v.open_case(
        &Author::Player,
        player(who),
        CaseReason::FirstWithdrawal,
        &[],
        Language::Fr,
    )
    .await
    .expect("case opened")
}

async fn upload<C: CaseStore, D: DocumentStorage>(
    v: &Verification<C, D>,
    who: &str,
    kind: DocumentKind,
    content_type: ContentType,
    size: u64,
) -> PendingUpload {
    v.request_upload(&Author::Player, &player(who), kind, content_type, size)
        .await
        .expect("upload URL issued")
        .0
}

async fn case_of(v: &MemoryVerification, case: &VerificationCase) -> VerificationCase {
    v.cases
        .case(&case.id)
        .await
        .expect("store")
        .expect("case exists")
}

#[tokio::test]
async fn good_files_are_received_and_the_last_one_sends_the_case_to_review() {
    let v = guichet_core::verification::memory::verification(NOW);
    let case = open_case(&v, "player-1").await;
    let id = upload(
        &v,
        "player-1",
        DocumentKind::GovernmentId,
        ContentType::Pdf,
        2048,
    )
    .await;
    let address = upload(
        &v,
        "player-1",
        DocumentKind::ProofOfAddress,
        ContentType::Png,
        512,
    )
    .await;
    v.storage.put(&id.key, &pdf(2048));
    v.storage.put(&address.key, &png(512));

    let response = check_documents::handle(
        &v,
        &guichet_core::attachments::memory::attachments(NOW),
        batch(vec![announcement("m-1", &id.key)]),
    )
    .await;
    assert!(failed_ids(&response).is_empty());
    let after_first = case_of(&v, &case).await;
    assert_eq!(after_first.status, CaseStatus::AwaitingDocuments);
    let slot = after_first.slot(DocumentKind::GovernmentId).expect("slot");
    assert_eq!(slot.status, DocumentStatus::Received);
    assert_eq!(
        slot.current.as_ref().map(|d| d.key.as_str()),
        Some(id.key.as_str())
    );

    let response = check_documents::handle(
        &v,
        &guichet_core::attachments::memory::attachments(NOW),
        batch(vec![announcement("m-2", &address.key)]),
    )
    .await;
    assert!(failed_ids(&response).is_empty());
    let done = case_of(&v, &case).await;
    assert_eq!(done.status, CaseStatus::InReview);
    assert!(done.submitted_at.is_some());
    let stored = v
        .cases
        .upload(&address.upload)
        .await
        .expect("store")
        .expect("upload");
    assert_eq!(stored.state, UploadState::Received);
    // Received documents stay where reviewers read them.
    assert_eq!(v.storage.keys(), {
        let mut keys = vec![id.key.clone(), address.key.clone()];
        keys.sort();
        keys
    });
}

#[tokio::test]
async fn bytes_that_are_not_what_they_claim_are_refused_and_quarantined() {
    let v = guichet_core::verification::memory::verification(NOW);
    let case = open_case(&v, "player-1").await;
    let claimed_pdf = upload(
        &v,
        "player-1",
        DocumentKind::GovernmentId,
        ContentType::Pdf,
        64,
    )
    .await;
    v.storage.put(&claimed_pdf.key, &png(64));

    let response = check_documents::handle(
        &v,
        &guichet_core::attachments::memory::attachments(NOW),
        batch(vec![announcement("m-1", &claimed_pdf.key)]),
    )
    .await;
    assert!(
        failed_ids(&response).is_empty(),
        "a refusal is handled, not retried"
    );
    let slot = case_of(&v, &case)
        .await
        .slot(DocumentKind::GovernmentId)
        .cloned()
        .expect("slot");
    assert_eq!(slot.status, DocumentStatus::Refused);
    assert_eq!(slot.check_failure, Some(CheckFailure::TypeMismatch));
    assert_eq!(
        v.storage.keys(),
        [format!("quarantine/{}", claimed_pdf.key)]
    );
}

#[tokio::test]
async fn a_file_of_another_size_is_refused() {
    let v = guichet_core::verification::memory::verification(NOW);
    let case = open_case(&v, "player-1").await;
    let declared = upload(
        &v,
        "player-1",
        DocumentKind::ProofOfAddress,
        ContentType::Pdf,
        100,
    )
    .await;
    v.storage.put(&declared.key, &pdf(50));

    let response = check_documents::handle(
        &v,
        &guichet_core::attachments::memory::attachments(NOW),
        batch(vec![announcement("m-1", &declared.key)]),
    )
    .await;
    assert!(failed_ids(&response).is_empty());
    let slot = case_of(&v, &case)
        .await
        .slot(DocumentKind::ProofOfAddress)
        .cloned()
        .expect("slot");
    assert_eq!(slot.check_failure, Some(CheckFailure::SizeMismatch));
    let stored = v.cases.upload(&declared.upload).await.expect("store");
    assert_eq!(
        stored.map(|u| u.state),
        Some(UploadState::Refused(CheckFailure::SizeMismatch))
    );
    assert_eq!(v.storage.keys(), [format!("quarantine/{}", declared.key)]);
}

#[tokio::test]
async fn unknown_keys_and_other_players_prefixes_are_quarantined() {
    let v = guichet_core::verification::memory::verification(NOW);
    let case = open_case(&v, "player-1").await;
    let real = upload(
        &v,
        "player-1",
        DocumentKind::GovernmentId,
        ContentType::Pdf,
        32,
    )
    .await;
    // The fixture's key has our shape, but no URL was ever issued for it.
    let fixture_key = "verification/player-1/VC-0123456789AB/government_id/UP-0123456789ABCDEF";
    // Someone else's upload id under another player's prefix (a key a client chose itself).
    let elsewhere = real.key.replace("/player-1/", "/player-2/");
    // Not our shape at all, with a space S3 sends as `+`.
    let spaced = "verification/player-2/my passport.pdf";
    for key in [fixture_key, elsewhere.as_str(), spaced] {
        v.storage.put(key, &pdf(32));
    }

    let mut event = guichet_edge::testing::sqs_event("document-uploaded.json");
    event.records.push(announcement("m-2", &elsewhere));
    event.records.push(announcement("m-3", spaced));
    let response = check_documents::handle(
        &v,
        &guichet_core::attachments::memory::attachments(NOW),
        event,
    )
    .await;
    assert!(failed_ids(&response).is_empty());

    let mut expected: Vec<String> = [fixture_key, elsewhere.as_str(), spaced]
        .iter()
        .map(|k| format!("quarantine/{k}"))
        .collect();
    expected.sort();
    assert_eq!(v.storage.keys(), expected);
    // The player's real request is untouched: still pending, the case still waiting for it.
    let stored = v.cases.upload(&real.upload).await.expect("store");
    assert_eq!(stored.map(|u| u.state), Some(UploadState::Pending));
    let slot = case_of(&v, &case)
        .await
        .slot(DocumentKind::GovernmentId)
        .cloned()
        .expect("slot");
    assert_eq!(slot.status, DocumentStatus::Missing);
}

#[tokio::test]
async fn a_duplicate_delivery_changes_nothing() {
    let v = guichet_core::verification::memory::verification(NOW);
    let case = open_case(&v, "player-1").await;
    let good = upload(
        &v,
        "player-1",
        DocumentKind::GovernmentId,
        ContentType::Pdf,
        40,
    )
    .await;
    let bad = upload(
        &v,
        "player-1",
        DocumentKind::ProofOfAddress,
        ContentType::Pdf,
        40,
    )
    .await;
    v.storage.put(&good.key, &pdf(40));
    v.storage.put(&bad.key, &png(40));
    let deliver = || {
        batch(vec![
            announcement("m-1", &good.key),
            announcement("m-2", &bad.key),
        ])
    };

    assert!(failed_ids(
        &check_documents::handle(
            &v,
            &guichet_core::attachments::memory::attachments(NOW),
            deliver()
        )
        .await
    )
    .is_empty());
    let once = case_of(&v, &case).await;
    let audit_once = v.cases.audit_of(&case.id).await.expect("store").len();
    let objects_once = v.storage.keys();

    assert!(failed_ids(
        &check_documents::handle(
            &v,
            &guichet_core::attachments::memory::attachments(NOW),
            deliver()
        )
        .await
    )
    .is_empty());
    assert_eq!(case_of(&v, &case).await, once, "same case, same version");
    assert_eq!(
        v.cases.audit_of(&case.id).await.expect("store").len(),
        audit_once
    );
    assert_eq!(v.storage.keys(), objects_once);
}

#[tokio::test]
async fn only_the_poison_messages_of_a_batch_are_retried() {
    let v = guichet_core::verification::memory::verification(NOW);
    let case = open_case(&v, "player-1").await;
    let id = upload(
        &v,
        "player-1",
        DocumentKind::GovernmentId,
        ContentType::Pdf,
        40,
    )
    .await;
    let address = upload(
        &v,
        "player-1",
        DocumentKind::ProofOfAddress,
        ContentType::Pdf,
        40,
    )
    .await;
    v.storage.put(&id.key, &pdf(40));
    v.storage.put(&address.key, &pdf(40));
    let mut bad_escape = announcement("bad-key", "x");
    bad_escape.body = bad_escape
        .body
        .map(|b| b.replace("\"key\":\"x\"", "\"key\":\"verification/%zz\""));

    let event = batch(vec![
        announcement("good-1", &id.key),
        raw_message("garbage", Some("this is not JSON")),
        raw_message("empty-object", Some("{}")),
        raw_message("no-body", None),
        bad_escape,
        announcement("good-2", &address.key),
    ]);
    let response = check_documents::handle(
        &v,
        &guichet_core::attachments::memory::attachments(NOW),
        event,
    )
    .await;
    assert_eq!(
        failed_ids(&response),
        ["garbage", "empty-object", "no-body", "bad-key"]
    );
    assert_eq!(case_of(&v, &case).await.status, CaseStatus::InReview);

    // The response is what the Lambda runtime serialises for SQS.
    assert_eq!(
        serde_json::to_value(&response).expect("JSON")["batchItemFailures"][0],
        serde_json::json!({"itemIdentifier": "garbage"})
    );
}

#[tokio::test]
async fn s3_test_events_and_other_event_kinds_are_acknowledged() {
    let v = guichet_core::verification::memory::verification(NOW);
    let response = check_documents::handle(
        &v,
        &guichet_core::attachments::memory::attachments(NOW),
        guichet_edge::testing::sqs_event("document-s3-test-event.json"),
    )
    .await;
    assert!(failed_ids(&response).is_empty());

    let key = "verification/player-1/left-alone.pdf";
    v.storage.put(key, &pdf(10));
    let mut removed = announcement("m-1", key);
    removed.body = removed
        .body
        .map(|b| b.replace("ObjectCreated:Put", "ObjectRemoved:Delete"));
    let response = check_documents::handle(
        &v,
        &guichet_core::attachments::memory::attachments(NOW),
        batch(vec![removed]),
    )
    .await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(v.storage.keys(), [key], "nothing to check for a removal");
}

/// Storage whose reads fail, as S3 does when throttling or unreachable.
struct UnreachableStorage;

impl DocumentStorage for UnreachableStorage {
    async fn presign_put(
        &self,
        _key: &str,
        _content_type: ContentType,
        _size: u64,
        _now: Timestamp,
    ) -> Result<Presigned, StoreError> {
        Err(unreachable_error())
    }

    async fn presign_get(&self, _key: &str, _now: Timestamp) -> Result<Presigned, StoreError> {
        Err(unreachable_error())
    }

    async fn put(&self, _key: &str, _content_type: &str, _bytes: &[u8]) -> Result<(), StoreError> {
        Err(unreachable_error())
    }

    async fn inspect(&self, _key: &str) -> Result<Option<ObjectFacts>, StoreError> {
        Err(unreachable_error())
    }

    async fn quarantine(&self, _key: &str) -> Result<(), StoreError> {
        Err(unreachable_error())
    }
}

fn unreachable_error() -> StoreError {
    StoreError::Backend("S3 is unreachable".into())
}

#[tokio::test]
async fn a_storage_failure_fails_the_message_so_it_is_retried() {
    let v = Verification {
        cases: MemoryCaseStore::default(),
        storage: UnreachableStorage,
        clock: Box::new(FixedClock::at(NOW)),
        max_resubmissions: 2,
        notifier: guichet_core::notifications::rules::Notifier::bundled(),
    };
    let mut event = guichet_edge::testing::sqs_event("document-uploaded.json");
    event.records.push(raw_message("no-id", Some("{}")));
    event.records[1].message_id = None;
    let response = check_documents::handle(
        &v,
        &guichet_core::attachments::memory::attachments(NOW),
        event,
    )
    .await;
    // Without a message id the failure is reported as an empty identifier, which Lambda reads
    // as "retry the whole batch": never an acknowledgement.
    assert_eq!(
        failed_ids(&response),
        ["059f36b4-87a3-44ab-83d2-661975830a7d", ""]
    );
}

// ---------------------------------------------------------------------------------------------
// Ticket attachments: `tickets/` keys go to the attachment check, never to the verification one.

/// The `attachment-uploaded` message, announcing `key` instead of the fixture's.
fn attachment_announcement(message_id: &str, key: &str) -> SqsMessage {
    let mut message = guichet_edge::testing::sqs_event("attachment-uploaded.json")
        .records
        .remove(0);
    let body = message.body.as_deref().expect("the fixture has a body");
    let mut body: serde_json::Value = serde_json::from_str(body).expect("JSON body");
    assert!(body["Records"][0]["s3"]["object"]["key"]
        .as_str()
        .is_some_and(|k| k.starts_with("tickets/")));
    body["Records"][0]["s3"]["object"]["key"] = serde_json::Value::String(s3_encode(key));
    message.body = Some(body.to_string());
    message.message_id = Some(message_id.to_owned());
    message
}

#[tokio::test]
async fn attachments_are_checked_by_the_attachment_check() {
    use guichet_core::attachments::ports::AttachmentStore;
    use guichet_core::attachments::rules::AttachmentState;
    let (v, a) = (
        guichet_core::verification::memory::verification(NOW),
        guichet_core::attachments::memory::attachments(NOW),
    );
    let reference = guichet_core::common::reference::TicketReference::from_random([1; 9]);
    let (good, _) = a
        .request(&Author::Player, &reference, ContentType::Png, 300)
        .await
        .expect("issued");
    let (liar, _) = a
        .request(&Author::Player, &reference, ContentType::Pdf, 300)
        .await
        .expect("issued");
    a.storage.put(&good.key, &png(300));
    a.storage.put(&liar.key, &png(300));
    let deliver = || {
        batch(vec![
            attachment_announcement("m-1", &good.key),
            attachment_announcement("m-2", &liar.key),
        ])
    };
    let response = check_documents::handle(&v, &a, deliver()).await;
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    let state = |upload| {
        let a = &a;
        let reference = &reference;
        async move {
            a.store
                .attachment(reference, upload)
                .await
                .expect("store")
                .expect("recorded")
                .state
        }
    };
    assert_eq!(state(&good.upload).await, AttachmentState::Checked);
    assert_eq!(
        state(&liar.upload).await,
        AttachmentState::Refused(CheckFailure::TypeMismatch)
    );
    let mut expected = vec![good.key.clone(), format!("quarantine/{}", liar.key)];
    expected.sort();
    assert_eq!(a.storage.keys(), expected);
    // The verification side saw nothing.
    assert!(v.storage.keys().is_empty());

    // A duplicate delivery changes nothing.
    let response = check_documents::handle(&v, &a, deliver()).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(state(&good.upload).await, AttachmentState::Checked);
    assert_eq!(a.storage.keys(), expected);
}

#[tokio::test]
async fn unknown_keys_under_tickets_are_quarantined_by_the_attachment_check() {
    let (v, a) = (
        guichet_core::verification::memory::verification(NOW),
        guichet_core::attachments::memory::attachments(NOW),
    );
    let stray = "tickets/K7M2Q9XW45/holiday photo.png";
    a.storage.put(stray, &png(20));
    let response =
        check_documents::handle(&v, &a, batch(vec![attachment_announcement("m-1", stray)])).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(a.storage.keys(), [format!("quarantine/{stray}")]);
}
