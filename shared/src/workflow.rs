//! Use cases of the agents' workflow, over the ports: a team's queue, and the updates of a
//! ticket (take, reply, status) under optimistic versioning.

use jiff::Timestamp;

use crate::core::{Page, QueueStart, StoreError, TicketStore, Updated};
use crate::domain::reference::TicketReference;
use crate::domain::ticket::{Team, Ticket};
use crate::domain::workflow::{Change, WorkflowError};
use crate::http::{ApiError, Caller, Role};
use crate::tickets::Desk;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("no such ticket")]
    NotFound,
    #[error("the ticket belongs to another team")]
    OtherTeam(Team),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S: TicketStore> Desk<S> {
    /// A team's open tickets, most urgent first, in arrival order within a priority.
    pub async fn team_queue(
        &self,
        team: Team,
        limit: u16,
        start: Option<&QueueStart>,
    ) -> Result<Page<Ticket, QueueStart>, StoreError> {
        self.store.team_queue(team, limit, start).await
    }

    /// Reads the ticket, checks that `caller` works for its team, computes the change with
    /// `decide` and writes it only if no one changed the ticket meanwhile.
    pub async fn work_on(
        &self,
        caller: &Caller,
        reference: &TicketReference,
        decide: impl FnOnce(&Ticket, Timestamp) -> Result<Change, WorkflowError>,
    ) -> Result<Change, StaffError> {
        let found = self
            .store
            .get(reference)
            .await?
            .ok_or(StaffError::NotFound)?;
        if !caller.works_for(found.ticket.team) {
            return Err(StaffError::OtherTeam(found.ticket.team));
        }
        // Millisecond precision, like intake: what the sort keys carry.
        let now = self.clock.now();
        let now = Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now);
        let change = decide(&found.ticket, now)?;
        match self
            .store
            .update(
                &change.ticket,
                change.expected_version,
                &change.history,
                change.message.as_ref(),
            )
            .await?
        {
            Updated::Done => Ok(change),
            Updated::Stale => Err(StaffError::Workflow(WorkflowError::Stale {
                expected: change.expected_version,
                actual: change.expected_version + 1,
            })),
        }
    }
}

/// Staff only: an agent or a supervisor, whatever the team (checked per ticket or queue).
pub fn require_staff(caller: &Caller) -> Result<(), ApiError> {
    if caller.is_staff() {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            required: Role::Agent,
        })
    }
}

/// - 404 for an unknown ticket; 403 `required_team` for staff of another team;
/// - 409 `conflict` with reason `stale` when the ticket changed since the version the agent
///   sent (or a concurrent update won), `wrong_state` when the ticket's status refuses the
///   action; internal failures are 500.
impl From<StaffError> for ApiError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::NotFound => ApiError::NotFound,
            StaffError::OtherTeam(team) => ApiError::OtherTeam { team },
            StaffError::Workflow(w) => {
                let reason = match w {
                    WorkflowError::Stale { .. } => "stale",
                    WorkflowError::WrongState { .. } | WorkflowError::NotWorkable { .. } => {
                        "wrong_state"
                    }
                };
                ApiError::Conflict {
                    reason,
                    message: w.to_string(),
                }
            }
            StaffError::Store(store) => ApiError::Internal(Box::new(store)),
        }
    }
}

/// Queue cursors are opaque to clients: base64url of `<rank>.<created ms>.<reference>`,
/// checked part by part, so a tampered cursor is a 400. The team in the path is always the
/// partition queried, so a cursor cannot reach another team's queue.
pub mod queue_cursor {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    use crate::core::QueueStart;
    use crate::domain::reference::TicketReference;
    use crate::domain::ticket::Priority;

    pub fn encode(start: &QueueStart) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}.{}.{}",
            start.priority.rank(),
            start.created_at.as_millisecond(),
            start.reference.as_str()
        ))
    }

    pub fn decode(raw: &str) -> Option<QueueStart> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        let mut parts = text.splitn(3, '.');
        let rank: u8 = parts.next()?.parse().ok()?;
        let millis: i64 = parts.next()?.parse().ok()?;
        let reference = TicketReference::parse(parts.next()?).ok()?;
        Some(QueueStart {
            priority: *Priority::ALL.iter().find(|p| p.rank() == rank)?,
            created_at: jiff::Timestamp::from_millisecond(millis).ok()?,
            reference,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trips_and_refuses_tampering() {
            let start = QueueStart {
                priority: Priority::High,
                created_at: jiff::Timestamp::from_millisecond(1_764_169_200_123).expect("valid"),
                reference: TicketReference::from_random([5; 9]),
            };
            assert_eq!(decode(&encode(&start)), Some(start.clone()));
            assert_eq!(decode("not-base64!"), None);
            let reference = start.reference.as_str();
            assert_eq!(
                decode(&URL_SAFE_NO_PAD.encode(format!("9.12.{reference}"))),
                None
            );
            assert_eq!(
                decode(&URL_SAFE_NO_PAD.encode(format!("1.x.{reference}"))),
                None
            );
            assert_eq!(decode(&URL_SAFE_NO_PAD.encode("1.12.ABCDEFGHJK")), None);
        }
    }
}
