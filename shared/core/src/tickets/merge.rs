//! Merging a duplicate ticket into another ticket of the same player (`POST
//! /tickets/{reference}/merge` `{into}`): a player who wrote twice about one problem gets one
//! conversation.
//!
//! The duplicate is closed with a pointer to the survivor (`merged_into`), its clocks stopped as
//! a resolution stops them; the survivor lists it (`merged_from`) and its view shows the
//! duplicate's messages and attachments, read from the duplicate's own items (nothing is copied,
//! so nothing can drift apart). Both tickets, their history lines, the player's one notification
//! (on the survivor) and its outbox message are one conditional write: no half merge exists.
//!
//! A merge already done (both tickets say so) is answered as it stands, with nothing written or
//! sent again: a retry, with or without its `Idempotency-Key`, is harmless.

use jiff::Timestamp;

use crate::common::access::Actor;
use crate::common::player::Author;
use crate::common::reference::TicketReference;
use crate::common::retry::{Attempt, RetryPolicy};
use crate::common::store::StoreError;
use crate::common::validation::{Rule, ValidationError};
use crate::notifications::rules::{Notification, NotificationKind};
use crate::outbox::rules::{MessageId, OutboxMessage};
use crate::tickets::desk::Desk;
use crate::tickets::ports::{
    Basis, IdempotencyClaim, IdempotencyKey, MergeWrite, MergeWritten, MergedRecord, TicketStore,
    TicketUpdate,
};
use crate::tickets::staff::{now_ms, StaffError};
use crate::tickets::ticket::{StatusChange, Ticket, TicketStatus};
use crate::tickets::workflow::{next_version, Change};

/// The reason of the duplicate's status line (it becomes `closed`).
pub const MERGED_INTO: &str = "merged_into";
/// The reason of the survivor's history line (its status unchanged).
pub const MERGED_FROM: &str = "merged_from";

/// The field of the request that names the survivor: every refusal about it names it.
pub const INTO_FIELD: &str = "into";

/// A merge is tried again when a concurrent write to either ticket won: each attempt reads both
/// afresh, so a concurrent identical merge is then found done.
const MERGE_RETRY: RetryPolicy = RetryPolicy::CONTENDED_WRITE.with_attempts(3);

/// Why the rules refuse a merge of these two tickets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeRefusal {
    #[error("a ticket cannot be merged into itself")]
    SameTicket,
    /// Merging would show one player's conversation to another.
    #[error("the two tickets belong to different players")]
    OtherPlayer,
    #[error("the ticket to merge into is closed")]
    SurvivorClosed,
    #[error("this ticket was already merged into {0}")]
    MergedElsewhere(TicketReference),
    /// A closed ticket is over; only open work is merged.
    #[error("a closed ticket cannot be merged")]
    DuplicateClosed,
}

impl MergeRefusal {
    /// The refusals that are bad input (`400` naming `into`), as opposed to a conflict with
    /// the tickets as they stand.
    pub fn as_invalid(&self) -> Option<ValidationError> {
        match self {
            MergeRefusal::SameTicket => Some(ValidationError::new(INTO_FIELD, Rule::OtherTicket)),
            MergeRefusal::SurvivorClosed => Some(ValidationError::new(INTO_FIELD, Rule::NotClosed)),
            MergeRefusal::OtherPlayer
            | MergeRefusal::MergedElsewhere(_)
            | MergeRefusal::DuplicateClosed => None,
        }
    }
}

/// What the rules decided on two tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Both tickets already record this merge: nothing to write.
    AlreadyMerged,
    /// The two changes, written together (boxed: a ticket with its clocks is large).
    Merge {
        duplicate: Box<Change>,
        survivor: Box<Change>,
    },
}

