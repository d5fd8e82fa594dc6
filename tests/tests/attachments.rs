//! Ticket attachments end to end: HTTP requests to the local gateway (routes from the template,
//! JWT checked), presigned PUTs of real bytes to the emulator's S3, S3's events through
//! DocumentEventsQueue to the document function (the local consumers), and the ticket read
//! back with its checked attachments.
//!
//! The emulator does not check presigned URLs (signature, expiry, signed Content-Type and
//! Content-Length): what the URL promises is asserted on its signed parameters, and what
//! arrives is judged by the document check itself.

use std::collections::BTreeMap;

use guichet_aws::dynamo::attachments::DynamoAttachmentStore;
use guichet_aws::s3::S3DocumentStorage;
use guichet_core::attachments::ports::AttachmentStore;
use guichet_core::attachments::rules::{AttachmentState, MAX_ATTACHMENTS_PER_TICKET};
use guichet_core::attachments::service::{AttachmentError, Attachments};
use guichet_core::common::player::Author;
use guichet_core::common::reference::TicketReference;
use guichet_core::documents::rules::{CheckFailure, ContentType, UploadId};
use guichet_edge::config::AttachmentsConfig;
use guichet_edge::config::{Config, KycConfig};
use guichet_local::client::{send, ClientResponse};
use guichet_local::consumers::{Consumers, Drained};
use guichet_tests::presigned::{put_stored, query_param, send_presigned};
use guichet_tests::{error_chain, project_template, LocalApi};
use serde_json::{json, Value};

struct Fixture {
    api: LocalApi,
    attachments: Attachments<DynamoAttachmentStore, S3DocumentStorage>,
    consumers: Consumers,
}

async fn fixture() -> Fixture {
    let api = LocalApi::start().await;
    let stack = &api.stack;
    // The emulator applies the bucket policy's denies without their conditions (see
    // Stack::remove_bucket_policy_for_object_access): every object request would be refused.
    stack.remove_bucket_policy_for_object_access().await;
    let consumers = stack
        .consumers(&[("DocumentEventsQueue", &stack.document_events_queue_url)])
        .await;
    let fixture = Fixture {
        attachments: stack.attachments(),
        api,
        consumers,
    };
    // S3's s3:TestEvent (sent when provisioning set the notification) is acknowledged.
    let first = fixture.drain().await;
    assert_eq!((first.received, first.failed), (1, 0), "{first:?}");
    fixture
}

impl Fixture {
    fn token(&self, sub: &str, groups: &[&str]) -> String {
        self.api.token(sub, groups, 600)
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> ClientResponse {
        self.api.call(method, path, token, body.as_ref()).await
    }

    /// A ticket of `player`, by its reference as the receipt gave it.
    async fn ticket(&self, player: &str) -> String {
        let an_hour_ago =
            (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1)).to_string();
        let body = json!({
            "channel": "chat", "category": "incident", "subject": "Roulette figée",
            "description": "La roue s'est arrêtée pendant ma mise de 20 $.",
            "incident": {"occurred_at": an_hour_ago, "game_name": "Roulette Royale",
                         "steps_tried": []},
        });
        let token = self.token(player, &["player"]);
        let receipt = self.api.create_ticket(&token, &[], &body).await;
        receipt["reference"].as_str().expect("reference").to_owned()
    }

    async fn request(
        &self,
        reference: &str,
        token: &str,
        content_type: &str,
        size: usize,
    ) -> ClientResponse {
        self.call(
            "POST",
            &format!("/tickets/{reference}/attachments"),
            token,
            Some(json!({"content_type": content_type, "size": size})),
        )
        .await
    }

    async fn read(&self, reference: &str, token: &str) -> ClientResponse {
        self.call("GET", &format!("/tickets/{reference}"), token, None)
            .await
    }

    /// Receive-and-dispatch rounds until the queues have nothing visible.
    async fn drain(&self) -> Drained {
        guichet_tests::drain(&self.consumers).await
    }

