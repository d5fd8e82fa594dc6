//! Ticket attachments over the ports: issuing a presigned upload for a ticket, checking what
//! arrived (the document function calls [`Attachments::check_object`] for `tickets/` keys), and
//! listing a ticket's checked attachments, with short-lived presigned GETs for staff.
//!
//! Who may attach to which ticket is the handler's decision (the ticket's owner, or staff); this
//! module trusts the reference it is given, and the store still refuses a ticket that does not
//! exist.

use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;

use crate::attachments::ports::AttachmentStore;
use crate::attachments::ports::Issued;
use crate::attachments::ports::Settled;
use crate::attachments::rules::{
    attachment_key, parse_attachment_key, Attachment, AttachmentState, MAX_ATTACHMENTS_PER_TICKET,
    MAX_ATTACHMENT_BYTES,
};
use crate::common::clock::Clock;
use crate::common::player::Author;
use crate::common::reference::TicketReference;
use crate::common::retry::{Attempt, RetryPolicy};
use crate::common::store::StoreError;
use crate::documents::ports::{DocumentStorage, Presigned};
use crate::documents::rules::{CheckFailure, ContentType, UploadId};

/// Writes retried after a concurrent change to the same ticket's attachments before giving up.
const RETRY: RetryPolicy = RetryPolicy::CONTENDED_WRITE.with_attempts(4);

/// A new attachment, pending until the document check has seen its file.
fn pending(
    reference: &TicketReference,
    upload: UploadId,
    content_type: ContentType,
    size: u64,
    actor: &Author,
    now: Timestamp,
    expires_at: Timestamp,
) -> Attachment {
    Attachment {
        key: attachment_key(reference, &upload),
        upload,
        reference: reference.clone(),
        content_type,
        size,
        state: AttachmentState::Pending,
        issued_at: now,
        expires_at,
        issued_by: actor.clone(),
        checked_at: None,
    }
}

/// The upload id of a file that came in with `origin`: the first 16 bytes of its SHA-256, in
/// the ids' alphabet.
fn upload_of(origin: &str) -> UploadId {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(origin.as_bytes());
    let mut random = [0u8; 16];
    random.copy_from_slice(&digest[..16]);
    UploadId::from_random(random)
}

// ---------------------------------------------------------------------------------------------
// The port.

pub struct Attachments<S, D> {
    pub store: S,
    pub storage: D,
    pub clock: Box<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error(
        "this ticket already has {max} attachments (pending or checked); no more can be added"
    )]
    LimitReached { max: u32 },
    #[error("no such ticket")]
    TicketNotFound,
    #[error("the ticket is closed and takes no more attachments")]
    TicketClosed,
    #[error("an attachment is 1 to {MAX_ATTACHMENT_BYTES} bytes")]
    Size,
    #[error("the ticket's attachments changed while this request was handled; try again")]
    Contended,
    #[error("the random source failed")]
    Random(#[from] getrandom::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the document check did with one object under `tickets/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentCheck {
    /// What arrived is what was declared: the ticket lists it.
    Checked { reference: TicketReference },
    /// Moved to quarantine (or already recorded as refused there).
    Refused { failure: CheckFailure },
    /// Nothing to do: a duplicate delivery, or the object is already gone.
    AlreadyHandled,
}

impl<S: AttachmentStore, D: DocumentStorage> Attachments<S, D> {
    /// A presigned PUT for one attachment of the ticket. The key is ours, under the ticket's
    /// prefix; the type, the exact size and encryption are signed into the URL. Over the limit,
    /// attachments whose URL expired unused are released once before refusing.
    pub async fn request(
        &self,
        actor: &Author,
        reference: &TicketReference,
        content_type: ContentType,
        size: u64,
    ) -> Result<(Attachment, Presigned), AttachmentError> {
        if !(1..=MAX_ATTACHMENT_BYTES).contains(&size) {
            return Err(AttachmentError::Size);
        }
        let released = AtomicBool::new(false);
        RETRY
            .run(|_| self.request_attempt(actor, reference, content_type, size, &released))
            .await?
            .ok_or(AttachmentError::Contended)
    }

