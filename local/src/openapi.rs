//! The API's contract: its OpenAPI 3.1 description, built in this one place and committed as
//! `infra/openapi.json` (the local gateway serves it at `/openapi.json`).
//!
//! The response schemas are derived (`utoipa::ToSchema`, feature `openapi`) from the very types
//! the handlers serialise, so a renamed or added field changes the document. Request bodies are
//! read field by field by the handlers (`Fields`), not deserialised into a type, so their
//! schemas are written here from the same constants the parsers use. The tests fail when the
//! committed file differs from what this module generates, and when the template's routes and
//! the document's operations differ.
//!
//! A schema here never refuses what a handler accepts (a client, or a test generating requests
//! that break the schema, must see them refused): texts are trimmed before their length is
//! checked, so only their minimum length is a schema constraint; their maximum is in the
//! description. An optional field may be `null`, which the handlers read as absent.

use std::collections::BTreeMap;

use guichet_core::common::access::Role;
use guichet_core::tickets::intake::{
    DESCRIPTION_MAX, DESCRIPTION_MIN, GAME_NAME_MAX, PAYMENT_SYSTEM_MAX, STEPS_MAX_ITEMS, STEP_MAX,
    SUBJECT_MAX, SUBJECT_MIN, TRANSACTION_ID_MAX,
};
use serde_json::{json, Map, Value};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// Where the committed document lives, from the workspace root.
pub const DOCUMENT_PATH: &str = "infra/openapi.json";

/// How to bring the committed document up to date, for the drift test's message.
pub const REGENERATE: &str = "cargo run -p guichet-local --bin openapi > infra/openapi.json";

/// The route the local gateway serves the document on (not an API route: no token needed).
pub const SERVED_AT: &str = "/openapi.json";

/// The document's path on disk.
pub fn document_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(DOCUMENT_PATH)
}

/// The document as committed: pretty JSON and a final line break.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}

/// One operation of the API.
struct Operation {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    /// The roles of which the caller needs one (`cognito:groups`); a route's finer rules
    /// (own tickets, own team, the senior queue) are in `notes`.
    roles: &'static [Role],
    notes: &'static str,
    parameters: Vec<Value>,
    body: Option<Value>,
    /// The success answers: status, schema name, headers.
    success: Vec<(u16, &'static str, Vec<&'static str>)>,
    /// The error statuses the route can answer besides those every route can (401, 403,
    /// 500, 503).
    errors: &'static [u16],
}

const STAFF: &[Role] = &[Role::Agent, Role::Supervisor];
const REVIEWERS: &[Role] = &[Role::Verification, Role::VerificationSenior];

/// Every route can answer these: no or a bad token (401), a missing role (403), an internal
/// failure (500), a request that ran out of time or kept conflicting (503).
const ALWAYS: &[u16] = &[401, 403, 500, 503];

/// What a route with a JSON body can answer besides its own errors.
const BODY_ERRORS: &[u16] = &[400, 413, 415];

fn path_param(name: &str, description: &str, schema: Value, example: &str) -> Value {
    json!({
        "name": name, "in": "path", "required": true,
        "description": description, "schema": schema, "example": example,
    })
}

fn query_param(name: &str, description: &str, required: bool, schema: Value) -> Value {
    json!({
        "name": name, "in": "query", "required": required,
        "description": description, "schema": schema,
    })
}

/// What `TicketReference::parse` can accept, as a pattern: ten letters or digits, with hyphens
/// and spaces anywhere (its alphabet and check symbol are narrower, so a string that breaks the
/// pattern is always refused, and one that matches may still be).
fn reference_schema() -> Value {
    json!({ "type": "string", "pattern": "^[- ]*([0-9A-Za-z][- ]*){10}$" })
}

/// A merge's `into`: the survivor's reference, read as the path's.
fn into_schema() -> Value {
    let mut schema = reference_schema();
    schema["description"] =
        json!("The reference of the ticket the conversation goes on in (the survivor).");
    schema
}

fn reference_param() -> Value {
    path_param(
        "reference",
        "The ticket's reference, e.g. `K7M2Q-9XW45`: case-insensitive, hyphen optional, `O`/`I`/`L` \
         read as `0`/`1`/`1`; a wrong check symbol is a `400` (`field: reference`).",
        reference_schema(),
        "K7M2Q-9XW45",
    )
}

/// A server-made id in the path (`prefixed_id!`): its prefix and `symbols` letters or digits,
/// read case-insensitively. As for references, the pattern is the widest `parse` can accept.
fn id_param(name: &str, what: &str, prefix: &str, symbols: usize, example: &str) -> Value {
    let prefix_pattern: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
            } else {
                c.to_string()
            }
        })
        .collect();
    path_param(
        name,
        &format!("The {what} id, `{prefix}` and {symbols} symbols (case-insensitive)."),
        json!({ "type": "string", "pattern": format!("^{prefix_pattern}[0-9A-Za-z]{{{symbols}}}$") }),
        example,
    )
}

fn case_id_param() -> Value {
    use guichet_core::verification::rules::CaseId;
    id_param(
        "case_id",
        "case",
        CaseId::PREFIX,
        CaseId::SYMBOLS,
        "VC-7K2M9Q4XW3BD",
    )
}

fn incident_id_param() -> Value {
    use guichet_core::incidents::rules::IncidentId;
    id_param(
        "incident_id",
        "incident",
        IncidentId::PREFIX,
        IncidentId::SYMBOLS,
        "INC-7Q2M9K4XW3BD",
    )
}

/// `limit` and `cursor`, the paging of every listing.
fn paging(max: u16, default: u16) -> Vec<Value> {
    vec![
        query_param(
            "limit",
            &format!("Items per page, 1–{max} (default {default})."),
            false,
            json!({ "type": "integer", "minimum": 1, "maximum": max, "default": default }),
        ),
        query_param(
            "cursor",
            "The previous page's `next_cursor`, as given (opaque; a changed one is a `400`).",
            false,
            json!({ "type": "string" }),
        ),
    ]
}

fn enum_of(names: &[&str]) -> Value {
    json!({ "type": "string", "enum": names })
}