    async fn state(&self, reference: &str, upload: &str) -> (AttachmentState, String) {
        let attachment = self
            .attachments
            .store
            .attachment(
                &TicketReference::parse(reference).expect("reference"),
                &UploadId::parse(upload).expect("upload id"),
            )
            .await
            .unwrap_or_else(|e| panic!("attachment: {}", error_chain(&e)))
            .expect("the attachment is recorded");
        (attachment.state, attachment.key)
    }
}

fn png(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(size, 7);
    bytes
}

/// The headers a presigned request was signed with, as the API answered them.
fn signed_headers(headers: &Value) -> Vec<(&str, &str)> {
    headers
        .as_object()
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Sends a presigned request with exactly the headers it was signed with (and `Host`).
async fn presigned(
    method: &str,
    url: &str,
    headers: &Value,
    body: Option<Vec<u8>>,
) -> ClientResponse {
    send_presigned(method, url, &signed_headers(headers), body).await
}

async fn put(issued: &Value, bytes: Vec<u8>) {
    let url = issued["url"].as_str().expect("url");
    put_stored(url, &signed_headers(&issued["headers"]), bytes).await;
}

#[tokio::test]
async fn an_attachment_goes_from_url_to_ticket_and_staff_download_it() {
    let f = fixture().await;
    let owner = f.token(&format!("owner-{}", f.api.stack.name), &["player"]);
    let agent = f.token("agent-7", &["agent"]);
    let reference = f.ticket(&format!("owner-{}", f.api.stack.name)).await;
    let canonical = TicketReference::parse(&reference).expect("reference");

    let bytes = png(4096);
    let issued = f
        .request(&reference, &owner, "image/png", bytes.len())
        .await;
    assert_eq!(issued.status, 201, "{:?}", issued.json());
    let issued = issued.json();
    let upload = issued["upload_id"].as_str().expect("upload id").to_owned();
    let url = issued["url"].as_str().expect("url");
    assert_eq!(issued["method"], "PUT");
    assert!(
        url.contains(&format!("/tickets/{}/{upload}?", canonical.as_str())),
        "{url}"
    );
    // What the URL binds, since the emulator does not enforce it.
    let signed = query_param(url, "X-Amz-SignedHeaders").expect("signed headers");
    for header in [
        "content-length",
        "content-type",
        "host",
        "x-amz-server-side-encryption",
    ] {
        assert!(
            signed.split(';').any(|h| h == header),
            "{header} not signed: {signed}"
        );
    }
    let expires: u64 = query_param(url, "X-Amz-Expires")
        .expect("X-Amz-Expires")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&expires), "X-Amz-Expires={expires}");
    assert_eq!(issued["headers"]["content-length"], "4096");

    // Not listed before it arrived and passed.
    let before = f.read(&reference, &owner).await;
    assert_eq!(before.json()["attachments"], json!([]));

    put(&issued, bytes.clone()).await;
    let drained = f.drain().await;
    assert_eq!((drained.received, drained.failed), (1, 0), "{drained:?}");
    let (state, key) = f.state(&reference, &upload).await;
    assert_eq!(state, AttachmentState::Checked);
    assert!(f.api.stack.object_exists(&key).await);

    // The player reads metadata only.
    let mine = f.read(&reference, &owner).await;
    assert_eq!(mine.status, 200, "{:?}", mine.json());
    let listed = &mine.json()["attachments"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["upload_id"], upload.as_str());
    assert_eq!(listed[0]["content_type"], "image/png");
    assert_eq!(listed[0]["size"], 4096);
    assert!(listed[0]["checked_at"].is_string());
    assert!(listed[0].get("url").is_none(), "{listed}");
    assert!(!mine.json().to_string().contains("tickets/"));

    // Staff get a short-lived GET that downloads the very bytes.
    let staff = f.read(&reference, &agent).await;
    assert_eq!(staff.status, 200, "{:?}", staff.json());
    let view = &staff.json()["attachments"][0];
    let view_url = view["url"].as_str().expect("a URL for staff");
    let expires: u64 = query_param(view_url, "X-Amz-Expires")
        .expect("X-Amz-Expires")
        .parse()
        .expect("seconds");
    assert_eq!(expires, 300);
    assert!(view["expires_at"].is_string());
    let downloaded = presigned("GET", view_url, &json!({}), None).await;
    assert_eq!(downloaded.status, 200);
    assert_eq!(downloaded.body, bytes);

    // Another player: 404 exactly like an unknown ticket, for both routes.
    let stranger = f.token("stranger-1", &["player"]);
    let theirs = f.request(&reference, &stranger, "image/png", 10).await;
    let unknown = f.request("K7M2Q-9XW45", &stranger, "image/png", 10).await;
    assert_eq!((theirs.status, unknown.status), (404, 404));
    assert_eq!(theirs.json(), unknown.json());
    assert_eq!(f.read(&reference, &stranger).await.status, 404);
}

