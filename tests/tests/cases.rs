//! The verification-case store through the real SDK against the emulator: conditional
//! transitions, one open case per player, the audit trail, the review queue, and cases and
//! tickets sharing the player index without mixing.

use guichet_aws::dynamo::cases::DynamoCaseStore;
use guichet_aws::dynamo::tickets::DynamoTicketStore;
use guichet_core::common::player::{Author, Language, PlayerId};
use guichet_core::documents::rules::{ContentType, UploadId};
use guichet_core::notifications::ports::NotificationRecords;
use guichet_core::notifications::rules::{About, NotificationKind};
use guichet_core::outbox::rules::MessageId;
use guichet_core::tickets::intake::TicketRequest;
use guichet_core::verification::ports::{CaseStore, CaseWrite, Saved};
use guichet_core::verification::rules::{
    AuditAction, AuditEntry, CaseId, CaseReason, CaseStatus, DocumentKind, StoredDocument,
    VerificationCase,
};
use guichet_tests::fresh_stack;
use jiff::Timestamp;

fn at(text: &str) -> Timestamp {
    text.parse().expect("valid timestamp")
}

fn new_case(player: &str, reason: CaseReason, opened: &str) -> VerificationCase {
    VerificationCase::open(
        CaseId::generate().expect("random"),
        PlayerId::parse(player).expect("id"),
        reason,
        &[],
        Language::Fr,
        at(opened),
    )
}

fn line(action: AuditAction, when: &str) -> AuditEntry {
    AuditEntry {
        at: at(when),
        actor: Author::System,
        action,
        internal_note: None,
    }
}

async fn create(store: &DynamoCaseStore, case: &VerificationCase) -> Saved {
    store
        .save(CaseWrite {
            case,
            expected_etag: 0,
            seen: None,
            audit: &[line(
                AuditAction::Opened {
                    reason: case.reason,
                },
                "2026-11-26T15:00:00Z",
            )],
            upload: None,
            notification: None,
        })
        .await
        .expect("written")
}

/// Every document of a created case received at `when`, which sends it to review; saved.
async fn submit(store: &DynamoCaseStore, case: &VerificationCase, when: &str) -> VerificationCase {
    let mut reviewed = case.clone();
    receive_all(&mut reviewed, when);
    store
        .save(CaseWrite {
            case: &reviewed,
            expected_etag: case.etag,
            seen: None,
            audit: &[],
            upload: None,
            notification: None,
        })
        .await
        .expect("written");
    reviewed
}

fn receive_all(case: &mut VerificationCase, when: &str) {
    let kinds: Vec<DocumentKind> = case.documents.iter().map(|d| d.kind).collect();
    for kind in kinds {
        case.receive(
            kind,
            StoredDocument {
                upload: UploadId::generate().expect("random"),
                key: format!("verification/x/{}", kind.as_str()),
                content_type: ContentType::Pdf,
                size: 10,
                received_at: at(when),
            },
            at(when),
        )
        .expect("received");
    }
}

#[tokio::test]
async fn one_open_case_per_player_until_it_closes() {
    let stack = fresh_stack().await;
    let store = DynamoCaseStore::new(stack.dynamodb(), stack.tickets_table.clone());
    let first = new_case("p-1", CaseReason::FirstWithdrawal, "2026-11-26T15:00:00Z");
    assert_eq!(create(&store, &first).await, Saved::Done);
    let second = new_case("p-1", CaseReason::SecurityReview, "2026-11-26T16:00:00Z");
    assert_eq!(create(&store, &second).await, Saved::PlayerHasOpenCase);
    assert_eq!(
        store.case(&second.id).await.expect("read"),
        None,
        "nothing written"
    );

    // Close the first case: the player may then have another.
    let mut closing = first.clone();
    receive_all(&mut closing, "2026-11-26T17:00:00Z");
    closing
        .decide(
            &guichet_core::verification::rules::Decision::Approve,
            false,
            2,
            None,
            at("2026-11-27T10:00:00Z"),
        )
        .expect("approved");
    // With the player's notification of the decision, kept with the case for the sender.
    let (notification, message) = guichet_core::notifications::rules::Notifier::bundled()
        .for_case(
            NotificationKind::VerificationApproved,
            &closing.player,
            &closing.id,
            closing.language,
            MessageId::generate().expect("random"),
            at("2026-11-27T10:00:00Z"),
        )
        .expect("rendered");
    let saved = store
        .save(CaseWrite {
            case: &closing,
            expected_etag: first.etag,
            seen: None,
            audit: &[line(AuditAction::Approved, "2026-11-27T10:00:00Z")],
            upload: None,
            notification: Some((&notification, &message)),
        })
        .await
        .expect("written");
    assert_eq!(saved, Saved::Done);
    assert_eq!(create(&store, &second).await, Saved::Done);

    let records = DynamoTicketStore::new(stack.dynamodb(), stack.tickets_table.clone());
    let about = About::Case(closing.id.clone());
    let stored = records
        .stored(&about, &notification.id, notification.at)
        .await
        .expect("read")
        .expect("stored with the case");
    assert_eq!(stored.owner, closing.player);
    assert_eq!(stored.notification, notification);
    // Only at its own time: a message naming it at another is owed nothing.
    let elsewhen = notification.at + jiff::SignedDuration::from_millis(1);
    assert_eq!(
        records
            .stored(&about, &notification.id, elsewhen)
            .await
            .expect("read"),
        None
    );
}