/// `null` allowed too: the handlers read a `null` optional field as absent.
fn nullable(mut schema: Value) -> Value {
    if let Some(kind) = schema.get("type").cloned() {
        schema["type"] = json!([kind, "null"]);
    }
    if let Some(names) = schema.get_mut("enum").and_then(Value::as_array_mut) {
        names.push(Value::Null);
    }
    schema
}

/// Free text as `Fields::text` reads it: trimmed, then `min`–`max` characters.
fn text(min: usize, max: usize, what: &str) -> Value {
    json!({
        "type": "string",
        "minLength": min,
        "description": format!(
            "{what}: {min}–{max} characters once trimmed; no control characters but line \
             breaks and tabs (`printable_text`), no invisible or text-direction characters \
             (`invisible_character`)."
        ),
    })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

fn version_field(of: &str) -> Value {
    json!({
        "type": "integer", "minimum": 1,
        "description": format!("The {of}'s `version` as read; a stale one is a `409` (`stale`)."),
    })
}

/// The `state` token a staff view returned, sent back with an action on that view.
fn state_field() -> Value {
    json!({
        "type": "string",
        "pattern": "^[A-Za-z0-9_-]+$",
        "maxLength": guichet_core::common::seen::MAX_LEN,
        "description": "Optional: the `state` of the staff view the action was decided on \
            (`GET /tickets/{reference}`, or the previous action's answer), as it came. The \
            action then costs one round trip; it is never trusted (a token that is not the \
            stored ticket changes nothing, and the ticket is read instead). A string that is \
            not such a token is a `400`.",
    })
}

fn reason_code(description: &str) -> Value {
    json!({
        "type": "string",
        "pattern": format!("^[a-z0-9_]{{1,{}}}$", guichet_core::tickets::workflow::ReasonCode::MAX_LEN),
        "description": description,
    })
}

fn content_type_field() -> Value {
    json!({
        "type": "string",
        "enum": guichet_core::documents::rules::ContentType::NAMES,
        "description": "The file's media type (read case-insensitively); signed into the URL.",
    })
}

fn size_field() -> Value {
    json!({
        "type": "integer",
        "minimum": 1,
        "maximum": guichet_core::documents::rules::MAX_DOCUMENT_BYTES,
        "description": "The file's exact length in bytes; signed into the URL.",
    })
}

fn ticket_body() -> Value {
    use guichet_core::common::player::Language;
    use guichet_core::tickets::ticket::{Category, Channel};
    object(
        &["channel", "category", "subject", "description"],
        json!({
            "channel": enum_of(Channel::NAMES),
            "category": enum_of(Category::NAMES),
            "subject": text(SUBJECT_MIN, SUBJECT_MAX, "The request's subject"),
            "description": text(DESCRIPTION_MIN, DESCRIPTION_MAX, "What happened"),
            "language": nullable(json!({
                "type": "string", "enum": Language::NAMES,
                "description": "The ticket's language; if absent, the best of `fr`/`en` in \
                                `Accept-Language`, else `fr`.",
            })),
            "incident": nullable(json!({
                "type": "object",
                "additionalProperties": false,
                "description": "Required for category `incident`, refused otherwise; names at \
                                least one of `game_name`, `payment_system`, `transaction_id`.",
                "required": ["occurred_at", "steps_tried"],
                "properties": {
                    "occurred_at": {
                        "type": "string", "format": "date-time",
                        "description": "RFC 3339 exactly (upper-case `T` and `Z`, seconds \
                                        present); not in the future, at most 90 days old.",
                    },
                    "game_name": nullable(text(1, GAME_NAME_MAX, "The game")),
                    "payment_system": nullable(text(1, PAYMENT_SYSTEM_MAX, "The payment system")),
                    "transaction_id": nullable(text(
                        1,
                        TRANSACTION_ID_MAX,
                        "The transaction (letters, digits, `-`, `_`)",
                    )),
                    "steps_tried": {
                        "type": "array",
                        "maxItems": STEPS_MAX_ITEMS,
                        "items": text(1, STEP_MAX, "A step the player tried"),
                    },
                },
            })),
        }),
    )
}

fn operations() -> Vec<Operation> {
    use guichet_core::common::player::Language;
    use guichet_core::incidents::rules::IncidentStatus;
    use guichet_core::tickets::ticket::Team;
    use guichet_core::verification::rules::{CaseReason, DocumentKind, GatedAction, ReasonCode};

    let specialist_teams = guichet_core::escalation::rules::SPECIALIST_TEAM_NAMES;
    let team_param = || path_param("team", "The team.", enum_of(Team::NAMES), "payments");
    vec![
        Operation {
            method: "post",
            path: "/tickets",
            id: "createTicket",
            summary: "Submit a support request",
            roles: &[Role::Player],
            notes: "The player comes from the token. A retry with the same `Idempotency-Key` and \
                    the same request answers `200` with the same ticket; the same key with \
                    another request is a `422`.",
            parameters: vec![
                json!({ "$ref": "#/components/parameters/IdempotencyKey" }),
                json!({ "$ref": "#/components/parameters/AcceptLanguage" }),
            ],
            body: Some(with_example(
                ticket_body(),
                json!({
                    "channel": "form", "category": "account",
                    "subject": "Impossible de me connecter",
                    "description": "Mon mot de passe est refusé depuis ce matin.",
                }),
            )),
            success: vec![
                (201, "Receipt", vec!["Location"]),
                (200, "Receipt", vec!["Location"]),
            ],
            errors: &[400, 413, 415, 422],
        },
        Operation {
            method: "get",
            path: "/tickets",
            id: "listTickets",
            summary: "The caller's tickets, newest first",
            roles: &[Role::Player],
            notes: "",
            parameters: paging(list_tickets::MAX_LIMIT, list_tickets::DEFAULT_LIMIT),
            body: None,
            success: vec![(200, "TicketPage", vec![])],
            errors: &[400],
        },
        Operation {
            method: "get",
            path: "/tickets/{reference}",
            id: "getTicket",
            summary: "One ticket with its history, messages, notifications and attachments",
            roles: &[Role::Player, Role::Agent, Role::Supervisor],
            notes: "A player reads their own tickets only (another's is a `404`, as an unknown \
                    one); staff read any, with its escalations and presigned attachment URLs.",
            parameters: vec![reference_param()],
            body: None,
            success: vec![(200, "TicketRead", vec![])],
            errors: &[400, 404],
        },
        Operation {
            method: "get",
            path: "/queues/{team}",
            id: "teamQueue",
            summary: "A team's open tickets, by priority then arrival",
            roles: STAFF,
            notes: "An agent reads their own teams' queues (`team:<name>` groups); another \
                    team's is a `403` (`required_team`).",
            parameters: [
                vec![team_param()],
                paging(team_queue::MAX_LIMIT, team_queue::DEFAULT_LIMIT),
            ]
            .concat(),
            body: None,
            success: vec![(200, "QueuePage", vec![])],
            errors: &[400],
        },
        Operation {
            method: "get",
            path: "/queues/{team}/saved-replies",
            id: "savedReplies",
            summary: "The team's saved replies, to pick and edit before sending a reply",
            roles: STAFF,
            notes: "The team's agents and supervisors. In `language`, else the request's \
                    `Accept-Language`, else French.",
            parameters: vec![
                team_param(),
                query_param(
                    "language",
                    "The replies' language.",
                    false,
                    enum_of(Language::NAMES),
                ),
            ],
            body: None,
            success: vec![(200, "SavedReplyList", vec![])],
            errors: &[400],
        },
        Operation {
            method: "get",
            path: "/reports/complaints",
            id: "complaintsReport",
            summary: "The open complaints older than N days, oldest first (the regulator's report)",
            roles: &[Role::Supervisor],
            notes: "Supervisors only. Each complaint with its age in calendar days, its answer's \
                    due time, the regulator's limit and when its player was told of it; no text \
                    the player wrote.",
            parameters: [
                vec![query_param(
                    "open_over_days",
                    "Complaints received more than this many calendar days ago (0: all).",
                    true,
                    json!({
                        "type": "integer",
                        "minimum": 0,
                        "maximum": guichet_core::promises::report::MAX_DAYS,
                    }),
                )],
                paging(
                    complaints_report::MAX_LIMIT,
                    complaints_report::DEFAULT_LIMIT,
                ),
            ]
            .concat(),
            body: None,
            success: vec![(200, "ComplaintPage", vec![])],
            errors: &[400],
        },
        Operation {
            method: "get",
            path: "/players/{player_id}/support",
            id: "playerSupport",
            summary:
                "A player's tickets in work and verification, for the agent on a chat or a call",
            roles: &[Role::Agent, Role::Supervisor, Role::Verification],
            notes: "Agents of any team, supervisors and the verification team. Every look-up is \
                    recorded (who, whom, when) before it is answered. The tickets still in \
                    work, newest first, and the latest verification case with each document's \
                    status; no document or message content.",
            parameters: vec![path_param(
                "player_id",
                "The player.",
                player_id_schema(),
                "player-123",
            )],
            body: None,
            success: vec![(200, "PlayerSupport", vec![])],
            errors: &[400],
        },
        Operation {
            method: "get",
            path: "/mail/held",
            id: "heldMail",
            summary: "The mail waiting for staff, oldest first",
            roles: STAFF,
            notes: "Agents of any team and supervisors. The mail the desk would not take for a \
                    player's: an unknown or unverified sender (its `From` is a claim, not a \
                    fact), an automaton, a mail it could not read; with the ticket it names, \
                    if any. The raw mail is `mail/inbound/<id>` in the documents bucket.",
            parameters: paging(held_mail::MAX_LIMIT, held_mail::DEFAULT_LIMIT),
            body: None,
            success: vec![(200, "HeldPage", vec![])],
            errors: &[400],
        },
        staff_action(
            "take",
            "takeTicket",
            "Take a ticket: its assignee becomes the caller",
            object(
                &["version"],
                json!({ "version": version_field("ticket"), "state": state_field() }),
            ),
            json!({ "version": 1 }),
            200,
        ),
        staff_action(
            "replies",
            "replyToTicket",
            "Reply to the player",
            object(
                &["version", "body"],
                json!({
                    "version": version_field("ticket"),
                    "state": state_field(),
                    "body": text(1, guichet_core::tickets::workflow::MessageBody::MAX_CHARS, "The reply"),
                }),
            ),
            json!({ "version": 2, "body": "Bonjour, votre dépôt sera crédité sous 24 heures." }),
            200,
        ),
        staff_action(
            "notes",
            "noteOnTicket",
            "Add an internal note: staff only, never shown or sent to the player",
            object(
                &["version", "body"],
                json!({
                    "version": version_field("ticket"),
                    "state": state_field(),
                    "body": text(1, guichet_core::tickets::workflow::MessageBody::MAX_CHARS, "The note, for staff"),
                }),
            ),
            json!({ "version": 2, "body": "Joueur rappelé : confirme le virement du 2 décembre." }),
            200,
        ),
        staff_action(
            "status",
            "changeTicketStatus",
            "Change a ticket's status",
            object(
                &["version", "status"],
                json!({
                    "version": version_field("ticket"),
                    "state": state_field(),
                    "status": enum_of(update_ticket::STATUS_NAMES),
                    "reason": nullable(reason_code("Why, as a code (default: the new status).")),
                }),
            ),
            json!({ "version": 3, "status": "resolved", "reason": "deposit_credited" }),
            200,
        ),
        staff_action(
            "escalate",
            "escalateTicket",
            "Escalate a ticket to a specialist team",
            object(
                &["version", "team", "reason"],
                json!({
                    "version": version_field("ticket"),
                    "state": state_field(),
                    "team": enum_of(specialist_teams),
                    "reason": reason_code("Why, as a code."),
                    "note": nullable(text(
                        1,
                        guichet_core::escalation::rules::EscalationNote::MAX_CHARS,
                        "For the team only",
                    )),
                }),
            ),
            json!({ "version": 2, "team": "games", "reason": "needs_game_logs" }),
            202,
        ),
        staff_action(
            "extension",
            "extendTicketDelay",
            "Extend the delay of a ticket's resolution and tell the player the new date",
            object(
                &["version", "reason"],
                json!({
                    "version": version_field("ticket"),
                    "state": state_field(),
                    "business_days": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": guichet_core::promises::extension::MAX_BUSINESS_DAYS,
                        "description": "Business days added to the resolution's due time \
                                        (exactly one of `business_days` and `until`).",
                    },
                    "until": {
                        "type": "string",
                        "format": "date",
                        "description": "The new due date: the close of that business day of \
                                        the ticket's channel, later than the current due time \
                                        and at most 90 days ahead.",
                    },
                    "reason": reason_code("Why, as a code."),
                }),
            ),
            json!({ "version": 3, "business_days": 2, "reason": "awaiting_provider" }),
            200,
        ),
        Operation {
            method: "post",
            path: "/tickets/{reference}/merge",
            id: "mergeTicket",
            summary: "Merge a duplicate into another ticket of the same player",
            roles: STAFF,
            notes: "Staff of both tickets' teams, or supervisors (another team's is a `403`, \
                    `required_team`). The ticket is closed with `merged_into`; `into` lists it \
                    in `merged_from` and shows its messages and attachments (`merged`); the \
                    player is told once. `into` the ticket itself or a closed ticket is a `400` \
                    naming `into`; another player's ticket a `409` (`other_player`, `field: \
                    into`), a duplicate already merged elsewhere a `409` (`already_merged`). \
                    A retry (the same merge, or the same `Idempotency-Key`) answers `200` with \
                    `replayed: true` and writes nothing; the key with another merge is a `422`.",
            parameters: vec![
                reference_param(),
                json!({ "$ref": "#/components/parameters/IdempotencyKey" }),
            ],
            body: Some(with_example(
                object(&["into"], json!({ "into": into_schema() })),
                json!({ "into": "K7M2Q-9XW45" }),
            )),
            success: vec![(200, "MergedTickets", vec![])],
            errors: &[400, 404, 409, 413, 415, 422],
        },
        Operation {
            method: "post",
            path: "/tickets/{reference}/messages",
            id: "answerTicket",
            summary: "The player answers on their ticket",
            roles: &[Role::Player],
            notes: "Own tickets only (another's is a `404`). A closed ticket is a `409` \
                    (`wrong_state`).",
            parameters: vec![reference_param()],
            body: Some(with_example(
                object(
                    &["body"],
                    json!({
                        "body": text(1, guichet_core::tickets::workflow::MessageBody::MAX_CHARS, "The answer"),
                    }),
                ),
                json!({ "body": "Voici mon relevé : le dépôt a quitté mon compte le 25." }),
            )),
            success: vec![(201, "UpdatedTicket", vec![])],
            errors: &[400, 404, 409, 413, 415],
        },
        Operation {
            method: "post",
            path: "/tickets/{reference}/attachments",
            id: "addAttachment",
            summary: "A presigned upload for one attachment of a ticket",
            roles: &[Role::Player, Role::Agent, Role::Supervisor],
            notes: "A player for their own tickets (another's is a `404`), staff for any. At most \
                    5 attachments a ticket (`409`, `attachment_limit`).",
            parameters: vec![reference_param()],
            body: Some(with_example(
                object(
                    &["content_type", "size"],
                    json!({ "content_type": content_type_field(), "size": size_field() }),
                ),
                json!({ "content_type": "image/png", "size": 245_760 }),
            )),
            success: vec![(201, "UploadUrl", vec![])],
            errors: &[400, 404, 409, 413, 415],
        },
        Operation {
            method: "post",
            path: "/verification/cases",
            id: "openCase",
            summary: "Open an identity-verification case for a player",
            roles: &[Role::Verification, Role::Service],
            notes: "`staff_request` (with its extra `documents`) is opened by the verification \
                    team only. A player with an open case is a `409` (`player_has_open_case`).",
            parameters: vec![],
            body: Some(with_example(
                object(
                    &["player_id", "reason"],
                    json!({
                        "player_id": player_id_schema(),
                        "reason": enum_of(CaseReason::NAMES),
                        "documents": nullable(json!({
                            "type": "array",
                            "maxItems": DocumentKind::ALL.len(),
                            "items": enum_of(DocumentKind::NAMES),
                            "description": "Extra documents, with `staff_request` only.",
                        })),
                        "language": nullable(json!({
                            "type": "string", "enum": Language::NAMES,
                            "description": "The player's language (default `fr`).",
                        })),
                    }),
                ),
                json!({ "player_id": "player-123", "reason": "first_withdrawal", "language": "en" }),
            )),
            success: vec![(201, "VerificationCase", vec!["Location"])],
            errors: &[400, 409, 413, 415],
        },
        Operation {
            method: "post",
            path: "/verification/documents",
            id: "requestUpload",
            summary: "A presigned upload for one document of the player's case",
            roles: &[Role::Player, Role::Verification],
            notes: "The verification team names the player (`player_id`); a player may not. No \
                    case waiting for documents is a `409` (`no_open_case`).",
            parameters: vec![],
            body: Some(with_example(
                object(
                    &["kind", "content_type", "size"],
                    json!({
                        "player_id": nullable(player_id_schema()),
                        "kind": enum_of(DocumentKind::NAMES),
                        "content_type": content_type_field(),
                        "size": size_field(),
                    }),
                ),
                json!({ "kind": "government_id", "content_type": "image/jpeg", "size": 1_843_200 }),
            )),
            success: vec![(201, "UploadUrl", vec![])],
            errors: &[400, 409, 413, 415],
        },
        Operation {
            method: "get",
            path: "/verification/case",
            id: "readOwnCase",
            summary: "The player's latest case, in its language",
            roles: &[Role::Player],
            notes: "No case is a `404`.",
            parameters: vec![],
            body: None,
            success: vec![(200, "PlayerCase", vec![])],
            errors: &[404],
        },
        Operation {
            method: "get",
            path: "/verification/cases/{case_id}",
            id: "readCase",
            summary: "A case and its audit trail",
            roles: REVIEWERS,
            notes: "",
            parameters: vec![case_id_param()],
            body: None,
            success: vec![(200, "StaffCase", vec![])],
            errors: &[400, 404],
        },
        Operation {
            method: "get",
            path: "/verification/reviews",
            id: "reviewQueue",
            summary: "Cases in review, those blocking a withdrawal first",
            roles: REVIEWERS,
            notes: "The `senior` queue needs `verification_senior`.",
            parameters: vec![
                query_param(
                    "queue",
                    "Which queue (default `standard`).",
                    false,
                    enum_of(&["standard", "senior"]),
                ),
                query_param(
                    "limit",
                    &format!(
                        "Cases, 1–{} (default {}).",
                        read_case::MAX_LIMIT,
                        read_case::DEFAULT_LIMIT
                    ),
                    false,
                    json!({
                        "type": "integer", "minimum": 1,
                        "maximum": read_case::MAX_LIMIT, "default": read_case::DEFAULT_LIMIT,
                    }),
                ),
            ],
            body: None,
            success: vec![(200, "ReviewQueue", vec![])],
            errors: &[400],
        },
        Operation {
            method: "post",
            path: "/verification/cases/{case_id}/documents/{kind}/view",
            id: "viewDocument",
            summary: "A presigned GET of one document, valid 5 minutes",
            roles: REVIEWERS,
            notes: "Written to the audit trail first. A document not received is a `409` \
                    (`document_not_expected`).",
            parameters: vec![
                case_id_param(),
                path_param(
                    "kind",
                    "The document.",
                    enum_of(DocumentKind::NAMES),
                    "government_id",
                ),
            ],
            body: Some(with_example(
                object(&[], json!({ "state": state_field() })),
                json!({}),
            )),
            success: vec![(200, "DocumentView", vec![])],
            errors: &[400, 404, 409, 413, 415],
        },
        Operation {
            method: "post",
            path: "/verification/cases/{case_id}/decision",
            id: "decideCase",
            summary: "Decide a case in review",
            roles: REVIEWERS,
            notes: "A case sent to the senior queue needs `verification_senior` (`403`). \
                    `reasons` with `reject` only (required there), `documents` with \
                    `request_resubmission` only (required there).",
            parameters: vec![case_id_param()],
            body: Some(with_example(
                object(
                    &["version", "decision"],
                    json!({
                        "version": version_field("case"),
                        "state": state_field(),
                        "decision": enum_of(&["approve", "reject", "request_resubmission"]),
                        "reasons": nullable(json!({
                            "type": "array", "minItems": 1, "maxItems": ReasonCode::ALL.len(),
                            "items": enum_of(ReasonCode::NAMES),
                        })),
                        "documents": nullable(json!({
                            "type": "object",
                            "minProperties": 1,
                            "propertyNames": enum_of(DocumentKind::NAMES),
                            "additionalProperties": {
                                "type": "array", "minItems": 1, "maxItems": ReasonCode::ALL.len(),
                                "items": enum_of(ReasonCode::NAMES),
                            },
                        })),
                        "player_message": nullable(text(
                            1,
                            review_case::MAX_PLAYER_MESSAGE,
                            "What the player reads",
                        )),
                        "internal_note": nullable(text(
                            1,
                            review_case::MAX_INTERNAL_NOTE,
                            "For staff, in the audit trail",
                        )),
                    }),
                ),
                json!({
                    "version": 6, "decision": "request_resubmission",
                    "documents": { "proof_of_address": ["address_too_old"] },
                    "player_message": "Please send a statement from the last 3 months.",
                }),
            )),
            success: vec![(200, "DecidedCase", vec![])],
            errors: &[400, 404, 409, 413, 415],
        },
        Operation {
            method: "get",
            path: "/support/hours",
            id: "supportHours",
            summary: "The desk's hours per channel this week, open now or not, and its holidays",
            roles: &[],
            notes: "Without `year`: each channel's week from today, `open_now` and \
                    `next_change`, and the holidays of the next 90 days with each channel's \
                    hours. With `year`: that year's holidays, the day each falls on and the \
                    day it is kept, with each channel's hours.",
            parameters: vec![
                query_param(
                    "lang",
                    "The page's language (else `Accept-Language`, else French).",
                    false,
                    enum_of(Language::NAMES),
                ),
                query_param(
                    "year",
                    "A year whose holidays to list.",
                    false,
                    json!({
                        "type": "integer",
                        "minimum": guichet_core::calendar::published::YEARS.start(),
                        "maximum": guichet_core::calendar::published::YEARS.end(),
                    }),
                ),
            ],
            body: None,
            // One of the two, as `year` is given or not.
            success: vec![(200, "SupportHours|YearHolidays", vec![])],
            errors: &[400],
        },
        handoff_operation(),
        Operation {
            method: "get",
            path: "/players/{player_id}/eligibility",
            id: "eligibility",
            summary: "May the player do this action now (the verification gate)",
            roles: &[Role::Service],
            notes: "",
            parameters: vec![
                path_param("player_id", "The player.", player_id_schema(), "player-123"),
                query_param("action", "The action.", true, enum_of(GatedAction::NAMES)),
            ],
            body: None,
            success: vec![(200, "Eligibility", vec![])],
            errors: &[400],
        },
        Operation {
            method: "get",
            path: "/incidents",
            id: "listIncidents",
            summary: "A team's current incidents, newest first",
            roles: STAFF,
            notes: "Agents of the team, or supervisors.",
            parameters: [
                vec![query_param("team", "The team.", true, enum_of(Team::NAMES))],
                paging(incidents::MAX_LIMIT, incidents::DEFAULT_LIMIT),
            ]
            .concat(),
            body: None,
            success: vec![(200, "CurrentPage", vec![])],
            errors: &[400],
        },
        incident_operation(
            "get",
            "/incidents/{incident_id}",
            "getIncident",
            "An incident, its linked tickets and its updates",
            None,
            vec![(200, "IncidentView", vec![])],
        ),
        incident_operation(
            "post",
            "/incidents/{incident_id}/links",
            "linkTicket",
            "Link a ticket to the incident (`200` if it already was)",
            Some((
                object(
                    &["reference"],
                    json!({
                        "reference": reference_schema(),
                        "state": state_field(),
                        "ticket_state": state_field(),
                    }),
                ),
                json!({ "reference": "P3N8R-2KD7F" }),
            )),
            vec![
                (201, "IncidentChange", vec![]),
                (200, "IncidentChange", vec![]),
            ],
        ),
        incident_operation(
            "delete",
            "/incidents/{incident_id}/links/{reference}",
            "unlinkTicket",
            "Unlink a ticket: it gets its intake priority back",
            Some((
                object(
                    &[],
                    json!({ "state": state_field(), "ticket_state": state_field() }),
                ),
                json!({}),
            )),
            vec![(200, "IncidentChange", vec![])],
        ),
        incident_operation(
            "post",
            "/incidents/{incident_id}/status",
            "changeIncidentStatus",
            "Move the incident; every linked player is told",
            Some((
                object(
                    &["version", "status"],
                    json!({
                        "version": version_field("incident"),
                        "state": state_field(),
                        "status": enum_of(IncidentStatus::NAMES),
                        "note": nullable(text(1, incidents::NOTE_MAX_CHARS, "For staff only")),
                    }),
                ),
                json!({ "version": 3, "status": "resolved", "note": "Provider restarted the table servers." }),
            )),
            vec![(200, "IncidentChange", vec![])],
        ),
    ]
}

