//! A hand-off on the desk: the conversation continues the player's open chat ticket of the same
//! category when there is one (its transcript is added to it as the player's message, and a
//! ticket waiting on the player goes back to the agents), and opens a ticket on the chat
//! channel's target otherwise. Either way once per conversation, however often the chat tool
//! sends it:
//!
//! - a new ticket is opened under the idempotency key `chat:<provider>:<conversation>`, and
//!   carries the transcript as its description: a second delivery finds it as the player's
//!   open chat ticket with that very description, and adds nothing;
//! - a transcript added to an open ticket carries `chat:<provider>:<conversation>` as its
//!   message's origin, and a second delivery finds it there.

use crate::common::player::PlayerId;
use crate::common::store::StoreError;
use crate::common::validation::ValidationError;
use crate::handoffs::request::Handoff;
use crate::tickets::desk::{Desk, IntakeError, Receipt, Submitted};
use crate::tickets::ports::TicketStore;
use crate::tickets::staff::StaffError;
use crate::tickets::ticket::{Channel, Ticket, TicketStatus};
use crate::tickets::workflow::MessageBody;

/// How many of the player's newest tickets are looked through for an open chat ticket: a
/// conversation continues recent work, and a page is one read.
const RECENT: u16 = 20;

/// What the hand-off did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandedOff {
    /// A new ticket on the chat channel.
    Opened(Receipt),
    /// Added to the player's open chat ticket.
    Added(Receipt),
    /// A second delivery: the ticket it opened or was added to, unchanged.
    Replayed(Receipt),
}

impl HandedOff {
    pub fn receipt(&self) -> &Receipt {
        match self {
            HandedOff::Opened(r) | HandedOff::Added(r) | HandedOff::Replayed(r) => r,
        }
    }

    /// For logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            HandedOff::Opened(_) => "opened",
            HandedOff::Added(_) => "added",
            HandedOff::Replayed(_) => "replayed",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(transparent)]
    Answer(#[from] StaffError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: TicketStore> Desk<S> {
    /// Files a checked hand-off (see the module documentation).
    pub async fn hand_off(&self, handoff: &Handoff) -> Result<HandedOff, HandoffError> {
        let request = handoff.ticket_request()?;
        let origin = handoff.origin();
        if let Some(open) = self.open_chat_ticket(&handoff.player, handoff).await? {
            if open.description == request.description {
                return Ok(HandedOff::Replayed(self.receipt(&open)));
            }
            let body = MessageBody::parse("transcript", &request.description)?;
            let written = self
                .answer_once(&handoff.player, &open.reference, body, &origin)
                .await?;
            let ticket = match written {
                Some(applied) => applied.change.ticket,
                None => return Ok(HandedOff::Replayed(self.receipt(&open))),
            };
            return Ok(HandedOff::Added(self.receipt(&ticket)));
        }
        match self
            .submit(
                handoff.player.clone(),
                request,
                handoff.idempotency_key(),
                None,
            )
            .await?
        {
            Submitted::Created(receipt, _) => Ok(HandedOff::Opened(receipt)),
            Submitted::Replayed(receipt) => Ok(HandedOff::Replayed(receipt)),
        }
    }

    /// The player's newest chat ticket of the hand-off's category still in work.
    async fn open_chat_ticket(
        &self,
        player: &PlayerId,
        handoff: &Handoff,
    ) -> Result<Option<Ticket>, StoreError> {
        let recent = self.tickets_of(player, RECENT, None).await?;
        Ok(recent.items.into_iter().find(|t| {
            t.channel == Channel::Chat
                && t.category == handoff.category
                && !matches!(t.status, TicketStatus::Resolved | TicketStatus::Closed)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::memory::desk;

    fn handoff(conversation: &str, text: &str) -> Handoff {
        let body = serde_json::json!({
            "provider": "zendesk",
            "conversation_id": conversation,
            "player_id": "player-7f3a9c",
            "language": "fr",
            "category": "transaction",
            "closed_at": "2026-11-26T14:58:00Z",
            "transcript": [
                {"at": "2026-11-26T14:50:00Z", "from": "player", "text": text},
                {"at": "2026-11-26T14:51:00Z", "from": "agent", "text": "Je transmets."}
            ]
        });
        Handoff::parse(&body, "2026-11-26T15:00:00Z".parse().expect("valid")).expect("valid")
    }

    #[tokio::test]
    async fn a_second_conversation_continues_the_open_chat_ticket_once() {
        let desk = desk("2026-11-26T15:00:00Z");
        let first = handoff("conv-1", "Mon retrait est bloqué.");
        let HandedOff::Opened(opened) = desk.hand_off(&first).await.expect("filed") else {
            panic!("opened")
        };
        // The same conversation again: nothing new.
        let again = desk.hand_off(&first).await.expect("filed");
        assert_eq!(again, HandedOff::Replayed(opened.clone()));

        // The player comes back on chat about the same withdrawal.
        let second = handoff("conv-2", "Toujours bloqué ce matin.");
        let HandedOff::Added(added) = desk.hand_off(&second).await.expect("filed") else {
            panic!("added")
        };
        assert_eq!(added.reference, opened.reference);
        let found = desk
            .store
            .get(&opened.reference)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(found.messages.len(), 1);
        assert!(found.messages[0].body.contains("Toujours bloqué ce matin."));
        assert_eq!(
            found.messages[0].origin.as_deref(),
            Some("chat:zendesk:conv-2")
        );
        // Its second delivery adds nothing either.
        assert!(matches!(
            desk.hand_off(&second).await.expect("filed"),
            HandedOff::Replayed(_)
        ));
        assert_eq!(
            desk.store
                .get(&opened.reference)
                .await
                .expect("read")
                .expect("stored")
                .messages
                .len(),
            1
        );
        assert_eq!(desk.store.ticket_count(), 1);
    }

    #[tokio::test]
    async fn a_resolved_chat_ticket_or_another_category_gets_a_new_ticket() {
        let desk = desk("2026-11-26T15:00:00Z");
        let HandedOff::Opened(opened) = desk
            .hand_off(&handoff("conv-1", "Mon retrait est bloqué."))
            .await
            .expect("filed")
        else {
            panic!("opened")
        };
        desk.store
            .tamper(&opened.reference, |t| t.status = TicketStatus::Resolved);
        let next = desk
            .hand_off(&handoff("conv-2", "Un autre retrait bloqué."))
            .await
            .expect("filed");
        assert!(matches!(next, HandedOff::Opened(_)), "{next:?}");
        assert_eq!(desk.store.ticket_count(), 2);
    }
}
