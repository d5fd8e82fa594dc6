//! The document check end to end, through the real SDK against the emulator: a case is opened,
//! upload URLs are issued, real bytes are PUT to them with an HTTP client, S3 announces them on
//! DocumentEventsQueue, and the local consumers (Lambda's SQS event source, played in process)
//! run the document function on what arrives.
//!
//! The emulator does not check presigned URLs (signature, expiry, signed Content-Type and
//! Content-Length): what the URL promises is asserted on its signed parameters, and what
//! arrives is judged by the document check itself.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use guichet_aws::dynamo::cases::DynamoCaseStore;
use guichet_aws::s3::S3DocumentStorage;
use guichet_core::common::player::{Author, Language, PlayerId};
use guichet_core::documents::ports::Presigned;
use guichet_core::documents::rules::{CheckFailure, ContentType};
use guichet_core::verification::ports::{CaseStore, PendingUpload, UploadState};
use guichet_core::verification::rules::{
    CaseReason, CaseStatus, DocumentKind, DocumentStatus, VerificationCase,
};
use guichet_core::verification::service::Verification;
use guichet_local::consumers::{Consumers, Drained};
use guichet_tests::presigned::{put_stored, query_param, send_presigned};
use guichet_tests::{error_chain, fresh_stack, Stack};

type Kyc = Verification<DynamoCaseStore, S3DocumentStorage>;

/// The queue's `maxReceiveCount` in infra/template.yaml.
const MAX_RECEIVE_COUNT: usize = 5;

struct Fixture {
    stack: Stack,
    kyc: Kyc,
    consumers: Consumers,
}

async fn fixture() -> Fixture {
    let stack = fresh_stack().await;
    // The emulator applies the bucket policy's denies without their conditions (see
    // Stack::remove_bucket_policy_for_object_access): every object request would be refused.
    stack.remove_bucket_policy_for_object_access().await;
    let kyc = stack.verification();
    let consumers = stack
        .consumers(&[("DocumentEventsQueue", &stack.document_events_queue_url)])
        .await;
    let fixture = Fixture {
        stack,
        kyc,
        consumers,
    };
    // S3's s3:TestEvent (sent when provisioning set the notification) is acknowledged.
    let first = fixture.drain().await;
    assert_eq!(
        (first.received, first.deleted, first.failed),
        (1, 1, 0),
        "{first:?}"
    );
    fixture
}

impl Fixture {
    /// Receive-and-dispatch rounds until the queues have nothing visible.
    async fn drain(&self) -> Drained {
        guichet_tests::drain(&self.consumers).await
    }

    async fn open_case(&self, player: &PlayerId) -> VerificationCase {
        self.kyc
            .open_case(
                &Author::Player,
                player.clone(),
                CaseReason::FirstWithdrawal,
                &[],
                Language::En,
            )
            .await
            .unwrap_or_else(|e| panic!("open_case: {}", error_chain(&e)))
    }

    async fn request_upload(
        &self,
        player: &PlayerId,
        kind: DocumentKind,
        content_type: ContentType,
        size: u64,
    ) -> (PendingUpload, Presigned) {
        self.kyc
            .request_upload(&Author::Player, player, kind, content_type, size)
            .await
            .unwrap_or_else(|e| panic!("request_upload: {}", error_chain(&e)))
    }

    async fn case(&self, case: &VerificationCase) -> VerificationCase {
        self.kyc
            .cases
            .case(&case.id)
            .await
            .unwrap_or_else(|e| panic!("case: {}", error_chain(&e)))
            .expect("the case exists")
    }

    async fn upload_state(&self, upload: &PendingUpload) -> UploadState {
        self.kyc
            .cases
            .upload(&upload.upload)
            .await
            .unwrap_or_else(|e| panic!("upload: {}", error_chain(&e)))
            .expect("the upload record exists")
            .state
    }

    /// A write that did not come through an upload URL we issued.
    async fn put_directly(&self, key: &str, bytes: Vec<u8>) {
        self.stack
            .s3()
            .put_object()
            .bucket(&self.stack.documents_bucket)
            .key(key)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .content_type("application/pdf")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {key}: {}", error_chain(&e)));
    }

    async fn audit_len(&self, case: &VerificationCase) -> usize {
        self.kyc
            .cases
            .audit_of(&case.id)
            .await
            .unwrap_or_else(|e| panic!("audit: {}", error_chain(&e)))
            .len()
    }
}

