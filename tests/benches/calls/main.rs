//! Benchmark, not a test (`harness = false`, never built by `cargo test`): the AWS calls and the
//! DynamoDB capacity of each of Guichet's main operations, counted by an SDK interceptor
//! ([`counter`]) on every client the production wiring builds, against the emulator with a
//! freshly provisioned stack, printed beside the fewest calls each operation needs.
//!
//! Run with `scripts/bench-calls` (it starts and stops an emulator of its own). The HTTP
//! operations go through the local gateway in process, so they run the functions' own handlers;
//! the SQS-fed ones through the local consumers, and the outbox relay (relay-stream) through
//! the local consumers following the table's stream. Calls are grouped by where they run:
//! `request` (the function answering the API), `relay` (relay-stream, fed by the table's stream
//! after the commit: asynchronous), and `async` (a queue consumer). The event source mappings'
//! own calls (`ReceiveMessage` and `DeleteMessageBatch` on the queues, `GetRecords` and
//! `GetShardIterator` on the stream) are not counted: the stream records read are shown as a
//! count instead.

mod counter;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use counter::{Call, Counter};
use guichet_aws::dynamo::attachments::DynamoAttachmentStore;
use guichet_aws::dynamo::cases::DynamoCaseStore;
use guichet_aws::dynamo::deliveries::DynamoDeliveryLedger;
use guichet_aws::dynamo::incidents::DynamoIncidentStore;
use guichet_aws::dynamo::tickets::DynamoTicketStore;
use guichet_aws::s3::S3DocumentStorage;
use guichet_aws::ses::SesEmailSender;
use guichet_aws::sqs::SqsQueues;
use guichet_local::consumers::{ConsumerServices, Consumers};
use guichet_local::gateway::{serve, Gateway, Services};
use guichet_local::jwt::DevKey;
use guichet_tests::{error_chain, fresh_stack, project_template, AwsRelay, Stack};
use serde_json::{json, Value};

/// Every port of the services, on clients that report to `counter`.
struct Instrumented<'a> {
    stack: &'a Stack,
    counter: Counter,
}

