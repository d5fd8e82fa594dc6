//! The regulator's report of complaints: the open complaints older than a number of days, a
//! page at a time, oldest first, for the supervisors' quarterly report. Read from an index of
//! open complaints only, so its cost follows the complaints, never the table.

use std::future::Future;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::common::access::{Actor, Forbidden, Role};
use crate::common::paging::Page;
use crate::common::player::PlayerId;
use crate::common::reference::TicketReference;
use crate::common::store::StoreError;
use crate::tickets::desk::Desk;
use crate::tickets::ports::{PageStart, TicketStore};
use crate::tickets::ticket::{Team, Ticket, TicketStatus};

/// How far back a report may look: ten years of complaints is what a record-keeping rule
/// asks at most.
pub const MAX_DAYS: u16 = 3650;

/// The index of open complaints, beside the ticket store.
pub trait ComplaintIndex: Send + Sync {
    /// The open complaints received before `before`, oldest first, at most `limit`, from
    /// just after `start`.
    fn open_complaints(
        &self,
        before: Timestamp,
        limit: u16,
        start: Option<&PageStart>,
    ) -> impl Future<Output = Result<Page<Ticket, PageStart>, StoreError>> + Send;
}

/// One line of the report: which complaint, how long it has been open, and where its
/// promises stand. Identifiers and dates only: what the player wrote stays in the ticket.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplaintLine {
    pub reference: TicketReference,
    pub player: PlayerId,
    pub status: TicketStatus,
    pub team: Team,
    pub received_at: Timestamp,
    /// Whole calendar days since it was received.
    pub open_days: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// When the complaint's answer is due (its resolution clock), while it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_due_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regulator_limit_at: Option<Timestamp>,
    /// When the player was told they may go to the regulator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regulator_noticed_at: Option<Timestamp>,
}

impl ComplaintLine {
    pub fn of(ticket: &Ticket, now: Timestamp) -> Self {
        let clocks = ticket.clocks.as_ref();
        let regulator = clocks.and_then(|c| c.regulator.as_ref());
        ComplaintLine {
            reference: ticket.reference.clone(),
            player: ticket.player.clone(),
            status: ticket.status,
            team: ticket.team,
            received_at: ticket.created_at,
            open_days: now.duration_since(ticket.created_at).as_hours() / 24,
            assignee: ticket.assignee.clone(),
            answer_due_at: clocks
                .and_then(|c| c.resolution.as_ref())
                .and_then(|c| c.due_at),
            regulator_limit_at: regulator.map(|r| r.limit_at),
            regulator_noticed_at: regulator.and_then(|r| r.noticed_at),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: TicketStore + ComplaintIndex> Desk<S> {
    /// The open complaints received more than `open_over_days` days ago: supervisors only.
    pub async fn open_complaints(
        &self,
        caller: &Actor,
        open_over_days: u16,
        limit: u16,
        start: Option<&PageStart>,
    ) -> Result<Page<ComplaintLine, PageStart>, ReportError> {
        caller.require(Role::Supervisor)?;
        let now = self.clock.now();
        let before = now - SignedDuration::from_hours(24 * i64::from(open_over_days));
        let page = self.store.open_complaints(before, limit, start).await?;
        Ok(Page {
            items: page
                .items
                .iter()
                .map(|t| ComplaintLine::of(t, now))
                .collect(),
            next: page.next,
        })
    }
}