fn player_id_schema() -> Value {
    json!({
        "type": "string",
        "pattern": format!(
            "^[A-Za-z0-9._:@-]{{1,{}}}$",
            guichet_core::common::player::PlayerId::MAX_LEN
        ),
        "description": "The player's id (the token's `sub`).",
    })
}

fn with_example(schema: Value, example: Value) -> Value {
    json!({ "schema": schema, "example": example })
}

/// `POST /tickets/{reference}/<action>`: the agents' actions on a ticket.
fn staff_action(
    action: &'static str,
    id: &'static str,
    summary: &'static str,
    schema: Value,
    example: Value,
    status: u16,
) -> Operation {
    let path = match action {
        "take" => "/tickets/{reference}/take",
        "replies" => "/tickets/{reference}/replies",
        "notes" => "/tickets/{reference}/notes",
        "status" => "/tickets/{reference}/status",
        "extension" => "/tickets/{reference}/extension",
        _ => "/tickets/{reference}/escalate",
    };
    Operation {
        method: "post",
        path,
        id,
        summary,
        roles: STAFF,
        notes: "Staff of the ticket's team, or supervisors (another team's is a `403`, \
                `required_team`). A stale `version` is a `409` (`stale`), a move the ticket's \
                status refuses a `409` (`wrong_state`).",
        parameters: vec![reference_param()],
        body: Some(with_example(schema, example)),
        success: vec![(status, "UpdatedTicket", vec![])],
        errors: &[400, 404, 409, 413, 415],
    }
}