fn player(stack: &Stack, name: &str) -> PlayerId {
    PlayerId::parse(&format!("{name}-{}", stack.name)).expect("valid player id")
}

fn pdf(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    bytes.resize(size, b'0');
    bytes
}

fn png(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(size, 0);
    bytes
}

/// `(authority, path and query)` of an `http://` URL (the emulator's endpoint).
/// PUTs `body` to a presigned URL with exactly the headers it was signed with (and `Host`, the
/// URL's own authority, which is signed too).
async fn put_presigned(presigned: &Presigned, body: Vec<u8>) {
    let headers: Vec<(&str, &str)> = presigned
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    put_stored(&presigned.url, &headers, body).await;
}

#[tokio::test]
async fn uploaded_documents_are_checked_and_the_last_one_sends_the_case_to_review() {
    let f = fixture().await;
    let player = player(&f.stack, "p");
    let case = f.open_case(&player).await;

    let (id, id_url) = f
        .request_upload(&player, DocumentKind::GovernmentId, ContentType::Pdf, 3000)
        .await;
    // What the URL binds, since the emulator does not enforce it: a short life, the exact type
    // and length, SSE-KMS, and write-once.
    assert_eq!(id_url.method, "PUT");
    let signed = query_param(&id_url.url, "X-Amz-SignedHeaders").expect("signed headers");
    let signed: Vec<&str> = signed.split(';').collect();
    for header in [
        "content-length",
        "content-type",
        "host",
        "if-none-match",
        "x-amz-server-side-encryption",
    ] {
        assert!(signed.contains(&header), "{header} not signed: {signed:?}");
    }
    let expires: u64 = query_param(&id_url.url, "X-Amz-Expires")
        .expect("X-Amz-Expires")
        .parse()
        .expect("a number of seconds");
    assert!((1..=900).contains(&expires), "X-Amz-Expires={expires}");
    assert_eq!(
        id_url.headers.get("content-type").map(String::as_str),
        Some("application/pdf")
    );
    assert_eq!(
        id_url.headers.get("content-length").map(String::as_str),
        Some("3000")
    );
    assert_eq!(
        id_url
            .headers
            .get("x-amz-server-side-encryption")
            .map(String::as_str),
        Some("aws:kms")
    );
    assert!(
        id.key
            .starts_with(&format!("verification/{}/", player.as_str())),
        "{}",
        id.key
    );

    put_presigned(&id_url, pdf(3000)).await;
    let drained = f.drain().await;
    assert_eq!((drained.received, drained.failed), (1, 0), "{drained:?}");
    let halfway = f.case(&case).await;
    assert_eq!(halfway.status, CaseStatus::AwaitingDocuments);
    assert_eq!(
        halfway.slot(DocumentKind::GovernmentId).map(|s| s.status),
        Some(DocumentStatus::Received)
    );
    assert_eq!(f.upload_state(&id).await, UploadState::Received);

    let (address, address_url) = f
        .request_upload(
            &player,
            DocumentKind::ProofOfAddress,
            ContentType::Png,
            1200,
        )
        .await;
    put_presigned(&address_url, png(1200)).await;
    let drained = f.drain().await;
    assert_eq!((drained.received, drained.failed), (1, 0), "{drained:?}");
    let done = f.case(&case).await;
    assert_eq!(done.status, CaseStatus::InReview);
    assert!(done.submitted_at.is_some());
    // Accepted documents stay where reviewers read them.
    assert!(f.stack.object_exists(&id.key).await && f.stack.object_exists(&address.key).await);

    // Review: the case is on the verification team's queue, a reviewer views a document
    // through a short-lived GET (which downloads the very bytes that were checked), approves
    // on the version read, and the gate opens.
    let queue = f.kyc.cases.review_queue(false, 10).await.expect("queue");
    assert!(queue.iter().any(|c| c.id == case.id), "{queue:?}");
    let reviewer = guichet_core::common::player::Author::Staff {
        id: "reviewer-1".into(),
    };
    let view = f
        .kyc
        .view_document(&reviewer, &case.id, DocumentKind::GovernmentId, None)
        .await
        .expect("a view URL")
        .url;
    let expires: u64 = query_param(&view.url, "X-Amz-Expires")
        .expect("X-Amz-Expires")
        .parse()
        .expect("seconds");
    assert!(expires <= 300, "X-Amz-Expires={expires}");
    assert_eq!(get_presigned(&view).await, pdf(3000));
    let gate = f
        .kyc
        .eligibility(
            &player,
            guichet_core::verification::rules::GatedAction::Withdrawal,
        )
        .await
        .expect("gate");
    assert!(!gate.allowed);
    let approved = f
        .kyc
        .decide(
            &reviewer,
            false,
            &case.id,
            done.version,
            None,
            &guichet_core::verification::rules::Decision::Approve,
            None,
            Some("ID and statement match".into()),
        )
        .await
        .expect("approved");
    assert_eq!(approved.case.status, CaseStatus::Approved);
    // The player's notification was written with the decision, waiting in the outbox.
    assert_eq!(approved.outbox.len(), 1);
    assert!(approved.outbox[0]
        .body
        .contains("\"kind\":\"verification_approved\""));
    // The sender finds it kept with the case and owed to this player (who has no address on
    // file in this test, so nothing is e-mailed, rather than refused as not owed).
    let message: guichet_core::notifications::rules::NotificationMessage =
        serde_json::from_str(&approved.outbox[0].body).expect("a notification message");
    let sender = guichet_aws::wiring::sender(
        &guichet_edge::config::SenderConfig {
            tickets_table: f.stack.tickets_table.clone(),
            sender: "soutien@guichet.example".into(),
            mail: None,
        },
        &f.stack.sdk,
        None,
    );
    assert_eq!(
        sender.deliver(&message).await.expect("owed"),
        guichet_core::notifications::sender::Delivery::NoAddress
    );
    let gate = f
        .kyc
        .eligibility(
            &player,
            guichet_core::verification::rules::GatedAction::Withdrawal,
        )
        .await
        .expect("gate");
    assert!(gate.allowed, "{gate:?}");
    assert!(f
        .kyc
        .cases
        .review_queue(false, 10)
        .await
        .expect("queue")
        .is_empty());
    let audit = f.kyc.cases.audit_of(&case.id).await.expect("audit");
    assert!(audit
        .iter()
        .any(|e| e.internal_note.as_deref() == Some("ID and statement match")));
}

