//! What the desk does when SES reports that our mail bounced or was marked as spam: the
//! address gets no more mail (`OutgoingMail::refuse`, which the notification sender checks
//! before each send), and each open ticket of the players who have it on file is flagged for
//! staff, who reach the player another way (the player's page, a call).
//!
//! Only permanent bounces count (the driver passes no other): a full mailbox or a server that
//! is down for a while is SES's to retry. A redelivered report changes nothing: the refusal is
//! one record per address, and a ticket already flagged for this report is not flagged again.

use jiff::Timestamp;

use crate::common::player::{Author, PlayerId};
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::mail::message::MailAddress;
use crate::mail::ports::{Mailroom, OutgoingMail, Refusal};
use crate::tickets::desk::Desk;
use crate::tickets::ports::{Basis, PageStart, TicketStore, TicketUpdate, Updated};
use crate::tickets::ticket::{StatusChange, Ticket, TicketStatus};
use crate::tickets::workflow::Change;

/// The history line a flagged ticket gets: staff-only (players do not see it on their page).
pub const REFUSED_LINE: &str = "contact_mail_refused";
/// At most this many players are looked up per address: an address on more files than this is
/// a shared one, and the first ones are flagged.
const PLAYERS_PER_ADDRESS: u8 = 10;
/// A player's tickets are read a page at a time.
const PAGE: u16 = 50;
/// A flag is written on the version just read; a concurrent change makes it try again.
const ATTEMPTS: usize = 3;

/// One report of SES: a permanent bounce or a complaint, for these recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub refusal: Refusal,
    pub recipients: Vec<MailAddress>,
    /// When SES received the report: a redelivery carries the same time.
    pub at: Timestamp,
}

/// What a report changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refused {
    pub addresses: usize,
    pub flagged: Vec<TicketReference>,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a ticket kept changing while it was being flagged")]
    Contended,
}

/// Whether a history line is the desk's note of a refused address: staff read it, players do
/// not.
pub fn is_refusal_line(reason: &str) -> bool {
    reason == REFUSED_LINE
}

/// Records SES's report (see the module documentation).
pub async fn on_feedback<S, M>(
    desk: &Desk<S>,
    mailroom: &M,
    feedback: &Feedback,
) -> Result<Refused, FeedbackError>
where
    S: TicketStore,
    M: Mailroom + OutgoingMail,
{
    let mut refused = Refused::default();
    for address in &feedback.recipients {
        mailroom
            .refuse(address, feedback.refusal, feedback.at)
            .await?;
        refused.addresses += 1;
        for player in mailroom.players_at(address, PLAYERS_PER_ADDRESS).await? {
            // The index may lag a change of address: the address on file decides.
            let on_file = desk
                .store
                .contact_of(&player)
                .await?
                .as_ref()
                .and_then(MailAddress::of_contact);
            if on_file.as_ref() != Some(address) {
                continue;
            }
            for reference in open_tickets(desk, &player).await? {
                if flag(desk, &reference, feedback.at).await? {
                    refused.flagged.push(reference);
                }
            }
        }
    }
    Ok(refused)
}

async fn open_tickets<S: TicketStore>(
    desk: &Desk<S>,
    player: &PlayerId,
) -> Result<Vec<TicketReference>, StoreError> {
    let mut open = Vec::new();
    let mut start: Option<PageStart> = None;
    loop {
        let page = desk.tickets_of(player, PAGE, start.as_ref()).await?;
        open.extend(
            page.items
                .iter()
                .filter(|t| !matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed))
                .map(|t| t.reference.clone()),
        );
        match page.next {
            Some(next) => start = Some(next),
            None => return Ok(open),
        }
    }
}

/// Adds the staff-only line to the ticket, unless this report already did; `true` when it
/// wrote.
async fn flag<S: TicketStore>(
    desk: &Desk<S>,
    reference: &TicketReference,
    at: Timestamp,
) -> Result<bool, FeedbackError> {
    for _ in 0..ATTEMPTS {
        let Some(found) = desk.store.get(reference).await? else {
            return Ok(false);
        };
        let already = found
            .history
            .iter()
            .any(|line| is_refusal_line(&line.reason) && line.at >= at);
        if already
            || matches!(
                found.ticket.status,
                TicketStatus::Resolved | TicketStatus::Closed
            )
        {
            return Ok(false);
        }
        let mut change = flag_change(&found.ticket, desk.clock.now());
        desk.keep_promises(&found.ticket, &mut change);
        let written = desk
            .store
            .update(TicketUpdate {
                change: &change,
                basis: Basis::Read,
                escalation: None,
                notification: None,
                outbox: &[],
            })
            .await?;
        if written == Updated::Done {
            return Ok(true);
        }
    }
    Err(FeedbackError::Contended)
}