fn incident_operation(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    body: Option<(Value, Value)>,
    success: Vec<(u16, &'static str, Vec<&'static str>)>,
) -> Operation {
    let mut parameters = vec![incident_id_param()];
    if path.ends_with("{reference}") {
        parameters.push(reference_param());
    }
    let errors: &[u16] = if body.is_some() {
        &[400, 404, 409, 413, 415]
    } else {
        &[400, 404, 409]
    };
    Operation {
        method,
        path,
        id,
        summary,
        roles: STAFF,
        notes: "Agents of the incident's team, or supervisors. A stale `version`, or tickets \
                that kept changing, is a `409` (`stale`); a move the incident refuses, or a \
                ticket linked elsewhere, a `409`.",
        parameters,
        body: body.map(|(schema, example)| with_example(schema, example)),
        success,
        errors,
    }
}

/// `POST /handoffs/chat`: no token, the chat tool's signature instead.
fn handoff_operation() -> Operation {
    use guichet_core::handoffs::request::{Handoff, CATEGORY_NAMES, LINE_MAX, MAX_LINES};
    use guichet_core::handoffs::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER};
    let header = |name: &str, description: &str, pattern: &str| {
        json!({
            "name": name, "in": "header", "required": true, "description": description,
            "schema": { "type": "string", "pattern": pattern },
        })
    };
    let identifier = |max: usize, pattern: &str, description: &str| {
        json!({ "type": "string", "minLength": 1, "maxLength": max, "pattern": pattern,
                "description": description })
    };
    Operation {
        method: "post",
        path: "/handoffs/chat",
        id: "chatHandoff",
        summary: "The live-chat tool hands off a conversation: a ticket on the chat channel",
        roles: &[],
        notes: "Signed by the chat tool, not by a token: HMAC-SHA256 with the shared secret \
                over `<timestamp>.` and the raw body, refused five minutes either side of the \
                desk's clock (`401` naming the header). The same conversation sent again \
                answers `200` with the same ticket.",
        parameters: vec![
            header(
                TIMESTAMP_HEADER,
                "Unix seconds when the request was signed.",
                "^[0-9]{1,12}$",
            ),
            header(
                SIGNATURE_HEADER,
                "`v1=` and the hex HMAC-SHA256 of `<timestamp>.<body>`.",
                "^v1=[0-9a-fA-F]{64}$",
            ),
        ],
        body: Some(with_example(
            object(
                &[
                    "provider",
                    "conversation_id",
                    "player_id",
                    "language",
                    "category",
                    "transcript",
                    "closed_at",
                ],
                json!({
                    "provider": identifier(Handoff::PROVIDER_MAX, "^[a-z0-9-]+$", "The chat tool."),
                    "conversation_id": identifier(Handoff::CONVERSATION_MAX, "^[A-Za-z0-9_-]+$", "Its conversation."),
                    "player_id": player_id_schema(),
                    "language": enum_of(guichet_core::common::player::Language::NAMES),
                    "category": enum_of(CATEGORY_NAMES),
                    "agent": identifier(64, "^[A-Za-z0-9_-]+$", "The chat agent, if one took part."),
                    "closed_at": { "type": "string", "format": "date-time" },
                    "transcript": {
                        "type": "array", "minItems": 1, "maxItems": MAX_LINES,
                        "items": object(&["at", "from", "text"], json!({
                            "at": { "type": "string", "format": "date-time" },
                            "from": enum_of(guichet_core::handoffs::request::Speaker::NAMES),
                            "text": text(1, LINE_MAX, "What was said"),
                        })),
                    },
                }),
            ),
            json!({
                "provider": "zendesk", "conversation_id": "conv_8F2k-91",
                "player_id": "player-7f3a9c", "language": "fr", "category": "transaction",
                "closed_at": "2026-11-26T14:58:00Z",
                "transcript": [
                    {"at": "2026-11-26T14:50:00Z", "from": "player", "text": "Mon retrait est bloqué."}
                ],
            }),
        )),
        success: vec![
            (201, "Receipt", vec!["Location"]),
            (200, "Receipt", vec!["Location"]),
        ],
        errors: &[400, 401, 413, 415, 422],
    }
}