async fn get_presigned(presigned: &Presigned) -> Vec<u8> {
    let response = send_presigned(&presigned.method, &presigned.url, &[], None).await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    response.body
}

#[tokio::test]
async fn a_file_that_is_not_what_it_claims_is_refused_and_quarantined() {
    let f = fixture().await;
    let player = player(&f.stack, "p");
    let case = f.open_case(&player).await;
    let (claimed_pdf, url) = f
        .request_upload(&player, DocumentKind::GovernmentId, ContentType::Pdf, 800)
        .await;
    // Same length, declared type in the header, but PNG bytes: the emulator takes it.
    put_presigned(&url, png(800)).await;

    let drained = f.drain().await;
    assert_eq!((drained.received, drained.failed), (1, 0), "{drained:?}");
    let slot = f
        .case(&case)
        .await
        .slot(DocumentKind::GovernmentId)
        .cloned()
        .expect("slot");
    assert_eq!(slot.status, DocumentStatus::Refused);
    assert_eq!(slot.check_failure, Some(CheckFailure::TypeMismatch));
    assert_eq!(
        f.upload_state(&claimed_pdf).await,
        UploadState::Refused(CheckFailure::TypeMismatch)
    );
    assert!(!f.stack.object_exists(&claimed_pdf.key).await);
    assert!(
        f.stack
            .object_exists(&format!("quarantine/{}", claimed_pdf.key))
            .await
    );

    // A file of another length than the one signed (S3 would refuse it; the emulator does not).
    let (short, url) = f
        .request_upload(&player, DocumentKind::ProofOfAddress, ContentType::Pdf, 900)
        .await;
    let mut signed = url.clone();
    signed.headers.insert("content-length".into(), "400".into());
    put_presigned(&signed, pdf(400)).await;
    f.drain().await;
    assert_eq!(
        f.upload_state(&short).await,
        UploadState::Refused(CheckFailure::SizeMismatch)
    );
    assert!(
        f.stack
            .object_exists(&format!("quarantine/{}", short.key))
            .await
    );
}