#[tokio::test]
async fn a_pdf_that_is_a_png_is_refused_and_quarantined() {
    let f = fixture().await;
    let player = format!("p-{}", f.api.stack.name);
    let owner = f.token(&player, &["player"]);
    let reference = f.ticket(&player).await;
    let issued = f.request(&reference, &owner, "application/pdf", 900).await;
    assert_eq!(issued.status, 201, "{:?}", issued.json());
    let issued = issued.json();
    let upload = issued["upload_id"].as_str().expect("upload id").to_owned();
    // Same length, declared type in the header, but PNG bytes: the emulator takes it.
    put(&issued, png(900)).await;

    let drained = f.drain().await;
    assert_eq!((drained.received, drained.failed), (1, 0), "{drained:?}");
    let (state, key) = f.state(&reference, &upload).await;
    assert_eq!(state, AttachmentState::Refused(CheckFailure::TypeMismatch));
    assert!(!f.api.stack.object_exists(&key).await);
    assert!(
        f.api
            .stack
            .object_exists(&format!("quarantine/{key}"))
            .await
    );
    let agent = f.token("agent-7", &["agent"]);
    assert_eq!(
        f.read(&reference, &agent).await.json()["attachments"],
        json!([])
    );
}

#[tokio::test]
async fn the_sixth_attachment_is_refused_until_a_refusal_gives_a_slot_back() {
    let f = fixture().await;
    let player = format!("p-{}", f.api.stack.name);
    let owner = f.token(&player, &["player"]);
    let agent = f.token("agent-7", &["agent"]);
    let reference = f.ticket(&player).await;
    let mut issued = Vec::new();
    for n in 0..MAX_ATTACHMENTS_PER_TICKET {
        // Owner and staff share the ticket's limit.
        let token = if n % 2 == 0 { &owner } else { &agent };
        let response = f.request(&reference, token, "image/png", 64).await;
        assert_eq!(response.status, 201, "{:?}", response.json());
        issued.push(response.json());
    }
    let sixth = f.request(&reference, &owner, "image/png", 64).await;
    assert_eq!(sixth.status, 409, "{:?}", sixth.json());
    assert_eq!(sixth.json()["error"], "conflict");
    assert_eq!(sixth.json()["reason"], "attachment_limit");

    // A refused upload does not count: its slot comes back.
    put(
        &issued[0],
        b"%PDF-1.7 not a png at all, sixty-four bytes long, padded........".to_vec(),
    )
    .await;
    f.drain().await;
    let again = f.request(&reference, &owner, "image/png", 64).await;
    assert_eq!(again.status, 201, "{:?}", again.json());
    assert_eq!(
        f.request(&reference, &owner, "image/png", 64).await.status,
        409
    );
}