impl Instrumented<'_> {
    fn tickets(&self) -> DynamoTicketStore {
        DynamoTicketStore::new(
            self.counter.dynamodb(&self.stack.sdk),
            &self.stack.tickets_table,
        )
    }

    fn storage(&self) -> S3DocumentStorage {
        S3DocumentStorage::new(
            self.counter.s3(&self.stack.sdk),
            &self.stack.documents_bucket,
        )
    }

    fn desk(&self) -> guichet_tests::AwsDesk {
        let mut desk = self.stack.desk();
        desk.store = self.tickets();
        desk
    }

    fn verification(&self) -> guichet_tests::AwsVerification {
        let mut verification = self.stack.verification();
        verification.cases = DynamoCaseStore::new(
            self.counter.dynamodb(&self.stack.sdk),
            &self.stack.tickets_table,
        );
        verification.storage = self.storage();
        verification
    }

    fn attachments(&self) -> guichet_tests::AwsAttachments {
        let mut attachments = self.stack.attachments();
        attachments.store = DynamoAttachmentStore::new(
            self.counter.dynamodb(&self.stack.sdk),
            &self.stack.tickets_table,
        );
        attachments.storage = self.storage();
        attachments
    }

    fn incidents(&self) -> guichet_tests::AwsIncidents {
        let mut incidents = self.stack.incidents();
        incidents.store = DynamoIncidentStore::new(
            self.counter.dynamodb(&self.stack.sdk),
            &self.stack.tickets_table,
        );
        incidents
    }

    /// The outbox relay (relay-stream's; route-escalations' team queues), on counted clients.
    fn relay(&self) -> AwsRelay {
        let counter = &self.counter;
        AwsRelay {
            store: DynamoTicketStore::new(
                counter.dynamodb(&self.stack.sdk),
                &self.stack.tickets_table,
            ),
            queues: SqsQueues::new(counter.sqs(&self.stack.sdk), &self.stack.queues_config()),
        }
    }

    fn services(&self) -> Services {
        Services {
            desk: self.desk(),
            verification: self.verification(),
            attachments: self.attachments(),
            incidents: self.incidents(),
            hours: guichet_core::calendar::hours::DeskHours::bundled()
                .unwrap_or_else(|e| panic!("hours: {e}")),
            handoff_key: guichet_core::handoffs::signature::HandoffKey::parse(
                b"the call counter's hand-off secret, 32 bytes",
            )
            .unwrap_or_else(|e| panic!("hand-off key: {e}")),
            mailroom: guichet_aws::dynamo::mail::DynamoMailroom::new(
                self.counter.dynamodb(&self.stack.sdk),
                &self.stack.tickets_table,
            ),
            saved_replies: guichet_core::tickets::saved_replies::SavedReplies::bundled()
                .unwrap_or_else(|e| panic!("saved replies: {e}")),
        }
    }

    async fn consumer_services(&self) -> ConsumerServices {
        let stack_services = self.stack.consumer_services().await;
        let mut sender = stack_services.sender;
        sender.contacts = self.tickets();
        sender.ledger = DynamoDeliveryLedger::new(
            self.counter.dynamodb(&self.stack.sdk),
            &self.stack.tickets_table,
        );
        sender.email = SesEmailSender::new(self.counter.sesv2(&self.stack.sdk));
        ConsumerServices {
            verification: self.verification(),
            attachments: self.attachments(),
            desk: self.desk(),
            relay: self.relay(),
            sender,
            incidents: self.incidents(),
            sweep: guichet_core::promises::sweep::Sweep {
                desk: self.desk(),
                lookback_hours: 24,
            },
            inbox: stack_services.inbox,
        }
    }

    /// The consumer of one queue (its logical id and URL), as the event source mapping feeds it.
    async fn consumer(&self, queue: &str, url: &str) -> Consumers {
        let queues = BTreeMap::from([(queue.to_owned(), url.to_owned())]);
        Consumers::new(
            &project_template(),
            &self.stack.sdk,
            self.consumer_services().await,
            &queues,
        )
        .await
        .unwrap_or_else(|e| panic!("consumers: {}", error_chain(&e)))
    }

    /// relay-stream alone, fed by the table's stream as its event source mapping feeds it; the
    /// mapping's own stream reads are on uncounted clients.
    async fn stream_relay(&self) -> Consumers {
        let template = project_template();
        let mut consumers = Consumers::new(
            &template,
            &self.stack.sdk,
            self.consumer_services().await,
            &BTreeMap::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("consumers: {}", error_chain(&e)));
        consumers
            .follow_stream(&template, &self.stack.sdk, &self.stack.tickets_table)
            .await
            .unwrap_or_else(|e| panic!("stream: {}", error_chain(&e)));
        consumers
    }
}

/// One line of the table: what was measured, and the fewest calls it needs with why.
struct Row {
    operation: &'static str,
    calls: Vec<Call>,
    /// Records of the table's stream read meanwhile: every write's, the relay's own deletes
    /// among them (locally all reach relay-stream, which skips all but outbox inserts).
    streamed: usize,
    minimum: &'static str,
}