fn flag_change(ticket: &Ticket, now: Timestamp) -> Change {
    let now = Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now);
    let mut next = ticket.clone();
    next.version += 1;
    next.updated_at = now;
    Change {
        history: vec![StatusChange {
            at: now,
            status: ticket.status,
            actor: Author::System,
            reason: REFUSED_LINE.to_owned(),
            extended_minutes: None,
            rebased: None,
        }],
        ticket: next,
        expected_version: ticket.version,
        message: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::clock::Clock;
    use crate::common::contact::ContactAddress;
    use crate::common::player::Language;
    use crate::mail::memory::MemoryMailroom;
    use crate::tickets::desk::{Submitted, TicketView};
    use crate::tickets::intake::TicketRequest;
    use crate::tickets::memory::{desk_with_clock, FixedClock, MemoryTicketStore};
    use crate::tickets::ticket::{Category, Channel};

    const ADDRESS: &str = "joueur@exemple.ca";

    async fn open_ticket(desk: &Desk<MemoryTicketStore>, player: &str) -> TicketReference {
        let request = TicketRequest {
            channel: Channel::Form,
            category: Category::Technical,
            subject: "Jeu figé".into(),
            description: "Le jeu se fige au chargement.".into(),
            language: Language::Fr,
            incident: None,
        };
        let submitted = desk
            .submit(
                PlayerId::parse(player).expect("valid"),
                request,
                None,
                ContactAddress::parse(ADDRESS),
            )
            .await
            .expect("submitted");
        match submitted {
            Submitted::Created(receipt, _) | Submitted::Replayed(receipt) => receipt.reference,
        }
    }

    #[tokio::test]
    async fn a_bounce_stops_mail_and_flags_the_open_tickets_once() {
        let clock = FixedClock::at("2026-12-03T15:00:00Z");
        let desk = desk_with_clock(clock.clone());
        let mailroom = MemoryMailroom::default();
        let address = MailAddress::parse(ADDRESS).expect("valid");
        let player = PlayerId::parse("p-1").expect("valid");
        mailroom.index(&address, &player);
        let first = open_ticket(&desk, "p-1").await;
        let second = open_ticket(&desk, "p-1").await;
        desk.store
            .tamper(&second, |t| t.status = TicketStatus::Resolved);
        clock.set("2026-12-03T15:05:00Z".parse().expect("valid"));
        let feedback = Feedback {
            refusal: Refusal::Bounce,
            recipients: vec![address.clone()],
            at: "2026-12-03T15:04:00Z".parse().expect("valid"),
        };

        let refused = on_feedback(&desk, &mailroom, &feedback)
            .await
            .expect("recorded");
        assert_eq!(refused.addresses, 1);
        assert_eq!(refused.flagged, vec![first.clone()]);
        assert_eq!(
            mailroom.refused(&address).await.expect("read"),
            Some(Refusal::Bounce)
        );
        let found = desk.store.get(&first).await.expect("read").expect("stored");
        assert!(found.history.iter().any(|l| l.reason == REFUSED_LINE));
        // Staff see it; the player's page does not.
        let view = TicketView::for_player(&found.ticket, Some(&found.history));
        assert!(!view
            .history
            .unwrap_or_default()
            .iter()
            .any(|l| l.reason == REFUSED_LINE));

        // SQS delivers the report again.
        clock.set("2026-12-03T15:06:00Z".parse().expect("valid"));
        let again = on_feedback(&desk, &mailroom, &feedback)
            .await
            .expect("recorded");
        assert!(again.flagged.is_empty());
        let found = desk.store.get(&first).await.expect("read").expect("stored");
        assert_eq!(
            found
                .history
                .iter()
                .filter(|l| l.reason == REFUSED_LINE)
                .count(),
            1
        );
        let _ = clock.now();
    }

    #[tokio::test]
    async fn a_player_who_changed_address_is_not_flagged() {
        let desk = desk_with_clock(FixedClock::at("2026-12-03T15:00:00Z"));
        let mailroom = MemoryMailroom::default();
        let old = MailAddress::parse("ancienne@exemple.ca").expect("valid");
        mailroom.index(&old, &PlayerId::parse("p-2").expect("valid"));
        let reference = open_ticket(&desk, "p-2").await;
        let refused = on_feedback(
            &desk,
            &mailroom,
            &Feedback {
                refusal: Refusal::Complaint,
                recipients: vec![old.clone()],
                at: "2026-12-03T14:59:00Z".parse().expect("valid"),
            },
        )
        .await
        .expect("recorded");
        assert!(refused.flagged.is_empty());
        assert_eq!(
            mailroom.refused(&old).await.expect("read"),
            Some(Refusal::Complaint)
        );
        let found = desk
            .store
            .get(&reference)
            .await
            .expect("read")
            .expect("stored");
        assert!(!found.history.iter().any(|l| l.reason == REFUSED_LINE));
    }
}