/// What each status means when it is an error.
fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Bad input: `field` and `rule` name what is wrong",
        401 => "No token, a bad signature or an expired token",
        403 => {
            "The token lacks the role the route needs (`required_role`) or the team \
                (`required_team`)"
        }
        404 => "No such resource, or not the caller's",
        409 => "The resource's state refuses the request (`reason`)",
        413 => "The body is too large",
        415 => "The body is not sent as `application/json`",
        422 => "The `Idempotency-Key` was used for another request",
        500 => "Internal failure: a `request_id`, nothing of the cause",
        _ => {
            "Unavailable: writes kept conflicting, or the request ran out of time; retry \
              after `Retry-After` seconds"
        }
    }
}

/// A response schema by name, or `A|B` for one of several.
fn schema_ref(names: &str) -> Value {
    let refs: Vec<Value> = names
        .split('|')
        .map(|name| json!({ "$ref": format!("#/components/schemas/{name}") }))
        .collect();
    match <[Value; 1]>::try_from(refs) {
        Ok([one]) => one,
        Err(refs) => json!({ "oneOf": refs }),
    }
}

fn operation_json(operation: &Operation) -> Value {
    let roles: Vec<&str> = operation.roles.iter().map(|r| r.as_str()).collect();
    let mut responses = Map::new();
    for (status, schema, headers) in &operation.success {
        let headers: Map<String, Value> = headers
            .iter()
            .map(|name| {
                let reference = name.replace('-', "");
                (
                    (*name).to_owned(),
                    json!({ "$ref": format!("#/components/headers/{reference}") }),
                )
            })
            .collect();
        let mut response = json!({
            "description": if *status == 200 && operation.success.len() > 1 && operation.method == "post" {
                "Already done: the same answer as the first time"
            } else {
                "Success"
            },
            "content": { "application/json": { "schema": schema_ref(schema) } },
        });
        if !headers.is_empty() {
            response["headers"] = Value::Object(headers);
        }
        responses.insert(status.to_string(), response);
    }
    // No roles: a public route, which no authorizer guards (no 401 or 403 either).
    let public = operation.roles.is_empty();
    let mut errors: Vec<u16> = operation
        .errors
        .iter()
        .chain(ALWAYS.iter().filter(|s| !public || !matches!(s, 401 | 403)))
        .chain(if operation.body.is_some() {
            BODY_ERRORS
        } else {
            &[]
        })
        .copied()
        .collect();
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        responses.insert(
            status.to_string(),
            json!({ "$ref": format!("#/components/responses/Error{status}") }),
        );
    }
    let who = if public {
        "Public: no token.".to_owned()
    } else {
        format!("Roles: {}.", roles.join(", "))
    };
    let description = if operation.notes.is_empty() {
        who
    } else {
        format!("{who} {}", operation.notes)
    };
    let mut value = json!({
        "operationId": operation.id,
        "summary": operation.summary,
        "description": description,
        "x-roles": roles,
        "parameters": operation.parameters,
        "responses": responses,
    });
    if public {
        value["security"] = json!([]);
    }
    if let Some(body) = &operation.body {
        value["requestBody"] = json!({
            // A body whose every field is optional may be left out.
            "required": body["schema"]["required"].as_array().is_some_and(|r| !r.is_empty()),
            "content": { "application/json": body },
        });
    }
    value
}

