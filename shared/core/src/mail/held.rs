//! The mail waiting for staff: what the desk would not take for a player's (an unknown sender,
//! a spoofed `From`, an automaton, a mail it could not read), oldest first, a page at a time.
//! Staff read it in full, with the sender's address: deciding what it is worth is their job,
//! and nothing of it ever reaches a player.

use std::future::Future;

use jiff::Timestamp;
use serde::Serialize;

use crate::common::access::{Actor, Forbidden};
use crate::common::paging::{millis_part, parse_millis_part, Page, PageCursor};
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::mail::ports::{HeldMail, HeldReason, MailId};

/// Where the next page starts: just after this mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldStart {
    pub received_at: Timestamp,
    pub id: MailId,
}

/// `<received ms>.<mail id>`: the order of the held mail.
impl PageCursor for HeldStart {
    const PARTS: usize = 2;

    fn parts(&self) -> Vec<String> {
        vec![millis_part(self.received_at), self.id.as_str().to_owned()]
    }

    fn from_parts(parts: &[&str]) -> Option<Self> {
        Some(HeldStart {
            received_at: parse_millis_part(parts[0])?,
            id: MailId::parse(parts[1])?,
        })
    }
}

/// The list of held mail, beside the mail records.
pub trait HeldMails: Send + Sync {
    /// Held mail, oldest first, at most `limit`, from just after `start`.
    fn held(
        &self,
        limit: u16,
        start: Option<&HeldStart>,
    ) -> impl Future<Output = Result<Page<HeldMail, HeldStart>, StoreError>> + Send;
}

/// One held mail as staff read it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldView {
    /// SES's id: the raw mail is `mail/inbound/<id>` in the documents bucket.
    pub id: String,
    pub received_at: Timestamp,
    pub reason: HeldReason,
    /// The address the mail claims to be from, as written: not verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The ticket the mail names, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketReference>,
    pub subject: String,
    pub text: String,
    pub attachments: usize,
}

impl From<HeldMail> for HeldView {
    fn from(held: HeldMail) -> Self {
        HeldView {
            id: held.id.as_str().to_owned(),
            received_at: held.received_at,
            reason: held.reason,
            from: held.from.map(|a| a.expose().to_owned()),
            ticket: held.ticket,
            subject: held.subject,
            text: held.text,
            attachments: held.attachments,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HeldError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The held mail, for staff (agents of any team and supervisors) only.
pub async fn held_mail<H: HeldMails>(
    caller: &Actor,
    store: &H,
    limit: u16,
    start: Option<&HeldStart>,
) -> Result<Page<HeldView, HeldStart>, HeldError> {
    crate::tickets::staff::require_staff(caller)?;
    let page = store.held(limit, start).await?;
    Ok(Page {
        items: page.items.into_iter().map(HeldView::from).collect(),
        next: page.next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::access::Role;
    use crate::common::player::PlayerId;
    use crate::mail::memory::MemoryMailroom;
    use crate::mail::message::MailAddress;
    use crate::mail::ports::Mailroom;

    fn actor(roles: Vec<Role>) -> Actor {
        Actor {
            subject: PlayerId::parse("someone").expect("valid"),
            roles,
            teams: Vec::new(),
            email: None,
        }
    }

    async fn hold(mailroom: &MemoryMailroom, id: &str, at: &str) {
        mailroom
            .hold(&HeldMail {
                id: MailId::parse(id).expect("valid"),
                received_at: at.parse().expect("valid"),
                reason: HeldReason::UnknownSender,
                from: MailAddress::parse("inconnu@ailleurs.ca"),
                ticket: None,
                subject: "Bonjour".into(),
                text: "Une question.".into(),
                attachments: 0,
            })
            .await
            .expect("held");
    }

    #[tokio::test]
    async fn staff_page_through_the_held_mail_oldest_first() {
        let mailroom = MemoryMailroom::default();
        hold(&mailroom, "second", "2026-12-03T16:00:00Z").await;
        hold(&mailroom, "first", "2026-12-03T15:00:00Z").await;
        hold(&mailroom, "third", "2026-12-03T17:00:00Z").await;
        let agent = actor(vec![Role::Agent]);
        let page = held_mail(&agent, &mailroom, 2, None).await.expect("read");
        let ids: Vec<_> = page.items.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["first", "second"]);
        assert_eq!(page.items[0].from.as_deref(), Some("inconnu@ailleurs.ca"));
        let next = page.next.expect("a next page");
        let cursor = next.to_cursor();
        let next = HeldStart::from_cursor(&cursor).expect("round trip");
        let rest = held_mail(&agent, &mailroom, 2, Some(&next))
            .await
            .expect("read");
        let ids: Vec<_> = rest.items.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["third"]);
        assert!(rest.next.is_none());
    }

    #[tokio::test]
    async fn players_and_the_verification_team_may_not_read_it() {
        let mailroom = MemoryMailroom::default();
        for roles in [
            vec![Role::Player],
            vec![Role::Verification],
            vec![Role::Service],
        ] {
            assert!(matches!(
                held_mail(&actor(roles), &mailroom, 10, None).await,
                Err(HeldError::Forbidden(_))
            ));
        }
    }
}