    /// One attempt of [`Attachments::request`]; `released` tells whether an earlier attempt
    /// already released the abandoned attachments.
    async fn request_attempt(
        &self,
        actor: &Author,
        reference: &TicketReference,
        content_type: ContentType,
        size: u64,
        released: &AtomicBool,
    ) -> Result<Attempt<(Attachment, Presigned)>, AttachmentError> {
        let now = self.clock.now();
        let upload = UploadId::generate()?;
        let key = attachment_key(reference, &upload);
        let presigned = self
            .storage
            .presign_put(&key, content_type, size, now)
            .await?;
        let expires_at = presigned.expires_at;
        let attachment = pending(
            reference,
            upload,
            content_type,
            size,
            actor,
            now,
            expires_at,
        );
        match self
            .store
            .issue(&attachment, MAX_ATTACHMENTS_PER_TICKET)
            .await?
        {
            Issued::Done => Ok(Attempt::Done((attachment, presigned))),
            Issued::NoTicket => Err(AttachmentError::TicketNotFound),
            Issued::TicketClosed => Err(AttachmentError::TicketClosed),
            // Over the limit: release the abandoned ones once, and try again if any were.
            Issued::LimitReached
                if !released.swap(true, Ordering::Relaxed)
                    && self.release_abandoned(reference, now).await? > 0 =>
            {
                Ok(Attempt::Retry)
            }
            Issued::LimitReached => Err(AttachmentError::LimitReached {
                max: MAX_ATTACHMENTS_PER_TICKET,
            }),
            Issued::Contended => Ok(Attempt::Retry),
        }
    }

    /// An attachment that came in with a player's mail: recorded (same limits) and stored as
    /// an upload would be, then checked by the document function like any other, since the
    /// bucket announces it. Its upload id is derived from `origin` (the mail and the part), so
    /// a second delivery of the mail adds nothing, and one after a crash between the record
    /// and the file stores the file.
    pub async fn receive(
        &self,
        actor: &Author,
        reference: &TicketReference,
        content_type: ContentType,
        bytes: &[u8],
        origin: &str,
    ) -> Result<Attachment, AttachmentError> {
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if !(1..=MAX_ATTACHMENT_BYTES).contains(&size) {
            return Err(AttachmentError::Size);
        }
        let upload = upload_of(origin);
        let known = self
            .store
            .attachments_of(reference)
            .await?
            .into_iter()
            .find(|a| a.upload == upload);
        let attachment = match known {
            Some(attachment) => attachment,
            None => {
                let now = self.clock.now();
                // The file follows at once; past this, an attachment whose file never came is
                // released like an unused upload.
                let expires_at = now + jiff::SignedDuration::from_mins(15);
                let attachment = pending(
                    reference,
                    upload,
                    content_type,
                    size,
                    actor,
                    now,
                    expires_at,
                );
                match self
                    .store
                    .issue(&attachment, MAX_ATTACHMENTS_PER_TICKET)
                    .await?
                {
                    Issued::Done => attachment,
                    Issued::NoTicket => return Err(AttachmentError::TicketNotFound),
                    Issued::TicketClosed => return Err(AttachmentError::TicketClosed),
                    Issued::LimitReached => {
                        return Err(AttachmentError::LimitReached {
                            max: MAX_ATTACHMENTS_PER_TICKET,
                        })
                    }
                    Issued::Contended => return Err(AttachmentError::Contended),
                }
            }
        };
        if attachment.state == AttachmentState::Pending {
            self.storage
                .put(&attachment.key, content_type.as_str(), bytes)
                .await?;
        }
        Ok(attachment)
    }

    /// Marks the ticket's pending attachments whose URL expired unused (past the grace period)
    /// as expired, giving their slots back. Returns how many were released.
    async fn release_abandoned(
        &self,
        reference: &TicketReference,
        now: Timestamp,
    ) -> Result<usize, AttachmentError> {
        let mut released = 0;
        for mut attachment in self.store.attachments_of(reference).await? {
            if !attachment.abandoned(now) {
                continue;
            }
            attachment.state = AttachmentState::Expired;
            if self.settle(&attachment, AttachmentState::Pending).await? == Settled::Done {
                released += 1;
            }
        }
        Ok(released)
    }