/// A response type's schema and every schema it refers to, under their names.
fn add_schema<T: ToSchema>(schemas: &mut BTreeMap<String, RefOr<Schema>>) {
    let mut nested = Vec::new();
    T::schemas(&mut nested);
    schemas.extend(nested);
    schemas.insert(T::name().into_owned(), T::schema());
}

/// The name utoipa 5.5 gives `jiff::Timestamp` fields' schema (it refers to a plain string
/// schema named `String`); renamed here to what they are.
const UTOIPA_TIMESTAMP: &str = "#/components/schemas/String";
const TIMESTAMP: &str = "#/components/schemas/Timestamp";

/// Points every reference to utoipa's `String` at `Timestamp`.
fn rename_timestamps(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if object.get("$ref").and_then(Value::as_str) == Some(UTOIPA_TIMESTAMP) {
                object.insert("$ref".to_owned(), Value::from(TIMESTAMP));
            }
            object.values_mut().for_each(rename_timestamps);
        }
        Value::Array(items) => items.iter_mut().for_each(rename_timestamps),
        _ => {}
    }
}

/// Every schema the operations name, derived from the types the handlers serialise.
fn schemas() -> BTreeMap<String, RefOr<Schema>> {
    let mut schemas = BTreeMap::new();
    add_schema::<guichet_edge::http::ErrorBody>(&mut schemas);
    add_schema::<guichet_core::tickets::desk::Receipt>(&mut schemas);
    add_schema::<list_tickets::TicketPage>(&mut schemas);
    add_schema::<get_ticket::TicketRead>(&mut schemas);
    add_schema::<team_queue::QueuePage>(&mut schemas);
    add_schema::<team_queue::SavedReplyList>(&mut schemas);
    add_schema::<complaints_report::ComplaintPage>(&mut schemas);
    add_schema::<held_mail::HeldPage>(&mut schemas);
    add_schema::<guichet_core::tickets::lookup::PlayerSupport>(&mut schemas);
    add_schema::<update_ticket::UpdatedTicket>(&mut schemas);
    add_schema::<update_ticket::MergedTickets>(&mut schemas);
    add_schema::<guichet_edge::upload::UploadUrl>(&mut schemas);
    add_schema::<guichet_core::verification::rules::VerificationCase>(&mut schemas);
    add_schema::<read_case::PlayerCase>(&mut schemas);
    add_schema::<read_case::StaffCase>(&mut schemas);
    add_schema::<read_case::ReviewQueue>(&mut schemas);
    add_schema::<review_case::DocumentView>(&mut schemas);
    add_schema::<review_case::DecidedCase>(&mut schemas);
    add_schema::<guichet_core::verification::rules::Eligibility>(&mut schemas);
    add_schema::<guichet_core::calendar::published::SupportHours>(&mut schemas);
    add_schema::<guichet_core::calendar::published::YearHolidays>(&mut schemas);
    add_schema::<incidents::CurrentPage>(&mut schemas);
    add_schema::<incidents::IncidentView>(&mut schemas);
    add_schema::<incidents::IncidentChange>(&mut schemas);
    schemas
}

