//! The incident store's port: incidents, their reports and their links to tickets.

use crate::common::paging::{millis_part, parse_millis_part, Page, PageCursor};
use crate::common::store::StoreError;
use crate::incidents::rules::{
    EscalationProgress, Incident, IncidentId, IncidentUpdate, Link, Report, Subject, SubjectMarker,
};
use crate::outbox::rules::OutboxMessage;
use crate::tickets::ports::Updated;
use crate::tickets::ticket::Team;
use crate::tickets::workflow::Change;
use jiff::Timestamp;
use serde::Serialize;
use std::future::Future;

/// An incident with its links (oldest first) and its status updates (in order), as one read
/// of its item collection returns them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentRecord {
    pub incident: Incident,
    pub links: Vec<Link>,
    pub updates: Vec<IncidentUpdate>,
}

/// What a staff change was decided on: the fingerprint of each record whose `state` token
/// the decision used ([`crate::common::seen::Seen`]), which the write then requires of the
/// stored record; `None` for a record read just before (its version condition suffices).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Claimed<'a> {
    pub incident: Option<&'a str>,
    pub ticket: Option<&'a str>,
}

/// Where the next page of a team's current incidents starts: just after this incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentStart {
    pub created_at: Timestamp,
    pub id: IncidentId,
}

/// `<created ms>.<incident id>`: the order of a team's incidents.
impl PageCursor for IncidentStart {
    const PARTS: usize = 2;

    fn parts(&self) -> Vec<String> {
        vec![millis_part(self.created_at), self.id.as_str().to_owned()]
    }

    fn from_parts(parts: &[&str]) -> Option<Self> {
        Some(IncidentStart {
            created_at: parse_millis_part(parts[0])?,
            id: IncidentId::parse(parts[1])?,
        })
    }
}

/// What creating an incident did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    Created,
    /// Another report opened the subject's incident first: nothing was written.
    SubjectTaken,
}

/// What a link or unlink write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkWrite {
    Done,
    /// The ticket changed since it was read (or the link changed): nothing was written.
    Stale,
    /// The incident was resolved meanwhile: nothing was written.
    IncidentResolved,
}

/// The incidents' own items. The tickets stay in the [`TicketStore`]; `link` and `unlink`
/// change a ticket and the incident's links together, all or nothing.
pub trait IncidentStore: Send + Sync {
    /// Indexes a report under its subject; writing it again changes nothing.
    fn index_report(
        &self,
        subject: &Subject,
        report: &Report,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The subject's reports received at or after `from`, oldest first (read consistently, so
    /// a report indexed just before is counted).
    fn reports_since(
        &self,
        subject: &Subject,
        from: Timestamp,
    ) -> impl Future<Output = Result<Vec<Report>, StoreError>> + Send;

    /// The subject's current incident, open or last resolved.
    fn marker(
        &self,
        subject: &Subject,
    ) -> impl Future<Output = Result<Option<SubjectMarker>, StoreError>> + Send;

    /// Creates the incident and makes it the subject's current one, only if the subject has
    /// no open incident.
    fn open(&self, incident: &Incident) -> impl Future<Output = Result<Opened, StoreError>> + Send;

    fn read(
        &self,
        id: &IncidentId,
    ) -> impl Future<Output = Result<Option<IncidentRecord>, StoreError>> + Send;

    /// A team's incidents that are not resolved, newest first, `limit` at a time: one indexed
    /// read whose cost does not grow with resolved incidents.
    fn current(
        &self,
        team: Team,
        limit: u16,
        start: Option<&IncidentStart>,
    ) -> impl Future<Output = Result<Page<Incident, IncidentStart>, StoreError>> + Send;

    /// Writes the ticket's change (under its version, only if not linked yet) with the link
    /// and its history line, only if the incident is not resolved.
    fn link(
        &self,
        incident: &IncidentId,
        change: &Change,
        link: &Link,
        claimed: Claimed<'_>,
    ) -> impl Future<Output = Result<LinkWrite, StoreError>> + Send;

    /// Writes the ticket's change (under its version, only if linked to `incident`), removes
    /// the link and adds the history line, only if the incident is not resolved.
    fn unlink(
        &self,
        incident: &IncidentId,
        change: &Change,
        claimed: Claimed<'_>,
    ) -> impl Future<Output = Result<LinkWrite, StoreError>> + Send;

    /// Writes a status update on the version it was made from, with the outbox message that
    /// starts its fan-out to the linked players, in one transaction; a resolution also marks
    /// the subject's incident resolved, so the next reports count afresh.
    fn save_status(
        &self,
        incident: &Incident,
        expected_version: u64,
        update: &IncidentUpdate,
        fan_out: &OutboxMessage,
        claimed: Claimed<'_>,
    ) -> impl Future<Output = Result<Updated, StoreError>> + Send;

    /// Records where the incident's escalation ended, only if it was still `pending`.
    /// `incident` is the incident as the caller read it: when it is still the stored one, its
    /// fingerprint follows the change (so `state` tokens of the incident keep working).
    fn settle_escalation(
        &self,
        incident: &Incident,
        state: EscalationProgress,
    ) -> impl Future<Output = Result<Updated, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    #[test]
    fn incident_cursors_round_trip_and_refuse_tampering() {
        let start = IncidentStart {
            created_at: Timestamp::from_millisecond(1_764_169_200_123).expect("valid"),
            id: IncidentId::from_random([3; 12]),
        };
        assert_eq!(
            IncidentStart::from_cursor(&start.to_cursor()),
            Some(start.clone())
        );
        assert_eq!(IncidentStart::from_cursor("not-base64!"), None);
        assert_eq!(
            IncidentStart::from_cursor(&URL_SAFE_NO_PAD.encode("12.INC-nope")),
            None
        );
        assert_eq!(
            IncidentStart::from_cursor(&URL_SAFE_NO_PAD.encode(format!("x.{}", start.id.as_str()))),
            None
        );
    }
}
