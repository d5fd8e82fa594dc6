//! Use cases on tickets, over the ports: what a handler calls once it has parsed and
//! authorised the request.

use jiff::SignedDuration;
use serde::Serialize;

use crate::common::clock::{Clock, ReferenceSource};
use crate::common::contact::ContactAddress;
use crate::common::paging::Page;
use crate::common::player::{Author, PlayerId};
use crate::common::reference::TicketReference;
use crate::common::retry::{Attempt, RetryPolicy};
use crate::common::store::StoreError;
use crate::escalation::rules::automatic_escalation;
use crate::notifications::rules::{NotificationKind, Notifier, NotifyError};
use crate::outbox::rules::{Destination, MessageId, OutboxMessage};
use crate::promises::clocks::{advance, rebase_line, Promises};
use crate::tickets::acknowledgement::acknowledgement;
use crate::tickets::intake::TicketRequest;
use crate::tickets::ports::{
    IdempotencyClaim, IdempotencyKey, InsertOutcome, NewTicketWrite, PageStart, TicketStore,
    TicketWithHistory,
};
use crate::tickets::sla::{Promise, ResponseTarget, SupportCalendar};
use crate::tickets::ticket::{Category, StatusChange, Ticket};
use crate::tickets::workflow::Change;

/// How many times intake draws a new reference or waits out a concurrent write before
/// giving up. A collision among 2.6e13 references is rare; contention only happens when a
/// client fires duplicates at once, and those resolve on the next attempt.
const INTAKE_RETRY: RetryPolicy = RetryPolicy::CONTENDED_WRITE.with_attempts(5);

/// What intake needs besides the store; built once per Lambda container.
pub struct Desk<S> {
    pub store: S,
    pub clock: Box<dyn Clock>,
    pub references: Box<dyn ReferenceSource>,
    pub calendar: SupportCalendar,
    /// How long an `Idempotency-Key` stays bound to its first request.
    pub idempotency_ttl: SignedDuration,
    /// Renders the players' notifications in the desk's time zone.
    pub notifier: Notifier,
    /// The hours and policies the tickets' clocks run on.
    pub promises: Promises,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub reference: TicketReference,
    pub status: crate::tickets::ticket::TicketStatus,
    pub priority: crate::tickets::ticket::Priority,
    pub team: crate::tickets::ticket::Team,
    pub language: crate::common::player::Language,
    pub created_at: jiff::Timestamp,
    pub response_target: ResponseTarget,
    pub acknowledgement: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// A new ticket, and the outbox messages its transaction wrote, for the caller to relay.
    Created(Receipt, Vec<OutboxMessage>),
    /// A retry of an earlier request with the same key: the original ticket, unchanged.
    Replayed(Receipt),
}