/// The whole document.
pub fn document() -> Value {
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for operation in operations() {
        paths
            .entry(operation.path)
            .or_default()
            .insert(operation.method.to_owned(), operation_json(&operation));
    }
    let mut responses = Map::new();
    for status in [400, 401, 403, 404, 409, 413, 415, 422, 500, 503] {
        let mut response = json!({
            "description": error_description(status),
            "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/ErrorBody" },
            } },
        });
        if status == 503 {
            response["headers"] =
                json!({ "Retry-After": { "$ref": "#/components/headers/RetryAfter" } });
        }
        responses.insert(format!("Error{status}"), response);
    }
    let mut schemas = serde_json::to_value(schemas()).unwrap_or_default();
    rename_timestamps(&mut schemas);
    if let Value::Object(named) = &mut schemas {
        named.remove("String");
        named.insert(
            "Timestamp".to_owned(),
            json!({
                "type": "string", "format": "date-time",
                "description": "An instant, RFC 3339 in UTC (`2026-11-26T15:00:00Z`).",
            }),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Guichet",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The player-support back end: tickets, attachments, the agents' \
                            workflow, escalation, incidents and identity verification. Every \
                            error is `ErrorBody`. Roles are the token's `cognito:groups` \
                            (`x-roles` on each operation: the caller needs one of them). In AWS, \
                            what API Gateway answers by itself (`401` from the JWT authorizer, \
                            `404` for a route it does not have, `413` over 10 MB, `429`, a `500` \
                            for a crashed function, the `503` of its 30-second timeout) carries \
                            only `message`; the local gateway answers those in `ErrorBody`.",
        },
        "servers": [{ "url": "http://127.0.0.1:3000", "description": "The local gateway" }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A JWT from the identity provider (locally: `dev-token`).",
                },
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": "Idempotency-Key", "in": "header", "required": false,
                    "description": "Makes a retry safe: the same key and request answer the \
                                    same ticket for 24 hours.",
                    "schema": {
                        "type": "string",
                        "pattern": format!(
                            "^[A-Za-z0-9._:-]{{{},{}}}$",
                            guichet_core::tickets::ports::IdempotencyKey::MIN_LEN,
                            guichet_core::tickets::ports::IdempotencyKey::MAX_LEN,
                        ),
                    },
                    "example": "5b0e7f0c-2d7a-4b8e-9a61-3f4c2b1d0e9a",
                },
                "AcceptLanguage": {
                    "name": "Accept-Language", "in": "header", "required": false,
                    "description": "Picks the ticket's language (`fr` or `en`) when the body \
                                    names none.",
                    "schema": { "type": "string" },
                    "example": "en-CA",
                },
            },
            "headers": {
                "Location": {
                    "description": "Where the created resource is read.",
                    "required": true,
                    "schema": { "type": "string" },
                },
                "RetryAfter": {
                    "description": "Seconds to wait before retrying.",
                    "required": true,
                    "schema": { "type": "integer", "minimum": 0 },
                },
            },
            "responses": responses,
            "schemas": schemas,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Template;
    use std::collections::BTreeSet;

    #[test]
    fn the_committed_document_is_the_generated_one() {
        let committed = std::fs::read_to_string(document_path()).unwrap_or_default();
        assert!(
            committed == document_text(),
            "{DOCUMENT_PATH} differs from what the code describes; regenerate it with `{REGENERATE}` \
             and commit it"
        );
    }

    #[test]
    fn the_document_has_exactly_the_routes_of_the_template() {
        let template = Template::load(&Template::default_path()).unwrap();
        let in_template: BTreeSet<(String, String)> = template
            .http_routes()
            .unwrap()
            .into_iter()
            .map(|route| (route.method.to_ascii_lowercase(), route.path))
            .collect();
        let document = document();
        let in_document: BTreeSet<(String, String)> = document["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(path, item)| {
                item.as_object()
                    .into_iter()
                    .flatten()
                    .map(move |(method, _)| (method.clone(), path.clone()))
            })
            .collect();
        let missing: Vec<_> = in_template.difference(&in_document).collect();
        let extra: Vec<_> = in_document.difference(&in_template).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "routes of infra/template.yaml missing from the description: {missing:?}; \
             operations the template does not route: {extra:?} (describe them in \
             local/src/openapi.rs)"
        );
    }

    #[test]
    fn every_reference_resolves_and_every_error_is_the_error_shape() {
        let document = document();
        let text = document.to_string();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("\"$ref\":\"#/") {
            let tail = &rest[start + "\"$ref\":\"#".len()..];
            let end = tail.find('"').unwrap_or(tail.len());
            let pointer = &tail[..end];
            assert!(
                document.pointer(pointer).is_some(),
                "{pointer} is referred to but not defined"
            );
            rest = &tail[end..];
        }
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                // Every route names its roles, or says it is public and asks for no token.
                let roles = operation["x-roles"].as_array().map_or(0, Vec::len);
                let public = operation["security"] == serde_json::json!([]);
                assert!(roles > 0 || public, "{method} {path}");
                assert!(!(roles > 0 && public), "{method} {path}");
                for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            response["$ref"],
                            format!("#/components/responses/Error{status}"),
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
    }
}