#[tokio::test]
async fn objects_outside_an_issued_key_are_quarantined() {
    let f = fixture().await;
    let owner = player(&f.stack, "owner");
    let case = f.open_case(&owner).await;
    let (issued, _url) = f
        .request_upload(&owner, DocumentKind::GovernmentId, ContentType::Pdf, 500)
        .await;
    // The owner's upload id under another player's prefix, and a key no one was given (with a
    // space, which S3 sends as `+`).
    let other = player(&f.stack, "other");
    let elsewhere = issued.key.replace(
        &format!("/{}/", owner.as_str()),
        &format!("/{}/", other.as_str()),
    );
    assert_ne!(elsewhere, issued.key);
    let unknown = format!("verification/{}/my passport.pdf", other.as_str());
    f.put_directly(&elsewhere, pdf(500)).await;
    f.put_directly(&unknown, pdf(500)).await;

    let drained = f.drain().await;
    assert_eq!((drained.received, drained.failed), (2, 0), "{drained:?}");
    for key in [&elsewhere, &unknown] {
        assert!(!f.stack.object_exists(key).await, "{key} still in place");
        assert!(
            f.stack.object_exists(&format!("quarantine/{key}")).await,
            "{key} not quarantined"
        );
    }
    // The owner's request is untouched.
    assert_eq!(f.upload_state(&issued).await, UploadState::Pending);
    assert_eq!(
        f.case(&case)
            .await
            .slot(DocumentKind::GovernmentId)
            .map(|s| s.status),
        Some(DocumentStatus::Missing)
    );
}

#[tokio::test]
async fn a_duplicate_delivery_changes_nothing() {
    let f = fixture().await;
    let player = player(&f.stack, "p");
    let case = f.open_case(&player).await;
    let (upload, url) = f
        .request_upload(&player, DocumentKind::GovernmentId, ContentType::Pdf, 700)
        .await;
    put_presigned(&url, pdf(700)).await;

    // Keep a copy of S3's event as it arrived, then put it back for the consumers.
    let body = f
        .stack
        .peek_one_message(&f.stack.document_events_queue_url)
        .await;
    f.drain().await;
    let once = f.case(&case).await;
    assert_eq!(
        once.slot(DocumentKind::GovernmentId).map(|s| s.status),
        Some(DocumentStatus::Received)
    );
    let audit_once = f.audit_len(&case).await;

    f.stack
        .send_message(&f.stack.document_events_queue_url, &body)
        .await;
    let drained = f.drain().await;
    assert_eq!((drained.received, drained.deleted), (1, 1), "{drained:?}");
    assert_eq!(f.case(&case).await, once, "same case, same version");
    assert_eq!(f.audit_len(&case).await, audit_once);
    assert_eq!(f.upload_state(&upload).await, UploadState::Received);
    assert!(f.stack.object_exists(&upload.key).await);
}

#[tokio::test]
async fn a_poison_message_lands_in_the_dead_letter_queue_and_spares_the_good_ones() {
    let f = fixture().await;
    let player = player(&f.stack, "p");
    let case = f.open_case(&player).await;
    let poison = f
        .stack
        .send_message(
            &f.stack.document_events_queue_url,
            "this is not an S3 event",
        )
        .await;
    let (upload, url) = f
        .request_upload(&player, DocumentKind::GovernmentId, ContentType::Pdf, 600)
        .await;
    put_presigned(&url, pdf(600)).await;

    // Each round receives the poison message again, made visible at once instead of waiting
    // out the queue's 60 s visibility timeout.
    let (receives, _) = guichet_tests::drain_with_poison(&f.consumers, &f.stack, &poison).await;
    assert_eq!(
        receives, MAX_RECEIVE_COUNT,
        "received maxReceiveCount times"
    );
    // The good document of the first batch was handled once, not retried with the poison.
    assert_eq!(f.upload_state(&upload).await, UploadState::Received);
    assert_eq!(
        f.case(&case)
            .await
            .slot(DocumentKind::GovernmentId)
            .map(|s| s.status),
        Some(DocumentStatus::Received)
    );

    assert_eq!(
        f.stack.dead_letters(&f.stack.document_events_dlq_url).await,
        [(poison.clone(), "this is not an S3 event".to_owned())]
    );
}