/// What every attempt of one intake shares: decided once, before the first.
#[derive(Clone, Copy)]
struct Opening<'a> {
    claim: Option<&'a IdempotencyClaim>,
    contact: Option<&'a ContactAddress>,
    verification_case: Option<&'a crate::verification::rules::CaseId>,
    now: jiff::Timestamp,
    email_acknowledgement: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("this Idempotency-Key was already used for a different request")]
    KeyReused,
    #[error("the ticket could not be written after {} attempts", INTAKE_RETRY.attempts)]
    Contended,
    #[error("the random source failed")]
    Random(#[from] getrandom::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Notify(#[from] NotifyError),
    #[error(transparent)]
    Workflow(#[from] crate::tickets::workflow::WorkflowError),
}

impl<S: TicketStore> Desk<S> {
    /// Opens a ticket: what the rules escalate at once (account security) is escalated in the
    /// same transaction, and the player's "received" notification is written with it.
    pub async fn submit(
        &self,
        player: PlayerId,
        request: TicketRequest,
        key: Option<IdempotencyKey>,
        contact: Option<ContactAddress>,
    ) -> Result<Submitted, IntakeError> {
        self.submit_with(player, request, key, contact, true).await
    }

    /// [`Desk::submit`], saying whether the "received" notification is e-mailed: a ticket
    /// opened by a mail is acknowledged only where the rules of automatic answers allow it
    /// (`mail::loops`). Without the e-mail, the notification is still on the ticket.
    pub async fn submit_with(
        &self,
        player: PlayerId,
        request: TicketRequest,
        key: Option<IdempotencyKey>,
        contact: Option<ContactAddress>,
        email_acknowledgement: bool,
    ) -> Result<Submitted, IntakeError> {
        // Millisecond precision: what the sort keys and page cursors carry, so a ticket's
        // stored time and its position in a listing always agree.
        let now = self.clock.now();
        let now = jiff::Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now);
        let claim = key.map(|key| IdempotencyClaim {
            player: player.clone(),
            key,
            fingerprint: request.fingerprint(),
            claimed_at: now,
            expires_at: now + self.idempotency_ttl,
        });
        let verification_case = if request.category == Category::Verification {
            self.store.open_case_of(&player).await?
        } else {
            None
        };
        let opening = Opening {
            claim: claim.as_ref(),
            contact: contact.as_ref(),
            verification_case: verification_case.as_ref(),
            now,
            email_acknowledgement,
        };
        INTAKE_RETRY
            .run(|_| self.intake_attempt(&player, &request, &opening))
            .await?
            .ok_or(IntakeError::Contended)
    }

    /// One attempt of [`Desk::submit`], under a newly drawn reference; `Retry` when the
    /// reference is taken or a duplicate request is being written at the same moment.
    async fn intake_attempt(
        &self,
        player: &PlayerId,
        request: &TicketRequest,
        opening: &Opening<'_>,
    ) -> Result<Attempt<Submitted>, IntakeError> {
        let Opening {
            claim,
            contact,
            verification_case,
            now,
            email_acknowledgement,
        } = *opening;
        let reference = self.references.next_reference()?;
        let (mut ticket, received, _) =
            request
                .clone()
                .open(reference, player.clone(), now, &self.calendar);
        ticket.verification_case = verification_case.cloned();
        let mut write =
            self.opening_write(ticket, received, claim.cloned(), contact.cloned(), now)?;
        if !email_acknowledgement {
            // The notification stays on the ticket; only its e-mail (the outbox message that
            // names it) is left out.
            let id = write.notification.as_ref().map(|n| n.id.clone());
            write.outbox.retain(|message| {
                message.destination != Destination::Notifications
                    || id.as_ref().is_none_or(|id| message.id != *id)
            });
        }
        match self.store.insert(&write).await? {
            InsertOutcome::Created => Ok(Attempt::Done(Submitted::Created(
                self.receipt(&write.ticket),
                write.outbox,
            ))),
            InsertOutcome::KeyAlreadyUsed(record) => {
                let same = claim.is_some_and(|c| c.fingerprint == record.fingerprint);
                if !same {
                    return Err(IntakeError::KeyReused);
                }
                // The record and its ticket were written in one transaction.
                let original =
                    self.store
                        .get(&record.reference)
                        .await?
                        .ok_or(StoreError::Corrupt {
                            attribute: "reference",
                        })?;
                Ok(Attempt::Done(Submitted::Replayed(
                    self.receipt(&original.ticket),
                )))
            }
            InsertOutcome::ReferenceTaken | InsertOutcome::Contended => Ok(Attempt::Retry),
        }
    }

    /// Everything a new ticket writes: the automatic escalation the rules call for, the
    /// "received" notification (rendered on the ticket as it will be stored) and the outbox.
    fn opening_write(
        &self,
        ticket: Ticket,
        received: StatusChange,
        idempotency: Option<IdempotencyClaim>,
        contact: Option<ContactAddress>,
        now: jiff::Timestamp,
    ) -> Result<NewTicketWrite, IntakeError> {
        let mut outbox = Vec::new();
        let mut history = Vec::new();
        let mut escalation = None;
        let mut ticket = ticket;
        if let Some(ask) = automatic_escalation(ticket.category) {
            let (change, requested) = crate::escalation::rules::request(
                &ticket,
                ticket.version,
                ask,
                Author::System,
                MessageId::generate()?,
                now,
            )?;
            outbox.push(
                OutboxMessage::new(
                    MessageId::generate()?,
                    Destination::Escalations,
                    ticket.reference.as_str(),
                    &requested.request_message(),
                    now,
                )
                .map_err(NotifyError::from)?,
            );
            // One write creates the ticket: it is stored at its first version, escalated.
            ticket = change.ticket;
            ticket.version = 1;
            history.extend(change.history);
            escalation = Some(requested);
        }
        let mut lines = vec![received.clone()];
        lines.extend(history.iter().cloned());
        advance(&self.promises, None, &mut ticket, &lines, None);
        let (notification, message) = self.notifier.for_ticket(
            NotificationKind::Received,
            &ticket,
            MessageId::generate()?,
            now,
        )?;
        outbox.push(message);
        Ok(NewTicketWrite {
            ticket,
            received,
            idempotency,
            history,
            escalation,
            notification: Some(notification),
            outbox,
            contact,
        })
    }

    /// Moves the clocks of the change's ticket by what the change adds to `before`: every
    /// write of a ticket goes through here, so its clocks are its history replayed.
    pub fn keep_promises(&self, before: &Ticket, change: &mut Change) {
        // A change is never recorded at or before the one it follows: two functions' clocks
        // may differ by some milliseconds, and a ticket's history, its clocks' replay and the
        // sort keys of its lines read in time order what was written in version order.
        let floor = before.updated_at + jiff::SignedDuration::from_millis(1);
        if change.ticket.updated_at < floor {
            change.ticket.updated_at = floor;
            for line in &mut change.history {
                line.at = line.at.max(floor);
            }
            if let Some(message) = change.message.as_mut() {
                message.at = message.at.max(floor);
            }
        }
        // Clocks computed on another configuration are recomputed first, on the record.
        if let Some(line) = rebase_line(&self.promises, before, change.ticket.updated_at) {
            change.history.insert(0, line);
        }
        advance(
            &self.promises,
            Some(before),
            &mut change.ticket,
            &change.history,
            change.message.as_ref(),
        );
    }

    /// The receipt is derived from the stored ticket alone, so a replay returns exactly
    /// what the first answer said.
    pub fn receipt(&self, ticket: &Ticket) -> Receipt {
        let target = self.promised(ticket);
        let due_local = target.due_at.to_zoned(self.calendar.zone().clone());
        Receipt {
            reference: ticket.reference.clone(),
            status: ticket.status,
            priority: ticket.priority,
            team: ticket.team,
            language: ticket.language,
            created_at: ticket.created_at,
            acknowledgement: acknowledgement(
                &ticket.reference,
                ticket.team,
                &target,
                &due_local,
                ticket.language,
            ),
            response_target: target,
        }
    }

    /// The first answer promised at intake: the first-response clock's due time, and its
    /// budget as the player is told it (minutes on chat, whole business days in writing).
    /// A ticket from before the clocks gets the calendar's target of that time.
    pub fn promised(&self, ticket: &Ticket) -> ResponseTarget {
        let clock = ticket
            .clocks
            .as_ref()
            .and_then(|c| c.first_response.as_ref());
        let Some(clock) = clock else {
            return self.calendar.response_target(
                ticket.channel,
                ticket.priority,
                ticket.created_at,
            );
        };
        let budget = clock.budget_minutes;
        let within = match ticket.channel {
            crate::tickets::ticket::Channel::Chat => Promise::Minutes(i64::from(budget)),
            written => {
                let day = self.promises.hours.business_day_minutes(written).max(1);
                Promise::BusinessDays(u8::try_from(budget.div_ceil(day)).unwrap_or(u8::MAX))
            }
        };
        let due_at = clock
            .due_at
            .or(clock.met_at)
            .unwrap_or(ticket.response_due_at);
        ResponseTarget {
            channel: ticket.channel,
            within,
            due_at,
        }
    }

    /// A player's own ticket; another player's answers `None`, exactly like an unknown one.
    pub async fn ticket_of(
        &self,
        player: &PlayerId,
        reference: &TicketReference,
    ) -> Result<Option<TicketWithHistory>, StoreError> {
        Ok(self
            .store
            .get(reference)
            .await?
            .filter(|found| &found.ticket.player == player))
    }

    pub async fn tickets_of(
        &self,
        player: &PlayerId,
        limit: u16,
        start: Option<&PageStart>,
    ) -> Result<Page<Ticket, PageStart>, StoreError> {
        self.store.list_for_player(player, limit, start).await
    }
}