/// Decides the merge of `duplicate` into `survivor` by `staff_id` at `at`, each change on the
/// version as read. The survivor also takes the tickets merged into the duplicate before, so its
/// view shows every conversation the player had about it.
pub fn decide(
    duplicate: &Ticket,
    survivor: &Ticket,
    staff_id: &str,
    at: Timestamp,
) -> Result<Decided, MergeRefusal> {
    if duplicate.reference == survivor.reference {
        return Err(MergeRefusal::SameTicket);
    }
    if duplicate.player != survivor.player {
        return Err(MergeRefusal::OtherPlayer);
    }
    match &duplicate.merged_into {
        // One write records both sides: the survivor lists it.
        Some(into) if *into == survivor.reference => return Ok(Decided::AlreadyMerged),
        Some(elsewhere) => return Err(MergeRefusal::MergedElsewhere(elsewhere.clone())),
        None => {}
    }
    if survivor.status == TicketStatus::Closed {
        return Err(MergeRefusal::SurvivorClosed);
    }
    if duplicate.status == TicketStatus::Closed {
        return Err(MergeRefusal::DuplicateClosed);
    }
    let staff = Author::Staff {
        id: staff_id.to_owned(),
    };
    let line = |status, reason: &str| StatusChange {
        at,
        status,
        actor: staff.clone(),
        reason: reason.to_owned(),
        extended_minutes: None,
        rebased: None,
    };
    // Each change is on the version as read; the write is conditioned on both.
    let mut closed = next_version(duplicate, at);
    closed.status = TicketStatus::Closed;
    closed.merged_into = Some(survivor.reference.clone());
    let mut kept = next_version(survivor, at);
    for reference in duplicate
        .merged_from
        .iter()
        .chain(std::iter::once(&duplicate.reference))
    {
        if !kept.merged_from.contains(reference) {
            kept.merged_from.push(reference.clone());
        }
    }
    Ok(Decided::Merge {
        duplicate: Box::new(Change {
            ticket: closed,
            expected_version: duplicate.version,
            history: vec![line(TicketStatus::Closed, MERGED_INTO)],
            message: None,
        }),
        survivor: Box::new(Change {
            ticket: kept,
            expected_version: survivor.version,
            history: vec![line(survivor.status, MERGED_FROM)],
            message: None,
        }),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// What every staff action may meet: the duplicate unknown, another team's ticket, the
    /// store, the notification or the random source failing.
    #[error(transparent)]
    Staff(#[from] StaffError),
    /// The ticket named by `into` does not exist.
    #[error("no ticket {0} to merge into")]
    IntoNotFound(TicketReference),
    #[error(transparent)]
    Refused(#[from] MergeRefusal),
    #[error("this Idempotency-Key was already used for a different request")]
    KeyReused,
    #[error("the tickets kept changing while they were merged; try again")]
    Contended,
}

/// A merge's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Written now: both changes, the player's notification and the outbox messages (to relay).
    Done {
        duplicate: Box<Change>,
        survivor: Box<Change>,
        notification: Notification,
        outbox: Vec<OutboxMessage>,
    },
    /// Already done before (a retry): both tickets as they stand; nothing written or sent.
    Replayed {
        duplicate: Box<Ticket>,
        survivor: Box<Ticket>,
    },
}

impl<S: TicketStore> Desk<S> {
    /// Merges `duplicate` into `into` for `caller`, who must work for both tickets' teams.
    /// `key` binds the caller's `Idempotency-Key` to this merge, as intake binds one.
    pub async fn merge(
        &self,
        caller: &Actor,
        duplicate: &TicketReference,
        into: &TicketReference,
        key: Option<IdempotencyKey>,
    ) -> Result<Merged, MergeError> {
        if duplicate == into {
            return Err(MergeRefusal::SameTicket.into());
        }
        let now = now_ms(self.clock.now());
        let claim = key.map(|key| IdempotencyClaim {
            player: caller.subject.clone(),
            key,
            fingerprint: merge_fingerprint(duplicate, into),
            claimed_at: now,
            expires_at: now + self.idempotency_ttl,
        });
        MERGE_RETRY
            .run(|_| self.merge_attempt(caller, duplicate, into, claim.as_ref()))
            .await?
            .ok_or(MergeError::Contended)
    }

    /// One attempt of [`Desk::merge`], on both tickets read afresh.
    async fn merge_attempt(
        &self,
        caller: &Actor,
        duplicate: &TicketReference,
        into: &TicketReference,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<Attempt<Merged>, MergeError> {
        let before = self.read_for(caller, duplicate).await?.ticket;
        let target = match self.read_for(caller, into).await {
            Ok(found) => found.ticket,
            Err(StaffError::NotFound) => return Err(MergeError::IntoNotFound(into.clone())),
            Err(other) => return Err(other.into()),
        };
        let now = now_ms(self.clock.now());
        let staff = caller.subject.as_str();
        let (mut closed, mut kept) = match decide(&before, &target, staff, now)? {
            Decided::AlreadyMerged => {
                return Ok(Attempt::Done(Merged::Replayed {
                    duplicate: Box::new(before),
                    survivor: Box::new(target),
                }))
            }
            Decided::Merge {
                duplicate,
                survivor,
            } => (duplicate, survivor),
        };
        self.keep_promises(&before, &mut closed);
        self.keep_promises(&target, &mut kept);
        let id = MessageId::generate().map_err(StaffError::from)?;
        let (notification, message) = self
            .notifier
            .for_ticket(NotificationKind::Merged, &kept.ticket, id, now)
            .map_err(StaffError::from)?;
        let outbox = vec![message];
        let written = self
            .store
            .merge(MergeWrite {
                duplicate: TicketUpdate {
                    change: &closed,
                    basis: Basis::Read,
                    escalation: None,
                    notification: None,
                    outbox: &[],
                },
                survivor: TicketUpdate {
                    change: &kept,
                    basis: Basis::Read,
                    escalation: None,
                    notification: Some(&notification),
                    outbox: &outbox,
                },
                idempotency: claim,
            })
            .await
            .map_err(StaffError::from)?;
        match written {
            MergeWritten::Done => Ok(Attempt::Done(Merged::Done {
                duplicate: closed,
                survivor: kept,
                notification,
                outbox,
            })),
            MergeWritten::Stale => Ok(Attempt::Retry),
            // The same merge under the same key: the next attempt reads it done.
            MergeWritten::KeyAlreadyUsed(record)
                if claim.is_some_and(|c| c.fingerprint == record.fingerprint) =>
            {
                Ok(Attempt::Retry)
            }
            MergeWritten::KeyAlreadyUsed(_) => Err(MergeError::KeyReused),
        }
    }

    /// The duplicates merged into `survivor`, as its reader may see them: one read each, their
    /// internal notes left out for a player (`staff` false), only checked attachments. A record
    /// that is not the same player's is never shown (the merge refuses it; this holds even if a
    /// record were altered by hand).
    pub async fn merged_records(
        &self,
        survivor: &Ticket,
        staff: bool,
    ) -> Result<Vec<MergedRecord>, StoreError> {
        let mut shown = Vec::with_capacity(survivor.merged_from.len());
        for reference in &survivor.merged_from {
            let Some(mut record) = self.store.merged_record(reference).await? else {
                continue;
            };
            if record.ticket.player != survivor.player {
                continue;
            }
            record.messages.retain(|m| staff || !m.internal);
            record
                .attachments
                .retain(|a| a.state == crate::attachments::rules::AttachmentState::Checked);
            shown.push(record);
        }
        Ok(shown)
    }
}

/// What an `Idempotency-Key` is bound to: this duplicate into this survivor.
fn merge_fingerprint(duplicate: &TicketReference, into: &TicketReference) -> String {
    format!("merge:{}:{}", duplicate.as_str(), into.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::access::Role;
    use crate::common::player::PlayerId;
    use crate::promises::clocks::ClockState;
    use crate::tickets::memory::{desk, MemoryTicketStore};
    use crate::tickets::ticket::{sample, Team};

    const NOW: &str = "2026-11-26T16:00:00Z";

    fn at(text: &str) -> Timestamp {
        text.parse().expect("valid")
    }

    fn pair() -> (Ticket, Ticket) {
        let duplicate = sample(TicketStatus::Open);
        let survivor = Ticket {
            reference: TicketReference::from_random([5; 9]),
            status: TicketStatus::WaitingOnPlayer,
            version: 2,
            ..sample(TicketStatus::Open)
        };
        (duplicate, survivor)
    }

    fn staff(teams: &[Team], roles: &[Role]) -> Actor {
        Actor {
            subject: PlayerId::parse("agent-7").expect("valid"),
            roles: roles.to_vec(),
            teams: teams.to_vec(),
            email: None,
        }
    }

    fn payments() -> Actor {
        staff(&[Team::Payments], &[Role::Agent])
    }

    #[test]
    fn the_duplicate_closes_pointing_at_the_survivor_which_lists_it() {
        let (duplicate, survivor) = pair();
        let now = at(NOW);
        let Ok(Decided::Merge {
            duplicate: closed,
            survivor: kept,
        }) = decide(&duplicate, &survivor, "agent-7", now)
        else {
            panic!("a merge");
        };
        assert_eq!(closed.ticket.status, TicketStatus::Closed);
        assert_eq!(closed.ticket.merged_into, Some(survivor.reference.clone()));
        assert_eq!(closed.ticket.version, 5);
        assert_eq!(closed.expected_version, 4);
        assert_eq!(closed.history[0].reason, MERGED_INTO);
        assert_eq!(closed.history[0].status, TicketStatus::Closed);
        assert_eq!(kept.ticket.merged_from, vec![duplicate.reference.clone()]);
        assert_eq!(
            kept.ticket.status,
            TicketStatus::WaitingOnPlayer,
            "unchanged"
        );
        assert_eq!(kept.ticket.version, 3);
        assert_eq!(kept.history[0].reason, MERGED_FROM);
        for line in closed.history.iter().chain(&kept.history) {
            assert_eq!(
                line.actor,
                Author::Staff {
                    id: "agent-7".into()
                }
            );
            assert_eq!(line.at, now);
        }
    }

    #[test]
    fn the_survivor_takes_what_was_merged_into_the_duplicate_once() {
        let (mut duplicate, mut survivor) = pair();
        let earlier = TicketReference::from_random([6; 9]);
        duplicate.merged_from = vec![earlier.clone()];
        survivor.merged_from = vec![earlier.clone()];
        let Ok(Decided::Merge { survivor: kept, .. }) = decide(&duplicate, &survivor, "a", at(NOW))
        else {
            panic!("a merge");
        };
        assert_eq!(kept.ticket.merged_from, vec![earlier, duplicate.reference]);
    }

    #[test]
    fn each_refusal_of_the_rules() {
        let now = at(NOW);
        let (duplicate, survivor) = pair();
        assert_eq!(
            decide(&duplicate, &duplicate, "a", now),
            Err(MergeRefusal::SameTicket)
        );
        let stranger = Ticket {
            player: PlayerId::parse("p-2").expect("valid"),
            ..survivor.clone()
        };
        assert_eq!(
            decide(&duplicate, &stranger, "a", now),
            Err(MergeRefusal::OtherPlayer)
        );
        let closed = Ticket {
            status: TicketStatus::Closed,
            ..survivor.clone()
        };
        assert_eq!(
            decide(&duplicate, &closed, "a", now),
            Err(MergeRefusal::SurvivorClosed)
        );
        let over = Ticket {
            status: TicketStatus::Closed,
            ..duplicate.clone()
        };
        assert_eq!(
            decide(&over, &survivor, "a", now),
            Err(MergeRefusal::DuplicateClosed)
        );
        let elsewhere = TicketReference::from_random([8; 9]);
        let merged = Ticket {
            status: TicketStatus::Closed,
            merged_into: Some(elsewhere.clone()),
            ..duplicate.clone()
        };
        assert_eq!(
            decide(&merged, &survivor, "a", now),
            Err(MergeRefusal::MergedElsewhere(elsewhere))
        );
        let done = Ticket {
            merged_into: Some(survivor.reference.clone()),
            ..merged
        };
        assert_eq!(
            decide(&done, &survivor, "a", now),
            Ok(Decided::AlreadyMerged)
        );
        assert_eq!(
            MergeRefusal::SameTicket.as_invalid(),
            Some(ValidationError::new("into", Rule::OtherTicket))
        );
        assert_eq!(
            MergeRefusal::SurvivorClosed.as_invalid(),
            Some(ValidationError::new("into", Rule::NotClosed))
        );
        assert_eq!(MergeRefusal::OtherPlayer.as_invalid(), None);
    }

    async fn submitted(desk: &Desk<MemoryTicketStore>, player: &str, subject: &str) -> Ticket {
        let request = crate::tickets::intake::TicketRequest::parse(
            &serde_json::json!({"channel": "form", "category": "transaction", "subject": subject,
                "description": "Mon dépôt de 50 $ n'apparaît pas."}),
            None,
            at(NOW),
        )
        .expect("valid request");
        let player = PlayerId::parse(player).expect("valid");
        match desk.submit(player, request, None, None).await {
            Ok(crate::tickets::desk::Submitted::Created(receipt, _)) => {
                desk.store
                    .get(&receipt.reference)
                    .await
                    .expect("read")
                    .expect("stored")
                    .ticket
            }
            other => panic!("submitted: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_merge_writes_both_tickets_and_tells_the_player_once() {
        let desk = desk(NOW);
        let duplicate = submitted(&desk, "p-1", "Dépôt manquant").await;
        let survivor = submitted(&desk, "p-1", "Dépôt toujours absent").await;
        let merged = desk
            .merge(&payments(), &duplicate.reference, &survivor.reference, None)
            .await
            .expect("merged");
        let Merged::Done { notification, .. } = merged else {
            panic!("written: {merged:?}");
        };
        assert_eq!(notification.kind, NotificationKind::Merged);
        assert!(notification.body.contains(&survivor.reference.to_string()));
        let read = |r: TicketReference| {
            let store = &desk.store;
            async move { store.get(&r).await.expect("read").expect("stored") }
        };
        let closed = read(duplicate.reference.clone()).await;
        let kept = read(survivor.reference.clone()).await;
        assert_eq!(closed.ticket.status, TicketStatus::Closed);
        assert_eq!(
            closed.ticket.merged_into.as_ref(),
            Some(&survivor.reference)
        );
        assert_eq!(kept.ticket.merged_from, vec![duplicate.reference.clone()]);
        assert_eq!(
            closed.history.last().map(|l| l.reason.as_str()),
            Some(MERGED_INTO)
        );
        assert_eq!(
            kept.history.last().map(|l| l.reason.as_str()),
            Some(MERGED_FROM)
        );
        // The duplicate's clocks stop, as a resolution stops them: nothing more is owed on it.
        let clocks = closed.ticket.clocks.as_ref().expect("clocks");
        for kind in crate::promises::policy::ClockKind::ALL {
            if let Some(clock) = clocks.get(*kind) {
                assert_eq!(clock.state, ClockState::Met, "{kind:?}");
            }
        }
        assert_eq!(clocks.next_check(), None, "out of the sweep's index");
        let both = [duplicate.reference.clone(), survivor.reference.clone()];
        assert_eq!(
            desk.store
                .count_notifications(&both, NotificationKind::Merged),
            1
        );
        assert_eq!(
            kept.notifications.last().map(|n| n.kind),
            Some(NotificationKind::Merged)
        );

        // A retry, with or without a key, answers the merge as it stands and writes nothing.
        let outbox = desk.store.outbox().len();
        for key in [None, IdempotencyKey::parse("merge-retry-0001")] {
            let again = desk
                .merge(&payments(), &duplicate.reference, &survivor.reference, key)
                .await
                .expect("replayed");
            assert!(matches!(again, Merged::Replayed { .. }), "{again:?}");
        }
        assert_eq!(
            desk.store
                .count_notifications(&both, NotificationKind::Merged),
            1
        );
        assert_eq!(desk.store.outbox().len(), outbox, "nothing sent again");
        assert_eq!(
            read(survivor.reference.clone()).await.ticket.version,
            kept.ticket.version
        );
    }

    #[tokio::test]
    async fn a_key_binds_one_merge() {
        let desk = desk(NOW);
        let duplicate = submitted(&desk, "p-1", "Dépôt manquant").await;
        let other = submitted(&desk, "p-1", "Retrait bloqué").await;
        let survivor = submitted(&desk, "p-1", "Dépôt toujours absent").await;
        let key = || IdempotencyKey::parse("merge-key-0001");
        desk.merge(
            &payments(),
            &duplicate.reference,
            &survivor.reference,
            key(),
        )
        .await
        .expect("merged");
        let reused = desk
            .merge(&payments(), &other.reference, &survivor.reference, key())
            .await;
        assert!(matches!(reused, Err(MergeError::KeyReused)), "{reused:?}");
        let untouched = desk.store.get(&other.reference).await.expect("read");
        assert_eq!(untouched.map(|t| t.ticket.status), Some(TicketStatus::Open));
    }

    /// The error of merging `duplicate` into `into` as `caller` (a merge fails the test).
    async fn refusal(
        desk: &Desk<MemoryTicketStore>,
        caller: &Actor,
        duplicate: &Ticket,
        into: &TicketReference,
    ) -> MergeError {
        match desk.merge(caller, &duplicate.reference, into, None).await {
            Err(refused) => refused,
            Ok(merged) => panic!("merged: {merged:?}"),
        }
    }

    #[tokio::test]
    async fn who_may_merge_and_what_is_not_found() {
        let desk = desk(NOW);
        let duplicate = submitted(&desk, "p-1", "Dépôt manquant").await;
        let survivor = submitted(&desk, "p-1", "Dépôt toujours absent").await;
        let unknown = TicketReference::from_random([9; 9]);
        let ghost = Ticket {
            reference: unknown.clone(),
            ..duplicate.clone()
        };
        let games = staff(&[Team::Games], &[Role::Agent]);
        let into = &survivor.reference;
        let refused = refusal(&desk, &games, &duplicate, into).await;
        assert!(
            matches!(
                refused,
                MergeError::Staff(StaffError::OtherTeam(Team::Payments))
            ),
            "{refused:?}"
        );
        let refused = refusal(&desk, &payments(), &ghost, into).await;
        assert!(
            matches!(refused, MergeError::Staff(StaffError::NotFound)),
            "{refused:?}"
        );
        let refused = refusal(&desk, &payments(), &duplicate, &unknown).await;
        assert!(
            matches!(refused, MergeError::IntoNotFound(_)),
            "{refused:?}"
        );
        let refused = refusal(&desk, &payments(), &duplicate, &duplicate.reference).await;
        assert!(
            matches!(refused, MergeError::Refused(MergeRefusal::SameTicket)),
            "{refused:?}"
        );
        let supervisor = staff(&[], &[Role::Supervisor]);
        let merged = desk
            .merge(&supervisor, &duplicate.reference, into, None)
            .await;
        assert!(matches!(merged, Ok(Merged::Done { .. })), "{merged:?}");
    }

    #[tokio::test]
    async fn another_players_ticket_and_a_second_survivor_are_refused() {
        let desk = desk(NOW);
        let duplicate = submitted(&desk, "p-1", "Dépôt manquant").await;
        let survivor = submitted(&desk, "p-1", "Dépôt toujours absent").await;
        let stranger = submitted(&desk, "p-2", "Dépôt manquant aussi").await;
        let third = submitted(&desk, "p-1", "Encore mon dépôt").await;
        let refused = refusal(&desk, &payments(), &duplicate, &stranger.reference).await;
        assert!(
            matches!(refused, MergeError::Refused(MergeRefusal::OtherPlayer)),
            "{refused:?}"
        );
        desk.merge(&payments(), &duplicate.reference, &survivor.reference, None)
            .await
            .expect("merged");
        let refused = refusal(&desk, &payments(), &duplicate, &third.reference).await;
        assert!(
            matches!(
                refused,
                MergeError::Refused(MergeRefusal::MergedElsewhere(_))
            ),
            "{refused:?}"
        );
        // Nothing can be merged into the closed duplicate either.
        let refused = refusal(&desk, &payments(), &third, &duplicate.reference).await;
        assert!(
            matches!(refused, MergeError::Refused(MergeRefusal::SurvivorClosed)),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn the_survivor_shows_the_duplicates_messages_and_checked_attachments_only() {
        use crate::attachments::rules::{Attachment, AttachmentState};
        let desk = desk(NOW);
        let duplicate = submitted(&desk, "p-1", "Dépôt manquant").await;
        let survivor = submitted(&desk, "p-1", "Dépôt toujours absent").await;
        let body = |text: &str| crate::tickets::workflow::MessageBody::parse("body", text);
        desk.answer(
            &duplicate.player,
            &duplicate.reference,
            body("Voici mon relevé.").expect("valid"),
        )
        .await
        .expect("answered");
        desk.work_on(&payments(), &duplicate.reference, None, |ticket, now| {
            crate::tickets::workflow::note(
                ticket,
                ticket.version,
                "agent-7",
                body("Relevé vérifié.").expect("valid"),
                now,
            )
        })
        .await
        .expect("noted");
        let upload = |state| {
            let seed = if state == AttachmentState::Checked {
                1
            } else {
                2
            };
            let upload = crate::documents::rules::UploadId::from_random([seed; 16]);
            Attachment {
                key: crate::attachments::rules::attachment_key(&duplicate.reference, &upload),
                upload,
                reference: duplicate.reference.clone(),
                content_type: crate::documents::rules::ContentType::Png,
                size: 10,
                state,
                issued_at: at(NOW),
                expires_at: at(NOW),
                issued_by: Author::Player,
                checked_at: None,
            }
        };
        desk.store.attach(upload(AttachmentState::Checked));
        desk.store.attach(upload(AttachmentState::Pending));
        desk.merge(&payments(), &duplicate.reference, &survivor.reference, None)
            .await
            .expect("merged");
        let kept = desk
            .store
            .get(&survivor.reference)
            .await
            .expect("read")
            .expect("stored")
            .ticket;
        let reads = desk.store.reads();
        let for_player = desk.merged_records(&kept, false).await.expect("read");
        assert_eq!(desk.store.reads(), reads + 1, "one read per merged ticket");
        assert_eq!(for_player.len(), 1);
        let shown = &for_player[0];
        assert_eq!(shown.ticket.reference, duplicate.reference);
        assert_eq!(shown.messages.len(), 1, "the note is left out");
        assert_eq!(shown.messages[0].body, "Voici mon relevé.");
        assert_eq!(shown.attachments.len(), 1, "only what was checked");
        let for_staff = desk.merged_records(&kept, true).await.expect("read");
        assert_eq!(for_staff[0].messages.len(), 2);
        // A record naming another player is never shown, whatever the survivor lists.
        let forged = Ticket {
            player: PlayerId::parse("p-2").expect("valid"),
            ..kept
        };
        assert!(desk
            .merged_records(&forged, true)
            .await
            .expect("read")
            .is_empty());
    }
}
