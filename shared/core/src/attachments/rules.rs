//! Ticket attachments: screenshots and PDFs a player (or an agent) adds to a ticket through the
//! same presigned flow as identity documents. Plain rules: what may be attached, how many, and
//! where the object lives.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::common::player::Author;
use crate::common::reference::TicketReference;
use crate::documents::rules::{CheckFailure, ContentType, Declared, UploadId, MAX_DOCUMENT_BYTES};

/// Attachments a ticket may have issued at once: pending (URL handed out, nothing checked yet)
/// and checked ones count; refused ones and URLs that expired unused do not, so a player whose
/// screenshot was refused can send another.
pub const MAX_ATTACHMENTS_PER_TICKET: u32 = 5;

/// The same cap as identity documents: a phone screenshot or a PDF statement fits easily.
pub const MAX_ATTACHMENT_BYTES: u64 = MAX_DOCUMENT_BYTES;

/// How long after its URL expired an unused attachment still counts. S3 checks a presigned
/// URL's expiry when the request starts, so a slow upload begun just before the expiry may
/// complete (and be announced) a little later: its slot is kept until then.
pub const EXPIRED_UPLOAD_GRACE: SignedDuration = SignedDuration::from_mins(15);

/// The key prefix of every ticket attachment in the documents bucket.
pub const ATTACHMENTS_PREFIX: &str = "tickets/";

/// Where an attachment stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "failure", rename_all = "snake_case")]
pub enum AttachmentState {
    /// The URL was handed out; nothing has been checked yet.
    Pending,
    /// What arrived is what was declared: listed on the ticket.
    Checked,
    /// What arrived was not what was declared (or too large): moved to quarantine.
    Refused(CheckFailure),
    /// The URL expired unused: the attachment no longer counts against the limit, and a late
    /// object at its key is quarantined.
    Expired,
}

/// One attachment of a ticket: what was promised when the URL was issued, so the document
/// check can compare what arrived.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub upload: UploadId,
    pub reference: TicketReference,
    /// `tickets/<reference>/<upload id>`: chosen by the server, never by the client.
    pub key: String,
    pub content_type: ContentType,
    /// The declared length in bytes, signed into the URL.
    pub size: u64,
    pub state: AttachmentState,
    pub issued_at: Timestamp,
    /// When the upload URL stops working.
    pub expires_at: Timestamp,
    pub issued_by: Author,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<Timestamp>,
}

impl AttachmentState {
    /// Holds one of the ticket's [`MAX_ATTACHMENTS_PER_TICKET`] slots.
    pub fn counts(self) -> bool {
        matches!(self, AttachmentState::Pending | AttachmentState::Checked)
    }
}

impl Attachment {
    /// Counts against [`MAX_ATTACHMENTS_PER_TICKET`].
    pub fn counts(&self) -> bool {
        self.state.counts()
    }

    /// A pending attachment whose URL expired (with the grace period) and that never arrived:
    /// it may stop counting.
    pub fn abandoned(&self, now: Timestamp) -> bool {
        self.state == AttachmentState::Pending && self.expires_at + EXPIRED_UPLOAD_GRACE < now
    }

    /// What the upload URL promised, for the document check.
    pub fn declared(&self) -> Declared {
        Declared {
            content_type: self.content_type,
            size: self.size,
        }
    }
}

/// The S3 key of a ticket attachment: under the ticket's own prefix, named by the server.
pub fn attachment_key(reference: &TicketReference, upload: &UploadId) -> String {
    format!(
        "{ATTACHMENTS_PREFIX}{}/{}",
        reference.as_str(),
        upload.as_str()
    )
}

/// The ticket and upload a key names, if the key has exactly the shape [`attachment_key`]
/// makes (the stored key is still compared whole before anything is trusted).
pub fn parse_attachment_key(key: &str) -> Option<(TicketReference, UploadId)> {
    let rest = key.strip_prefix(ATTACHMENTS_PREFIX)?;
    let (reference, upload) = rest.split_once('/')?;
    let reference = TicketReference::parse(reference).ok()?;
    let upload = UploadId::parse(upload)?;
    (attachment_key(&reference, &upload) == key).then_some((reference, upload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::ports::ObjectFacts;

    fn attachment(content_type: ContentType, size: u64) -> Attachment {
        let reference = TicketReference::from_random([3; 9]);
        let upload = UploadId::parse("UP-0123456789ABCDEF").expect("valid id");
        Attachment {
            key: attachment_key(&reference, &upload),
            upload,
            reference,
            content_type,
            size,
            state: AttachmentState::Pending,
            issued_at: "2026-11-26T15:00:00Z".parse().expect("valid"),
            expires_at: "2026-11-26T15:10:00Z".parse().expect("valid"),
            issued_by: Author::Player,
            checked_at: None,
        }
    }

    #[test]
    fn keys_live_under_the_tickets_own_prefix_and_parse_back_exactly() {
        let a = attachment(ContentType::Png, 10);
        assert_eq!(
            a.key,
            format!("tickets/{}/UP-0123456789ABCDEF", a.reference.as_str())
        );
        assert_eq!(
            parse_attachment_key(&a.key),
            Some((a.reference.clone(), a.upload.clone()))
        );
        // Another spelling of the same reference, extra segments, or another prefix: not ours.
        let lower = a.key.to_lowercase();
        assert_eq!(parse_attachment_key(&lower), None);
        assert_eq!(parse_attachment_key(&format!("{}/x", a.key)), None);
        assert_eq!(
            parse_attachment_key(&a.key.replace("tickets/", "verification/")),
            None
        );
        assert_eq!(parse_attachment_key("tickets/K7M2Q-9XW45/evil.exe"), None);
    }

    #[test]
    fn the_check_compares_size_and_magic_bytes_with_the_declaration() {
        let png = attachment(ContentType::Png, 12).declared();
        let facts = |size: u64| ObjectFacts {
            size,
            head: b"\x89PNG\r\n\x1a\n\0\0\0\0".to_vec(),
        };
        assert_eq!(png.check(&facts(12)), None);
        assert_eq!(png.check(&facts(13)), Some(CheckFailure::SizeMismatch));
        assert_eq!(
            png.check(&facts(MAX_ATTACHMENT_BYTES + 1)),
            Some(CheckFailure::TooLarge)
        );
        assert_eq!(
            attachment(ContentType::Pdf, 12)
                .declared()
                .check(&facts(12)),
            Some(CheckFailure::TypeMismatch)
        );
    }

    #[test]
    fn refused_and_abandoned_attachments_stop_counting() {
        let mut a = attachment(ContentType::Pdf, 10);
        assert!(a.counts());
        let just_expired: Timestamp = "2026-11-26T15:20:00Z".parse().expect("valid");
        let long_expired: Timestamp = "2026-11-26T15:26:00Z".parse().expect("valid");
        assert!(!a.abandoned(just_expired), "within the grace period");
        assert!(a.abandoned(long_expired));
        a.state = AttachmentState::Checked;
        assert!(a.counts() && !a.abandoned(long_expired));
        a.state = AttachmentState::Refused(CheckFailure::TypeMismatch);
        assert!(!a.counts());
        a.state = AttachmentState::Expired;
        assert!(!a.counts());
    }

    #[test]
    fn states_are_stored_by_name() {
        let json = serde_json::to_value(AttachmentState::Refused(CheckFailure::TooLarge))
            .expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({"state": "refused", "failure": "too_large"})
        );
        assert_eq!(
            serde_json::to_value(AttachmentState::Checked).expect("serialises"),
            serde_json::json!({"state": "checked"})
        );
    }
}