/// What a player or an agent sees of a ticket. A player's view leaves out the desk's
/// bookkeeping of its promises (the clocks, and the status lines of their warnings and
/// breaches) and says when to expect an answer; staff see each clock and why it is due when
/// it is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<StatusChange>>,
    /// While the desk owes an answer (or the resolution), when it is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_answer_at: Option<jiff::Timestamp>,
    /// Staff only: each clock, as of the read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promises: Option<Vec<crate::promises::clocks::ClockView>>,
}

impl TicketView {
    pub fn for_player(ticket: &Ticket, history: Option<&[StatusChange]>) -> Self {
        let mut shown = ticket.clone();
        let expected_answer_at = ticket.clocks.as_ref().and_then(|c| c.expected_at());
        shown.clocks = None;
        TicketView {
            ticket: shown,
            history: history.map(|lines| {
                lines
                    .iter()
                    .filter(|l| {
                        !crate::promises::clocks::is_clock_line(&l.reason)
                            && !crate::mail::feedback::is_refusal_line(&l.reason)
                    })
                    .cloned()
                    .collect()
            }),
            expected_answer_at,
            promises: None,
        }
    }

    pub fn for_staff<S>(desk: &Desk<S>, ticket: &Ticket, history: Option<&[StatusChange]>) -> Self {
        let now = desk.clock.now();
        TicketView {
            ticket: ticket.clone(),
            history: history.map(<[StatusChange]>::to_vec),
            expected_answer_at: ticket.clocks.as_ref().and_then(|c| c.expected_at()),
            promises: ticket
                .clocks
                .as_ref()
                .map(|c| c.views(&desk.promises, ticket.channel, now)),
        }
    }

    /// The view `caller` may have.
    pub fn for_caller<S>(
        desk: &Desk<S>,
        caller: &crate::common::access::Actor,
        ticket: &Ticket,
        history: Option<&[StatusChange]>,
    ) -> Self {
        if caller.is_staff() {
            Self::for_staff(desk, ticket, history)
        } else {
            Self::for_player(ticket, history)
        }
    }
}