#[tokio::test]
async fn concurrent_requests_never_exceed_the_limit() {
    let f = fixture().await;
    let player = format!("p-{}", f.api.stack.name);
    let bearer = format!("Bearer {}", f.token(&player, &["player"]));
    let reference = f.ticket(&player).await;
    // Eight requests at the same time, each on its own connection.
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (addr, bearer) = (f.api.addr, bearer.clone());
        let path = format!("/tickets/{reference}/attachments");
        requests.spawn(async move {
            let headers = [
                ("authorization", bearer.as_str()),
                ("content-type", "application/json"),
            ];
            let body = br#"{"content_type":"image/jpeg","size":100}"#.to_vec();
            send(addr, "POST", &path, &headers, Some(body))
                .await
                .expect("the gateway answers")
                .status
        });
    }
    let statuses: Vec<u16> = requests.join_all().await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(created, MAX_ATTACHMENTS_PER_TICKET as usize, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let recorded = f
        .attachments
        .store
        .attachments_of(&TicketReference::parse(&reference).expect("reference"))
        .await
        .unwrap_or_else(|e| panic!("attachments: {}", error_chain(&e)));
    assert_eq!(recorded.len(), MAX_ATTACHMENTS_PER_TICKET as usize);
}

#[tokio::test]
async fn a_duplicate_s3_event_changes_nothing() {
    let f = fixture().await;
    let player = format!("p-{}", f.api.stack.name);
    let owner = f.token(&player, &["player"]);
    let reference = f.ticket(&player).await;
    let issued = f.request(&reference, &owner, "image/png", 700).await.json();
    let upload = issued["upload_id"].as_str().expect("upload id").to_owned();
    put(&issued, png(700)).await;

    // Keep a copy of S3's event as it arrived, then put it back for the consumers.
    let body = f
        .api
        .stack
        .peek_one_message(&f.api.stack.document_events_queue_url)
        .await;
    f.drain().await;
    let once = f.read(&reference, &owner).await.json();
    assert_eq!(once["attachments"][0]["upload_id"], upload.as_str());

    f.api
        .stack
        .send_message(&f.api.stack.document_events_queue_url, &body)
        .await;
    let drained = f.drain().await;
    assert_eq!((drained.received, drained.deleted), (1, 1), "{drained:?}");
    assert_eq!(
        f.read(&reference, &owner).await.json(),
        once,
        "same ticket, same attachment"
    );
    let (state, key) = f.state(&reference, &upload).await;
    assert_eq!(state, AttachmentState::Checked);
    assert!(f.api.stack.object_exists(&key).await);
    assert!(
        !f.api
            .stack
            .object_exists(&format!("quarantine/{key}"))
            .await
    );
}

#[tokio::test]
async fn a_presigned_url_cannot_replace_a_checked_file() {
    let f = fixture().await;
    let player = format!("p-{}", f.api.stack.name);
    let owner = f.token(&player, &["player"]);
    let reference = f.ticket(&player).await;
    let issued = f.request(&reference, &owner, "image/png", 300).await.json();
    let upload = issued["upload_id"].as_str().expect("upload id").to_owned();
    put(&issued, png(300)).await;
    f.drain().await;
    assert_eq!(
        f.state(&reference, &upload).await.0,
        AttachmentState::Checked
    );

    // The URL works until it expires, but it is write-once: `If-None-Match: *` is signed
    // into it, so S3 refuses to replace the checked file (the document check would refuse
    // a replacement anyway; this keeps the checked bytes in place).
    let signed = query_param(issued["url"].as_str().expect("url"), "X-Amz-SignedHeaders")
        .expect("signed headers");
    assert!(signed.contains("if-none-match"), "{signed}");
    let mut forged = b"%PDF-1.7\n".to_vec();
    forged.resize(300, b' ');
    let url = issued["url"].as_str().expect("url");
    let second = presigned("PUT", url, &issued["headers"], Some(forged)).await;
    assert_eq!(
        second.status,
        412,
        "{}",
        String::from_utf8_lossy(&second.body)
    );
    let drained = f.drain().await;
    assert_eq!(drained.received, 0, "{drained:?}");
    let (state, key) = f.state(&reference, &upload).await;
    assert_eq!(state, AttachmentState::Checked);
    assert!(f.api.stack.object_exists(&key).await);
    assert_eq!(
        f.read(&reference, &owner).await.json()["attachments"][0]["upload_id"],
        json!(upload)
    );
}