/// The player's own `PUT` of a PNG of `size` bytes to a presigned upload (`issued`).
async fn put_png(issued: &Value, size: usize) {
    let headers: Vec<(&str, &str)> = issued["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.resize(size, 7);
    let url = issued["url"].as_str().expect("a url");
    guichet_tests::presigned::put_stored(url, &headers, png).await;
}

/// What the relay has to do after an operation: relay-stream over the stream's new records
/// until none are left; how many records it was handed.
async fn relay(stream: &Consumers) -> usize {
    guichet_tests::drain(stream).await.streamed
}

struct Api {
    addr: SocketAddr,
    key: DevKey,
}

impl Api {
    fn token(&self, sub: &str, groups: &[&str]) -> String {
        guichet_tests::dev_token(&self.key, sub, groups, 3600, &format!("{sub}@example.ca"))
    }

    /// `method path` with `token` and an optional JSON body; panics unless the status is
    /// `expected` (a benchmark of a failing call would measure the failure).
    async fn call(
        &self,
        expected: u16,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let bearer = format!("Bearer {token}");
        let key = format!("bench-{}", jiff::Timestamp::now().as_nanosecond());
        let mut headers = vec![("authorization", bearer.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
            // As clients retrying safely do: intake then writes its idempotency record too.
            headers.push(("idempotency-key", key.as_str()));
        }
        let body = body.map(|b| b.to_string().into_bytes());
        let response = guichet_local::client::send(self.addr, method, path, &headers, body)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {}", error_chain(&e)));
        assert_eq!(
            response.status,
            expected,
            "{method} {path}: {:?}",
            response.json()
        );
        response.json()
    }
}

#[tokio::main]
async fn main() {
    let stack = fresh_stack().await;
    stack.remove_bucket_policy_for_object_access().await;
    let counter = Counter::new();
    let wired = Instrumented {
        stack: &stack,
        counter: counter.clone(),
    };
    let consumers = Instrumented {
        stack: &stack,
        counter: counter.on("async"),
    };
    let relays = Instrumented {
        stack: &stack,
        counter: counter.on("relay"),
    };
    let key_path = std::env::temp_dir().join(format!("{}.key", stack.name));
    let key = DevKey::load_or_create(&key_path)
        .unwrap_or_else(|e| panic!("dev key: {}", error_chain(&e)));
    let _ = std::fs::remove_file(&key_path);
    let gateway = Gateway::new(&project_template(), wired.services(), key.clone())
        .unwrap_or_else(|e| panic!("gateway: {}", error_chain(&e)));
    let (addr, _server) = serve(Arc::new(gateway), 0)
        .await
        .unwrap_or_else(|e| panic!("serving: {}", error_chain(&e)));
    let api = Api { addr, key };
    let notifications = consumers
        .consumer("NotificationsQueue", &stack.notifications_queue_url)
        .await;
    let escalations = consumers
        .consumer("EscalationsQueue", &stack.escalations_queue_url)
        .await;
    let documents = consumers
        .consumer("DocumentEventsQueue", &stack.document_events_queue_url)
        .await;
    let stream = relays.stream_relay().await;
    // S3's s3:TestEvent, sent when provisioning set the bucket's notification.
    guichet_tests::drain(&documents).await;
    relay(&stream).await;

    let player = api.token("bench-player-1", &["player"]);
    let agent = api.token("bench-agent-1", &["agent", "team:technical"]);
    let mut rows = Vec::new();
    let technical = json!({"channel": "form", "category": "technical",
        "subject": "The lobby does not load",
        "description": "Since this morning the lobby stays blank after I log in."});
    let account = json!({"channel": "chat", "category": "account",
        "subject": "Impossible de me connecter",
        "description": "Mon mot de passe est refusé depuis ce matin."});

    counter.take();
    let receipt = api
        .call(201, "POST", "/tickets", &player, Some(technical))
        .await;
    let reference = receipt["reference"]
        .as_str()
        .expect("a reference")
        .to_owned();
    rows.push(Row {
        operation: "intake (POST /tickets, technical)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 TransactWriteItems (ticket, history, idempotency record, notification, \
                  outbox item: all or nothing); relay: 1 SendMessage per message, and the \
                  outbox item's removal (1 DeleteItem, or none with a TTL'd item)",
    });

    guichet_tests::drain(&notifications).await;
    rows.push(Row {
        operation: "notification send (send-notifications, one message)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "the notification and the contact (2 reads, or 1 BatchGetItem), the claim \
                  before sending (1 conditional write), 1 SES SendEmail, the record marked \
                  sent after (1 write): 5, or 4",
    });

    let escalated = api
        .call(201, "POST", "/tickets", &player, Some(account))
        .await;
    assert_eq!(escalated["status"], "escalated", "{escalated}");
    rows.push(Row {
        operation: "intake (POST /tickets, account: escalated at once)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 TransactWriteItems (as above, plus the escalation record and a 2nd outbox \
                  item); relay: 2 SendMessage (different queues), 2 DeleteItem",
    });

    guichet_tests::drain(&escalations).await;
    rows.push(Row {
        operation: "escalation routing (route-escalations, one message)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 Query (ticket and escalation record: one item collection), 1 SendMessage \
                  to the team's FIFO queue, 1 TransactWriteItems (ticket, record, history, \
                  notification, outbox); relay of the notification: 1 SendMessage, 1 DeleteItem",
    });
    // The two e-mails of the escalated ticket: measured once above already.
    guichet_tests::drain(&notifications).await;
    relay(&stream).await;
    counter.take();

    let path = format!("/tickets/{reference}");
    api.call(200, "GET", &path, &player, None).await;
    rows.push(Row {
        operation: "get ticket (GET /tickets/{reference})",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 Query on the ticket's item collection (ticket, history, messages, \
                  notifications, attachments all share pk TICKET#<ref>)",
    });

    api.call(200, "GET", "/tickets?limit=20", &player, None)
        .await;
    rows.push(Row {
        operation: "list my tickets (GET /tickets?limit=20)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 Query on gsi1 (PLAYER#<id>, newest first, Limit)",
    });

    api.call(200, "GET", "/queues/technical?limit=20", &agent, None)
        .await;
    rows.push(Row {
        operation: "team queue (GET /queues/technical?limit=20)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 Query on gsi2 (QUEUE#<team>, priority then arrival, Limit)",
    });

    let size = 2048;
    let issued = api
        .call(
            201,
            "POST",
            &format!("/tickets/{reference}/attachments"),
            &player,
            Some(json!({"content_type": "image/png", "size": size})),
        )
        .await;
    rows.push(Row {
        operation: "upload URL (POST /tickets/{reference}/attachments)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 TransactWriteItems (ticket is the caller's and open: ConditionCheck; the \
                  count below 5: Update; the attachment: Put); presigning is local, no call",
    });

    put_png(&issued, size).await;
    let checked = guichet_tests::drain(&documents).await;
    assert_eq!((checked.deleted, checked.failed), (1, 0), "{checked:?}");
    rows.push(Row {
        operation: "document check (check-documents, one good file)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "the upload record (1 read), the object's size and first bytes (1 ranged \
                  GetObject: Content-Range carries the size), the verdict (1 write): 3",
    });

    // The agent's actions on the technical ticket (its attachment checked, so it may close),
    // each on the version and the `state` token the previous answer gave, as a console does.
    let view = api.call(200, "GET", &path, &agent, None).await;
    let (mut version, mut state) = (view["version"].clone(), view["state"].clone());
    counter.take();
    let actions = [
        (
            "take (POST /tickets/{reference}/take)",
            "take",
            json!({}),
            "1 TransactWriteItems (the ticket under its version and the fingerprint of the \
             state the agent saw, the history line); a read only without a usable token",
        ),
        (
            "reply (POST /tickets/{reference}/replies)",
            "replies",
            json!({"body": "Could you try clearing the cache?"}),
            "1 TransactWriteItems (ticket, message, notification, outbox item); relay: \
             1 SendMessage, 1 DeleteItem",
        ),
        (
            "status (POST /tickets/{reference}/status, resolved)",
            "status",
            json!({"status": "resolved"}),
            "1 TransactWriteItems (ticket, history, notification, outbox item); relay: \
             1 SendMessage, 1 DeleteItem",
        ),
    ];
    for (operation, action, mut body, minimum) in actions {
        body["version"] = version;
        body["state"] = state;
        let answer = api
            .call(200, "POST", &format!("{path}/{action}"), &agent, Some(body))
            .await;
        version = answer["version"].clone();
        state = answer["state"].clone();
        rows.push(Row {
            operation,
            streamed: relay(&stream).await,
            calls: counter.take(),
            minimum,
        });
    }

    // A reviewer's actions: a case the cashier opened, its two documents uploaded and
    // checked, then the reviewer reads it, views a document and decides, each on the `state`
    // token the previous answer gave.
    let service = api.token("bench-cashier", &["service"]);
    let reviewer = api.token("bench-reviewer", &["verification"]);
    let kyc = api.token("bench-player-kyc", &["player"]);
    let opened = api
        .call(
            201,
            "POST",
            "/verification/cases",
            &service,
            Some(
                json!({"player_id": "bench-player-kyc", "reason": "first_withdrawal",
                        "language": "fr"}),
            ),
        )
        .await;
    let case_path = format!("/verification/cases/{}", opened["id"].as_str().expect("id"));
    for kind in ["government_id", "proof_of_address"] {
        let body = json!({"kind": kind, "content_type": "image/png", "size": size});
        let issued = api
            .call(201, "POST", "/verification/documents", &kyc, Some(body))
            .await;
        put_png(&issued, size).await;
    }
    guichet_tests::drain(&documents).await;
    relay(&stream).await;
    let view = api.call(200, "GET", &case_path, &reviewer, None).await;
    assert_eq!(view["case"]["status"], "in_review", "{view}");
    counter.take();
    let viewed = api
        .call(
            200,
            "POST",
            &format!("{case_path}/documents/government_id/view"),
            &reviewer,
            Some(json!({"state": view["state"]})),
        )
        .await;
    rows.push(Row {
        operation: "document view (POST …/documents/{kind}/view, with the case's state)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 TransactWriteItems (the case under its etag and fingerprint, the audit \
                  line); the GET is presigned locally, no call",
    });
    api.call(
        200,
        "POST",
        &format!("{case_path}/decision"),
        &reviewer,
        Some(
            json!({"version": view["case"]["version"], "decision": "approve",
                    "state": viewed["state"]}),
        ),
    )
    .await;
    rows.push(Row {
        operation: "review decision (POST …/decision, approve, with state)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 TransactWriteItems (case, audit line, notification, outbox item); relay: \
                  1 SendMessage, 1 DeleteItem",
    });

    // An incident: three players report the same game, which opens it; an agent of the games
    // team moves it, links a fourth report by hand and unlinks it, each on the tokens the
    // previous answer gave.
    let games = api.token("bench-agent-games", &["agent", "team:games"]);
    let report = |n: usize, game: &'static str| {
        json!({"channel": "chat", "category": "incident", "subject": "Roulette figée",
               "description": format!("La roue s'est arrêtée ({n})."),
               "incident": {"occurred_at": "2026-12-03T09:40:00-05:00", "game_name": game,
                            "steps_tried": []}})
    };
    for n in 0..3 {
        let player = api.token(&format!("bench-player-r{n}"), &["player"]);
        api.call(
            201,
            "POST",
            "/tickets",
            &player,
            Some(report(n, "Roulette Royale")),
        )
        .await;
    }
    let stray_player = api.token("bench-player-r9", &["player"]);
    let stray = api
        .call(
            201,
            "POST",
            "/tickets",
            &stray_player,
            Some(report(9, "Roulete Royal")),
        )
        .await;
    let stray = stray["reference"].as_str().expect("a reference").to_owned();
    guichet_tests::drain(&escalations).await;
    guichet_tests::drain(&notifications).await;
    relay(&stream).await;
    let current = api
        .call(200, "GET", "/incidents?team=games", &games, None)
        .await;
    let incident_path = format!(
        "/incidents/{}",
        current["incidents"][0]["id"].as_str().expect("an incident")
    );
    let incident = api.call(200, "GET", &incident_path, &games, None).await;
    let ticket = api
        .call(200, "GET", &format!("/tickets/{stray}"), &games, None)
        .await;
    counter.take();
    let updated = api
        .call(
            200,
            "POST",
            &format!("{incident_path}/status"),
            &games,
            Some(
                json!({"version": incident["incident"]["version"], "status": "monitoring",
                        "state": incident["state"]}),
            ),
        )
        .await;
    rows.push(Row {
        operation: "incident status update (POST /incidents/{id}/status, with state)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 TransactWriteItems (the incident under its version and fingerprint, the \
                  update, the fan-out's first page); relay: 1 SendMessage, 1 DeleteItem",
    });
    let linked = api
        .call(
            201,
            "POST",
            &format!("{incident_path}/links"),
            &games,
            Some(json!({"reference": stray, "state": updated["state"],
                        "ticket_state": ticket["state"]})),
        )
        .await;
    rows.push(Row {
        operation: "incident link (POST /incidents/{id}/links, with both states)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 TransactWriteItems (the ticket under its version and fingerprint, the \
                  link, the history line, the incident's ConditionCheck)",
    });
    api.call(
        200,
        "DELETE",
        &format!("{incident_path}/links/{stray}"),
        &games,
        Some(json!({"state": linked["state"], "ticket_state": linked["ticket_state"]})),
    )
    .await;
    rows.push(Row {
        operation: "incident unlink (DELETE /incidents/{id}/links/{ref}, with both states)",
        streamed: relay(&stream).await,
        calls: counter.take(),
        minimum: "1 TransactWriteItems (as the link, the link item deleted)",
    });

    print!("{}", table(&rows));
}

/// The table as printed: per operation, the calls by path and by service:operation with their
/// units, then the minimum.
fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "DynamoDB units are on-demand request units computed from item sizes (see counter.rs)."
    );
    for row in rows {
        let _ = writeln!(out, "\n{}", row.operation);
        let mut by_path: BTreeMap<&str, BTreeMap<String, (usize, f64, f64)>> = BTreeMap::new();
        for call in &row.calls {
            // A presigned URL is made locally: the client's call, not AWS's.
            let name = match call.sent {
                true => call.name.clone(),
                false => format!("{} (presigned, never sent)", call.name),
            };
            let entry = by_path
                .entry(call.path)
                .or_default()
                .entry(name)
                .or_default();
            entry.0 += 1;
            entry.1 += call.write_units;
            entry.2 += call.read_units;
        }
        for (path, calls) in &by_path {
            let total = row
                .calls
                .iter()
                .filter(|c| c.path == *path && c.sent)
                .count();
            let (wru, rru) = calls
                .values()
                .fold((0.0, 0.0), |(w, r), c| (w + c.1, r + c.2));
            let names: Vec<String> = calls
                .iter()
                .map(|(name, (n, _, _))| format!("{n} x {name}"))
                .collect();
            let _ = writeln!(
                out,
                "  {path:<8} {total} AWS requests: {}; {wru} WRU, {rru} RRU",
                names.join(", ")
            );
        }
        for call in &row.calls {
            if !call.items.is_empty() {
                let items: Vec<String> = call
                    .items
                    .iter()
                    .map(|(kind, bytes)| match bytes {
                        // An item updated or checked that the bench never saw written.
                        0 => format!("{kind} (unseen: 1 KB billed)"),
                        _ => format!("{kind} {bytes} B"),
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "           {} ({} WRU): {}",
                    call.name,
                    call.write_units,
                    items.join(", ")
                );
            } else if call.read_units > 0.0 {
                let _ = writeln!(out, "           {} ({} RRU)", call.name, call.read_units);
            }
        }
        if row.streamed > 0 {
            let _ = writeln!(
                out,
                "  mapping  {} stream records read (reads not counted; in AWS the filter hands \
                 relay-stream the outbox inserts only)",
                row.streamed
            );
        }
        let _ = writeln!(out, "  minimum  {}", row.minimum);
    }
    out
}