#[tokio::test]
async fn a_write_on_a_stale_etag_changes_nothing() {
    let stack = fresh_stack().await;
    let store = DynamoCaseStore::new(stack.dynamodb(), stack.tickets_table.clone());
    let case = new_case("p-2", CaseReason::FirstWithdrawal, "2026-11-26T15:00:00Z");
    create(&store, &case).await;
    let mut a = case.clone();
    a.touch(at("2026-11-26T15:01:00Z"));
    let mut b = case.clone();
    receive_all(&mut b, "2026-11-26T15:02:00Z");
    let first = store
        .save(CaseWrite {
            case: &a,
            expected_etag: case.etag,
            seen: None,
            audit: &[line(
                AuditAction::DocumentViewed {
                    kind: DocumentKind::GovernmentId,
                },
                "2026-11-26T15:01:00Z",
            )],
            upload: None,
            notification: None,
        })
        .await
        .expect("written");
    let second = store
        .save(CaseWrite {
            case: &b,
            expected_etag: case.etag,
            seen: None,
            audit: &[line(
                AuditAction::SubmittedForReview,
                "2026-11-26T15:02:00Z",
            )],
            upload: None,
            notification: None,
        })
        .await
        .expect("answered");
    assert_eq!((first, second), (Saved::Done, Saved::Stale));
    let stored = store.case(&case.id).await.expect("read").expect("case");
    assert_eq!(stored.status, CaseStatus::AwaitingDocuments);
    let audit = store.audit_of(&case.id).await.expect("audit");
    assert_eq!(
        audit.len(),
        2,
        "opened + viewed, not the stale line: {audit:?}"
    );
}

#[tokio::test]
async fn the_review_queue_serves_withdrawals_first_then_arrival_order() {
    let stack = fresh_stack().await;
    let store = DynamoCaseStore::new(stack.dynamodb(), stack.tickets_table.clone());
    let mut submitted = Vec::new();
    for (player, reason, when) in [
        ("p-a", CaseReason::SecurityReview, "2026-11-26T15:00:00Z"),
        ("p-b", CaseReason::FirstWithdrawal, "2026-11-26T16:00:00Z"),
        (
            "p-c",
            CaseReason::PaymentMethodChange,
            "2026-11-26T14:00:00Z",
        ),
        ("p-d", CaseReason::FirstWithdrawal, "2026-11-26T17:00:00Z"),
    ] {
        let case = new_case(player, reason, "2026-11-26T13:00:00Z");
        create(&store, &case).await;
        let reviewed = submit(&store, &case, when).await;
        submitted.push(reviewed.player.as_str().to_owned());
    }
    let queue: Vec<String> = store
        .review_queue(false, 10)
        .await
        .expect("queue")
        .into_iter()
        .map(|c| c.player.as_str().to_owned())
        .collect();
    assert_eq!(queue, ["p-b", "p-d", "p-c", "p-a"]);
    assert!(store
        .review_queue(true, 10)
        .await
        .expect("queue")
        .is_empty());
}