#[tokio::test]
async fn the_store_refuses_an_attachment_for_a_ticket_that_does_not_exist() {
    let f = fixture().await;
    let nowhere = TicketReference::parse("K7M2Q-9XW45").expect("reference");
    let refused = f
        .attachments
        .request(&Author::Player, &nowhere, ContentType::Png, 10)
        .await;
    assert!(
        matches!(refused, Err(AttachmentError::TicketNotFound)),
        "{refused:?}"
    );
    assert!(f
        .attachments
        .store
        .attachments_of(&nowhere)
        .await
        .unwrap_or_else(|e| panic!("attachments: {}", error_chain(&e)))
        .is_empty());
}

#[tokio::test]
async fn a_closed_ticket_takes_no_more_attachments_even_if_it_closed_after_being_read() {
    let f = fixture().await;
    let reference = f.ticket("player-closed").await;
    let supervisor = f.token("sup-1", &["supervisor"]);
    for (version, status) in [(1, "resolved"), (2, "closed")] {
        let moved = f
            .call(
                "POST",
                &format!("/tickets/{reference}/status"),
                &supervisor,
                Some(json!({"version": version, "status": status})),
            )
            .await;
        assert_eq!(moved.status, 200, "{:?}", moved.json());
    }
    let refused = f
        .request(
            &reference,
            &f.token("player-closed", &["player"]),
            "image/png",
            10,
        )
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused.json());
    assert_eq!(refused.json()["reason"], "wrong_state");
    // Past the handler's own check (as if the ticket closed between its read and the
    // write): the store's transaction refuses it too, and tells it from a missing ticket.
    let parsed = TicketReference::parse(&reference).expect("reference");
    let direct = f
        .attachments
        .request(&Author::Player, &parsed, ContentType::Png, 10)
        .await;
    assert!(
        matches!(direct, Err(AttachmentError::TicketClosed)),
        "{direct:?}"
    );
    assert!(f
        .attachments
        .store
        .attachments_of(&parsed)
        .await
        .unwrap_or_else(|e| panic!("attachments: {}", error_chain(&e)))
        .is_empty());
}

/// The functions that touch attachments find what they read at init in their deployed
/// environment (a missing variable would stop them at init, in AWS only).
#[test]
fn the_attachment_functions_are_configured_by_the_template() {
    let template = project_template();
    let mut ids = BTreeMap::from([
        ("TicketsTable".to_owned(), "s-tickets".to_owned()),
        ("DocumentsBucket".to_owned(), "s-documents".to_owned()),
        ("DocumentEventsQueue".to_owned(), "http://q".to_owned()),
    ]);
    // The other resources the Globals name (the escalation and notification queues).
    for (_, logical_id) in template.resource_env_vars().unwrap() {
        ids.entry(logical_id.clone())
            .or_insert_with(|| format!("http://{logical_id}"));
    }
    for function in [
        "AddAttachmentFunction",
        "GetTicketFunction",
        "CheckDocumentsFunction",
    ] {
        let environment = template
            .function_environment(function, "s", &ids)
            .unwrap_or_else(|e| panic!("{function}: {}", error_chain(&e)));
        let lookup = |name: &str| environment.get(name).cloned();
        let config = AttachmentsConfig::from_lookup(lookup)
            .unwrap_or_else(|e| panic!("{function}: {}", error_chain(&e)));
        assert_eq!(
            (
                config.tickets_table.as_str(),
                config.documents_bucket.as_str()
            ),
            ("s-tickets", "s-documents"),
            "{function}"
        );
        let also = if function == "CheckDocumentsFunction" {
            KycConfig::from_lookup(lookup).map(drop)
        } else {
            Config::from_lookup(lookup).map(drop)
        };
        also.unwrap_or_else(|e| panic!("{function}: {}", error_chain(&e)));
    }
}