    async fn settle(
        &self,
        attachment: &Attachment,
        from: AttachmentState,
    ) -> Result<Settled, AttachmentError> {
        RETRY
            .run(|_| async {
                Ok::<_, AttachmentError>(match self.store.settle(attachment, from).await? {
                    Settled::Contended => Attempt::Retry,
                    settled => Attempt::Done(settled),
                })
            })
            .await?
            .ok_or(AttachmentError::Contended)
    }

    /// Checks one object that landed under `tickets/`. Safe to run twice on the same object.
    ///
    /// The record is written before a refused object is moved: a retry after a crash between
    /// the two finds the attachment refused and finishes the move. A presigned URL works until
    /// it expires, so the key of a checked attachment may be written again: what is there now
    /// is checked again, and a file that no longer passes is refused and quarantined.
    pub async fn check_object(&self, key: &str) -> Result<AttachmentCheck, AttachmentError> {
        let found = match parse_attachment_key(key) {
            Some((reference, upload)) => self.store.attachment(&reference, &upload).await?,
            None => None,
        };
        // Anything we did not hand out a URL for, at exactly this key, is not an attachment.
        let Some(mut attachment) = found.filter(|a| a.key == key) else {
            self.storage.quarantine_if_present(key).await?;
            return Ok(AttachmentCheck::Refused {
                failure: CheckFailure::UnknownUpload,
            });
        };
        let from = attachment.state;
        match from {
            AttachmentState::Pending | AttachmentState::Checked => {}
            AttachmentState::Refused(_) => {
                self.storage.quarantine_if_present(key).await?;
                return Ok(AttachmentCheck::AlreadyHandled);
            }
            // A late object for a slot that was given back: it is no longer expected.
            AttachmentState::Expired => {
                return Ok(if self.storage.quarantine_if_present(key).await? {
                    AttachmentCheck::Refused {
                        failure: CheckFailure::NotExpected,
                    }
                } else {
                    AttachmentCheck::AlreadyHandled
                });
            }
        }
        let Some(facts) = self.storage.inspect(key).await? else {
            return Ok(AttachmentCheck::AlreadyHandled);
        };
        let failure = attachment.declared().check(&facts);
        if from == AttachmentState::Checked && failure.is_none() {
            // A duplicate delivery, or a rewrite that passes as the first file did.
            return Ok(AttachmentCheck::AlreadyHandled);
        }
        attachment.state = match failure {
            None => AttachmentState::Checked,
            Some(failure) => AttachmentState::Refused(failure),
        };
        attachment.checked_at = Some(self.clock.now());
        if self.settle(&attachment, from).await? == Settled::StateChanged {
            // Another delivery of the same event settled it first; it does the rest.
            return Ok(AttachmentCheck::AlreadyHandled);
        }
        match failure {
            None => Ok(AttachmentCheck::Checked {
                reference: attachment.reference,
            }),
            Some(failure) => {
                self.storage.quarantine(key).await?;
                Ok(AttachmentCheck::Refused { failure })
            }
        }
    }

    /// The ticket's checked attachments in the order they were issued; with a presigned GET
    /// (valid 5 minutes) for each when `with_urls` (staff).
    pub async fn checked(
        &self,
        reference: &TicketReference,
        with_urls: bool,
    ) -> Result<Vec<(Attachment, Option<Presigned>)>, StoreError> {
        self.listed(self.store.attachments_of(reference).await?, with_urls)
            .await
    }

    /// The checked ones of `attachments` (read elsewhere: a merged duplicate's, with its
    /// ticket), each with a presigned GET when `with_urls`, as [`Attachments::checked`] lists
    /// a ticket's.
    pub async fn listed(
        &self,
        attachments: Vec<Attachment>,
        with_urls: bool,
    ) -> Result<Vec<(Attachment, Option<Presigned>)>, StoreError> {
        let now = self.clock.now();
        let mut listed = Vec::new();
        for attachment in attachments {
            if attachment.state != AttachmentState::Checked {
                continue;
            }
            let url = if with_urls {
                Some(self.storage.presign_get(&attachment.key, now).await?)
            } else {
                None
            };
            listed.push((attachment, url));
        }
        Ok(listed)
    }
}