/// Each review queue is spread over four index partitions: the first cases across them, and a
/// case submitted before the sharding (under the one `REVIEW#standard` of before) keeps its
/// place until its next write moves it into its shard.
#[tokio::test]
async fn the_review_queue_reads_its_shards_and_the_partition_of_before() {
    let stack = fresh_stack().await;
    let store = DynamoCaseStore::new(stack.dynamodb(), stack.tickets_table.clone());
    // Eight cases whose ids' random symbols start with 0 to 7: shards 0 to 3, twice.
    let mut expected = Vec::new();
    let mut cases = Vec::new();
    for seed in 0..8u8 {
        let reason = if seed % 3 == 0 {
            CaseReason::FirstWithdrawal
        } else {
            CaseReason::SecurityReview
        };
        let mut case = new_case(&format!("p-s{seed}"), reason, "2026-11-26T13:00:00Z");
        case.id = CaseId::from_random([seed; 12]);
        create(&store, &case).await;
        let when = format!("2026-11-26T14:{:02}:00Z", 50 - seed * 5);
        let reviewed = submit(&store, &case, &when).await;
        expected.push((!reviewed.blocks_withdrawal(), when, reviewed.id.clone()));
        cases.push(reviewed);
    }
    expected.sort();
    let expected: Vec<CaseId> = expected.into_iter().map(|(.., id)| id).collect();
    let legacy = &cases[5];
    let pk = format!("CASE#{}", legacy.id.as_str());
    stack.move_gsi2_entry(&pk, "CASE", "REVIEW#standard").await;

    let ids = |queue: Vec<VerificationCase>| queue.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let first = store.review_queue(false, 3).await.expect("queue");
    assert_eq!(ids(first), expected[..3]);
    let all = store.review_queue(false, 20).await.expect("queue");
    assert_eq!(ids(all), expected);

    // Its next write puts it in its shard (`5`, modulo 4), in the same place in the queue.
    let mut touched = legacy.clone();
    touched.touch(at("2026-11-26T15:30:00Z"));
    store
        .save(CaseWrite {
            case: &touched,
            expected_etag: legacy.etag,
            seen: None,
            audit: &[],
            upload: None,
            notification: None,
        })
        .await
        .expect("written");
    assert_eq!(
        stack.gsi2_partition(&pk, "CASE").await.as_deref(),
        Some("REVIEW#standard#1")
    );
    let all = store.review_queue(false, 20).await.expect("queue");
    assert_eq!(ids(all), expected);
}

#[tokio::test]
async fn cases_and_tickets_share_the_player_index_without_mixing() {
    let stack = fresh_stack().await;
    let store = DynamoCaseStore::new(stack.dynamodb(), stack.tickets_table.clone());
    let case = new_case("p-mix", CaseReason::FirstWithdrawal, "2026-11-26T15:00:00Z");
    create(&store, &case).await;
    let desk = stack.desk();
    let request = TicketRequest::parse(
        &serde_json::json!({"channel": "form", "category": "verification",
            "subject": "Documents envoyés", "description": "J'ai envoyé mes pièces hier."}),
        None,
        Timestamp::now(),
    )
    .expect("valid");
    let player = PlayerId::parse("p-mix").expect("id");
    desk.submit(player.clone(), request, None, None)
        .await
        .expect("ticket");
    let tickets = desk.tickets_of(&player, 20, None).await.expect("tickets");
    assert_eq!(tickets.items.len(), 1);
    assert_eq!(
        tickets.items[0].verification_case.as_ref(),
        Some(&case.id),
        "a verification ticket links to the player's open case"
    );
    let cases = store.cases_of(&player).await.expect("cases");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].id, case.id);
}

/// A save decided on a reviewer's `state` token goes in only when the stored case has the
/// token's fingerprint: DynamoDB's condition on the `fingerprint` attribute every save keeps.
#[tokio::test]
async fn a_save_on_a_seen_case_needs_the_stored_fingerprint() {
    let stack = fresh_stack().await;
    let store = DynamoCaseStore::new(stack.dynamodb(), stack.tickets_table.clone());
    let case = new_case(
        "player-seen",
        CaseReason::FirstWithdrawal,
        "2026-11-26T15:00:00Z",
    );
    assert_eq!(create(&store, &case).await, Saved::Done);
    let stored = store.case(&case.id).await.expect("read").expect("case");
    let save = |claimed: &VerificationCase, seen: String| {
        let mut touched = claimed.clone();
        touched.touch(at("2026-11-26T16:00:00Z"));
        let store = store.clone();
        let expected = claimed.etag;
        async move {
            store
                .save(CaseWrite {
                    case: &touched,
                    expected_etag: expected,
                    seen: Some(&seen),
                    audit: &[],
                    upload: None,
                    notification: None,
                })
                .await
                .expect("written or stale")
        }
    };
    // Same etag, another language: the etag condition alone would let it in.
    let mut forged = stored.clone();
    forged.language = Language::En;
    let fingerprint = guichet_core::common::seen::fingerprint(&forged);
    assert_eq!(save(&forged, fingerprint).await, Saved::Stale);
    let fingerprint = guichet_core::common::seen::fingerprint(&stored);
    assert_eq!(save(&stored, fingerprint).await, Saved::Done);
    let after = store.case(&case.id).await.expect("read").expect("case");
    assert_eq!(after.language, Language::Fr);
    assert_eq!(after.etag, stored.etag + 1);
}