// ---------------------------------------------------------------------------------------------
// Production wiring.

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachments::memory::{attachments, MemoryAttachmentStore};
    use crate::documents::memory::MemoryDocumentStorage;
    use crate::tickets::memory::FixedClock;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR screenshot";
    const PDF: &[u8] = b"%PDF-1.7\nstatement";

    type Memory = Attachments<MemoryAttachmentStore, MemoryDocumentStorage>;

    fn reference() -> TicketReference {
        TicketReference::from_random([7; 9])
    }

    async fn uploaded(a: &Memory, content_type: ContentType, bytes: &[u8]) -> Attachment {
        let (attachment, presigned) = a
            .request(
                &Author::Player,
                &reference(),
                content_type,
                bytes.len() as u64,
            )
            .await
            .expect("issued");
        assert_eq!(presigned.method, "PUT");
        assert_eq!(
            presigned.headers.get("content-type").map(String::as_str),
            Some(content_type.as_str())
        );
        a.storage.put(&attachment.key, bytes);
        attachment
    }

    #[tokio::test]
    async fn a_good_file_is_checked_listed_and_viewable_by_staff_only() {
        let a = attachments("2026-11-26T15:00:00Z");
        let shot = uploaded(&a, ContentType::Png, PNG).await;
        assert!(shot
            .key
            .starts_with(&format!("tickets/{}/UP-", reference().as_str())));
        assert!(a
            .checked(&reference(), true)
            .await
            .expect("listed")
            .is_empty());
        assert_eq!(
            a.check_object(&shot.key).await.expect("checked"),
            AttachmentCheck::Checked {
                reference: reference()
            }
        );
        let staff = a.checked(&reference(), true).await.expect("listed");
        assert_eq!(staff.len(), 1);
        assert_eq!(staff[0].0.state, AttachmentState::Checked);
        assert!(staff[0].0.checked_at.is_some());
        let url = staff[0].1.as_ref().expect("a URL for staff");
        assert_eq!(url.method, "GET");
        assert!(url.url.contains(&shot.key));
        let player = a.checked(&reference(), false).await.expect("listed");
        assert!(player[0].1.is_none());
        // A duplicate delivery changes nothing.
        assert_eq!(
            a.check_object(&shot.key).await.expect("checked"),
            AttachmentCheck::AlreadyHandled
        );
        assert_eq!(a.storage.keys(), [shot.key]);
    }

    #[tokio::test]
    async fn bytes_that_are_not_what_they_claim_are_refused_and_quarantined() {
        let a = attachments("2026-11-26T15:00:00Z");
        let liar = uploaded(&a, ContentType::Pdf, &PNG[..18]).await;
        assert_eq!(
            a.check_object(&liar.key).await.expect("checked"),
            AttachmentCheck::Refused {
                failure: CheckFailure::TypeMismatch
            }
        );
        assert_eq!(a.storage.keys(), [format!("quarantine/{}", liar.key)]);
        let stored = a
            .store
            .attachment(&reference(), &liar.upload)
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(
            stored.state,
            AttachmentState::Refused(CheckFailure::TypeMismatch)
        );
        assert!(a
            .checked(&reference(), true)
            .await
            .expect("listed")
            .is_empty());
        assert_eq!(
            a.check_object(&liar.key).await.expect("checked"),
            AttachmentCheck::AlreadyHandled
        );
    }

    #[tokio::test]
    async fn a_checked_file_rewritten_through_its_url_is_checked_again() {
        let a = attachments("2026-11-26T15:00:00Z");
        let shot = uploaded(&a, ContentType::Png, PNG).await;
        a.check_object(&shot.key).await.expect("checked");
        // The URL still works: the same bytes again pass as before, and change nothing.
        a.storage.put(&shot.key, PNG);
        assert_eq!(
            a.check_object(&shot.key).await.expect("checked"),
            AttachmentCheck::AlreadyHandled
        );
        // Other bytes of the same length do not pass: refused, quarantined, slot given back.
        let mut forged = PDF.to_vec();
        forged.resize(PNG.len(), b' ');
        a.storage.put(&shot.key, &forged);
        assert_eq!(
            a.check_object(&shot.key).await.expect("checked"),
            AttachmentCheck::Refused {
                failure: CheckFailure::TypeMismatch
            }
        );
        assert_eq!(a.storage.keys(), [format!("quarantine/{}", shot.key)]);
        assert!(a
            .checked(&reference(), true)
            .await
            .expect("listed")
            .is_empty());
        let stored = a
            .store
            .attachment(&reference(), &shot.upload)
            .await
            .expect("read")
            .expect("recorded");
        assert!(!stored.counts());
    }

    #[tokio::test]
    async fn another_size_than_declared_is_refused() {
        let a = attachments("2026-11-26T15:00:00Z");
        let (attachment, _) = a
            .request(&Author::Player, &reference(), ContentType::Pdf, 4)
            .await
            .expect("issued");
        a.storage.put(&attachment.key, PDF);
        assert_eq!(
            a.check_object(&attachment.key).await.expect("checked"),
            AttachmentCheck::Refused {
                failure: CheckFailure::SizeMismatch
            }
        );
    }

    #[tokio::test]
    async fn keys_nobody_was_given_are_quarantined() {
        let a = attachments("2026-11-26T15:00:00Z");
        let issued = uploaded(&a, ContentType::Png, PNG).await;
        // The same upload id under another ticket, and a name of the client's choosing.
        let other = TicketReference::from_random([8; 9]);
        let elsewhere = issued.key.replace(reference().as_str(), other.as_str());
        let named = format!("tickets/{}/screenshot.png", reference().as_str());
        for key in [&elsewhere, &named] {
            a.storage.put(key, PNG);
            assert_eq!(
                a.check_object(key).await.expect("checked"),
                AttachmentCheck::Refused {
                    failure: CheckFailure::UnknownUpload
                }
            );
            assert!(a.storage.keys().contains(&format!("quarantine/{key}")));
        }
        // The issued attachment is untouched.
        let stored = a
            .store
            .attachment(&reference(), &issued.upload)
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(stored.state, AttachmentState::Pending);
    }

    #[tokio::test]
    async fn the_limit_counts_pending_and_checked_but_not_refused_or_abandoned() {
        let clock = FixedClock::at("2026-11-26T15:00:00Z");
        let a = Attachments {
            store: MemoryAttachmentStore::default(),
            storage: MemoryDocumentStorage::default(),
            clock: Box::new(clock.clone()),
        };
        let mut issued = Vec::new();
        for _ in 0..MAX_ATTACHMENTS_PER_TICKET {
            issued.push(uploaded(&a, ContentType::Png, PNG).await);
        }
        let over = a
            .request(&Author::Player, &reference(), ContentType::Png, 10)
            .await;
        assert!(
            matches!(over, Err(AttachmentError::LimitReached { max: 5 })),
            "{over:?}"
        );
        // A refused one gives its slot back.
        a.storage.put(&issued[0].key, PDF);
        a.check_object(&issued[0].key).await.expect("checked");
        let (sixth, _) = a
            .request(&Author::Player, &reference(), ContentType::Png, 10)
            .await
            .expect("a slot was given back");
        assert!(a
            .request(&Author::Player, &reference(), ContentType::Png, 10)
            .await
            .is_err());
        // Half an hour later, the URL of the one never uploaded has expired: its slot is
        // released, and a late object at its key is quarantined.
        for attachment in &issued[1..] {
            a.check_object(&attachment.key).await.expect("checked");
        }
        clock.set("2026-11-26T15:30:00Z".parse().expect("valid"));
        let (_, _) = a
            .request(&Author::Player, &reference(), ContentType::Png, 10)
            .await
            .expect("the abandoned slot was released");
        let expired = a
            .store
            .attachment(&reference(), &sixth.upload)
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(expired.state, AttachmentState::Expired);
        a.storage.put(&sixth.key, PNG);
        assert_eq!(
            a.check_object(&sixth.key).await.expect("checked"),
            AttachmentCheck::Refused {
                failure: CheckFailure::NotExpected
            }
        );
        assert!(a
            .storage
            .keys()
            .contains(&format!("quarantine/{}", sixth.key)));
    }

    #[tokio::test]
    async fn sizes_out_of_range_are_refused_before_any_url() {
        let a = attachments("2026-11-26T15:00:00Z");
        for size in [0, MAX_ATTACHMENT_BYTES + 1] {
            assert!(matches!(
                a.request(&Author::Player, &reference(), ContentType::Pdf, size)
                    .await,
                Err(AttachmentError::Size)
            ));
        }
    }
}
